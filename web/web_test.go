package web_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/web"
)

// liveSession reports whether access still authenticates.
func liveSession(e *env, access string) bool {
	e.t.Helper()
	return e.me(access).StatusCode == 200
}

// TestRefusedLogoffChangesNothing: a logoff that fails the origin or CSRF
// check ends no session and touches no cookie, whatever refresh token its
// body names; the legitimate ways to log off keep working.
func TestRefusedLogoffChangesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register("victim", "password1")
		attacker := e.register("attacker", "password1")
		cross := map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
		sibling := map[string]string{"Origin": "http://blog.127.0.0.1.example", "Sec-Fetch-Site": "same-site"}
		oldBrowser := map[string]string{"Referer": "http://evil.example/page"}
		cases := []struct {
			name    string
			path    string
			cookies bool // the victim's cookies go along
			form    url.Values
			header  map[string]string
			token   bool // the victim's _token goes along
			want    int
		}{
			{"fail/cross-site-form-logoff", "/api/v1/user.logoff", true, url.Values{}, cross, false, 419},
			{"fail/cross-site-form-logout", "/logout", true, url.Values{}, cross, false, 419},
			{"fail/cross-site-form-without-cookies", "/api/v1/user.logoff", false, url.Values{}, cross, false, 419},
			{"fail/cross-site-form-with-token", "/api/v1/user.logoff", true, url.Values{}, cross, true, 419},
			{"fail/same-site-body-refresh-token-access-cookie-expired", "/api/v1/user.logoff", true, url.Values{"refreshToken": {attacker.refresh}}, sibling, false, 419},
			{"fail/same-origin-body-refresh-token-without-csrf-access-cookie-expired", "/logout", true, url.Values{"refreshToken": {attacker.refresh}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, false, 419},
			{"fail/old-browser-cross-site-referer", "/api/v1/user.logoff", true, url.Values{}, oldBrowser, true, 419},
			{"fail/no-headers-without-csrf", "/api/v1/user.logoff", true, url.Values{}, nil, false, 419},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b := e.browser()
				b.signIn("victim", "password1")
				access := b.value("accessToken")
				if strings.Contains(c.name, "access-cookie-expired") {
					// The browser dropped the expired access cookie; the
					// refresh cookie alone names the session.
					delete(b.jar, "accessToken")
				}
				if c.token {
					c.form.Set("_token", b.value("XSRF-TOKEN"))
				}
				q := req{method: "POST", path: c.path, form: c.form, header: c.header}
				var r *resp
				if c.cookies {
					r = b.do(q)
				} else {
					r = e.do(q)
				}
				want419(t, r, "")
				if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("a refused logoff sets cookies: %q", sc)
				}
				if !liveSession(e, access) {
					t.Error("a refused logoff ended the victim's session")
				}
				if !liveSession(e, attacker.access) {
					t.Error("a refused logoff ended the session its body named")
				}
			})
		}
		t.Run("ok/same-origin-form-with-token", func(t *testing.T) {
			b := e.browser()
			b.signIn("victim", "password1")
			access := b.value("accessToken")
			r := b.do(req{method: "POST", path: "/api/v1/user.logoff", form: url.Values{"_token": {b.value("XSRF-TOKEN")}, "redirect": {"/account"}},
				header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.ts.URL}})
			if r.StatusCode != 302 || r.cookie("refreshToken") == nil || r.cookie("refreshToken").MaxAge >= 0 {
				t.Fatalf("%d, cookies %q", r.StatusCode, r.Header.Values("Set-Cookie"))
			}
			if liveSession(e, access) {
				t.Error("the session survived its logoff")
			}
		})
		t.Run("ok/curl-cookie-jar-with-token", func(t *testing.T) {
			b := e.browser()
			b.signIn("victim", "password1")
			access := b.value("accessToken")
			if r := b.do(req{method: "POST", path: "/logout", header: b.xsrf()}); r.StatusCode != 200 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if liveSession(e, access) {
				t.Error("the session survived its logoff")
			}
		})
		t.Run("ok/script-header-token", func(t *testing.T) {
			p := e.register(fmt.Sprintf("s%d", len(t.Name())), "password1")
			r := e.do(req{method: "POST", path: "/api/v1/user.logoff", body: `{"refreshToken":"` + p.refresh + `"}`, header: withXHR(map[string]string{"X-Access-Token": p.access})})
			if r.StatusCode != 200 || liveSession(e, p.access) {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
		})
		t.Run("ok/body-refresh-token-without-cookies", func(t *testing.T) {
			p := e.register("backend", "password1")
			r := e.do(req{method: "POST", path: "/api/v1/user.logoff", body: `{"refreshToken":"` + p.refresh + `"}`, header: xhr})
			if r.StatusCode != 200 || liveSession(e, p.access) {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
		})
	})
}

