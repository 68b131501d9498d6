package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// clock is the fake clock the tests move instead of sleeping.
type clock = testenv.Clock

func newClock() *clock { return testenv.NewClock(time.Time{}) }

// storeKinds are the stores every contract test runs on.
var storeKinds = []struct {
	name string
	open func(t *testing.T) propusk.Store
}{
	{"sqlite", func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s }},
	{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
	{"mysql", func(t *testing.T) propusk.Store { s, _ := testenv.MySQL(t); return s }},
}

// env is one propusk under test: a service on a fake clock and its server.
type env struct {
	t     *testing.T
	clock *clock
	store propusk.Store
	svc   *auth.Service
	srv   *web.Server
	ts    *httptest.Server
}

// cheap argon2 parameters keep the suite fast; production defaults are
// tested in the auth package.
var testArgon = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func newEnv(t *testing.T, open func(t *testing.T) propusk.Store, mod ...func(*auth.Config, *web.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), store: open(t)}
	key := make([]byte, 32)
	rand.Read(key)
	acfg := auth.Config{Store: e.store, MasterKey: key, Now: e.clock.Now, Argon2: testArgon}
	hcfg := web.Config{}
	for _, f := range mod {
		f(&acfg, &hcfg)
	}
	svc, err := auth.New(context.Background(), acfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	hcfg.Service = svc
	if e.srv, err = web.New(hcfg); err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e
}

// forEachStore runs f as a subtest on every store.
func forEachStore(t *testing.T, f func(t *testing.T, open func(t *testing.T) propusk.Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.open) })
	}
}

// req describes one request.
type req struct {
	method, path string
	body         string // JSON unless form is set
	form         url.Values
	header       map[string]string
	cookies      []*http.Cookie
}

// resp is a response, read.
type resp struct {
	*http.Response
	body []byte
}

func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%s: body is not JSON: %v: %q", r.Request.URL, err, r.body)
	}
	return m
}

// jsonList decodes a JSON array of objects.
func (r *resp) jsonList(t *testing.T) []any {
	t.Helper()
	var l []any
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("%s: body is not a JSON array: %v: %q", r.Request.URL, err, r.body)
	}
	return l
}

func (r *resp) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// do sends q without following redirects.
func (e *env) do(q req) *resp {
	e.t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case q.form != nil:
		body, ct = strings.NewReader(q.form.Encode()), "application/x-www-form-urlencoded"
	case q.body != "":
		body, ct = strings.NewReader(q.body), "application/json"
	}
	r, err := http.NewRequest(q.method, e.ts.URL+q.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	for _, c := range q.cookies {
		r.AddCookie(c)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &resp{Response: res, body: b}
}

var xhr = map[string]string{"X-Requested-With": "XMLHttpRequest"}

func withXHR(h map[string]string) map[string]string {
	out := map[string]string{"X-Requested-With": "XMLHttpRequest"}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// pair is a token pair as a client holds it.
type pair struct{ access, refresh, api string }

func (e *env) obtain() pair {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/api/v1/token.obtain", header: xhr})
	if r.StatusCode != 200 {
		e.t.Fatalf("obtain: %d %s", r.StatusCode, r.body)
	}
	m := r.json(e.t)
	return pair{access: m["accessToken"].(string), refresh: m["refreshToken"].(string)}
}

func (e *env) register(login, password string) pair {
	e.t.Helper()
	return e.signIn("/api/v1/user.register", http.StatusCreated, login, password)
}

func (e *env) login(login, password string) pair {
	e.t.Helper()
	return e.signIn("/api/v1/user.login", http.StatusOK, login, password)
}

// signIn posts a login and password to path as a script does, wants
// status, and returns the pair it is given.
func (e *env) signIn(path string, status int, login, password string) pair {
	e.t.Helper()
	r := e.do(req{method: "POST", path: path, body: `{"login":"` + login + `","password":"` + password + `"}`, header: xhr})
	if r.StatusCode != status {
		e.t.Fatalf("%s: %d %s", path, r.StatusCode, r.body)
	}
	m := r.json(e.t)
	return pair{access: m["accessToken"].(string), refresh: m["refreshToken"].(string), api: m["apiToken"].(string)}
}

func (e *env) renew(refresh string) (*resp, pair) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/token.renew", body: `{"refreshToken":"` + refresh + `"}`, header: xhr})
	if r.StatusCode != 200 {
		return r, pair{}
	}
	m := r.json(e.t)
	return r, pair{access: m["accessToken"].(string), refresh: m["refreshToken"].(string)}
}

// me calls user.me with an access token in X-Access-Token.
func (e *env) me(access string) *resp {
	e.t.Helper()
	return e.do(req{method: "GET", path: "/api/v1/user.me", header: withXHR(map[string]string{"X-Access-Token": access})})
}

func wantError(t *testing.T, r *resp, status int, code string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	m := r.json(t)
	if m["error"] != code {
		t.Fatalf("%s: error %v, want %q: %s", r.Request.URL.Path, m["error"], code, r.body)
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Fatalf("%s: error without a message: %s", r.Request.URL.Path, r.body)
	}
}
