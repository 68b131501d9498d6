package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
)

// newTestServer is a Server on a fresh SQLite store, logging to log.
func newTestServer(t *testing.T, log *slog.Logger) *Server {
	t.Helper()
	store, _ := testenv.SQLite(t)
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := auth.New(context.Background(), auth.Config{Store: store, MasterKey: key, Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Service: svc, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// serve sends a script's request, with token in X-Access-Token when set,
// and returns the status and the error code of the answer.
func serve(s *Server, method, path, token string) (int, string) {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	if token != "" {
		r.Header.Set("X-Access-Token", token)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var body ErrorBody
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body.Error
}

// TestRouteTable walks the route table. Who may call each route is written
// out here as well, so that opening a route (or closing one) is a change a
// reviewer sees in this test; and each audience is tried: a route that is
// not public refuses a request without a token, a route for signed-in users
// refuses an anonymous visitor, an admin route refuses a user.
func TestRouteTable(t *testing.T) {
	want := map[string]string{
		"GET /api/v1/token.obtain":                             "public",
		"GET /api/v1/token.renew":                              "public",
		"POST /api/v1/token.renew":                             "public",
		"GET /api/v1/token.check":                              "public",
		"POST /api/v1/user.register":                           "public",
		"POST /api/v1/user.login":                              "public",
		"POST /api/v1/user.logoff":                             "public",
		"GET /api/v1/user.me":                                  "caller",
		"GET /api/v1/sessions":                                 "signed in",
		"DELETE /api/v1/sessions/{id}":                         "signed in",
		"DELETE /api/v1/sessions":                              "signed in",
		"POST /api/v1/user.password":                           "signed in",
		"GET /api/v1/tokens":                                   "signed in",
		"POST /api/v1/tokens":                                  "signed in",
		"DELETE /api/v1/tokens/{id}":                           "signed in",
		"POST /api/v1/admin/users/{id}/api-token":              "admin",
		"GET /api/v1/admin/users":                              "admin",
		"GET /api/v1/admin/users/{id}":                         "admin",
		"PATCH /api/v1/admin/users/{id}":                       "admin",
		"DELETE /api/v1/admin/users/{id}":                      "admin",
		"POST /api/v1/admin/users/{id}/password":               "admin",
		"GET /api/v1/admin/users/{id}/sessions":                "admin",
		"DELETE /api/v1/admin/users/{id}/sessions":             "admin",
		"DELETE /api/v1/admin/users/{id}/sessions/{sid}":       "admin",
		"GET /api/v1/admin/audit":                              "admin",
		"GET /api/v1/user.audit":                               "signed in",
		"/api/v1/auth.verify":                                  "public", // checks its caller itself: 401 or 403 for a proxy
		"/api/v1/auth.verify/":                                 "public",
		"POST /api/v1/token.introspect":                        "public", // checks its caller itself: RFC 7662's 401
		"POST /api/v1/token.revoke":                            "public", // RFC 7009: holding the token is enough
		"GET /api/v1/revocations":                              "public", // checks its caller itself: 401 or 403
		"GET /sanctum/csrf-cookie":                             "public",
		"POST /login":                                          "public",
		"POST /logout":                                         "public",
		"GET /api/user":                                        "signed in",
		"GET /account":                                         "caller",
		"POST /account/login":                                  "public",
		"POST /account/tokens":                                 "signed in",
		"POST /account/tokens/{id}/delete":                     "signed in",
		"POST /account/sessions/{id}/delete":                   "signed in",
		"POST /account/register":                               "public",
		"POST /account/sessions/others":                        "signed in",
		"POST /account/password":                               "signed in",
		"GET /account/admin/users":                             "admin",
		"GET /account/admin/users/{id}":                        "admin",
		"POST /account/admin/users/{id}":                       "admin",
		"POST /account/admin/users/{id}/disable":               "admin",
		"POST /account/admin/users/{id}/enable":                "admin",
		"POST /account/admin/users/{id}/password":              "admin",
		"POST /account/admin/users/{id}/sessions/delete":       "admin",
		"POST /account/admin/users/{id}/sessions/{sid}/delete": "admin",
		"GET /api/v1/openapi.json":                             "public",
		"GET /.well-known/jwks.json":                           "public",
		"GET /assets/{name}":                                   "public",
		"GET /healthz":                                         "public",
		"GET /{$}":                                             "public",
	}
	s := newTestServer(t, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	anon, err := s.svc.Obtain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user, err := s.svc.Register(ctx, "walker", "correct horse battery", propusk.Client{})
	if err != nil {
		t.Fatal(err)
	}
	table := s.routeTable()
	if len(table) != len(want) {
		t.Errorf("the table has %d routes, the test knows %d", len(table), len(want))
	}
	for _, rt := range table {
		t.Run(rt.pattern, func(t *testing.T) {
			if got, ok := want[rt.pattern]; !ok || got != rt.access.who {
				t.Fatalf("access %q, want %q", rt.access.who, got)
			}
			if rt.access.who == "public" {
				return
			}
			method, path, _ := strings.Cut(rt.pattern, " ")
			path = strings.NewReplacer("{id}", "1", "{$}", "").Replace(path)
			if code, e := serve(s, method, path, ""); code != http.StatusForbidden || e != propusk.ETOKENREQUIRED {
				t.Errorf("without a token: %d %s, want 403 %s", code, e, propusk.ETOKENREQUIRED)
			}
			if rt.access.who == "caller" {
				return
			}
			if code, e := serve(s, method, path, anon.AccessToken); code != http.StatusForbidden || e != propusk.EFORBIDDEN {
				t.Errorf("an anonymous visitor: %d %s, want 403 %s", code, e, propusk.EFORBIDDEN)
			}
			if rt.access.who != "admin" {
				return
			}
			if code, e := serve(s, method, path, user.AccessToken); code != http.StatusForbidden || e != propusk.EFORBIDDEN {
				t.Errorf("a user: %d %s, want 403 %s", code, e, propusk.EFORBIDDEN)
			}
		})
	}
}

// TestRouteWithoutAccess: a route whose author stated no audience stops the
// Server at start rather than serving it open.
func TestRouteWithoutAccess(t *testing.T) {
	s := newTestServer(t, slog.New(slog.DiscardHandler))
	defer func() {
		if recover() == nil {
			t.Fatal("a route with no access was mounted")
		}
	}()
	s.handle(endpoint{pattern: "GET /open", h: func(http.ResponseWriter, *http.Request) error { return nil }})
}

// TestNoSecondAnswer: a handler that fails after it has written its answer
// gets no second one appended (a JSON error after a page); the error goes
// to the log instead. One that fails before writing is answered as usual.
func TestNoSecondAnswer(t *testing.T) {
	cases := []struct {
		name       string
		h          handlerFunc
		status     int
		body       string // the answer's body, exactly; "" for the JSON error
		wantLogged string // a fragment of the log; "" for nothing
	}{
		{"fail/after-answer", func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("page"))
			return errors.New("template failed half way")
		}, 200, "page", "request failed after its answer was sent"},
		{"fail/after-status", func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusNoContent)
			return errors.New("flush failed")
		}, 204, "", "request failed after its answer was sent"},
		{"fail/client-gone-after-answer", func(w http.ResponseWriter, r *http.Request) error {
			w.Write([]byte("page"))
			return context.Canceled
		}, 200, "page", ""},
		{"fail/before-answer", func(w http.ResponseWriter, r *http.Request) error {
			return propusk.Errorf(propusk.EINVALID, "bad input")
		}, 400, `{"error":"` + propusk.EINVALID + `","message":"bad input"}` + "\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log := &testenv.LogBuffer{}
			s := newTestServer(t, slog.New(slog.NewJSONHandler(log, nil)))
			s.handle(at("GET /test", public(), c.h))
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/test", nil))
			if w.Code != c.status || w.Body.String() != c.body {
				t.Fatalf("answer %d %q, want %d %q", w.Code, w.Body.String(), c.status, c.body)
			}
			if got := log.String(); (c.wantLogged == "") != (got == "") || !strings.Contains(got, c.wantLogged) {
				t.Fatalf("log %q, want %q", got, c.wantLogged)
			}
		})
	}
}

