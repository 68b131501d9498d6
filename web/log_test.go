package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/propusk/propusk/web"
)

// TestLogRequestsRedacts: a request log line never carries a token, from a
// query, a nested redirect, a header or a cookie.
func TestLogRequestsRedacts(t *testing.T) {
	const secret = "eyJsecretTOKENvalue"
	var buf bytes.Buffer
	h := web.LogRequests(slog.New(slog.NewTextHandler(&buf, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	cases := []struct{ name, target string }{
		{"query", "/api/v1/token.renew?refreshToken=" + secret},
		{"query-mixed-case", "/x?RefreshToken=" + secret + "&a=b"},
		{"nested-redirect", "/api/v1/token.obtain?redirect=" + "%2Fx%3FrefreshToken%3D" + secret},
		{"form-token", "/x?_token=" + secret},
		{"password", "/x?password=" + secret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf.Reset()
			r := httptest.NewRequest("GET", c.target, nil)
			r.Header.Set("Authorization", "Bearer "+secret)
			r.Header.Set("X-Access-Token", secret)
			r.AddCookie(&http.Cookie{Name: "accessToken", Value: secret})
			h.ServeHTTP(httptest.NewRecorder(), r)
			line := buf.String()
			if strings.Contains(line, secret) {
				t.Fatalf("log carries the token: %s", line)
			}
			if !strings.Contains(line, "status=418") || !strings.Contains(line, "REDACTED") {
				t.Fatalf("log line incomplete: %s", line)
			}
		})
	}
}
