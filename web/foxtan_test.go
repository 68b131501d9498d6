package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
)

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, tok string) map[string]any { return testenv.JWTClaims(t, tok) }

// header decodes a JWT's header without verifying it.
func header(t *testing.T, tok string) map[string]any { return testenv.JWTHeader(t, tok) }

func TestObtain(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		before, _ := e.store.LastEvent(context.Background())

		t.Run("ok/json-for-scripts", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/token.obtain", header: xhr})
			if r.StatusCode != 200 || r.cookie("accessToken") != nil {
				t.Fatalf("status %d, cookies %v", r.StatusCode, r.Cookies())
			}
			m := r.json(t)
			c := claims(t, m["accessToken"].(string))
			h := header(t, m["accessToken"].(string))
			if h["alg"] != "EdDSA" || h["typ"] != "at+jwt" || h["kid"] == "" {
				t.Errorf("access header %v", h)
			}
			if c["level"] != 0.0 || c["boards"].([]any)[0] != "*" || c["_id"] != nil || c["sub"] != nil {
				t.Errorf("anonymous claims %v", c)
			}
			for _, k := range []string{"exp", "iat", "jti", "iss", "sid"} {
				if c[k] == nil {
					t.Errorf("claim %s missing: %v", k, c)
				}
			}
			if c["iss"] != "propusk" || c["exp"] != m["expires"] {
				t.Errorf("iss %v, exp %v, expires %v", c["iss"], c["exp"], m["expires"])
			}
			rc := claims(t, m["refreshToken"].(string))
			if rc["typ"] != "refresh" || rc["sid"] != c["sid"] || rc["_id"] != nil || header(t, m["refreshToken"].(string))["alg"] != "HS256" {
				t.Errorf("refresh claims %v", rc)
			}
			if _, err := e.store.Session(context.Background(), c["sid"].(string)); propusk.ErrorCode(err) != propusk.ENOTFOUND {
				t.Errorf("anonymous session stored: %v", err)
			}
		})
		t.Run("ok/cookies-for-browsers", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/token.obtain"})
			if r.StatusCode != 200 {
				t.Fatalf("status %d", r.StatusCode)
			}
			for _, name := range []string{"accessToken", "refreshToken"} {
				c := r.cookie(name)
				if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge <= 0 {
					t.Errorf("cookie %s: %+v", name, c)
				}
			}
			if got := r.cookie("accessToken").MaxAge; got != int((15 * time.Minute).Seconds()) {
				t.Errorf("access cookie lives %ds, want the token's 900s", got)
			}
		})
		redirects := []struct {
			name, target, want string
		}{
			{"ok/path", "/b/res/1.html?x=1", "/b/res/1.html?x=1"},
			{"ok/root", "/", "/"},
			{"fail/scheme-relative", "//evil.example/", "/"},
			{"fail/backslash", "/\\evil.example", "/"},
			{"fail/absolute", "https://evil.example/", "/"},
			{"fail/javascript", "javascript:alert(1)", "/"},
			{"fail/relative", "evil", "/"},
			{"fail/encoded-slashes", "/%2F%2Fevil.example", "/"},
			{"fail/encoded-backslash", "/%5Cevil.example", "/"},
			{"fail/tab", "/\t/evil.example", "/"},
			{"fail/newline", "/\n/evil.example", "/"},
			{"fail/crlf-header", "/x\r\nSet-Cookie: a=b", "/"},
			{"fail/empty", "", "/"},
		}
		for _, c := range redirects {
			t.Run("redirect/"+c.name, func(t *testing.T) {
				r := e.do(req{method: "GET", path: "/api/v1/token.obtain?redirect=" + url.QueryEscape(c.target)})
				if r.StatusCode != 302 || r.Header.Get("Location") != c.want {
					t.Fatalf("status %d, Location %q, want 302 to %q", r.StatusCode, r.Header.Get("Location"), c.want)
				}
				if r.cookie("accessToken") == nil {
					t.Fatal("no cookies with the redirect")
				}
			})
		}
		if after, _ := e.store.LastEvent(context.Background()); after != before {
			t.Errorf("obtain wrote to the feed: %d -> %d", before, after)
		}
	})
}

