package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk/internal/browsertest"
)

// pageAPIToken is the api-token the test page carries in its meta tag.
const pageAPIToken = "7|page-api-token"

// scriptsPage loads the scripts under test; {extra} is replaced by the
// origins it lets bootstrap.js send the api-token to.
const scriptsPage = `<!doctype html>
<meta charset="utf-8">
<meta name="api-token" content="` + pageAPIToken + `">
<meta name="api-token-origins" content="{extra}">
<title>scripts</title>
<script src="/axios.min.js"></script>
<script src="/assets/bootstrap.js"></script>
<script src="/assets/propusk.js"></script>`

// seen is what a recording server received for one request.
type seen struct {
	host, access, authorization, requestedWith string
}

// recorder records the credentials of every request to /echo/{tag}, on
// any of the servers sharing it. It answers CORS preflights with whatever
// was asked, so a cross-origin request always reaches it and the test sees
// what the browser would have sent.
type recorder struct {
	mu  sync.Mutex
	got map[string][]seen
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
	}
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rec.mu.Lock()
	rec.got[r.PathValue("tag")] = append(rec.got[r.PathValue("tag")], seen{
		host:          r.Host,
		access:        r.Header.Get("X-Access-Token"),
		authorization: r.Header.Get("Authorization"),
		requestedWith: r.Header.Get("X-Requested-With"),
	})
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{}`))
}

func (rec *recorder) take(tag string) []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.got[tag]
}

// scriptsEnv serves the test page and propusk on one origin (127.0.0.1:A),
// plus two more servers: 127.0.0.1:C, the origin the page configures, and
// 127.0.0.1:B, a third party. localhost:A and localhost:B are third
// parties too: an origin is scheme, host and port, not the machine.
type scriptsEnv struct {
	*env
	rec                 *recorder
	a, b, c, aLoc, bLoc string
	ctx                 context.Context
}

// newScriptsEnv starts the servers, with wrap (when not nil) between the
// browser and the page's server, and opens the page.
func newScriptsEnv(t *testing.T, wrap func(http.Handler) http.Handler) *scriptsEnv {
	nm := browsertest.NodeModules(t)
	ctx := browsertest.New(t)
	se := &scriptsEnv{env: newEnv(t, storeKinds[0].open), rec: &recorder{got: map[string][]seen{}}, ctx: ctx}
	echo := http.NewServeMux()
	echo.Handle("/echo/{tag}", se.rec)
	third := httptest.NewServer(echo)
	t.Cleanup(third.Close)
	configured := httptest.NewServer(echo)
	t.Cleanup(configured.Close)
	se.a, se.b, se.c = se.ts.URL, third.URL, configured.URL
	se.aLoc, se.bLoc = onLocalhost(t, se.a), onLocalhost(t, se.b)

	mux := http.NewServeMux()
	mux.Handle("/", se.srv)
	mux.Handle("/echo/{tag}", se.rec)
	page := strings.ReplaceAll(scriptsPage, "{extra}", se.c)
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	})
	// axios loaded after bootstrap.js, which then sets it up on DOMContentLoaded.
	late := strings.Replace(strings.Replace(page, `<script src="/axios.min.js"></script>`, "", 1),
		`<script src="/assets/propusk.js"></script>`, `<script src="/axios.min.js"></script>`, 1)
	mux.HandleFunc("GET /page-late", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(late))
	})
	mux.HandleFunc("GET /axios.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(nm, "axios", "dist", "axios.min.js"))
	})
	se.ts.Config.Handler = mux
	if wrap != nil {
		se.ts.Config.Handler = wrap(mux)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(se.a+"/page")); err != nil {
		t.Fatal(err)
	}
	return se
}

// onLocalhost returns base with its host 127.0.0.1 named localhost.
func onLocalhost(t *testing.T, base string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return "http://localhost:" + u.Port()
}

// eval runs a JavaScript expression that may return a promise.
func (se *scriptsEnv) eval(t *testing.T, js string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(se.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// TestScriptsCredentialScope calls same-origin, configured and third-party
// URLs, in every form a page may write them, through the three ways the
// scripts send credentials (propusk.fetch, propuskFetch and axios after
// bootstrap.js), in real Chromium; each server reports what it received.
func TestScriptsCredentialScope(t *testing.T) {
	se := newScriptsEnv(t, nil)
	se.eval(t, `propusk.configure({origins: [`+jsQuote(se.c)+`]}), propusk.obtain().then(() => '')`)
	access := se.eval(t, `propusk.tokens().accessToken`)
	if access == "" {
		t.Fatal("propusk.js obtained no tokens")
	}
	const ours = "ours" // the client's own credential, whatever its value

	// Each call is JavaScript where {u} is a URL (a JS string literal)
	// ending in /echo/<tag>; host is the server that must receive it.
	clients := []struct {
		name, call string
		header     func(seen) string
		cred       string // the credential the client adds
	}{
		{"propusk.fetch", `propusk.fetch({u})`, func(s seen) string { return s.access }, access},
		{"propuskFetch", `propuskFetch({u})`, func(s seen) string { return s.authorization }, "Bearer " + pageAPIToken},
		{"axios", `axios.get({u})`, func(s seen) string { return s.authorization }, "Bearer " + pageAPIToken},
	}
	host := func(base string) string { return strings.TrimPrefix(base, "http://") }
	rows := []struct {
		name string
		url  string // JS expression; {tag} is replaced
		host string
		want string // ours, "" for none, or a literal header value
		only string // a client name: the row is that client's alone
		call string // overrides the client's call
	}{
		{name: "ok/path", url: `'/echo/{tag}'`, host: host(se.a), want: ours},
		{name: "ok/relative", url: `'echo/{tag}'`, host: host(se.a), want: ours},
		{name: "ok/absolute-same-origin", url: `location.origin + '/echo/{tag}'`, host: host(se.a), want: ours},
		{name: "ok/url-object", url: `new URL('/echo/{tag}', location.href)`, host: host(se.a), want: ours},
		{name: "ok/configured-origin", url: jsQuote(se.c + "/echo/{tag}"), host: host(se.c), want: ours},
		{name: "fail/other-port", url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: ""},
		{name: "fail/other-host-same-port", url: jsQuote(se.aLoc + "/echo/{tag}"), host: host(se.aLoc), want: ""},
		{name: "fail/protocol-relative", url: jsQuote("//" + host(se.bLoc) + "/echo/{tag}"), host: host(se.bLoc), want: ""},
		{name: "fail/backslash-protocol-relative", url: jsQuote(`/\` + host(se.bLoc) + "/echo/{tag}"), host: host(se.bLoc), want: ""},
		{name: "fail/url-object-other-port", url: `new URL(` + jsQuote(se.b+"/echo/{tag}") + `)`, host: host(se.b), want: ""},
		{name: "fail/configured-port-other-host", url: jsQuote(strings.Replace(se.c, "127.0.0.1", "localhost", 1) + "/echo/{tag}"), host: host(onLocalhost(t, se.c)), want: ""},

		{name: "ok/request-object", only: "propusk.fetch", call: `propusk.fetch(new Request({u}))`, url: `'/echo/{tag}'`, host: host(se.a), want: ours},
		{name: "ok/request-object-configured", only: "propusk.fetch", call: `propusk.fetch(new Request({u}))`, url: jsQuote(se.c + "/echo/{tag}"), host: host(se.c), want: ours},
		{name: "fail/request-object-other", only: "propusk.fetch", call: `propusk.fetch(new Request({u}))`, url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: ""},
		{name: "ok/request-object", only: "propuskFetch", call: `propuskFetch(new Request({u}))`, url: `'/echo/{tag}'`, host: host(se.a), want: ours},
		{name: "fail/request-object-other", only: "propuskFetch", call: `propuskFetch(new Request({u}))`, url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: ""},
		{name: "ok/own-header-kept", only: "propuskFetch", call: `propuskFetch({u}, {headers: {Authorization: 'Bearer theirs'}})`, url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: "Bearer theirs"},

		{name: "fail/base-url-other", only: "axios", call: `axios.get({u}, {baseURL: ` + jsQuote(se.b) + `})`, url: `'/echo/{tag}'`, host: host(se.b), want: ""},
		{name: "ok/own-header-kept", only: "axios", call: `axios.get({u}, {headers: {Authorization: 'Bearer theirs'}})`, url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: "Bearer theirs"},
		{name: "ok/created-instance", only: "axios", call: `axios.create().get({u})`, url: `'/echo/{tag}'`, host: host(se.a), want: ours},
		{name: "fail/created-instance-other", only: "axios", call: `axios.create().get({u})`, url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: ""},
		{name: "fail/created-instance-base-url", only: "axios", call: `axios.create({baseURL: ` + jsQuote(se.b) + `}).get({u})`, url: `'/echo/{tag}'`, host: host(se.b), want: ""},
		{name: "fail/instance-of-instance", only: "axios", call: `axios.create().create().get({u})`, url: jsQuote(se.b + "/echo/{tag}"), host: host(se.b), want: ""},
	}
	n := 0
	for _, cl := range clients {
		for _, row := range rows {
			if row.only != "" && row.only != cl.name {
				continue
			}
			t.Run(cl.name+"/"+row.name, func(t *testing.T) {
				n++
				tag := fmt.Sprintf("t%d", n)
				call := cl.call
				if row.call != "" {
					call = row.call
				}
				js := strings.ReplaceAll(call, "{u}", strings.ReplaceAll(row.url, "{tag}", tag))
				if got := se.eval(t, js+`.then(() => 'sent', e => 'error: ' + e)`); got != "sent" {
					t.Fatalf("%s: %s", js, got)
				}
				got := se.rec.take(tag)
				if len(got) != 1 || got[0].host != row.host {
					t.Fatalf("%s reached %+v, want one request to %s", js, got, row.host)
				}
				want := row.want
				if want == ours {
					want = cl.cred
				}
				if h := cl.header(got[0]); h != want {
					t.Errorf("%s sent credential %q, want %q", js, h, want)
				}
				// X-Requested-With tells propusk it is a script; a third
				// party gets the request as plain fetch would send it.
				if cl.name == "propusk.fetch" && (got[0].requestedWith != "") != (want != "") {
					t.Errorf("%s: X-Requested-With %q", js, got[0].requestedWith)
				}
			})
		}
	}
	// The contract (docs/API.md): bootstrap.js sets axios' default header.
	if got := se.eval(t, `axios.defaults.headers.common['Authorization']`); got != "Bearer "+pageAPIToken {
		t.Errorf("axios.defaults.headers.common.Authorization = %q", got)
	}

	t.Run("axios-loaded-after-bootstrap", func(t *testing.T) {
		if err := chromedp.Do(se.ctx, chromedp.Navigate(se.a+"/page-late")); err != nil {
			t.Fatal(err)
		}
		for tag, want := range map[string]seen{
			"late-own":   {host: host(se.a), authorization: "Bearer " + pageAPIToken},
			"late-other": {host: host(se.b)},
		} {
			u := se.a
			if want.host == host(se.b) {
				u = se.b
			}
			if got := se.eval(t, `axios.get(`+jsQuote(u+"/echo/"+tag)+`).then(() => 'sent', e => 'error: ' + e)`); got != "sent" {
				t.Fatalf("%s: %s", tag, got)
			}
			if got := se.rec.take(tag); len(got) != 1 || got[0].host != want.host || got[0].authorization != want.authorization {
				t.Errorf("%s: received %+v, want %+v", tag, got, want)
			}
		}
	})
}

// renewFault stands between the browser and propusk for token.renew and
// loses the answers of the next n renewals (all, when n < 0), in a way
// named by mode.
type renewFault struct {
	mu    sync.Mutex
	mode  string
	n     int
	count int // renewals received
}

func (f *renewFault) set(mode string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.n, f.count = mode, n, 0
}

func (f *renewFault) renewals() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count
}

func (f *renewFault) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/token.renew" {
			h.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.count++
		mode, fail := f.mode, f.n != 0
		if f.n > 0 {
			f.n--
		}
		f.mu.Unlock()
		if !fail {
			h.ServeHTTP(w, r)
			return
		}
		// The node answers (the token is spent) and dies before the
		// answer arrives, except for "unread": it dies first.
		rec := httptest.NewRecorder()
		if mode != "unread" {
			h.ServeHTTP(rec, r)
		}
		switch mode {
		case "502", "503", "504":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(map[string]int{"502": 502, "503": 503, "504": 504}[mode])
			w.Write([]byte("<h1>Bad Gateway</h1>"))
			return
		case "reused":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"token_reused","message":"the refresh token was already used"}`))
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		if mode == "cut" {
			body := rec.Body.Bytes()
			writeCut(buf, len(body), body[:len(body)/2])
		}
	})
}

