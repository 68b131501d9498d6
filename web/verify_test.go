package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/web"
)

// verifyEnv is an env with the callers auth.verify is asked about.
type verifyEnv struct {
	*env
	alice     pair   // level 10, boards a and "b c"
	pat       string // alice's PAT with ability posts:write only
	admin     pair   // level 30, every board
	anonymous pair
}

func newVerifyEnv(t *testing.T, open func(t *testing.T) propusk.Store) *verifyEnv {
	e := &verifyEnv{env: newEnv(t, open)}
	ctx := context.Background()
	if _, err := e.svc.CreateUser(ctx, "Алиса", "correct horse", propusk.LevelUser, []string{"a", "b c"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(ctx, "root", "correct horse", propusk.LevelAdmin, nil); err != nil {
		t.Fatal(err)
	}
	e.alice = e.login("Алиса", "correct horse")
	e.admin = e.login("root", "correct horse")
	e.anonymous = e.obtain()
	r := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"edge","abilities":["posts:write"]}`, header: withXHR(map[string]string{"X-Access-Token": e.alice.access})})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", r.StatusCode, r.body)
	}
	e.pat = r.json(t)["token"].(string)
	return e
}

// verify asks auth.verify with the query q about a request with headers h.
func (e *verifyEnv) verify(q string, h map[string]string, cookies ...*http.Cookie) *resp {
	e.t.Helper()
	path := "/api/v1/auth.verify"
	if q != "" {
		path += "?" + q
	}
	return e.do(req{method: "GET", path: path, header: h, cookies: cookies})
}

func TestAuthVerify(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newVerifyEnv(t, open)
		expired := e.login("Алиса", "correct horse")
		loggedOff := e.login("Алиса", "correct horse")
		if r := e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": loggedOff.access})}); r.StatusCode >= 300 {
			t.Fatalf("logoff: %d %s", r.StatusCode, r.body)
		}
		access := func(tok string) map[string]string { return map[string]string{"X-Access-Token": tok} }
		bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
		cookie := func(tok string) *http.Cookie { return &http.Cookie{Name: "accessToken", Value: tok} }
		aliceID := strconv.FormatInt(userID(t, e.env, e.alice.access), 10)
		aliceHeaders := map[string]string{
			web.HeaderUser: aliceID, web.HeaderLogin: "%D0%90%D0%BB%D0%B8%D1%81%D0%B0", web.HeaderLevel: "10",
			web.HeaderBoards: "a,b%20c", web.HeaderAbilities: "*", web.HeaderVia: "access-token",
		}
		with := func(m map[string]string, kv ...string) map[string]string {
			out := map[string]string{}
			for k, v := range m {
				out[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				out[kv[i]] = kv[i+1]
			}
			return out
		}
		// The expired token is checked after the clock moves; every other
		// case first.
		cases := []struct {
			name    string
			query   string
			header  map[string]string
			cookies []*http.Cookie
			status  int
			code    string            // the error code, for a refusal
			want    map[string]string // headers of the answer; "" means absent
		}{
			{name: "ok/access-token", header: access(e.alice.access), status: 200, want: aliceHeaders},
			{name: "ok/bearer-jwt", header: bearer(e.alice.access), status: 200, want: aliceHeaders},
			{name: "ok/pat", header: bearer(e.pat), status: 200, want: with(aliceHeaders, web.HeaderVia, "api-token", web.HeaderAbilities, "posts:write", web.HeaderSession, "")},
			{name: "ok/cookie", cookies: []*http.Cookie{cookie(e.alice.access)}, status: 200, want: with(aliceHeaders, web.HeaderVia, "cookie")},
			{name: "ok/anonymous", header: access(e.anonymous.access), status: 200, want: map[string]string{web.HeaderUser: "0", web.HeaderLogin: "", web.HeaderLevel: "0", web.HeaderBoards: "*"}},
			{name: "ok/level", query: "level=10", header: access(e.alice.access), status: 200},
			{name: "ok/board", query: "board=a", header: access(e.alice.access), status: 200},
			{name: "ok/board-escaped", query: "board=b+c", header: access(e.alice.access), status: 200},
			{name: "ok/ability-pat", query: "ability=posts:write", header: bearer(e.pat), status: 200},
			{name: "ok/ability-jwt", query: "ability=anything", header: access(e.alice.access), status: 200},
			{name: "ok/board-from", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Original-URI", "/boards/a/posts?x=1"), status: 200},
			{name: "ok/board-from-forwarded", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Forwarded-Uri", "/boards/b%20c/"), status: 200},
			{name: "ok/admin-every-board", query: "level=30&board=zz&board_from=/boards/{board}", header: with(access(e.admin.access), "X-Original-URI", "/boards/q"), status: 200},
			{name: "ok/cookie-post-with-csrf", header: map[string]string{"X-Original-Method": "POST"}, cookies: []*http.Cookie{cookie(e.alice.access)}, status: 200}, // X-XSRF-TOKEN added below

			{name: "fail/none-browser", header: map[string]string{"X-Original-URI": "/app/page?a=1&b=2"}, status: 401, code: "token_required",
				want: map[string]string{web.HeaderRedirect: "/api/v1/token.obtain?redirect=%2Fapp%2Fpage%3Fa%3D1%26b%3D2", web.HeaderError: "token_required", web.HeaderRenew: ""}},
			{name: "fail/none-script", header: map[string]string{"X-Requested-With": "XMLHttpRequest"}, status: 401, code: "token_required", want: map[string]string{web.HeaderRedirect: ""}},
			{name: "fail/garbage", header: access("garbage.garbage.garbage"), status: 401, code: "token_invalid"},
			{name: "fail/garbage-pat", header: bearer("1|garbage"), status: 401, code: "token_invalid"},
			{name: "fail/pat-from-cookie", cookies: []*http.Cookie{cookie(e.pat)}, status: 401, code: "token_invalid"},
			{name: "fail/refresh-as-access", header: access(e.alice.refresh), status: 401, code: "token_invalid"},
			{name: "fail/after-logoff", header: access(loggedOff.access), status: 401, code: "token_invalid"},
			{name: "fail/anonymous-level", query: "level=10", header: access(e.anonymous.access), status: 403, code: "forbidden", want: map[string]string{web.HeaderRedirect: ""}},
			{name: "fail/level", query: "level=30", header: access(e.alice.access), status: 403, code: "forbidden"},
			{name: "fail/board", query: "board=z", header: access(e.alice.access), status: 403, code: "forbidden"},
			{name: "fail/second-board", query: "board=a&board=z", header: access(e.alice.access), status: 403, code: "forbidden"},
			{name: "fail/ability", query: "ability=posts:delete", header: bearer(e.pat), status: 403, code: "forbidden"},
			{name: "fail/board-from", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Original-URI", "/boards/z/posts"), status: 403, code: "forbidden"},
			{name: "fail/board-from-no-match", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Original-URI", "/other/a/"), status: 403, code: "forbidden"},
			{name: "fail/board-from-empty", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Original-URI", "/boards//"), status: 403, code: "forbidden"},
			{name: "fail/cookie-post-without-csrf", header: map[string]string{"X-Original-Method": "POST"}, cookies: []*http.Cookie{cookie(e.alice.access)}, status: 403, code: "csrf_mismatch"},
			{name: "fail/cookie-post-cross-site", header: map[string]string{"X-Forwarded-Method": "DELETE", "Sec-Fetch-Site": "cross-site"}, cookies: []*http.Cookie{cookie(e.alice.access)}, status: 403, code: "csrf_mismatch"},

			{name: "bad/unknown-requirement", query: "levle=10", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/level", query: "level=ten", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/level-twice", query: "level=10&level=20", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/empty-board", query: "board=", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/board-from-pattern", query: "board_from=/boards/", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/board-from-relative", query: "board_from=boards/{board}", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/board-from-without-uri", query: "board_from=/boards/{board}/", header: access(e.alice.access), status: 400, code: "invalid_input"},
			{name: "bad/original-uri", header: with(access(e.alice.access), "X-Original-URI", "https://evil.example/"), status: 400, code: "invalid_input"},
			{name: "bad/forged-method", header: map[string]string{"X-Original-Method": "GET", "X-Forwarded-Method": "POST"}, cookies: []*http.Cookie{cookie(e.alice.access)}, status: 400, code: "invalid_input"},
			{name: "bad/forged-uri", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Original-URI", "/boards/a/", "X-Forwarded-Uri", "/boards/z/"), status: 400, code: "invalid_input"},
			{name: "ok/both-agree", query: "board_from=/boards/{board}/", header: with(access(e.alice.access), "X-Original-URI", "/boards/a/", "X-Forwarded-Uri", "/boards/a/"), status: 200},
			{name: "bad/require-header-outside-envoy-form", header: with(access(e.alice.access), "X-Propusk-Require", "level=0"), status: 400, code: "invalid_input"},
			{name: "bad/requirement-before-credential", query: "levle=10", status: 400, code: "invalid_input"},
		}
		csrfTok := e.csrfFor(e.alice)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				h := c.header
				if c.name == "ok/cookie-post-with-csrf" {
					h = with(h, "X-XSRF-TOKEN", csrfTok)
				}
				r := e.verify(c.query, h, c.cookies...)
				if r.StatusCode != c.status {
					t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, r.body)
				}
				if c.code != "" {
					wantError(t, r, c.status, c.code)
					if c.status < 500 && c.status != 400 && r.Header.Get(web.HeaderError) != c.code {
						t.Errorf("%s: %q, want %q", web.HeaderError, r.Header.Get(web.HeaderError), c.code)
					}
				}
				for k, v := range c.want {
					if got := r.Header.Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				if c.status != 200 && r.Header.Get(web.HeaderUser) != "" {
					t.Errorf("a refusal carries %s", web.HeaderUser)
				}
			})
		}

		// Envoy's ext_authz appends the original path and query to the auth
		// URL and sends the requirements in X-Propusk-Require.
		for _, c := range []struct {
			name, path, require string
			status              int
		}{
			{"envoy/ok", "/boards/a/posts?level=99", "board_from=/boards/{board}/&level=10", 200},
			{"envoy/ok-no-requirements", "/", "", 200},
			{"envoy/fail-board", "/boards/z/posts", "board_from=/boards/{board}/", 403},
			{"envoy/fail-level", "/x", "level=30", 403},
			{"envoy/bad-requirement", "/x", "levle=30", 400},
			{"envoy/bad-require-header", "/x", "%zz", 400},
		} {
			t.Run(c.name, func(t *testing.T) {
				h := map[string]string{"X-Access-Token": e.alice.access}
				if c.require != "" {
					h["X-Propusk-Require"] = c.require
				}
				r := e.do(req{method: "POST", path: "/api/v1/auth.verify" + c.path, header: h})
				if r.StatusCode != c.status {
					t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, r.body)
				}
			})
		}
		t.Run("envoy/browser-redirect", func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/auth.verify/app/page?a=1"})
			if r.StatusCode != 401 || r.Header.Get(web.HeaderRedirect) != "/api/v1/token.obtain?redirect=%2Fapp%2Fpage%3Fa%3D1" {
				t.Fatalf("%d %q", r.StatusCode, r.Header.Get(web.HeaderRedirect))
			}
		})

		t.Run("fail/expired", func(t *testing.T) {
			e.clock.Advance(16 * time.Minute)
			r := e.verify("", access(expired.access))
			wantError(t, r, 401, "token_expired")
			if r.Header.Get(web.HeaderRenew) != "" {
				t.Errorf("a header token without a refresh cookie is told to renew")
			}
			// A browser whose access cookie expired beside its refresh
			// cookie is sent to token.renew.
			r = e.verify("", map[string]string{"X-Original-URI": "/page"}, cookie(expired.access), &http.Cookie{Name: "refreshToken", Value: expired.refresh})
			wantError(t, r, 401, "token_expired")
			if r.Header.Get(web.HeaderRenew) != "1" || r.Header.Get(web.HeaderRedirect) != "/api/v1/token.renew?redirect=%2Fpage" {
				t.Errorf("renew %q redirect %q", r.Header.Get(web.HeaderRenew), r.Header.Get(web.HeaderRedirect))
			}
			// The access cookie gone (its Max-Age passed), the refresh one left.
			r = e.verify("", map[string]string{"X-Original-URI": "/page"}, &http.Cookie{Name: "refreshToken", Value: expired.refresh})
			if r.StatusCode != 401 || r.Header.Get(web.HeaderRenew) != "1" {
				t.Errorf("no access cookie beside a refresh one: %d renew %q", r.StatusCode, r.Header.Get(web.HeaderRenew))
			}
		})
	})
}

// csrfFor returns a CSRF token bound to p's session, from the token.obtain
// redirect flow's XSRF-TOKEN cookie.
func (e *verifyEnv) csrfFor(p pair) string {
	e.t.Helper()
	r := e.do(req{method: "GET", path: "/sanctum/csrf-cookie", cookies: []*http.Cookie{{Name: "accessToken", Value: p.access}, {Name: "refreshToken", Value: p.refresh}}})
	c := r.cookie("XSRF-TOKEN")
	if c == nil {
		e.t.Fatalf("csrf-cookie: no XSRF-TOKEN: %d %s", r.StatusCode, r.body)
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func TestAuthVerifyAssertion(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newVerifyEnv(t, open)
		keys := jwksKeys(t, e.do(req{method: "GET", path: "/.well-known/jwks.json"}).body)
		for _, c := range []struct {
			name      string
			header    map[string]string
			via       string
			abilities []any
			sid       bool
		}{
			{"ok/access-token", map[string]string{"X-Access-Token": e.alice.access}, "access-token", []any{"*"}, true},
			{"ok/pat", map[string]string{"Authorization": "Bearer " + e.pat}, "api-token", []any{"posts:write"}, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.verify("assert=https://api.example", c.header)
				if r.StatusCode != 200 {
					t.Fatalf("%d %s", r.StatusCode, r.body)
				}
				a := r.Header.Get(web.HeaderAssertion)
				claims := jwt.MapClaims{}
				tok, err := jwt.ParseWithClaims(a, claims, func(tok *jwt.Token) (any, error) {
					if tok.Header["typ"] != "assertion+jwt" {
						return nil, fmt.Errorf("typ %v", tok.Header["typ"])
					}
					return keys[tok.Header["kid"].(string)], nil
				}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("https://api.example"), jwt.WithIssuer("propusk"),
					jwt.WithTimeFunc(e.clock.Now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
				if err != nil || !tok.Valid {
					t.Fatalf("the assertion does not verify through the JWKS: %v", err)
				}
				iat, _ := claims.GetIssuedAt()
				exp, _ := claims.GetExpirationTime()
				if d := exp.Sub(iat.Time); d <= 0 || d > time.Minute {
					t.Errorf("lifetime %v, want at most 60 s", d)
				}
				if claims["sub"] != r.Header.Get(web.HeaderUser) || claims["_id"] != float64(userID(t, e.env, e.alice.access)) ||
					claims["level"] != 10.0 || claims["via"] != c.via || fmt.Sprint(claims["abilities"]) != fmt.Sprint(c.abilities) ||
					fmt.Sprint(claims["boards"]) != "[a b c]" || claims["jti"] == "" || (claims["sid"] != "") != c.sid {
					t.Errorf("claims %v", claims)
				}
				// The assertion is no access token: propusk refuses it.
				if r := e.me(a); r.StatusCode != 403 {
					t.Errorf("user.me with an assertion: %d %s", r.StatusCode, r.body)
				}
				if r := e.verify("", map[string]string{"X-Access-Token": a}); r.StatusCode != 401 {
					t.Errorf("auth.verify with an assertion: %d %s", r.StatusCode, r.body)
				}
			})
		}
		if r := e.verify("", map[string]string{"X-Access-Token": e.alice.access}); r.Header.Get(web.HeaderAssertion) != "" {
			t.Errorf("an assertion nobody asked for")
		}
	})
}

// jwksKeys reads the Ed25519 keys of a JWKS by kid.
func jwksKeys(t *testing.T, body []byte) map[string]ed25519.PublicKey {
	t.Helper()
	keys, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// parseJWKS reads the Ed25519 keys of a JWKS by kid.
func parseJWKS(body []byte) (map[string]ed25519.PublicKey, error) {
	var set struct {
		Keys []struct{ Kid, Kty, Crv, X string }
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	out := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || k.Kty != "OKP" || k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("jwk %+v: %v", k, err)
		}
		out[k.Kid] = ed25519.PublicKey(x)
	}
	return out, nil
}

// TestAuthVerifyNoStoreRead shows that a gated request whose token is
// cached reads nothing from the database: with the store closed, cached
// callers still pass (and a new PAT, which needs a read, cannot).
func TestAuthVerifyNoStoreRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newVerifyEnv(t, open)
		callers := map[string]map[string]string{
			"access-token": {"X-Access-Token": e.alice.access},
			"pat":          {"Authorization": "Bearer " + e.pat},
			"anonymous":    {"X-Access-Token": e.anonymous.access},
		}
		for _, h := range callers {
			if r := e.verify("level=0", h); r.StatusCode != 200 {
				t.Fatalf("warm: %d %s", r.StatusCode, r.body)
			}
		}
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		for name, h := range callers {
			for range 3 {
				if r := e.verify("level=0", h); r.StatusCode != 200 || r.Header.Get(web.HeaderLogin) == "" && name != "anonymous" {
					t.Fatalf("%s with the store closed: %d %q %s", name, r.StatusCode, r.Header.Get(web.HeaderLogin), r.body)
				}
			}
		}
		// Proof the store is really gone: a new login needs it.
		if r := e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"root","password":"correct horse"}`, header: xhr}); r.StatusCode < 500 {
			t.Fatalf("login with the store closed: %d %s", r.StatusCode, r.body)
		}
	})
}