// Fetch Metadata of the requests a browser sends.
var (
	imgSameOrigin  = map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
	imgCrossSite   = map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
	linkSameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
	linkCrossSite  = map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
	frameSame      = map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}
	fetchSame      = map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
	typed          = map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
)

// TestGETCookieRules: token.obtain never replaces a live user session's
// cookies, and token.renew turns a refresh token from its URL into cookies
// only on a top-level, same-origin page load, or when the request cannot
// say (no Fetch Metadata) and its Referer is not another site's.
func TestGETCookieRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		user := e.register("uma", "password1")
		anon := e.obtain()
		sameRef := map[string]string{"Referer": e.ts.URL + "/board"}
		crossRef := map[string]string{"Referer": "http://evil.example/"}
		t.Run("obtain", func(t *testing.T) {
			cases := []struct {
				name    string
				refresh string
				header  map[string]string
				cookies bool
			}{
				{"fail/img-same-origin-signed-in", user.refresh, imgSameOrigin, false},
				{"fail/img-cross-site-signed-in", user.refresh, imgCrossSite, false},
				{"fail/link-cross-site-signed-in", user.refresh, linkCrossSite, false},
				{"fail/link-same-origin-signed-in", user.refresh, linkSameOrigin, false},
				{"fail/old-browser-signed-in", user.refresh, sameRef, false},
				{"fail/curl-signed-in", user.refresh, nil, false},
				{"ok/img-anonymous", anon.refresh, imgSameOrigin, true},
				{"ok/curl-no-cookie", "", nil, true},
				{"ok/cross-site-no-cookie", "", linkCrossSite, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					q := req{method: "GET", path: "/api/v1/token.obtain", header: c.header}
					if c.refresh != "" {
						q.cookies = []*http.Cookie{{Name: "refreshToken", Value: c.refresh}}
					}
					r := e.do(q)
					if r.StatusCode != 200 {
						t.Fatalf("%d %s", r.StatusCode, r.body)
					}
					if got := len(r.Header.Values("Set-Cookie")) > 0; got != c.cookies {
						t.Fatalf("cookies set %v, want %v", got, c.cookies)
					}
				})
			}
			t.Run("ok/redirect-flow-signed-in-goes-through-renew", func(t *testing.T) {
				// A protected route refused the access cookie (say, it is
				// garbage): obtain sends the browser to renew its own
				// session, not in a loop back to the route.
				r := e.do(req{method: "GET", path: "/api/v1/token.obtain?redirect=%2Faccount", header: linkSameOrigin,
					cookies: []*http.Cookie{{Name: "refreshToken", Value: user.refresh}, {Name: "accessToken", Value: "garbage"}}})
				if r.StatusCode != 302 || r.Header.Get("Location") != "/api/v1/token.renew?redirect=%2Faccount" || len(r.Header.Values("Set-Cookie")) != 0 {
					t.Fatalf("%d %q %q", r.StatusCode, r.Header.Get("Location"), r.Header.Values("Set-Cookie"))
				}
			})
		})
		t.Run("renew", func(t *testing.T) {
			cases := []struct {
				name    string
				header  map[string]string
				cookies bool
			}{
				{"fail/img-same-origin", imgSameOrigin, false},
				{"fail/img-cross-site", imgCrossSite, false},
				{"fail/link-cross-site", linkCrossSite, false},
				{"fail/frame-same-origin", frameSame, false},
				{"fail/fetch-same-origin", fetchSame, false},
				{"fail/typed-url", typed, false},
				{"fail/old-browser-cross-site-referer", crossRef, false},
				{"fail/foreign-origin-without-metadata", map[string]string{"Origin": "http://evil.example"}, false},
				{"ok/link-same-origin", linkSameOrigin, true},
				{"ok/old-browser-same-origin-referer", sameRef, true},
				{"ok/curl", nil, true},
			}
			rt := e.register("rita", "password1").refresh
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := e.do(req{method: "GET", path: "/api/v1/token.renew?refreshToken=" + rt, header: c.header})
					if r.StatusCode != 200 {
						t.Fatalf("%d %s", r.StatusCode, r.body)
					}
					if got := r.cookie("refreshToken") != nil; got != c.cookies {
						t.Fatalf("cookies set %v, want %v", got, c.cookies)
					}
					rt = r.json(t)["refreshToken"].(string)
				})
			}
		})
		t.Run("renew-over-a-live-session", func(t *testing.T) {
			// A link posted on the board is a same-origin page load too: a
			// signed-in visitor who follows one with the poster's token stays
			// in their own session. The visitor's own token still works.
			victim := e.register("vera", "password1")
			attacker := e.register("mallory", "password1").refresh
			cases := []struct {
				name    string
				token   *string
				header  map[string]string
				cookies bool
			}{
				{"fail/posted-link", &attacker, linkSameOrigin, false},
				{"fail/posted-link-old-browser", &attacker, sameRef, false},
				{"fail/posted-link-curl-jar", &attacker, nil, false},
				{"ok/own-token", &victim.refresh, linkSameOrigin, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := e.do(req{method: "GET", path: "/api/v1/token.renew?refreshToken=" + url.QueryEscape(*c.token), header: c.header,
						cookies: []*http.Cookie{{Name: "refreshToken", Value: victim.refresh}}})
					if r.StatusCode != 200 {
						t.Fatalf("%d %s", r.StatusCode, r.body)
					}
					if got := r.cookie("refreshToken") != nil; got != c.cookies {
						t.Fatalf("cookies set %v, want %v", got, c.cookies)
					}
					*c.token = r.json(t)["refreshToken"].(string)
				})
			}
		})
	})
}

