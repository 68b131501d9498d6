package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk/internal/browsertest"
)

// scriptCalls records the requests the page's scripts send (those with
// X-Requested-With), to see what propusk.js did.
type scriptCalls struct {
	mu    sync.Mutex
	calls []string
}

func (s *scriptCalls) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Requested-With") != "" {
			s.mu.Lock()
			s.calls = append(s.calls, r.Method+" "+r.URL.Path)
			s.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// count returns how many recorded calls were call, and forgets them all.
func (s *scriptCalls) count(call string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == call {
			n++
		}
	}
	s.calls = nil
	return n
}

// tab drives one tab of the board.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (p tab) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits until the JavaScript condition holds.
func (p tab) wait(cond string) {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		text, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		p.t.Fatalf("waiting for %s: %v; the page says:\n%s", cond, err, text)
	}
}

func (p tab) eval(expr string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// submit fills the form's fields and submits it as a user would (the
// submit event, which board.js takes over).
func (p tab) submit(form string, fields map[string]string) {
	p.t.Helper()
	js := `(() => { const f = document.getElementById(` + quote(form) + `);`
	for k, v := range fields {
		js += `f.elements[` + quote(k) + `].value = ` + quote(v) + `;`
	}
	js += `f.requestSubmit(); return ""; })()`
	p.eval(js)
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

const (
	who      = `document.querySelector('main').dataset.who`
	mainText = `document.querySelector('main').innerText`
)

// TestWithJavaScript uses the board in headless Chromium with JavaScript on:
// propusk.js keeps the tokens, and renews them by itself when they expire.
func TestWithJavaScript(t *testing.T) {
	ctx := browsertest.New(t)
	a := newApp(t)
	var calls scriptCalls
	a.ts.Config.Handler = calls.wrap(a.ts.Config.Handler)
	t1 := tab{t, ctx}

	t1.do(chromedp.Navigate(a.ts.URL + "/b/"))
	t1.wait(`document.documentElement.dataset.js === 'ready'`)

	t1.submit("post-form", map[string]string{"text": "posted with JavaScript"})
	t1.wait(mainText + `.includes('posted with JavaScript') && location.pathname === '/b/1'`)
	if got := t1.eval(who); got != "" {
		t.Fatalf("anonymous poster shown as %q", got)
	}
	if calls.count("POST /b/") != 1 {
		t.Fatal("the post did not go through propusk.fetch")
	}

	t1.submit("login-form", map[string]string{"login": "dasha", "password": "dasha-password"})
	t1.wait(who + ` === 'dasha'`)

	t1.eval(`document.querySelector('a[href="/d/"]').click(), ''`)
	t1.wait(`location.pathname === '/d/' && ` + who + ` === 'dasha'`)
	t1.submit("post-form", map[string]string{"text": "dasha posts on d"})
	t1.wait(mainText + `.includes('dasha posts on d')`)

	// The access token expires: the next post gets 403 token_expired, and
	// propusk.js renews and sends it again, still as dasha.
	before := t1.eval(`propusk.tokens().accessToken`)
	calls.count("")
	a.clock.Advance(16 * time.Minute)
	t1.submit("post-form", map[string]string{"text": "after the token expired"})
	t1.wait(mainText + `.includes('after the token expired')`)
	if got := t1.eval(who); got != "dasha" {
		t.Fatalf("after renewal the page shows %q, want dasha", got)
	}
	if n := calls.count("POST /api/v1/token.renew"); n != 1 {
		t.Fatalf("renewed %d times, want once", n)
	}
	if t1.eval(`propusk.tokens().accessToken`) == before {
		t.Fatal("the access token was not replaced")
	}
	if !strings.Contains(t1.eval(`document.querySelector('main').innerText`), "dasha") {
		t.Fatal("the post is not dasha's")
	}

	// A second tab shares the tokens. Both renew at once, twice, past the
	// grace period: neither may log the other out.
	ctx2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	t2 := tab{t, ctx2}
	t2.do(chromedp.Navigate(a.ts.URL + "/d/"))
	t2.wait(`document.documentElement.dataset.js === 'ready' && ` + who + ` === 'dasha'`)
	for round := range 2 {
		a.clock.Advance(16 * time.Minute)
		var wg sync.WaitGroup
		got := make([]string, 2)
		for i, p := range []tab{t1, t2} {
			wg.Go(func() {
				v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`propusk.me().then(m => m.login || 'anonymous')`, chromedp.EvalAwaitPromise))
				if err != nil {
					v = err.Error()
				}
				got[i] = v
			})
		}
		wg.Wait()
		if slices.ContainsFunc(got, func(s string) bool { return s != "dasha" }) {
			t.Fatalf("round %d: the tabs are %q, want both dasha", round, got)
		}
	}

	t1.submit("logoff-form", nil)
	t1.wait(who + ` === ''`)
}
