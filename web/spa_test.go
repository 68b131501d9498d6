package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/browsertest"
	"github.com/propusk/propusk/web"
)

// browser is one client's cookies, kept by hand (not by a cookiejar) so a
// test can read an HttpOnly cookie or hand one client's token to another.
type browser struct {
	e   *env
	jar map[string]*http.Cookie
}

func (e *env) browser() *browser { return &browser{e: e, jar: map[string]*http.Cookie{}} }

// do sends q with the browser's cookies and keeps the cookies it gets back.
func (b *browser) do(q req) *resp {
	b.e.t.Helper()
	for _, c := range b.jar {
		q.cookies = append(q.cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	r := b.e.do(q)
	for _, c := range r.Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	return r
}

func (b *browser) value(name string) string {
	if c := b.jar[name]; c != nil {
		return c.Value
	}
	return ""
}

// xsrf is what axios sends by itself: the XSRF-TOKEN cookie in X-XSRF-TOKEN.
func (b *browser) xsrf() map[string]string {
	return map[string]string{"X-XSRF-TOKEN": b.value("XSRF-TOKEN")}
}

// csrfCookie starts a cookie login as an SPA does.
func (b *browser) csrfCookie() {
	b.e.t.Helper()
	if r := b.do(req{method: "GET", path: "/sanctum/csrf-cookie"}); r.StatusCode != 204 {
		b.e.t.Fatalf("csrf-cookie: %d %s", r.StatusCode, r.body)
	}
}

// signIn logs the browser in through the SPA flow.
func (b *browser) signIn(login, password string) {
	b.e.t.Helper()
	b.csrfCookie()
	r := b.do(req{method: "POST", path: "/login", body: credentials(login, password), header: b.xsrf()})
	if r.StatusCode != 200 {
		b.e.t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
}

func credentials(login, password string) string {
	return `{"login":"` + login + `","password":"` + password + `"}`
}

// want419 asserts a CSRF refusal whose message names the check that failed.
func want419(t *testing.T, r *resp, check string) {
	t.Helper()
	wantError(t, r, 419, "csrf_mismatch")
	if msg := r.json(t)["message"].(string); !strings.Contains(msg, check) {
		t.Fatalf("419 message %q does not say %q", msg, check)
	}
}

// sid is the session of a browser's access cookie.
func (b *browser) sid(t *testing.T) string {
	t.Helper()
	return claims(t, b.value("accessToken"))["sid"].(string)
}

const (
	alice    = "alice"
	alicePwd = "correct horse battery"
	trusted  = "https://app.example"
)

func statefulOrigins(_ *auth.Config, h *web.Config) { h.StatefulOrigins = []string{trusted} }

func TestCSRFCookie(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		t.Run("ok/new-client-gets-a-session", func(t *testing.T) {
			b := e.browser()
			r := b.do(req{method: "GET", path: "/sanctum/csrf-cookie"})
			if r.StatusCode != 204 || len(r.body) != 0 {
				t.Fatalf("status %d, body %q", r.StatusCode, r.body)
			}
			c := r.cookie("XSRF-TOKEN")
			if c == nil || c.Value == "" || c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
				t.Fatalf("XSRF-TOKEN cookie %+v: want readable by JS, SameSite=Lax, Path=/", c)
			}
			// The token is bound to a session, so the client needs one.
			for _, name := range []string{"accessToken", "refreshToken"} {
				if c := r.cookie(name); c == nil || !c.HttpOnly {
					t.Errorf("cookie %s: %+v", name, c)
				}
			}
			if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control %q", cc)
			}
		})
		t.Run("ok/existing-session-kept", func(t *testing.T) {
			b := e.browser()
			b.csrfCookie()
			access, first := b.value("accessToken"), b.value("XSRF-TOKEN")
			r := b.do(req{method: "GET", path: "/sanctum/csrf-cookie"})
			if r.cookie("accessToken") != nil || r.cookie("XSRF-TOKEN") == nil {
				t.Fatalf("cookies %v: want a new XSRF-TOKEN for the same session", r.Cookies())
			}
			if b.value("accessToken") != access || b.value("XSRF-TOKEN") == first {
				t.Fatal("tokens not kept, or CSRF token not refreshed")
			}
		})
	})
}

func TestSPALogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open, statefulOrigins)
		e.register(alice, alicePwd)
		other := e.browser()
		other.csrfCookie()

		cases := []struct {
			name   string
			header func(b *browser) map[string]string
			form   bool   // send a urlencoded form instead of JSON
			token  string // the form's _token: "ok" for the browser's own
			pwd    string // default alicePwd
			fresh  bool   // skip csrf-cookie: the browser has no cookies
			status int
			check  string // for 419: what the message must name
		}{
			{name: "ok/x-xsrf-token", header: (*browser).xsrf, status: 200},
			{name: "ok/x-csrf-token", header: func(b *browser) map[string]string {
				return map[string]string{"X-CSRF-TOKEN": b.value("XSRF-TOKEN")}
			}, status: 200},
			{name: "ok/_token-form-field", form: true, token: "ok", status: 200},
			{name: "ok/same-origin", header: func(b *browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": b.value("XSRF-TOKEN"), "Origin": e.ts.URL, "Sec-Fetch-Site": "same-origin"}
			}, status: 200},
			{name: "ok/stateful-origin", header: func(b *browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": b.value("XSRF-TOKEN"), "Origin": trusted, "Sec-Fetch-Site": "same-site"}
			}, status: 200},
			{name: "fail/wrong-password", header: (*browser).xsrf, pwd: "wrong password", status: 401},
			{name: "fail/header-missing", status: 419, check: "missing"},
			{name: "fail/header-empty", header: func(*browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": ""}
			}, status: 419, check: "missing"},
			{name: "fail/forged", header: func(*browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": "not-a-token"}
			}, status: 419, check: "mismatch"},
			{name: "fail/forged-signature", header: func(b *browser) map[string]string {
				tok := []byte(b.value("XSRF-TOKEN"))
				tok[len(tok)-2] ^= 1 // still base64, wrong MAC
				return map[string]string{"X-XSRF-TOKEN": string(tok)}
			}, status: 419, check: "mismatch"},
			{name: "fail/another-clients-token", header: func(*browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": other.value("XSRF-TOKEN")}
			}, status: 419, check: "mismatch"},
			{name: "fail/another-clients-form-token", form: true, token: other.value("XSRF-TOKEN"), status: 419, check: "mismatch"},
			{name: "fail/no-session-cookie", fresh: true, header: func(*browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": other.value("XSRF-TOKEN")}
			}, status: 419, check: "no session"},
			{name: "fail/foreign-origin", header: func(b *browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": b.value("XSRF-TOKEN"), "Origin": "https://evil.example"}
			}, status: 419, check: "origin not first-party"},
			{name: "fail/cross-site", header: func(b *browser) map[string]string {
				return map[string]string{"X-XSRF-TOKEN": b.value("XSRF-TOKEN"), "Sec-Fetch-Site": "cross-site"}
			}, status: 419, check: "origin not first-party"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b := e.browser()
				if !c.fresh {
					b.csrfCookie()
				}
				anon := b.value("accessToken")
				q := req{method: "POST", path: "/login"}
				if c.header != nil {
					q.header = c.header(b)
				}
				pwd := c.pwd
				if pwd == "" {
					pwd = alicePwd
				}
				if c.form {
					tok := c.token
					if tok == "ok" {
						tok = b.value("XSRF-TOKEN")
					}
					q.form = url.Values{"login": {alice}, "password": {pwd}, "_token": {tok}}
				} else {
					q.body = credentials(alice, pwd)
				}
				r := b.do(q)
				switch c.status {
				case 419:
					want419(t, r, c.check)
					if b.value("accessToken") != anon {
						t.Fatal("a refused login changed the cookies")
					}
					return
				case 401:
					wantError(t, r, 401, "invalid_credentials")
					return
				}
				if r.StatusCode != c.status {
					t.Fatalf("status %d: %s", r.StatusCode, r.body)
				}
				m := r.json(t)
				if m["login"] != alice || m["_id"] == nil || m["accessToken"] != nil || m["refreshToken"] != nil {
					t.Fatalf("body %v: want the user, and no tokens outside HttpOnly cookies", m)
				}
				for _, name := range []string{"accessToken", "refreshToken"} {
					if c := r.cookie(name); c == nil || !c.HttpOnly {
						t.Fatalf("cookie %s: %+v", name, c)
					}
				}
				// Login rotates the session, and the CSRF token follows it:
				// a token planted before login is worth nothing after.
				if anon != "" && claims(t, anon)["sid"] == b.sid(t) {
					t.Fatal("login kept the anonymous session id")
				}
				if r.cookie("XSRF-TOKEN") == nil {
					t.Fatal("login did not re-issue XSRF-TOKEN")
				}
				u := b.do(req{method: "GET", path: "/api/user", header: xhr})
				if u.StatusCode != 200 || u.json(t)["login"] != alice || u.json(t)["via"] != "cookie" {
					t.Fatalf("/api/user after login: %d %s", u.StatusCode, u.body)
				}
			})
		}

		t.Run("fail/pre-login-token-after-login", func(t *testing.T) {
			b := e.browser()
			b.csrfCookie()
			planted := b.value("XSRF-TOKEN")
			b.signIn(alice, alicePwd)
			r := b.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"x"}`, header: map[string]string{"X-XSRF-TOKEN": planted}})
			want419(t, r, "mismatch")
		})
	})
}

func TestSPAUserAndLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register(alice, alicePwd)

		t.Run("ok/api-user-by-cookie", func(t *testing.T) {
			b := e.browser()
			b.signIn(alice, alicePwd)
			r := b.do(req{method: "GET", path: "/api/user"})
			m := r.json(t)
			if r.StatusCode != 200 || m["login"] != alice || m["level"] != 10.0 || m["via"] != "cookie" {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
		})
		t.Run("fail/api-user-anonymous", func(t *testing.T) {
			b := e.browser()
			b.csrfCookie()
			wantError(t, b.do(req{method: "GET", path: "/api/user", header: xhr}), 403, "forbidden")
		})
		t.Run("fail/api-user-no-cookie", func(t *testing.T) {
			wantError(t, e.do(req{method: "GET", path: "/api/user", header: xhr}), 403, "token_required")
		})
		t.Run("fail/logout-without-token", func(t *testing.T) {
			b := e.browser()
			b.signIn(alice, alicePwd)
			want419(t, b.do(req{method: "POST", path: "/logout"}), "missing")
			if r := b.do(req{method: "GET", path: "/api/user", header: xhr}); r.StatusCode != 200 {
				t.Fatalf("a refused logout ended the session: %d %s", r.StatusCode, r.body)
			}
		})
		t.Run("ok/logout", func(t *testing.T) {
			b := e.browser()
			b.signIn(alice, alicePwd)
			access := b.value("accessToken")
			r := b.do(req{method: "POST", path: "/logout", header: b.xsrf()})
			if r.StatusCode != 200 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			for _, name := range []string{"accessToken", "refreshToken", "XSRF-TOKEN"} {
				if c := r.cookie(name); c == nil || c.MaxAge >= 0 {
					t.Errorf("cookie %s not cleared: %+v", name, c)
				}
			}
			// The session is over for whoever kept a copy of its token.
			wantError(t, e.do(req{method: "GET", path: "/api/user", header: xhr, cookies: []*http.Cookie{{Name: "accessToken", Value: access}}}), 403, "token_invalid")
		})
	})
}

// TestCookieStateChangeNeedsCSRF runs every state-changing route a browser
// reaches by cookie without a CSRF token (419), with one (success), and by a
// header token, which needs none.
func TestCookieStateChangeNeedsCSRF(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register(alice, alicePwd)

		// newToken creates a personal access token by API, for routes that
		// need an id.
		newToken := func(b *browser) string {
			r := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"t"}`, header: withXHR(map[string]string{"X-Access-Token": b.value("accessToken")})})
			if r.StatusCode != 201 {
				t.Fatalf("create token: %d %s", r.StatusCode, r.body)
			}
			return strconv.FormatInt(int64(r.json(t)["id"].(float64)), 10)
		}
		// anotherDevice signs alice in elsewhere and returns that session.
		anotherDevice := func(*browser) string {
			d := e.browser()
			d.signIn(alice, alicePwd)
			return d.sid(t)
		}

		cases := []struct {
			name   string
			method string
			path   func(b *browser) string
			body   string
			form   url.Values // a form: the token goes in _token
			status int
		}{
			{"create-token", "POST", func(*browser) string { return "/api/v1/tokens" }, `{"name":"ci"}`, nil, 201},
			{"delete-token", "DELETE", func(b *browser) string { return "/api/v1/tokens/" + newToken(b) }, "", nil, 204},
			{"delete-token-by-form", "POST", func(b *browser) string { return "/api/v1/tokens/" + newToken(b) }, "", url.Values{"_method": {"DELETE"}}, 204},
			{"end-other-session", "DELETE", func(b *browser) string { return "/api/v1/sessions/" + anotherDevice(b) }, "", nil, 200},
			{"end-session-by-form", "POST", func(b *browser) string { return "/account/sessions/" + anotherDevice(b) + "/delete" }, "", url.Values{"confirm": {"yes"}}, 303},
			{"account-create-token", "POST", func(*browser) string { return "/account/tokens" }, "", url.Values{"name": {"form"}, "abilities": {"*"}}, 303},
			{"account-revoke-token", "POST", func(b *browser) string { return "/account/tokens/" + newToken(b) + "/delete" }, "", url.Values{"confirm": {"yes"}}, 303},
			{"renew-by-cookie", "POST", func(*browser) string { return "/api/v1/token.renew" }, "", nil, 200},
			{"logoff", "POST", func(*browser) string { return "/api/v1/user.logoff" }, "", nil, 200},
		}
		send := func(b *browser, method, path, body string, form url.Values, h map[string]string) *resp {
			q := req{method: method, path: path, body: body, header: withXHR(h)}
			if form != nil {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if tok := h["X-XSRF-TOKEN"]; tok != "" {
					f.Set("_token", tok)
					delete(q.header, "X-XSRF-TOKEN")
				}
				q.form, q.body = f, ""
			}
			return b.do(q)
		}
		for _, c := range cases {
			t.Run("fail/cookie-without-token/"+c.name, func(t *testing.T) {
				b := e.browser()
				b.signIn(alice, alicePwd)
				want419(t, send(b, c.method, c.path(b), c.body, c.form, nil), "missing")
				// Refused means nothing happened: the session still works.
				if r := b.do(req{method: "GET", path: "/api/user", header: xhr}); r.StatusCode != 200 {
					t.Fatalf("after a refused request: %d %s", r.StatusCode, r.body)
				}
			})
			t.Run("ok/cookie-with-token/"+c.name, func(t *testing.T) {
				b := e.browser()
				b.signIn(alice, alicePwd)
				r := send(b, c.method, c.path(b), c.body, c.form, b.xsrf())
				if r.StatusCode != c.status {
					t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, r.body)
				}
			})
			if c.name == "renew-by-cookie" {
				continue // a header token is no refresh token
			}
			for _, how := range []string{"X-Access-Token", "Authorization"} {
				t.Run("ok/header-needs-no-token/"+how+"/"+c.name, func(t *testing.T) {
					b := e.browser()
					b.signIn(alice, alicePwd)
					h := map[string]string{"X-Access-Token": b.value("accessToken")}
					if how == "Authorization" {
						h = map[string]string{"Authorization": "Bearer " + b.value("accessToken")}
					}
					// The cookies travel too, as they would from a page:
					// the header token is what authenticates.
					r := send(b, c.method, c.path(b), c.body, c.form, h)
					if r.StatusCode != c.status {
						t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, r.body)
					}
				})
			}
		}

		t.Run("ok/personal-access-token-needs-no-csrf", func(t *testing.T) {
			p := e.do(req{method: "POST", path: "/api/v1/user.login", body: credentials(alice, alicePwd), header: xhr})
			api := p.json(t)["apiToken"].(string)
			r := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"by-pat"}`, header: map[string]string{"Authorization": "Bearer " + api, "Origin": "https://evil.example"}})
			if r.StatusCode != 201 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
		})
		t.Run("ok/safe-methods-need-no-token", func(t *testing.T) {
			b := e.browser()
			b.signIn(alice, alicePwd)
			for _, p := range []string{"/api/user", "/api/v1/tokens", "/api/v1/sessions", "/api/v1/user.me"} {
				if r := b.do(req{method: "GET", path: p, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}}); r.StatusCode != 200 {
					t.Errorf("GET %s: %d %s", p, r.StatusCode, r.body)
				}
			}
		})
		t.Run("ok/renew-by-cookie-from-script-updates-cookies", func(t *testing.T) {
			b := e.browser()
			b.signIn(alice, alicePwd)
			old := b.value("refreshToken")
			r := b.do(req{method: "POST", path: "/api/v1/token.renew", header: withXHR(b.xsrf())})
			if r.StatusCode != 200 || r.cookie("refreshToken") == nil || b.value("refreshToken") == old {
				t.Fatalf("%d, cookies %v: the spent refresh cookie must be replaced", r.StatusCode, r.Cookies())
			}
		})
	})
}

// TestCookieOrigin checks which origins may use cookie authentication for
// a state change; every request here carries a valid CSRF token.
func TestCookieOrigin(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open, statefulOrigins)
		e.register(alice, alicePwd)
		b := e.browser()
		b.signIn(alice, alicePwd)
		cases := []struct {
			name    string
			headers map[string]string
			ok      bool
		}{
			{"ok/neither-header", nil, true},
			{"ok/own-origin", map[string]string{"Origin": e.ts.URL}, true},
			{"ok/sec-fetch-same-origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.ts.URL}, true},
			{"ok/user-typed", map[string]string{"Sec-Fetch-Site": "none"}, true},
			{"ok/stateful-origin", map[string]string{"Origin": trusted}, true},
			{"ok/stateful-origin-same-site", map[string]string{"Origin": trusted, "Sec-Fetch-Site": "same-site"}, true},
			{"ok/stateful-origin-cross-site", map[string]string{"Origin": trusted, "Sec-Fetch-Site": "cross-site"}, true},
			{"fail/foreign-origin", map[string]string{"Origin": "https://evil.example"}, false},
			{"fail/foreign-origin-cross-site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, false},
			{"fail/cross-site-without-origin", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
			{"fail/same-site-not-configured", map[string]string{"Origin": "https://other.app.example", "Sec-Fetch-Site": "same-site"}, false},
			{"fail/null-origin", map[string]string{"Origin": "null"}, false},
			{"fail/stateful-origin-other-scheme", map[string]string{"Origin": "http://app.example"}, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := b.xsrf()
				for k, v := range c.headers {
					h[k] = v
				}
				r := b.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"o"}`, header: h})
				if !c.ok {
					want419(t, r, "origin not first-party")
					return
				}
				if r.StatusCode != 201 {
					t.Fatalf("%d %s", r.StatusCode, r.body)
				}
			})
		}
		t.Run("ok/header-token-from-any-origin", func(t *testing.T) {
			// A header token is no ambient credential: a page that holds it
			// may use it from anywhere.
			r := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"h"}`, header: map[string]string{
				"X-Access-Token": b.value("accessToken"), "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
			}})
			if r.StatusCode != 201 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
		})
		t.Run("fail/login-form-from-foreign-origin", func(t *testing.T) {
			// Login CSRF: a foreign page posting its attacker's credentials
			// into a browser with no propusk cookies (SameSite=Lax would not
			// send them anyway) is refused by origin.
			r := e.do(req{method: "POST", path: "/api/v1/user.login", form: url.Values{"login": {alice}, "password": {alicePwd}}, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}})
			want419(t, r, "origin not first-party")
		})
		t.Run("fail/login-with-cookies-without-token", func(t *testing.T) {
			c := e.browser()
			c.csrfCookie()
			want419(t, c.do(req{method: "POST", path: "/api/v1/user.login", body: credentials(alice, alicePwd)}), "missing")
		})
	})
}

// TestEmbeddedRouteCSRF checks a library user's own form route behind
// Protect, on their own mux: the _token of Server.CSRFToken is accepted, and
// the handler still reads the form.
func TestEmbeddedRouteCSRF(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		mux := http.NewServeMux()
		mux.Handle("/", e.srv)
		mux.Handle("GET /form", e.srv.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(e.srv.CSRFToken(r)))
		})))
		mux.Handle("POST /form", e.srv.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("got " + r.PostFormValue("text")))
		})))
		e.ts.Config.Handler = mux

		b := e.browser()
		b.csrfCookie()
		tok := string(b.do(req{method: "GET", path: "/form"}).body)
		if tok == "" {
			t.Fatal("CSRFToken is empty for a client with a session")
		}
		r := b.do(req{method: "POST", path: "/form", form: url.Values{"text": {"hello"}}})
		want419(t, r, "missing")
		r = b.do(req{method: "POST", path: "/form", form: url.Values{"text": {"hello"}, "_token": {other(e)}}})
		want419(t, r, "mismatch")
		r = b.do(req{method: "POST", path: "/form", form: url.Values{"text": {"hello"}, "_token": {tok}}})
		if r.StatusCode != 200 || string(r.body) != "got hello" {
			t.Fatalf("%d %q", r.StatusCode, r.body)
		}
		if tok := string(e.do(req{method: "GET", path: "/form", header: withXHR(map[string]string{"X-Access-Token": e.obtain().access})}).body); tok == "" {
			t.Error("CSRFToken is empty for a header-authenticated caller")
		}
	})
}

// other returns a CSRF token issued to another client.
func other(e *env) string {
	b := e.browser()
	b.csrfCookie()
	return b.value("XSRF-TOKEN")
}

// spaPage is a single-page app on the server's origin that signs in the
// way Sanctum's documentation shows, with axios from npm: axios reads the
// XSRF-TOKEN cookie and sends X-XSRF-TOKEN by itself.
const spaPage = `<!doctype html><title>spa</title><script src="/axios.min.js"></script>
<script>
async function run(login, password) {
  const out = {};
  await axios.get('/sanctum/csrf-cookie');
  out.login = (await axios.post('/login', {login, password})).data;
  out.user = (await axios.get('/api/user')).data;
  // The same request without the header is refused: the page proves the
  // server checks, not only that axios sends.
  out.bare = (await fetch('/api/v1/tokens', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"name":"bare"}'})).status;
  out.token = (await axios.post('/api/v1/tokens', {name: 'from-spa'})).data;
  out.tokens = (await axios.get('/api/v1/tokens')).data;
  out.logout = (await axios.post('/logout')).status;
  out.after = await axios.get('/api/user', {headers: {'X-Requested-With': 'XMLHttpRequest'}})
    .then(r => r.status, e => e.response.data.error);
  out.cookies = document.cookie;
  return out;
}
</script>`

// TestSPAInChromium signs in, calls the API and signs out from a page in a
// real headless Chromium, with axios from npm.
func TestSPAInChromium(t *testing.T) {
	nm := browsertest.NodeModules(t)
	ctx := browsertest.New(t)
	e := newEnv(t, storeKinds[0].open)
	e.register(alice, alicePwd)
	mux := http.NewServeMux()
	mux.Handle("/", e.srv)
	mux.HandleFunc("GET /spa", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(spaPage))
	})
	mux.HandleFunc("GET /axios.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(nm, "axios", "dist", "axios.min.js"))
	})
	e.ts.Config.Handler = mux

	if err := chromedp.Do(ctx, chromedp.Navigate(e.ts.URL+"/spa")); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Login  map[string]any   `json:"login"`
		User   map[string]any   `json:"user"`
		Bare   int              `json:"bare"`
		Token  map[string]any   `json:"token"`
		Tokens []map[string]any `json:"tokens"`
		Logout int              `json:"logout"`
		After  any              `json:"after"`
		Cookie string           `json:"cookies"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`run("`+alice+`", "`+alicePwd+`").then(JSON.stringify)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if out.Login["login"] != alice || out.User["login"] != alice || out.User["via"] != "cookie" {
		t.Errorf("login %v, /api/user %v", out.Login, out.User)
	}
	if out.Bare != 419 {
		t.Errorf("POST without X-XSRF-TOKEN: %d, want 419", out.Bare)
	}
	if tok, _ := out.Token["token"].(string); !strings.Contains(tok, "|") {
		t.Errorf("created token %v", out.Token)
	}
	if n := len(out.Tokens); n == 0 || out.Tokens[n-1]["name"] != "from-spa" {
		t.Errorf("tokens listed: %v", out.Tokens)
	}
	if out.Logout != 200 || out.After != "token_required" {
		t.Errorf("logout %d, then /api/user: %v", out.Logout, out.After)
	}
	if strings.Contains(out.Cookie, "accessToken") || strings.Contains(out.Cookie, "refreshToken") {
		t.Errorf("tokens readable by the page: %q", out.Cookie)
	}
}
