package web_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk/internal/browsertest"
)

// TestCrossSiteInChromium signs a visitor in through the account page in a
// real headless Chromium, then has pages try to log it out or into another
// session: another site's page (localhost is another site than 127.0.0.1)
// with an auto-submitting logoff form and an <img> of token.obtain, a link
// from there to token.renew with the attacker's refresh token, and a page
// of propusk's own origin showing user content with the same <img>s. The
// visitor is still itself after each.
func TestCrossSiteInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnv(t, storeKinds[0].open)
	e.register("victim", "password1")
	attacker := e.register("attacker", "password1")
	// A page of propusk's own origin that shows user content, as the board.
	mux := http.NewServeMux()
	mux.Handle("/", e.srv)
	mux.HandleFunc("GET /board", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>board</title>
<img src="/api/v1/token.obtain"><img src="/api/v1/token.renew?refreshToken=` + attacker.refresh + `">`))
	})
	e.ts.Config.Handler = mux
	victimURL := e.ts.URL // http://127.0.0.1:port

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/logoff":
			w.Write([]byte(`<!doctype html><title>evil</title>
<img src="` + victimURL + `/api/v1/token.obtain">
<form method="post" action="` + victimURL + `/api/v1/user.logoff"><input name="refreshToken" value="` + attacker.refresh + `"></form>
<script>onload = () => document.forms[0].submit()</script>`))
		case "/logout":
			w.Write([]byte(`<!doctype html><title>evil</title>
<form method="post" action="` + victimURL + `/logout"></form><script>document.forms[0].submit()</script>`))
		case "/link":
			w.Write([]byte(`<!doctype html><title>evil</title>
<a id="go" href="` + victimURL + `/api/v1/token.renew?redirect=%2Faccount&refreshToken=` + url.QueryEscape(attacker.refresh) + `">prize</a>`))
		}
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	who := func() string {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(victimURL+"/account"),
			chromedp.WaitReady("body"),
		); err != nil {
			t.Fatal(err)
		}
		// strong#login: the signed-out page's login input has the same id.
		login, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('strong#login') || {}).textContent || 'anonymous'`))
		if err != nil {
			t.Fatal(err)
		}
		return login
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(victimURL+"/account"),
		chromedp.WaitVisible(`#login-form`),
		chromedp.SendKeys(`input[name=login]`, "victim"),
		chromedp.SendKeys(`input[name=password]`, "password1"),
		chromedp.Submit(`#login-form`),
		// Only the signed-in page has it. #login would not do: the form's
		// input has that id too, so the wait would end before the answer
		// and the next navigation would abort the sign-in.
		chromedp.WaitVisible(`#logoff-form`),
	); err != nil {
		t.Fatal(err)
	}
	if got := who(); got != "victim" {
		t.Fatalf("signed in as %q", got)
	}
	// landed waits until the tab has left the evil page for propusk's
	// answer (the form posted, the link followed).
	landed := func() error {
		for range 200 {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err == nil && strings.HasPrefix(loc, victimURL) {
				return nil
			}
			if err := chromedp.Do(ctx, chromedp.Sleep(50*time.Millisecond)); err != nil {
				return err
			}
		}
		return errors.New("the tab never left the evil page")
	}
	steps := []struct {
		name   string
		do     []chromedp.Action[chromedp.Void]
		leaves bool // the step ends on propusk's answer
	}{
		{"cross-site-form-and-img-to-user.logoff", []chromedp.Action[chromedp.Void]{chromedp.Navigate(evilURL + "/logoff")}, true},
		{"cross-site-form-to-logout", []chromedp.Action[chromedp.Void]{chromedp.Navigate(evilURL + "/logout")}, true},
		{"cross-site-link-to-token.renew", []chromedp.Action[chromedp.Void]{chromedp.Navigate(evilURL + "/link"), chromedp.Click("#go")}, true},
		{"same-origin-img-to-token.obtain-and-renew", []chromedp.Action[chromedp.Void]{chromedp.Navigate(victimURL + "/board"),
			chromedp.Poll[chromedp.Void](`[...document.images].every(i => i.complete)`)}, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := chromedp.Do(ctx, s.do...); err != nil {
				t.Fatal(err)
			}
			if s.leaves {
				if err := landed(); err != nil {
					t.Fatal(err)
				}
			}
			if got := who(); got != "victim" {
				t.Fatalf("the visitor is now %q, want victim", got)
			}
		})
	}
}