// TestHardeningHeaders: every answer is nosniff, every answer that sets a
// token cookie is no-store, and HTML carries the page policy.
func TestHardeningHeaders(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register("hana", "password1")
		b := e.browser()
		b.csrfCookie()
		cases := []struct {
			name    string
			q       req
			status  int
			cookies bool
			page    bool
		}{
			{"obtain", req{method: "GET", path: "/api/v1/token.obtain"}, 200, true, false},
			{"obtain-redirect", req{method: "GET", path: "/api/v1/token.obtain?redirect=%2Fx"}, 302, true, true},
			{"account-login-303", req{method: "POST", path: "/account/login", form: url.Values{"login": {"hana"}, "password": {"password1"}, "_token": {b.value("XSRF-TOKEN")}}, cookies: b.cookies()}, 303, true, false},
			{"account-page", req{method: "GET", path: "/account", cookies: b.cookies()}, 200, false, true},
			{"csrf-cookie", req{method: "GET", path: "/sanctum/csrf-cookie"}, 204, true, false},
			{"error", req{method: "GET", path: "/nowhere"}, 404, false, false},
			{"jwks", req{method: "GET", path: "/.well-known/jwks.json"}, 200, false, false},
			{"asset", req{method: "GET", path: "/assets/propusk.js"}, 200, false, false},
			{"healthz", req{method: "GET", path: "/healthz"}, 200, false, false},
			{"logoff", req{method: "POST", path: "/api/v1/user.logoff", header: xhr}, 200, true, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(c.q)
				if r.StatusCode != c.status {
					t.Fatalf("%d, want %d: %s", r.StatusCode, c.status, r.body)
				}
				if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options %q", got)
				}
				if c.cookies {
					if len(r.Header.Values("Set-Cookie")) == 0 {
						t.Fatal("no cookies set")
					}
					if got := r.Header.Get("Cache-Control"); got != "no-store" {
						t.Errorf("sets cookies with Cache-Control %q", got)
					}
				}
				csp := r.Header.Get("Content-Security-Policy")
				if c.page && (!strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "base-uri 'none'") || !strings.Contains(csp, "frame-ancestors 'none'")) {
					t.Errorf("page CSP %q", csp)
				}
			})
		}
	})
}

// cookies returns the browser's cookies, for a request sent with e.do.
func (b *browser) cookies() []*http.Cookie {
	var l []*http.Cookie
	for _, c := range b.jar {
		l = append(l, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return l
}

// TestHostCookies: with HostCookies the token cookies are __Host- ones,
// Secure with Path=/ and no Domain, and are the only ones read: a plain
// accessToken cookie planted by a sibling host authenticates nothing.
func TestHostCookies(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open, func(_ *auth.Config, h *web.Config) { h.HostCookies = true })
		p := e.register("holly", "password1")
		r := e.do(req{method: "POST", path: "/api/v1/user.login", body: credentials("holly", "password1")})
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
		for _, name := range []string{"__Host-accessToken", "__Host-refreshToken", "XSRF-TOKEN"} {
			c := r.cookie(name)
			if c == nil || !c.Secure || c.Path != "/" || c.Domain != "" {
				t.Fatalf("%s: %+v; all: %q", name, c, r.Header.Values("Set-Cookie"))
			}
		}
		if r.cookie("accessToken") != nil || r.cookie("refreshToken") != nil {
			t.Fatalf("plain cookies set: %q", r.Header.Values("Set-Cookie"))
		}
		me := func(name, value string) string {
			r := e.do(req{method: "GET", path: "/api/v1/user.me", header: xhr, cookies: []*http.Cookie{{Name: name, Value: value}}})
			if r.StatusCode != 200 {
				return fmt.Sprint(r.StatusCode)
			}
			return fmt.Sprint(r.json(t)["login"])
		}
		if got := me("__Host-accessToken", r.cookie("__Host-accessToken").Value); got != "holly" {
			t.Errorf("__Host-accessToken: %s", got)
		}
		if got := me("accessToken", p.access); got != "403" {
			t.Errorf("a plain accessToken cookie still authenticates: %s", got)
		}
		if _, err := web.New(web.Config{Service: e.svc, HostCookies: true, CookieSecure: "false"}); err == nil {
			t.Error("HostCookies with CookieSecure=false accepted")
		}
	})
}

