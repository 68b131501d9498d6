package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/metrics"
	"github.com/propusk/propusk/web"
)

// TestUserMeReadsNoStore: the handlers that need only the caller's user
// (user.me by an access token, a personal access token or the cookie,
// /api/user, auth.verify's login header) read nothing from the store once
// the caller has been seen: every store call is counted, by the metrics'
// store wrapper, through repeated calls.
func TestUserMeReadsNoStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		m := metrics.New()
		e := newEnv(t, open, func(a *auth.Config, _ *web.Config) { a.Store = m.Store(a.Store) })
		alice := e.register("alice", "correct horse")
		cases := []struct {
			name, path string
			header     map[string]string
			cookies    []*http.Cookie
		}{
			{"ok/user.me/access-token", "/api/v1/user.me", withXHR(map[string]string{"X-Access-Token": alice.access}), nil},
			{"ok/user.me/bearer-access-token", "/api/v1/user.me", withXHR(map[string]string{"Authorization": "Bearer " + alice.access}), nil},
			{"ok/user.me/pat", "/api/v1/user.me", withXHR(map[string]string{"Authorization": "Bearer " + alice.api}), nil},
			{"ok/user.me/cookie", "/api/v1/user.me", xhr, []*http.Cookie{{Name: web.CookieAccess, Value: alice.access}}},
			{"ok/api-user/cookie", "/api/user", xhr, []*http.Cookie{{Name: web.CookieAccess, Value: alice.access}}},
			{"ok/auth.verify/access-token", "/api/v1/auth.verify?level=10", map[string]string{"X-Access-Token": alice.access, "X-Original-URI": "/page"}, nil},
			{"ok/auth.verify/pat", "/api/v1/auth.verify?level=10", map[string]string{"Authorization": "Bearer " + alice.api, "X-Original-URI": "/page"}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				call := func() {
					t.Helper()
					r := e.do(req{method: "GET", path: c.path, header: c.header, cookies: c.cookies})
					if r.StatusCode != http.StatusOK {
						t.Fatalf("%d %s", r.StatusCode, r.body)
					}
					if c.path == "/api/v1/auth.verify?level=10" {
						if got := r.Header.Get(web.HeaderLogin); got != "alice" {
							t.Fatalf("login header %q", got)
						}
					} else if got := r.json(t)["login"]; got != "alice" {
						t.Fatalf("login %v", got)
					}
				}
				call() // the first sight may read
				before := storeCalls(t, m)
				for range 20 {
					call()
				}
				if n := storeCalls(t, m) - before; n != 0 {
					t.Fatalf("%d store calls for 20 calls by a caller already seen", n)
				}
			})
		}
	})
}

// TestUserMeShowsChanges: an administrator's change to a user shows in the
// user's next user.me on this process at once, whatever the cache held: a
// new level through a personal access token (an access token carries the
// level it was issued with until it is renewed), and a refusal once the
// user is disabled or deleted.
func TestUserMeShowsChanges(t *testing.T) {
	cases := []struct {
		name, method, body string
		pat, access        int // user.me's status after the change, by each
		level              float64
	}{
		{"ok/level", "PATCH", `{"level":20}`, 200, 200, 20},
		{"ok/boards", "PATCH", `{"boards":["b"]}`, 200, 200, propusk.LevelUser},
		{"ok/password", "POST", `{"password":"another password"}`, 200, 403, propusk.LevelUser},
		{"fail/disabled", "PATCH", `{"disabled":true}`, 403, 403, 0},
		{"fail/deleted", "DELETE", "", 403, 403, 0},
	}
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		if _, err := e.svc.CreateUser(t.Context(), "root", "correct horse", propusk.LevelAdmin, nil); err != nil {
			t.Fatal(err)
		}
		admin := withXHR(map[string]string{"X-Access-Token": e.login("root", "correct horse").access})
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u := e.register(fmt.Sprintf("user%d", i), "correct horse")
				pat := withXHR(map[string]string{"Authorization": "Bearer " + u.api})
				if r := e.do(req{method: "GET", path: "/api/v1/user.me", header: pat}); r.StatusCode != 200 {
					t.Fatalf("before: %d %s", r.StatusCode, r.body)
				}
				id := e.me(u.access).json(t)["_id"].(float64)
				path := fmt.Sprintf("/api/v1/admin/users/%d", int64(id))
				if c.method == "POST" {
					path += "/password"
				}
				if r := e.do(req{method: c.method, path: path, body: c.body, header: admin}); r.StatusCode != 200 {
					t.Fatalf("%s %s: %d %s", c.method, path, r.StatusCode, r.body)
				}
				r := e.do(req{method: "GET", path: "/api/v1/user.me", header: pat})
				if r.StatusCode != c.pat {
					t.Fatalf("by the api-token after the change: %d %s, want %d", r.StatusCode, r.body, c.pat)
				}
				if c.pat == 200 {
					if got := r.json(t)["level"]; got != c.level {
						t.Fatalf("by the api-token after the change: level %v, want %v", got, c.level)
					}
				}
				if r := e.me(u.access); r.StatusCode != c.access {
					t.Fatalf("by the access token after the change: %d %s, want %d", r.StatusCode, r.body, c.access)
				}
			})
		}
	})
}

// storeCalls is how many store calls m has timed, but those that run in
// the background whatever the requests: the revocation feed's polling,
// its safety check of the keys and the coalesced flush of last_used_at.
func storeCalls(tb testing.TB, m *metrics.Metrics) uint64 {
	tb.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		tb.Fatal(err)
	}
	var n uint64
	for _, f := range fams {
		if f.GetName() != "propusk_store_operation_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			op := ""
			for _, l := range s.GetLabel() {
				if l.GetName() == "operation" {
					op = l.GetValue()
				}
			}
			switch op {
			case "events", "last_event", "keys", "touch_tokens":
				continue
			}
			n += s.GetHistogram().GetSampleCount()
		}
	}
	return n
}