// writeCut writes a response head promising n bytes of JSON, and then only
// part of them.
func writeCut(w *bufio.ReadWriter, n int, part []byte) {
	fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", n)
	w.Write(part)
	w.Flush()
}

// TestPropuskJSRenewalRetry loses the answer of a renewal in each way a
// dying node or its proxy can: propusk.js asks again at once, within
// --renew-grace, and the user stays signed in; when every attempt is lost
// it gives up after three, and the next request (still within the grace
// period) renews.
func TestPropuskJSRenewalRetry(t *testing.T) {
	var fault renewFault
	se := newScriptsEnv(t, fault.wrap)
	se.register(alice, alicePwd)
	// One connection per request: Chromium resends a request by itself
	// when a reused keep-alive connection closes, which would hide the
	// script's own retry.
	se.ts.Config.SetKeepAlivesEnabled(false)

	me := `propusk.me().then(m => m.login || 'anonymous', e => 'error: ' + e.message)`
	cases := []struct {
		name     string
		mode     string
		lose     int    // renewals whose answer is lost; -1 for all
		want     string // what user.me answers after the renewal
		renewals int    // renewal requests the server saw
	}{
		{name: "ok/connection-closed-after-spending", mode: "closed", lose: 1, want: alice, renewals: 2},
		{name: "ok/connection-closed-before-reading", mode: "unread", lose: 1, want: alice, renewals: 2},
		{name: "ok/body-cut", mode: "cut", lose: 1, want: alice, renewals: 2},
		{name: "ok/bad-gateway", mode: "502", lose: 1, want: alice, renewals: 2},
		{name: "ok/gateway-timeout-twice", mode: "504", lose: 2, want: alice, renewals: 3},
		{name: "ok/service-unavailable", mode: "503", lose: 1, want: alice, renewals: 2},
		{name: "fail/every-answer-lost", mode: "closed", lose: -1, want: "error: ", renewals: 3},
		{name: "fail/proxy-down", mode: "502", lose: -1, want: "error: 502", renewals: 3},
		// A real answer is never sent again: the session is over.
		{name: "ok/reused-not-retried", mode: "reused", lose: 1, want: "anonymous", renewals: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fault.set("", 0)
			se.eval(t, `propusk.configure({key: `+jsQuote(c.name)+`}), propusk.login(`+jsQuote(alice)+`, `+jsQuote(alicePwd)+`).then(() => '')`)
			if got := se.eval(t, me); got != alice {
				t.Fatalf("after login user.me says %q", got)
			}
			se.clock.Advance(16 * time.Minute) // the access token expired
			fault.set(c.mode, c.lose)
			if got := se.eval(t, me); !strings.HasPrefix(got, c.want) {
				t.Fatalf("user.me after a lost renewal: %q, want %q", got, c.want)
			}
			if n := fault.renewals(); n != c.renewals {
				t.Errorf("%d renewals sent, want %d", n, c.renewals)
			}
			if c.lose < 0 {
				// The answers are back, and the grace period is not
				// over: the next request renews with the same token.
				fault.set("", 0)
				if got := se.eval(t, me); got != alice {
					t.Fatalf("once the answers are back, user.me says %q", got)
				}
				if n := fault.renewals(); n != 1 {
					t.Errorf("%d renewals after recovering, want 1", n)
				}
			}
		})
	}
}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
