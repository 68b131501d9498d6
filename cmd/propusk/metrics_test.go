package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsAddr: metrics are off by default, served on --metrics-addr
// only, never on the public listener, and count the public requests.
func TestMetricsAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"off/default", nil, false},
		{"ok/metrics-addr", []string{"--metrics-addr", "127.0.0.1:0"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(dir, "p.db")}, tc.args...)
			if err := m.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			if err := m.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			get := func(url string) (int, string) {
				t.Helper()
				res, err := http.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			get("http://" + m.Addr() + "/healthz")
			if code, _ := get("http://" + m.Addr() + "/metrics"); code != http.StatusNotFound {
				t.Errorf("public listener answers /metrics with %d, want 404", code)
			}
			if (m.MetricsAddr() != "") != tc.want {
				t.Fatalf("metrics address %q, want served: %v", m.MetricsAddr(), tc.want)
			}
			if !tc.want {
				return
			}
			code, body := get("http://" + m.MetricsAddr() + "/metrics")
			if code != 200 || !strings.Contains(body, `propusk_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`) {
				t.Errorf("metrics %d:\n%s", code, body)
			}
		})
	}
}