// TestServerErrorsAreGeneric: errors that are the server's own answer every
// client with a generic message; the operator's hint goes to the log.
func TestServerErrorsAreGeneric(t *testing.T) {
	cases := []struct {
		name, code, detail string
		err                error
	}{
		{"missing-schema", "store_unavailable", "run propusk migrate",
			fmt.Errorf("postgres: user: %w: %w", &propusk.Error{Code: propusk.EUNAVAILABLE, Message: "the database has no propusk schema: run propusk migrate"}, errors.New(`relation "users" does not exist`))},
		{"busy", "store_unavailable", "busy checking passwords", propusk.Errorf(propusk.EUNAVAILABLE, "the server is busy checking passwords; try again shortly")},
		{"internal-error-type", "internal", "disk I/O at /var/lib/propusk", &propusk.Error{Code: propusk.EINTERNAL, Message: "disk I/O at /var/lib/propusk"}},
		{"plain-error", "internal", "connection refused 10.0.0.5", errors.New("dial tcp 10.0.0.5: connection refused 10.0.0.5")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			w := httptest.NewRecorder()
			web.Error(w, httptest.NewRequest("GET", "/api/v1/user.me", nil), slog.New(slog.NewTextHandler(&log, nil)), c.err)
			if strings.Contains(w.Body.String(), c.detail) {
				t.Errorf("the client reads the operator's detail: %s", w.Body)
			}
			if !strings.Contains(w.Body.String(), `"error":"`+c.code+`"`) || !strings.Contains(w.Body.String(), `"message":"`) {
				t.Errorf("body %s", w.Body)
			}
			if !strings.Contains(log.String(), c.detail) {
				t.Errorf("the log lacks the detail: %s", log.String())
			}
		})
	}
}

// TestLogNamesRoutes: the request log and the error log name the route
// pattern, never a path that may carry a token, nor any query value.
func TestLogNamesRoutes(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		var log bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&log, nil))
		e := newEnv(t, open, func(_ *auth.Config, h *web.Config) { h.Logger = logger })
		e.ts.Config.Handler = web.LogRequests(logger, e.srv)
		p := e.register("lou", "password1")
		created := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"n"}`, header: withXHR(map[string]string{"X-Access-Token": p.access})})
		secret := created.json(t)["token"].(string)
		cases := []struct {
			name  string
			q     req
			route string
		}{
			{"token-in-path", req{method: "DELETE", path: "/api/v1/tokens/" + url.PathEscape(secret), header: withXHR(map[string]string{"X-Access-Token": p.access})}, `route="DELETE /api/v1/tokens/{id}"`},
			{"token-in-unrouted-path", req{method: "GET", path: "/api/v1/" + url.PathEscape(secret)}, "route=(unrouted)"},
			{"token-in-odd-query", req{method: "GET", path: "/api/v1/token.check?jwt=" + p.access + "&" + p.refresh}, `route="GET /api/v1/token.check"`},
			{"token-twice-encoded-in-redirect", req{method: "GET", path: "/api/v1/token.obtain?redirect=" + url.QueryEscape("/x?r="+url.QueryEscape("/y?refreshToken="+p.refresh))}, `route="GET /api/v1/token.obtain"`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				log.Reset()
				e.do(c.q)
				line := log.String()
				for _, s := range []string{secret, strings.SplitN(secret, "|", 2)[1], p.access, p.refresh} {
					if strings.Contains(line, s) || strings.Contains(line, url.PathEscape(s)) || strings.Contains(line, url.QueryEscape(s)) {
						t.Fatalf("the log carries a token: %s", line)
					}
				}
				if !strings.Contains(line, c.route) {
					t.Fatalf("the log does not name %s: %s", c.route, line)
				}
			})
		}
	})
}
