package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/web"
)

// introspectEnv is an env with a service account: alice's personal access
// token that may introspect, and tokens of every kind to ask about.
type introspectEnv struct {
	*patEnv
	alice     pair
	service   string // PAT with tokens:introspect
	plain     string // PAT with courses:read only
	expiring  string // PAT that expires in an hour
	anonymous pair
	admin     pair
}

func newIntrospectEnv(t *testing.T, open func(t *testing.T) propusk.Store) *introspectEnv {
	e := &introspectEnv{patEnv: newPATEnv(t, open)}
	e.alice = e.register("alice", "password-1")
	jwt := withXHR(map[string]string{"X-Access-Token": e.alice.access})
	e.service = e.createToken(jwt, `{"name":"svc","abilities":["tokens:introspect","revocations:read"]}`)["token"].(string)
	e.plain = e.createToken(jwt, `{"name":"app","abilities":["courses:read"]}`)["token"].(string)
	exp := e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	e.expiring = e.createToken(jwt, `{"name":"short","expires_at":"`+exp+`"}`)["token"].(string)
	e.anonymous = e.obtain()
	if _, err := e.svc.CreateUser(context.Background(), "root", "password-1", propusk.LevelAdmin, nil); err != nil {
		t.Fatal(err)
	}
	e.admin = e.login("root", "password-1")
	return e
}

