package web_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/pat"
	"github.com/propusk/propusk/web"
)

// TestJWKSVerifies: a relying party holding only the JWKS verifies an access
// token, and finds no key there that would verify a refresh token.
func TestJWKSVerifies(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	p := e.register("quinn", "password1")
	r := e.do(req{method: "GET", path: "/.well-known/jwks.json"})
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/jwk-set+json") {
		t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg, Use string }
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Use != "sig" {
			t.Fatalf("key %+v", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("key %s: bad x", k.Kid)
		}
		keys[k.Kid] = x
	}
	verify := func(tok string) bool {
		i := strings.LastIndexByte(tok, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		k, ok := keys[header(t, tok)["kid"].(string)]
		return ok && ed25519.Verify(k, []byte(tok[:i]), sig)
	}
	if !verify(p.access) {
		t.Fatal("the JWKS does not verify an access token")
	}
	if _, ok := keys[header(t, p.refresh)["kid"].(string)]; ok {
		t.Fatal("the refresh token's key is published")
	}
}

// TestConfigFlags: --issuer, --token-prefix and --cookie-secure do what they say.
func TestConfigFlags(t *testing.T) {
	e := newEnv(t, storeKinds[0].open, func(a *auth.Config, h *web.Config) {
		a.Issuer = "https://id.example"
		a.TokenPrefix = "pfx_"
	})
	p := e.register("rosa", "password1")
	if iss := claims(t, p.access)["iss"]; iss != "https://id.example" {
		t.Fatalf("iss %v", iss)
	}
	_, secret, _ := strings.Cut(p.api, "|")
	if !strings.HasPrefix(secret, "pfx_") || len(secret) != len("pfx_")+48 {
		t.Fatalf("api-token secret %q lacks the prefix", secret)
	}
	if _, secret, err := pat.Split(p.api, "pfx_"); err != nil || !pat.ChecksumOK(secret, "pfx_") {
		t.Fatalf("prefixed token does not parse: %v", err)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/user.me", header: withXHR(map[string]string{"Authorization": "Bearer " + p.api})}); r.StatusCode != 200 {
		t.Fatalf("prefixed token refused: %d %s", r.StatusCode, r.body)
	}

	cases := []struct {
		mode   string
		tls    bool
		secure bool
	}{
		{"auto", false, false}, {"auto", true, true},
		{"true", false, true}, {"false", true, false},
	}
	for _, c := range cases {
		t.Run("cookie-secure="+c.mode, func(t *testing.T) {
			e := newEnv(t, storeKinds[0].open, func(_ *auth.Config, h *web.Config) { h.CookieSecure = c.mode })
			ts := e.ts
			client := http.DefaultClient
			if c.tls {
				ts = httptest.NewTLSServer(e.srv)
				defer ts.Close()
				client = ts.Client()
			}
			res, err := client.Get(ts.URL + "/api/v1/token.obtain")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			for _, ck := range res.Cookies() {
				if ck.Secure != c.secure {
					t.Fatalf("cookie %s Secure=%v, want %v", ck.Name, ck.Secure, c.secure)
				}
			}
			if len(res.Cookies()) < 2 {
				t.Fatal("no cookies")
			}
		})
	}
	if _, err := web.New(web.Config{Service: e.svc, CookieSecure: "sometimes"}); err == nil {
		t.Fatal("a bad --cookie-secure must be refused")
	}
}

// TestSmallContracts: behaviours a client leans on that no bigger test shows.
func TestSmallContracts(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	t.Run("ok/root-sends-to-account", func(t *testing.T) {
		if r := e.do(req{method: "GET", path: "/"}); r.StatusCode != 302 || r.Header.Get("Location") != "/account" {
			t.Fatalf("%d %q", r.StatusCode, r.Header.Get("Location"))
		}
	})
	t.Run("ok/empty-x-requested-with-is-a-script", func(t *testing.T) {
		wantError(t, e.do(req{method: "GET", path: "/api/v1/user.me", header: map[string]string{"X-Requested-With": ""}}), 403, "token_required")
	})
	t.Run("ok/extra-fields-ignored", func(t *testing.T) {
		r := e.do(req{method: "POST", path: "/api/v1/user.register", body: `{"login":"tess","password":"password1","remember":true,"age":3,"meta":{}}`, header: xhr})
		if r.StatusCode != 201 {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
	})
	t.Run("fail/invisible-characters-in-login", func(t *testing.T) {
		for _, login := range []string{"adm\u202ein", "ad\u200bmin", "a\u2028b"} {
			b, _ := json.Marshal(map[string]string{"login": login, "password": "password1"})
			wantError(t, e.do(req{method: "POST", path: "/api/v1/user.register", body: string(b), header: xhr}), 400, "invalid_input")
		}
	})
	t.Run("ok/healthz", func(t *testing.T) {
		if r := e.do(req{method: "GET", path: "/healthz"}); r.StatusCode != 200 {
			t.Fatalf("%d", r.StatusCode)
		}
	})
	t.Run("fail/healthz-without-database", func(t *testing.T) {
		e.store.Close()
		wantError(t, e.do(req{method: "GET", path: "/healthz"}), 503, "store_unavailable")
		// Verifying a token needs no database.
		p := e.do(req{method: "GET", path: "/api/v1/token.obtain", header: xhr})
		if p.StatusCode != 200 {
			t.Fatalf("obtain without a database: %d", p.StatusCode)
		}
	})
}
