package web_test

import (
	"testing"

	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/web"
)

// TestCORSForStatefulOrigins: a first-party SPA on another origin may call
// with credentials; any other origin gets no CORS headers.
func TestCORSForStatefulOrigins(t *testing.T) {
	e := newEnv(t, storeKinds[0].open, func(_ *auth.Config, h *web.Config) {
		h.StatefulOrigins = []string{"http://app.localhost:3000"}
	})
	cases := []struct {
		name, origin string
		allowed      bool
	}{
		{"ok/first-party", "http://app.localhost:3000", true},
		{"fail/foreign", "https://evil.example", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pre := e.do(req{method: "OPTIONS", path: "/login", header: map[string]string{
				"Origin": c.origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-xsrf-token, content-type",
			}})
			got := pre.Header.Get("Access-Control-Allow-Origin")
			if c.allowed != (got == c.origin) || c.allowed != (pre.Header.Get("Access-Control-Allow-Credentials") == "true") {
				t.Fatalf("preflight: %d, allow-origin %q, credentials %q", pre.StatusCode, got, pre.Header.Get("Access-Control-Allow-Credentials"))
			}
			if c.allowed && pre.StatusCode != 204 {
				t.Fatalf("preflight status %d", pre.StatusCode)
			}
			r := e.do(req{method: "GET", path: "/api/v1/token.obtain", header: map[string]string{"Origin": c.origin, "X-Requested-With": "x"}})
			if r.StatusCode != 200 || (r.Header.Get("Access-Control-Allow-Origin") == c.origin) != c.allowed {
				t.Fatalf("simple request: %d, allow-origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}