// introspect asks about tok as the caller with credential header h, as a form.
func (e *introspectEnv) introspect(h map[string]string, tok string) *resp {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/api/v1/token.introspect", form: url.Values{"token": {tok}}, header: h})
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// TestIntrospect: RFC 7662 for each kind of token, and for callers
// without valid credentials (401, §2.1).
func TestIntrospect(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newIntrospectEnv(t, open)
		svc := bearer(e.service)
		logged := e.login("alice", "password-1")
		loggedOff := e.login("alice", "password-1")
		if r := e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": loggedOff.access})}); r.StatusCode != 200 {
			t.Fatalf("logoff: %d %s", r.StatusCode, r.body)
		}
		aliceID := userID(t, e.env, e.plain)

		active := []struct {
			name, tok string
			want      map[string]any
		}{
			{"ok/access-token", logged.access, map[string]any{"token_type": "Bearer", "sub": itoa(aliceID), "_id": float64(aliceID), "iss": "propusk", "level": float64(10), "via": "access-token", "scope": "*"}},
			{"ok/anonymous", e.anonymous.access, map[string]any{"level": float64(0), "via": "access-token", "sub": nil, "_id": nil}},
			{"ok/pat", e.plain, map[string]any{"sub": itoa(aliceID), "via": "api-token", "scope": "courses:read", "exp": nil, "iat": nil}},
			{"ok/pat-expiring", e.expiring, map[string]any{"exp": float64(e.clock.Now().Add(time.Hour).Unix())}},
		}
		for _, c := range active {
			t.Run(c.name, func(t *testing.T) {
				r := e.introspect(svc, c.tok)
				m := r.json(t)
				if r.StatusCode != 200 || m["active"] != true {
					t.Fatalf("%d %s, want active", r.StatusCode, r.body)
				}
				for k, v := range c.want {
					if got, ok := m[k]; v == nil && ok || v != nil && got != v {
						t.Errorf("%s = %v, want %v: %s", k, got, v, r.body)
					}
				}
				if m["via"] == "access-token" && (m["sid"] == "" || m["iat"] == nil || m["exp"] == nil || m["jti"] == nil) {
					t.Errorf("an access token's sid, iat, exp, jti missing: %s", r.body)
				}
				if m["boards"] == nil || m["abilities"] == nil {
					t.Errorf("boards or abilities missing: %s", r.body)
				}
			})
		}

		expiredClock := e.login("alice", "password-1") // expires when the clock moves below
		inactive := []struct{ name, tok string }{
			{"inactive/refresh-token", logged.refresh},
			{"inactive/anonymous-refresh", e.anonymous.refresh},
			{"inactive/logged-off", loggedOff.access},
			{"inactive/garbage", "garbage"},
			{"inactive/garbage-jwt", "eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4In0."},
			{"inactive/made-up-pat", "999|" + strings.Repeat("a", 48)},
		}
		check := func(t *testing.T, tok string) {
			t.Helper()
			r := e.introspect(svc, tok)
			if r.StatusCode != 200 || strings.TrimSpace(string(r.body)) != `{"active":false}` {
				t.Fatalf("%d %s, want 200 {\"active\":false} and nothing more", r.StatusCode, r.body)
			}
		}
		for _, c := range inactive {
			t.Run(c.name, func(t *testing.T) { check(t, c.tok) })
		}
		t.Run("inactive/expired", func(t *testing.T) {
			e.clock.Advance(2 * time.Hour)
			defer e.clock.Advance(-2 * time.Hour)
			check(t, expiredClock.access)
			check(t, e.expiring)
		})
		t.Run("inactive/deleted-pat", func(t *testing.T) {
			doomed := e.createToken(withXHR(map[string]string{"X-Access-Token": e.alice.access}), `{"name":"doomed"}`)
			if r := e.do(req{method: "DELETE", path: "/api/v1/tokens/" + itoa(int64(doomed["id"].(float64))), header: withXHR(map[string]string{"X-Access-Token": e.alice.access})}); r.StatusCode >= 300 {
				t.Fatalf("delete: %d %s", r.StatusCode, r.body)
			}
			check(t, doomed["token"].(string))
		})

		callers := []struct {
			name      string
			header    map[string]string
			status    int
			code      string
			challenge string
		}{
			{"ok/service-pat", svc, 200, "", ""},
			{"ok/admin-access-token", map[string]string{"X-Access-Token": e.admin.access}, 200, "", ""},
			{"fail/no-credentials", nil, 401, propusk.ETOKENREQUIRED, `Bearer realm="propusk"`},
			{"fail/garbage", bearer("garbage"), 401, propusk.ETOKENINVALID, `error="invalid_token"`},
			{"fail/refresh-token", bearer(logged.refresh), 401, propusk.ETOKENINVALID, `error="invalid_token"`},
			{"fail/logged-off", bearer(loggedOff.access), 401, propusk.ETOKENINVALID, `error="invalid_token"`},
			{"fail/pat-without-ability", bearer(e.plain), 401, propusk.EFORBIDDEN, `error="insufficient_scope"`},
			{"fail/user-access-token", bearer(logged.access), 401, propusk.EFORBIDDEN, `error="insufficient_scope"`},
			{"fail/anonymous", bearer(e.anonymous.access), 401, propusk.EFORBIDDEN, `error="insufficient_scope"`},
			{"fail/cookie", nil, 401, propusk.ETOKENINVALID, `error="invalid_token"`},
		}
		for _, c := range callers {
			t.Run("caller/"+c.name, func(t *testing.T) {
				q := req{method: "POST", path: "/api/v1/token.introspect", form: url.Values{"token": {logged.access}}, header: c.header}
				if c.name == "fail/cookie" {
					q.cookies = cookiesOf(e.admin.access)
				}
				r := e.do(q)
				if c.status == 200 {
					if r.StatusCode != 200 || r.json(t)["active"] != true {
						t.Fatalf("%d %s", r.StatusCode, r.body)
					}
					return
				}
				wantError(t, r, c.status, c.code)
				if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, c.challenge) {
					t.Errorf("WWW-Authenticate %q, want %q", h, c.challenge)
				}
			})
		}

		t.Run("fail/no-token", func(t *testing.T) {
			wantError(t, e.do(req{method: "POST", path: "/api/v1/token.introspect", form: url.Values{}, header: svc}), 400, propusk.EINVALID)
		})
		t.Run("ok/json-body", func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/token.introspect", body: `{"token":"` + e.plain + `","token_type_hint":"access_token"}`, header: svc})
			if r.StatusCode != 200 || r.json(t)["active"] != true {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
		})
	})
}

