package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/browsertest"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// newApp runs the platform in-process on a random port over SQLite in a
// temporary directory, serving axios from the repository's node_modules.
func newApp(t *testing.T) *httptest.Server {
	t.Helper()
	nm := browsertest.NodeModules(t)
	ctx := context.Background()
	store, _ := testenv.SQLite(t)
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := auth.New(ctx, auth.Config{Store: store, MasterKey: key,
		Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(svc, srv, nm))
	t.Cleanup(ts.Close)
	return ts
}

// callAPI calls the protected API as a script would, with tok as the bearer.
func callAPI(t *testing.T, base, tok string) (int, map[string]any) {
	t.Helper()
	r, err := http.NewRequest("GET", base+"/api/my-courses", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

const metaToken = `document.querySelector('meta[name="api-token"]').content`

// apiStatus waits until the page's own script has written the API's answer
// and returns it.
func apiStatus(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	poll := chromedp.Poll[string](`(() => { const e = document.getElementById('api-status'); ` +
		`return e && e.className && e.textContent.includes(` + jsString(want) + `) ? e.className + ': ' + e.textContent : false })()`)
	got, err := chromedp.Run(ctx, poll)
	// A click that submits a form navigates; a poll begun on the old page
	// fails with it ("navigated or closed", "cannot find context"), so poll
	// again on the new one until the deadline.
	for err != nil && ctx.Err() == nil {
		got, err = chromedp.Run(ctx, poll)
	}
	if err != nil {
		text, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("the page never showed %q: %v\npage:\n%s", want, err, text)
	}
	return got
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserBuyCourse is the seed's story in real headless Chromium: the
// page's own axios calls the protected API with the token from the meta tag;
// buying a course and paying the tariff each put a new token on the page,
// and the old one is refused.
func TestBrowserBuyCourse(t *testing.T) {
	ts := newApp(t)
	ctx := browsertest.New(t)

	// A visitor is sent through token.obtain and back, then registers.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#register`)),
		chromedp.SendKeys(chromedp.CSS(`#register input[name=login]`), "anna"),
		chromedp.SendKeys(chromedp.CSS(`#register input[name=password]`), "anna-password"),
		chromedp.Click(chromedp.CSS(`#register button`)),
		chromedp.WaitVisible(chromedp.CSS(`#login`)),
	); err != nil {
		t.Fatal(err)
	}
	if s := apiStatus(t, ctx, "owns 0 course(s)"); !strings.HasPrefix(s, "ok: API (api-token): anna") {
		t.Fatalf("the page's API call: %q", s)
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](metaToken))
	if err != nil || !strings.Contains(first, "|") {
		t.Fatalf("meta api-token %q, %v", first, err)
	}
	// The header axios sent is the meta tag's, set by bootstrap.js.
	bearer, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axios.defaults.headers.common['Authorization']`))
	if err != nil || bearer != "Bearer "+first {
		t.Fatalf("axios Authorization = %q, %v; want Bearer + the meta tag", bearer, err)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#buy-go`))); err != nil {
		t.Fatal(err)
	}
	apiStatus(t, ctx, "owns 1 course(s)")
	second, err := chromedp.Run(ctx, chromedp.Evaluate[string](metaToken))
	if err != nil || second == "" || second == first {
		t.Fatalf("after buying, meta api-token %q (was %q), %v; want a new one", second, first, err)
	}
	if code, m := callAPI(t, ts.URL, first); code != http.StatusForbidden || m["error"] != "token_invalid" {
		t.Fatalf("the old api-token after a purchase: %d %v; want 403 token_invalid", code, m)
	}
	// The page's own axios, handed the old token, is refused too.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
		`axios.get('/api/my-courses', {headers: {Authorization: 'Bearer ' + `+jsString(first)+`}}).then(r => r.status, e => e.response.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("axios with the old token: %v, %v; want 403", status, err)
	}
	if code, m := callAPI(t, ts.URL, second); code != http.StatusOK || m["login"] != "anna" {
		t.Fatalf("the new api-token: %d %v", code, m)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#pay-tariff`))); err != nil {
		t.Fatal(err)
	}
	apiStatus(t, ctx, "tariff paid")
	third, err := chromedp.Run(ctx, chromedp.Evaluate[string](metaToken))
	if err != nil || third == second || third == first {
		t.Fatalf("after paying, meta api-token %q, %v; want a new one", third, err)
	}
	if code, _ := callAPI(t, ts.URL, second); code != http.StatusForbidden {
		t.Fatalf("the old api-token after the payment: %d, want 403", code)
	}
}

// TestPagesWithoutBrowser checks the server side alone: the API refuses
// callers without the token, and the page carries the meta tag and scripts.
func TestPagesWithoutBrowser(t *testing.T) {
	ts := newApp(t)
	if code, m := callAPI(t, ts.URL, "nonsense"); code != http.StatusForbidden || m["error"] != "token_invalid" {
		t.Fatalf("garbage token: %d %v", code, m)
	}
	res, err := http.Get(ts.URL + "/vendor/axios.min.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("axios: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
