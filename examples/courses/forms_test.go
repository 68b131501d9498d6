package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk/internal/browsertest"
)

var formToken = regexp.MustCompile(`name="_token" value="([^"]+)"`)

// visitor is a browser without JavaScript: a cookie jar, redirects
// followed on GET, a form's answer read as it comes.
type visitor struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newVisitor(t *testing.T, base string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.Method != "GET" {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (v *visitor) get() string {
	v.t.Helper()
	res, err := v.c.Get(v.base + "/")
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// post sends form with the page's _token, unless form has one, and
// returns the answer without following it.
func (v *visitor) post(path string, form url.Values) (*http.Response, string) {
	v.t.Helper()
	if form.Get("_token") == "" {
		m := formToken.FindStringSubmatch(v.get())
		if m == nil {
			v.t.Fatal("no _token on the page")
		}
		form.Set("_token", html.UnescapeString(m[1]))
	}
	form.Set("redirect", "/")
	c := *v.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(v.base+path, form)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, html.UnescapeString(string(b))
}

// TestSignInFormsWithoutJavaScript: the register and sign-in forms are
// separate and labelled; a refused one answers the page with the message
// in place (role="alert") and the login kept, never JSON nor the password;
// a stale one says the page expired; a good one signs in.
func TestSignInFormsWithoutJavaScript(t *testing.T) {
	ts := newApp(t)
	v := newVisitor(t, ts.URL)
	page := v.get()
	for _, s := range []string{`<main>`, `name="viewport"`, `<label for="register-login">`, `<label for="signin-password">`, `action="/register"`, `action="/login"`} {
		if !strings.Contains(page, s) {
			t.Fatalf("the page has no %s:\n%s", s, page)
		}
	}
	if res, _ := v.post("/register", url.Values{"login": {"olga"}, "password": {"olga-password"}}); res.StatusCode/100 != 3 {
		t.Fatalf("register: %d", res.StatusCode)
	}

	cases := []struct {
		name, path string
		form       url.Values
		status     int
		says, id   string
	}{
		{"fail/register-taken", "/register", url.Values{"login": {"olga"}, "password": {"secret-typed-1"}}, 409, "taken", `id="register-error"`},
		{"fail/register-short-password", "/register", url.Values{"login": {"newbie"}, "password": {"short"}}, 400, "password", `id="register-error"`},
		{"fail/signin-wrong-password", "/login", url.Values{"login": {"olga"}, "password": {"secret-typed-2"}}, 401, "", `id="signin-error"`},
		{"fail/stale-form", "/login", url.Values{"_token": {"stale"}, "login": {"olga"}, "password": {"olga-password"}}, 419, "expired", `id="signin-error"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newVisitor(t, ts.URL)
			w.get() // the visitor's cookies, as the page gives them
			res, body := w.post(c.path, c.form)
			if res.StatusCode != c.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s, want %d and the page: %s", res.StatusCode, res.Header.Get("Content-Type"), c.status, body)
			}
			for _, s := range []string{c.id, `role="alert"`, c.says, `value="` + c.form.Get("login") + `"`, `<h1>Courses</h1>`} {
				if !strings.Contains(body, s) {
					t.Fatalf("the page has no %q:\n%s", s, body)
				}
			}
			if strings.Contains(body, `"error":`) || strings.Contains(body, c.form.Get("password")) {
				t.Fatalf("the page shows JSON or the password:\n%s", body)
			}
		})
	}

	t.Run("ok/signin", func(t *testing.T) {
		w := newVisitor(t, ts.URL)
		if res, body := w.post("/login", url.Values{"login": {"olga"}, "password": {"olga-password"}}); res.StatusCode/100 != 3 {
			t.Fatalf("login: %d %s", res.StatusCode, body)
		}
		if page := w.get(); !strings.Contains(page, `id="login">olga<`) {
			t.Fatalf("not signed in:\n%s", page)
		}
	})
}

// TestPagesInChromium: the page anonymous, with a refused form, and signed
// in passes axe-core and does not scroll sideways on a phone.
func TestPagesInChromium(t *testing.T) {
	ts := newApp(t)
	ctx := browsertest.New(t)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	do(chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(`#register`))
	browsertest.CheckPage(t, ctx, "courses-anonymous")
	do(chromedp.SendKeys(`#signin-login`, "nobody"), chromedp.SendKeys(`#signin-password`, "wrong-password"), chromedp.Click(`#signin button`), chromedp.WaitVisible(`#signin-error`))
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#signin-login`)); v != "nobody" {
		t.Fatalf("the login was not kept: %q", v)
	}
	browsertest.CheckPage(t, ctx, "courses-error")
	do(chromedp.SendKeys(`#register-login`, "pavel"), chromedp.SendKeys(`#register-password`, "pavel-password"), chromedp.Click(`#register button`), chromedp.WaitVisible(`#login`))
	apiStatus(t, ctx, "owns 0 course(s)")
	browsertest.CheckPage(t, ctx, "courses-signed-in")
}