// TestRevoke: RFC 7009. The holder revokes a personal access token, a
// refresh token (its session) or an access token (its session); anything
// else is 200 too, and changes nothing.
func TestRevoke(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newIntrospectEnv(t, open)
		revoke := func(t *testing.T, body req) {
			t.Helper()
			body.method, body.path = "POST", "/api/v1/token.revoke"
			r := e.do(body)
			if r.StatusCode != 200 || strings.TrimSpace(string(r.body)) != "{}" {
				t.Fatalf("revoke: %d %s, want 200 {}", r.StatusCode, r.body)
			}
		}
		form := func(tok, hint string) req {
			v := url.Values{"token": {tok}}
			if hint != "" {
				v.Set("token_type_hint", hint)
			}
			return req{form: v}
		}
		active := func(tok string) bool {
			return e.introspect(bearer(e.service), tok).json(t)["active"] == true
		}
		cases := []struct {
			name string
			// make returns the request, and the tokens that must stop
			// working and those that must keep working after it.
			make func(t *testing.T) (q req, stop, keep []string)
		}{
			{"ok/pat", func(t *testing.T) (req, []string, []string) {
				tok := e.createToken(withXHR(map[string]string{"X-Access-Token": e.alice.access}), `{"name":"gone"}`)["token"].(string)
				return form(tok, ""), []string{tok}, []string{e.plain}
			}},
			{"ok/refresh-token-ends-session", func(t *testing.T) (req, []string, []string) {
				p := e.login("alice", "password-1")
				return form(p.refresh, "refresh_token"), []string{p.access}, []string{e.alice.access}
			}},
			{"ok/access-token-ends-session", func(t *testing.T) (req, []string, []string) {
				p := e.login("alice", "password-1")
				return form(p.access, "access_token"), []string{p.access}, []string{e.alice.access}
			}},
			{"ok/json", func(t *testing.T) (req, []string, []string) {
				p := e.login("alice", "password-1")
				return req{body: `{"token":"` + p.refresh + `"}`}, []string{p.access}, nil
			}},
			{"ok/unknown-hint-ignored", func(t *testing.T) (req, []string, []string) {
				p := e.login("alice", "password-1")
				return form(p.refresh, "no_such_kind"), []string{p.access}, nil
			}},
			{"ok/wrong-hint-searched-anyway", func(t *testing.T) (req, []string, []string) {
				p := e.login("alice", "password-1")
				return form(p.refresh, "access_token"), []string{p.access}, nil
			}},
			{"ok/anonymous-changes-nothing", func(t *testing.T) (req, []string, []string) {
				return form(e.anonymous.refresh, ""), nil, []string{e.anonymous.access, e.alice.access}
			}},
			{"ok/garbage", func(t *testing.T) (req, []string, []string) {
				return form("garbage", ""), nil, []string{e.alice.access, e.plain}
			}},
			{"ok/made-up-pat", func(t *testing.T) (req, []string, []string) {
				return form("1|"+strings.Repeat("a", 48), ""), nil, []string{e.alice.access, e.plain}
			}},
			{"ok/twice", func(t *testing.T) (req, []string, []string) {
				p := e.login("alice", "password-1")
				revoke(t, form(p.refresh, ""))
				return form(p.refresh, ""), []string{p.access}, nil
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				q, stop, keep := c.make(t)
				for _, tok := range stop {
					if !active(tok) && c.name != "ok/twice" {
						t.Fatalf("%.20s… inactive before the revocation", tok)
					}
				}
				revoke(t, q)
				for _, tok := range stop {
					if active(tok) {
						t.Errorf("%.20s… still active after the revocation", tok)
					}
				}
				for _, tok := range keep {
					if !active(tok) {
						t.Errorf("%.20s… inactive: revoked what it should not", tok)
					}
				}
			})
		}
		t.Run("fail/no-token", func(t *testing.T) {
			wantError(t, e.do(req{method: "POST", path: "/api/v1/token.revoke", form: url.Values{"token_type_hint": {"refresh_token"}}}), 400, propusk.EINVALID)
		})
		t.Run("fail/bad-media-type", func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/token.revoke", header: map[string]string{"Content-Type": "text/plain"}})
			_ = r // an empty body is an empty input: 400 for the missing token
			wantError(t, r, 400, propusk.EINVALID)
		})
		t.Run("fail/get", func(t *testing.T) {
			wantError(t, e.do(req{method: "GET", path: "/api/v1/token.revoke"}), 405, propusk.EMETHOD)
		})
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func cookiesOf(access string) []*http.Cookie {
	return []*http.Cookie{{Name: web.CookieAccess, Value: access}}
}
