package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// TestBadBodies: malformed, huge, non-UTF-8 and mistyped bodies get a clear
// 4xx JSON error and change nothing.
func TestBadBodies(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		p := e.register("nora", "password1")
		before, _ := e.store.LastEvent(context.Background())
		huge := `{"login":"` + strings.Repeat("a", 10<<20) + `","password":"password1"}`
		cases := []struct {
			name, path, ct, body string
			status               int
			code                 string
		}{
			{"malformed-json", "/api/v1/user.register", "application/json", `{"login":"x",`, 400, "invalid_input"},
			{"json-array", "/api/v1/user.register", "application/json", `["login"]`, 400, "invalid_input"},
			{"json-null", "/api/v1/user.register", "application/json", `null`, 400, "invalid_input"},
			{"json-number-field", "/api/v1/user.register", "application/json", `{"login":5,"password":"password1"}`, 400, "invalid_input"},
			{"json-object-field", "/api/v1/user.login", "application/json", `{"login":{"$ne":null},"password":"x"}`, 400, "invalid_input"},
			{"ten-mebibytes", "/api/v1/user.register", "application/json", huge, 413, "body_too_large"},
			{"invalid-utf8-json", "/api/v1/user.register", "application/json", "{\"login\":\"\xff\xfe\",\"password\":\"password1\"}", 400, "invalid_input"},
			{"invalid-utf8-form", "/api/v1/user.register", "application/x-www-form-urlencoded", "login=%ff%fe&password=password1", 400, "invalid_input"},
			{"wrong-content-type", "/api/v1/user.register", "text/plain", `{"login":"x","password":"password1"}`, 415, "unsupported_media_type"},
			{"xml", "/api/v1/user.login", "application/xml", `<login>x</login>`, 415, "unsupported_media_type"},
			{"multipart", "/api/v1/tokens", "multipart/form-data; boundary=x", "--x--", 415, "unsupported_media_type"},
			{"renew-malformed", "/api/v1/token.renew", "application/json", `{"refreshToken":`, 400, "invalid_input"},
			{"tokens-bad-expiry", "/api/v1/tokens", "application/json", `{"name":"x","expires_at":"tomorrow"}`, 400, "invalid_input"},
			{"tokens-no-name", "/api/v1/tokens", "application/json", `{}`, 400, "invalid_input"},
		}
		for _, c := range cases {
			t.Run("fail/"+c.name, func(t *testing.T) {
				r, _ := http.NewRequest("POST", e.ts.URL+c.path, strings.NewReader(c.body))
				r.Header.Set("Content-Type", c.ct)
				r.Header.Set("X-Requested-With", "XMLHttpRequest")
				r.Header.Set("X-Access-Token", p.access)
				res, err := http.DefaultClient.Do(r)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var buf bytes.Buffer
				buf.ReadFrom(res.Body)
				wantError(t, &resp{Response: res, body: buf.Bytes()}, c.status, c.code)
			})
		}
		if _, err := e.store.UserByLogin(context.Background(), "x"); propusk.ErrorCode(err) != propusk.ENOTFOUND {
			t.Fatalf("a bad body created a user: %v", err)
		}
		ts, _ := e.svc.Tokens(context.Background(), int64(claims(t, p.access)["_id"].(float64)))
		if len(ts) != 1 {
			t.Fatalf("a bad body changed the tokens: %d", len(ts))
		}
		if after, _ := e.store.LastEvent(context.Background()); after != before {
			t.Fatal("a bad body wrote to the feed")
		}
		if r := e.me(p.access); r.StatusCode != 200 {
			t.Fatal("the session suffered")
		}
	})
}