func TestRenew(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		t.Run("ok/anonymous-keeps-sid", func(t *testing.T) {
			p := e.obtain()
			r, q := e.renew(p.refresh)
			if r.StatusCode != 200 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if q.access == p.access || q.refresh == p.refresh {
				t.Fatal("both tokens must be replaced")
			}
			if claims(t, q.access)["sid"] != claims(t, p.access)["sid"] {
				t.Fatal("anonymous renew changed the sid")
			}
		})
		sources := []struct {
			name string
			q    func(refresh string) req
		}{
			{"query-get", func(rt string) req {
				return req{method: "GET", path: "/api/v1/token.renew?refreshToken=" + url.QueryEscape(rt), header: xhr}
			}},
			{"form", func(rt string) req {
				return req{method: "POST", path: "/api/v1/token.renew", form: url.Values{"refreshToken": {rt}}, header: xhr}
			}},
			{"json", func(rt string) req {
				return req{method: "POST", path: "/api/v1/token.renew", body: `{"refreshToken":"` + rt + `"}`, header: xhr}
			}},
			{"cookie-get", func(rt string) req {
				return req{method: "GET", path: "/api/v1/token.renew", header: xhr, cookies: []*http.Cookie{{Name: "refreshToken", Value: rt}}}
			}},
		}
		for i, src := range sources {
			t.Run("ok/source-"+src.name, func(t *testing.T) {
				p := e.register("renew"+string(rune('a'+i)), "password1")
				r := e.do(src.q(p.refresh))
				if r.StatusCode != 200 {
					t.Fatalf("%d %s", r.StatusCode, r.body)
				}
				m := r.json(t)
				c := claims(t, m["accessToken"].(string))
				if c["_id"] == nil || c["sid"] != claims(t, p.access)["sid"] {
					t.Fatalf("renewed claims %v", c)
				}
			})
		}
		t.Run("ok/browser-redirect-and-cookies", func(t *testing.T) {
			p := e.register("renewbrowser", "password1")
			r := e.do(req{method: "GET", path: "/api/v1/token.renew?redirect=%2Faccount", cookies: []*http.Cookie{{Name: "refreshToken", Value: p.refresh}}})
			if r.StatusCode != 302 || r.Header.Get("Location") != "/account" || r.cookie("accessToken") == nil || r.cookie("refreshToken") == nil {
				t.Fatalf("%d %v %v", r.StatusCode, r.Header, r.body)
			}
		})
		bad := []struct{ name, token string }{
			{"garbage", "garbage"},
			{"empty", ""},
			{"access-token-as-refresh", e.obtain().access},
		}
		for _, b := range bad {
			t.Run("fail/"+b.name+"/xhr", func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: "/api/v1/token.renew", body: `{"refreshToken":"` + b.token + `"}`, header: xhr}), 403, "token_invalid")
			})
			t.Run("fail/"+b.name+"/browser", func(t *testing.T) {
				r := e.do(req{method: "GET", path: "/api/v1/token.renew?redirect=%2Fb%2F&refreshToken=" + url.QueryEscape(b.token)})
				if r.StatusCode != 302 || r.Header.Get("Location") != "/api/v1/token.obtain?redirect=%2Fb%2F" {
					t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
				}
			})
		}
		t.Run("fail/expired-refresh", func(t *testing.T) {
			p := e.register("expiring", "password1")
			e.clock.Advance(721 * time.Hour)
			defer e.clock.Advance(-721 * time.Hour)
			r, _ := e.renew(p.refresh)
			wantError(t, r, 403, "token_invalid")
		})
	})
}