// failingAuth fails every authentication as a broken store would.
type failingAuth struct{}

func (failingAuth) Authenticate(context.Context, string, string) (*propusk.Principal, error) {
	return nil, propusk.Errorf(propusk.EINTERNAL, "the store failed: disk I/O error")
}

// TestDenyLogsInternal: the Middleware's default refusal of a request that
// failed inside (the store, not the caller) answers 500 with a generic
// message and logs the detail; a caller's own error is not logged.
func TestDenyLogsInternal(t *testing.T) {
	cases := []struct {
		name   string
		token  string
		status int
		logged bool
	}{
		{"fail/store", "some-token", 500, true},
		{"fail/no-token", "", 403, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log := &testenv.LogBuffer{}
			m := &Middleware{Auth: failingAuth{}, Logger: slog.New(slog.NewJSONHandler(log, nil))}
			h := m.Protect(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Fatal("the handler ran") }))
			r := httptest.NewRequest("GET", "/mine", nil)
			r.Header.Set("X-Requested-With", "XMLHttpRequest")
			if c.token != "" {
				r.Header.Set("X-Access-Token", c.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status || strings.Contains(w.Body.String(), "disk") {
				t.Fatalf("answer %d %s, want %d without the detail", w.Code, w.Body, c.status)
			}
			if got := log.String(); strings.Contains(got, "disk I/O error") != c.logged {
				t.Fatalf("log %q: want the detail logged: %v", got, c.logged)
			}
		})
	}
}

// TestLiteralRoutesAsMux: the map that routes paths without wildcards
// chooses, for every route's path under every method and in spellings the
// mux treats apart, the pattern the mux chooses, or leaves the request
// to the mux.
func TestLiteralRoutesAsMux(t *testing.T) {
	s := newTestServer(t, slog.New(slog.DiscardHandler))
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "get"}
	hits := 0
	for _, rt := range s.routeTable() {
		_, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			path = rt.pattern
		}
		path = strings.ReplaceAll(strings.ReplaceAll(path, "{id}", "7"), "{$}", "")
		spellings := []string{path, path + "/", strings.Replace(path, "/", "//", 2), strings.Replace(path, "v1/", "v1%2F", 1),
			strings.Replace(path, "o", "%6F", 1), strings.Replace(path, "/a", "/./a", 1), path + "?x=1"}
		for _, m := range methods {
			for _, target := range spellings {
				r := httptest.NewRequest("GET", "/", nil)
				r.Method = m
				u, err := r.URL.Parse(target)
				if err != nil {
					continue
				}
				r.URL = u
				_, want := s.mux.Handler(r)
				h, got := s.literalRoute(r)
				if h == nil {
					continue // the mux decides
				}
				hits++
				if got != want {
					t.Errorf("%s %s: literal route %q, the mux's %q", m, target, got, want)
				}
			}
		}
	}
	if hits < 50 {
		t.Errorf("only %d requests routed by the literal map", hits)
	}
}