// TestHostileTokensOverHTTP sends every hostile fixture of the token
// package, in every place a token is read: always a 403 JSON, never a 500.
func TestHostileTokensOverHTTP(t *testing.T) {
	b, err := os.ReadFile("../token/testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixtures []struct{ Name, Token string }
	if err := json.Unmarshal(b, &fixtures); err != nil {
		t.Fatal(err)
	}
	fixtures = append(fixtures,
		struct{ Name, Token string }{"pat-bad-checksum", "1|" + strings.Repeat("A", 40) + "00000000"},
		struct{ Name, Token string }{"pat-negative-id", "-1|" + strings.Repeat("A", 40)},
		struct{ Name, Token string }{"pat-huge-id", "99999999999999999999|" + strings.Repeat("A", 40)},
		struct{ Name, Token string }{"pat-unknown", "424242|" + strings.Repeat("A", 40)},
	)
	e := newEnv(t, storeKinds[0].open)
	for _, f := range fixtures {
		for _, place := range []string{"X-Access-Token", "Authorization", "cookie", "renew-body"} {
			if place != "renew-body" && strings.ContainsAny(f.Token, "\r\n\x00") {
				continue // no HTTP/1.1 header can carry these bytes; a body can
			}
			t.Run(f.Name+"/"+place, func(t *testing.T) {
				q := req{method: "GET", path: "/api/v1/user.me", header: map[string]string{"X-Requested-With": "x"}}
				switch place {
				case "Authorization":
					q.header["Authorization"] = "Bearer " + f.Token
				case "cookie":
					q.cookies = []*http.Cookie{{Name: "accessToken", Value: f.Token}}
				case "renew-body":
					body, _ := json.Marshal(map[string]string{"refreshToken": f.Token})
					q = req{method: "POST", path: "/api/v1/token.renew", body: string(body), header: q.header}
				default:
					q.header[place] = f.Token
				}
				r := e.do(q)
				if r.StatusCode != 403 {
					t.Fatalf("%d %s", r.StatusCode, r.body)
				}
				if code := r.json(t)["error"]; code != "token_invalid" && code != "token_expired" {
					t.Fatalf("error %v", code)
				}
			})
		}
	}
}

// TestNoLoginCSRFThroughRenew: another site's page cannot hand this browser
// a refresh token of the attacker's session to keep as its cookies.
func TestNoLoginCSRFThroughRenew(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	attacker := e.register("attacker", "password1")
	cases := []struct {
		name    string
		q       func(rt string) req
		cookies bool
	}{
		{"fail/cross-site-link", func(rt string) req {
			return req{method: "GET", path: "/api/v1/token.renew?redirect=%2Faccount&refreshToken=" + rt,
				header: map[string]string{"Sec-Fetch-Site": "cross-site"}}
		}, false},
		{"fail/cross-site-form", func(rt string) req {
			return req{method: "POST", path: "/api/v1/token.renew", form: url.Values{"refreshToken": {rt}, "redirect": {"/account"}},
				header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}
		}, false},
		{"ok/same-origin-page-load", func(rt string) req {
			return req{method: "GET", path: "/api/v1/token.renew?refreshToken=" + rt, header: linkSameOrigin}
		}, true},
		{"ok/no-fetch-metadata", func(rt string) req {
			return req{method: "GET", path: "/api/v1/token.renew?refreshToken=" + rt}
		}, true},
	}
	rt := attacker.refresh
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.q(rt))
			if r.StatusCode != 200 && r.StatusCode != 302 {
				t.Fatalf("renew: %d %s", r.StatusCode, r.body)
			}
			if got := r.cookie("refreshToken") != nil; got != c.cookies {
				t.Fatalf("%d: cookies set %v, want %v", r.StatusCode, got, c.cookies)
			}
			rt = r.json(t)["refreshToken"].(string)
		})
	}
}

// TestUnstorableInput: bytes a database cannot store (NUL, invalid UTF-8)
// in a login, a path or a header are a 4xx, never a 500, on both stores.
func TestUnstorableInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(*testing.T) propusk.Store) {
		e := newEnv(t, open)
		p := e.register("sam", "password1")
		cases := []struct {
			name string
			q    req
			want int
		}{
			{"login-nul", req{method: "POST", path: "/api/v1/user.login", body: `{"login":"a\u0000b","password":"password1"}`, header: xhr}, 401},
			{"session-id-bad-utf8", req{method: "DELETE", path: "/api/v1/sessions/%FF", header: withXHR(map[string]string{"X-Access-Token": p.access})}, 404},
			{"session-id-nul", req{method: "DELETE", path: "/api/v1/sessions/a%00b", header: withXHR(map[string]string{"X-Access-Token": p.access})}, 404},
			{"user-agent-control", req{method: "POST", path: "/api/v1/user.login", body: `{"login":"sam","password":"password1"}`, header: withXHR(map[string]string{"User-Agent": "x\xff\xfey"})}, 200},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if r := e.do(c.q); r.StatusCode != c.want {
					t.Fatalf("%d, want %d: %s", r.StatusCode, c.want, r.body)
				}
			})
		}
	})
}

// TestMultipartBounded: a multipart body on a cookie-authenticated route is
// cut at the body limit, not spooled to disk whole.
func TestMultipartBounded(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	anon := e.obtain()
	body := "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n" + strings.Repeat("A", 1<<20) + "\r\n--x--\r\n"
	r, _ := http.NewRequest("POST", e.ts.URL+"/account/tokens", strings.NewReader(body))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	r.AddCookie(&http.Cookie{Name: "accessToken", Value: anon.access})
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Fatalf("status %d, want a 4xx", res.StatusCode)
	}
}

// TestNoLogoutThroughObtain: a link on another site to token.obtain does not
// replace a signed-in visitor's cookies with anonymous ones; a visitor whose
// session ended still gets anonymous tokens, so the redirect flow never loops.
func TestNoLogoutThroughObtain(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	user := e.register("uma", "password1")
	ended := e.register("vic", "password1")
	e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": ended.access})})
	cases := []struct {
		name    string
		refresh string
		site    string
		cookies bool
	}{
		{"ok/cross-site-signed-in-keeps-session", user.refresh, "cross-site", false},
		{"ok/same-origin-signed-in-keeps-session", user.refresh, "same-origin", false},
		{"ok/cross-site-ended-session-gets-anonymous", ended.refresh, "cross-site", true},
		{"ok/cross-site-no-cookie-gets-anonymous", "", "cross-site", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := req{method: "GET", path: "/api/v1/token.obtain?redirect=%2Faccount", header: map[string]string{"Sec-Fetch-Site": c.site}}
			if c.refresh != "" {
				q.cookies = []*http.Cookie{{Name: "refreshToken", Value: c.refresh}}
			}
			r := e.do(q)
			want := "/account"
			if !c.cookies {
				// The signed-in browser renews its own session instead.
				want = "/api/v1/token.renew?redirect=%2Faccount"
			}
			if r.StatusCode != 302 || r.Header.Get("Location") != want {
				t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
			}
			if got := r.cookie("refreshToken") != nil; got != c.cookies {
				t.Fatalf("cookies set %v, want %v", got, c.cookies)
			}
		})
	}
}