// TestRotation covers one-time refresh tokens: rotation, the grace period
// for racing tabs, and reuse after it, which revokes the whole session.
func TestRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)

		t.Run("ok/rotated", func(t *testing.T) {
			p := e.register("rot1", "password1")
			r, q := e.renew(p.refresh)
			if r.StatusCode != 200 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if r, _ := e.renew(q.refresh); r.StatusCode != 200 {
				t.Fatalf("the new refresh token: %d %s", r.StatusCode, r.body)
			}
		})
		t.Run("ok/grace-race", func(t *testing.T) {
			p := e.register("rot2", "password1")
			_, a := e.renew(p.refresh)
			e.clock.Advance(5 * time.Second)
			r, b := e.renew(p.refresh) // the other tab, within the grace period
			if r.StatusCode != 200 {
				t.Fatalf("race loser: %d %s", r.StatusCode, r.body)
			}
			if claims(t, a.access)["sid"] != claims(t, b.access)["sid"] {
				t.Fatal("racing tabs ended in different sessions")
			}
			for name, x := range map[string]pair{"winner": a, "loser": b} {
				if r := e.me(x.access); r.StatusCode != 200 {
					t.Fatalf("%s's access token: %d %s", name, r.StatusCode, r.body)
				}
			}
			// The loser's refresh token keeps working: neither logged the other out.
			if r, _ := e.renew(b.refresh); r.StatusCode != 200 {
				t.Fatalf("loser's refresh token: %d %s", r.StatusCode, r.body)
			}
		})
		t.Run("ok/race-loser-renews-after-the-grace-period", func(t *testing.T) {
			// The contract: the refresh token each racer received keeps working,
			// and neither logs the other out, however long they wait.
			p := e.register("rot5", "password1")
			_, a := e.renew(p.refresh)
			e.clock.Advance(2 * time.Second)
			_, b := e.renew(p.refresh)
			if b.refresh == "" {
				t.Fatal("race loser refused")
			}
			e.clock.Advance(time.Minute)
			r, a2 := e.renew(a.refresh)
			if r.StatusCode != 200 {
				t.Fatalf("winner later: %d %s", r.StatusCode, r.body)
			}
			e.clock.Advance(time.Minute)
			r, b2 := e.renew(b.refresh)
			if r.StatusCode != 200 {
				t.Fatalf("loser later: %d %s", r.StatusCode, r.body)
			}
			for name, x := range map[string]pair{"winner": a2, "loser": b2} {
				if r := e.me(x.access); r.StatusCode != 200 {
					t.Fatalf("%s's session: %d %s", name, r.StatusCode, r.body)
				}
			}
			if claims(t, a2.access)["sid"] != claims(t, b2.access)["sid"] {
				t.Fatal("racers ended in different sessions")
			}
			// Each is still one-time: the loser's spent token, replayed, is theft.
			e.clock.Advance(time.Minute)
			r, _ = e.renew(b.refresh)
			wantError(t, r, 403, "token_reused")
			wantError(t, e.me(a2.access), 403, "token_invalid")
		})
		t.Run("fail/reused-refresh", func(t *testing.T) {
			p := e.register("rot3", "password1")
			_, q := e.renew(p.refresh)
			e.clock.Advance(11 * time.Second)
			r, _ := e.renew(p.refresh)
			wantError(t, r, 403, "token_reused")
			// The whole session is gone: the thief's and the owner's tokens alike.
			wantError(t, e.me(q.access), 403, "token_invalid")
			r, _ = e.renew(q.refresh)
			wantError(t, r, 403, "token_invalid")
			if r := e.me(p.access); r.StatusCode != 403 {
				t.Fatalf("original access token after reuse: %d", r.StatusCode)
			}
		})
		t.Run("ok/other-sessions-unaffected", func(t *testing.T) {
			e.register("rot4", "password1")
			other := e.login("rot4", "password1")
			p := e.login("rot4", "password1")
			e.renew(p.refresh)
			e.clock.Advance(time.Minute)
			e.renew(p.refresh)
			if r := e.me(other.access); r.StatusCode != 200 {
				t.Fatalf("another device was logged out by a reuse: %d", r.StatusCode)
			}
		})
	})
}

func TestRegisterAndLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		p := e.register("alice", "correct horse")
		c := claims(t, p.access)
		if c["_id"] == nil || c["level"] != 10.0 || c["boards"].([]any)[0] != "*" || c["sub"] == nil {
			t.Fatalf("user claims %v", c)
		}
		if !strings.Contains(p.api, "|") {
			t.Fatalf("apiToken %q", p.api)
		}
		cases := []struct {
			name, path, body string
			status           int
			code             string
		}{
			{"fail/login-taken", "/api/v1/user.register", `{"login":"alice","password":"something else"}`, 409, "login_taken"},
			{"fail/empty-login", "/api/v1/user.register", `{"login":"","password":"password1"}`, 400, "invalid_input"},
			{"fail/overlong-login", "/api/v1/user.register", `{"login":"` + strings.Repeat("x", 65) + `","password":"password1"}`, 400, "invalid_input"},
			{"fail/short-password", "/api/v1/user.register", `{"login":"bob","password":"1234567"}`, 400, "invalid_input"},
			{"fail/wrong-password", "/api/v1/user.login", `{"login":"alice","password":"wrong password"}`, 401, "invalid_credentials"},
			{"fail/unknown-login", "/api/v1/user.login", `{"login":"nobody","password":"wrong password"}`, 401, "invalid_credentials"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.do(req{method: "POST", path: tc.path, body: tc.body, header: xhr}), tc.status, tc.code)
			})
		}
		t.Run("ok/unknown-and-wrong-answer-alike", func(t *testing.T) {
			a := e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"alice","password":"wrong password"}`, header: xhr})
			b := e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"nobody2","password":"wrong password"}`, header: xhr})
			if a.StatusCode != b.StatusCode || string(a.body) != string(b.body) {
				t.Fatalf("answers differ: %s vs %s", a.body, b.body)
			}
		})
		t.Run("ok/login-upgrades-and-reissues-api-token", func(t *testing.T) {
			q := e.login("alice", "correct horse")
			if claims(t, q.access)["_id"] != c["_id"] || q.api == p.api {
				t.Fatalf("login claims %v, api %q", claims(t, q.access), q.api)
			}
			if r := e.do(req{method: "GET", path: "/api/v1/user.me", header: withXHR(map[string]string{"Authorization": "Bearer " + p.api})}); r.StatusCode != 403 {
				t.Fatalf("the older api-token still works: %d", r.StatusCode)
			}
			r := e.do(req{method: "GET", path: "/api/v1/user.me", header: withXHR(map[string]string{"Authorization": "Bearer " + q.api})})
			if r.StatusCode != 200 || r.json(t)["via"] != "api-token" {
				t.Fatalf("new api-token: %d %s", r.StatusCode, r.body)
			}
		})
		t.Run("fail/too-many-attempts", func(t *testing.T) {
			e.register("carol", "password1")
			for i := 0; i < 5; i++ {
				e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"carol","password":"nope nope"}`, header: xhr})
			}
			wantError(t, e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"carol","password":"password1"}`, header: xhr}), 429, "too_many_attempts")
			e.clock.Advance(16 * time.Minute)
			if r := e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"carol","password":"password1"}`, header: xhr}); r.StatusCode != 200 {
				t.Fatalf("after the window: %d %s", r.StatusCode, r.body)
			}
		})
		t.Run("ok/form-login-redirects", func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/user.login", form: url.Values{"login": {"alice"}, "password": {"correct horse"}, "redirect": {"/account"}}})
			if r.StatusCode != 302 || r.Header.Get("Location") != "/account" || r.cookie("accessToken") == nil {
				t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
			}
		})
	})
}

func TestLogoffRevokesAtOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register("dave", "password1")
		p := e.login("dave", "password1")
		other := e.login("dave", "password1")
		_, renewed := e.renew(p.refresh)
		r := e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": renewed.access})})
		if r.StatusCode != 200 {
			t.Fatalf("logoff: %d %s", r.StatusCode, r.body)
		}
		for _, name := range []string{"accessToken", "refreshToken"} {
			if c := r.cookie(name); c == nil || c.MaxAge >= 0 {
				t.Errorf("cookie %s not cleared: %+v", name, c)
			}
		}
		// Every access token of the session, old and new, stops at once.
		for _, a := range []string{p.access, renewed.access} {
			r := e.me(a)
			wantError(t, r, 403, "token_invalid")
			if !strings.Contains(r.json(t)["message"].(string), "revoked") {
				t.Errorf("message does not say revoked: %s", r.body)
			}
		}
		r2, _ := e.renew(renewed.refresh)
		wantError(t, r2, 403, "token_invalid")
		if r := e.me(other.access); r.StatusCode != 200 {
			t.Fatalf("another session was ended: %d", r.StatusCode)
		}
		t.Run("ok/browser-redirect", func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/user.logoff?redirect=%2F", header: map[string]string{"X-Access-Token": other.access}})
			if r.StatusCode != 302 || r.Header.Get("Location") != "/" {
				t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
			}
		})
	})
}

func TestCheckAndMe(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		p := e.register("erin", "password1")
		r := e.do(req{method: "GET", path: "/api/v1/token.check", header: map[string]string{"X-Access-Token": p.access}})
		if m := r.json(t); m["isActive"] != true || m["expires"] != 900.0 {
			t.Fatalf("check: %s", r.body)
		}
		r = e.do(req{method: "GET", path: "/api/v1/token.check"})
		if m := r.json(t); m["isActive"] != false || m["expires"] != nil {
			t.Fatalf("check without token: %s", r.body)
		}
		e.clock.Advance(16 * time.Minute)
		r = e.do(req{method: "GET", path: "/api/v1/token.check", header: map[string]string{"X-Access-Token": p.access}})
		if m := r.json(t); m["isActive"] != false || m["expires"] != nil {
			t.Fatalf("check of an expired token: %s", r.body)
		}
		e.clock.Advance(-16 * time.Minute)

		vias := []struct {
			name string
			q    req
			via  string
		}{
			{"x-access-token", req{header: map[string]string{"X-Access-Token": p.access}}, "access-token"},
			{"bearer-jwt", req{header: map[string]string{"Authorization": "Bearer " + p.access}}, "access-token"},
			{"bearer-pat", req{header: map[string]string{"Authorization": "Bearer " + p.api}}, "api-token"},
			{"cookie", req{cookies: []*http.Cookie{{Name: "accessToken", Value: p.access}}}, "cookie"},
			{"header-wins-over-cookie", req{header: map[string]string{"X-Access-Token": p.access}, cookies: []*http.Cookie{{Name: "accessToken", Value: "garbage"}}}, "access-token"},
		}
		for _, v := range vias {
			t.Run("via/"+v.name, func(t *testing.T) {
				q := v.q
				q.method, q.path = "GET", "/api/v1/user.me"
				r := e.do(q)
				if r.StatusCode != 200 {
					t.Fatalf("%d %s", r.StatusCode, r.body)
				}
				m := r.json(t)
				if m["via"] != v.via || m["login"] != "erin" || m["_id"] == nil || m["level"] != 10.0 {
					t.Fatalf("me: %s", r.body)
				}
			})
		}
		anon := e.obtain()
		r = e.me(anon.access)
		if m := r.json(t); r.StatusCode != 200 || m["_id"] != nil || m["login"] != nil || m["level"] != 0.0 {
			t.Fatalf("anonymous me: %s", r.body)
		}
	})
}

func TestSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register("frank", "password1")
		a := e.login("frank", "password1")
		b := e.login("frank", "password1")
		mallory := e.register("mallory", "password1")
		r := e.do(req{method: "GET", path: "/api/v1/sessions", header: withXHR(map[string]string{"X-Access-Token": a.access, "User-Agent": "test-agent"})})
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
		var list []struct {
			ID        string `json:"id"`
			Current   bool   `json:"current"`
			UserAgent string `json:"userAgent"`
			IP        string `json:"ip"`
		}
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatalf("sessions is not a JSON array: %v: %s", err, r.body)
		}
		if len(list) != 3 {
			t.Fatalf("want 3 sessions (register + 2 logins): %s", r.body)
		}
		current := 0
		for _, s := range list {
			if s.Current {
				current++
				if s.ID != claims(t, a.access)["sid"] {
					t.Fatal("wrong session marked current")
				}
			}
			if s.IP != "127.0.0.1" {
				t.Errorf("ip %q", s.IP)
			}
		}
		if current != 1 {
			t.Fatalf("%d current sessions", current)
		}
		bsid := claims(t, b.access)["sid"].(string)
		wantError(t, e.do(req{method: "DELETE", path: "/api/v1/sessions/" + bsid, header: withXHR(map[string]string{"X-Access-Token": mallory.access})}), 404, "not_found")
		if r := e.do(req{method: "DELETE", path: "/api/v1/sessions/" + bsid, header: withXHR(map[string]string{"X-Access-Token": a.access})}); r.StatusCode != 200 {
			t.Fatalf("delete: %d %s", r.StatusCode, r.body)
		}
		wantError(t, e.me(b.access), 403, "token_invalid")
		wantError(t, e.do(req{method: "GET", path: "/api/v1/sessions", header: withXHR(map[string]string{"X-Access-Token": e.obtain().access})}), 403, "forbidden")
	})
}

// TestProtectedRoutes is docs/API.md's table for routes that need a caller.
func TestProtectedRoutes(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		user := e.register("grace", "password1")
		expired := e.register("henry", "password1")
		e.register("ivan", "password1")
		e.clock.Advance(20 * time.Minute) // henry's (and everyone's) access token expires
		revoked := e.login("ivan", "password1")
		e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": revoked.access})})
		fresh := e.login("grace", "password1")
		anon := e.obtain()
		forged := fresh.access[:len(fresh.access)-4] + "AAAA"
		path := "/api/v1/user.me?x=1"
		cases := []struct {
			name     string
			q        req
			status   int
			code     string
			location string
		}{
			{"no-token", req{}, 403, "token_required", "/api/v1/token.obtain?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"expired", req{header: map[string]string{"X-Access-Token": expired.access}}, 403, "token_expired", "/api/v1/token.renew?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"expired-cookie", req{cookies: []*http.Cookie{{Name: "accessToken", Value: user.access}}}, 403, "token_expired", "/api/v1/token.renew?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"refresh-cookie-only", req{cookies: []*http.Cookie{{Name: "refreshToken", Value: expired.refresh}}}, 403, "token_expired", "/api/v1/token.renew?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"malformed", req{header: map[string]string{"X-Access-Token": "not.a.jwt"}}, 403, "token_invalid", "/api/v1/token.obtain?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"forged", req{header: map[string]string{"X-Access-Token": forged}}, 403, "token_invalid", "/api/v1/token.obtain?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"revoked", req{header: map[string]string{"X-Access-Token": revoked.access}}, 403, "token_invalid", "/api/v1/token.obtain?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"refresh-as-access", req{header: map[string]string{"X-Access-Token": fresh.refresh}}, 403, "token_invalid", "/api/v1/token.obtain?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
			{"bad-pat", req{header: map[string]string{"Authorization": "Bearer 1|" + strings.Repeat("a", 48)}}, 403, "token_invalid", "/api/v1/token.obtain?redirect=%2Fapi%2Fv1%2Fuser.me%3Fx%3D1"},
		}
		for _, tc := range cases {
			t.Run("fail/"+tc.name+"/xhr", func(t *testing.T) {
				q := tc.q
				q.method, q.path = "GET", path
				q.header = withXHR(q.header)
				wantError(t, e.do(q), tc.status, tc.code)
			})
			t.Run("fail/"+tc.name+"/browser", func(t *testing.T) {
				q := tc.q
				q.method, q.path = "GET", path
				r := e.do(q)
				if r.StatusCode != 302 || r.Header.Get("Location") != tc.location {
					t.Fatalf("%d %q, want 302 %q", r.StatusCode, r.Header.Get("Location"), tc.location)
				}
			})
		}
		for _, h := range []map[string]string{nil, xhr} {
			r := e.do(req{method: "GET", path: "/api/v1/sessions", header: withHeader(h, "X-Access-Token", anon.access)})
			wantError(t, r, 403, "forbidden")
		}
	})
}

func withHeader(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range h {
		out[a] = b
	}
	return out
}
