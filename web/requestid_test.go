package web_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/propusk/propusk/web"
)

// TestRequestIDs: every answer has an X-Request-Id, a proxy's well-formed
// one is kept, anything else is replaced, and the request log's line and
// the handler's own lines carry the same id.
func TestRequestIDs(t *testing.T) {
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"ok/none", "", false},
		{"ok/proxy", "7f2a9c0e-1b.x_y", true},
		{"fail/space", "a b", false},
		{"fail/newline", "a\nlevel=ERROR", false},
		{"fail/quote", `a"`, false},
		{"fail/too-long", strings.Repeat("a", 65), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(web.LogHandler(slog.NewJSONHandler(&buf, nil)))
			h := web.RequestIDs(web.LogRequests(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log.InfoContext(r.Context(), "inside")
			})))
			r := httptest.NewRequest("GET", "/x", nil)
			if tc.sent != "" {
				r.Header.Set("X-Request-Id", tc.sent)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			id := w.Header().Get("X-Request-Id")
			if id == "" || (id == tc.sent) != tc.kept {
				t.Fatalf("X-Request-Id %q for %q, kept want %v", id, tc.sent, tc.kept)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("want 2 log lines, got %q", lines)
			}
			for _, l := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["request_id"] != id {
					t.Errorf("log line without request_id %q: %s", id, l)
				}
			}
		})
	}
}

// TestAccessLog: --access-log's values, and which requests each logs.
func TestAccessLog(t *testing.T) {
	for _, tc := range []struct {
		name, value  string
		ok200, ok404 int // lines for 200 requests of each status; -1: some but not all
	}{
		{"ok/all", "all", 200, 200},
		{"ok/default", "", 200, 200},
		{"ok/errors", "errors", 0, 200},
		{"ok/zero", "0", 0, 200},
		{"ok/off", "off", 0, 0},
		{"ok/sample", "0.5", -1, 200},
		{"ok/one", "1", 200, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := web.ParseAccessLog(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range []struct {
				code, want int
			}{{200, tc.ok200}, {404, tc.ok404}} {
				var buf bytes.Buffer
				h := web.LogRequestsAs(slog.New(slog.NewTextHandler(&buf, nil)), a, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(st.code)
				}))
				for range 200 {
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				}
				got := strings.Count(buf.String(), "\n")
				if st.want == -1 && (got == 0 || got == 200) || st.want != -1 && got != st.want {
					t.Errorf("status %d: %d lines of 200, want %d", st.code, got, st.want)
				}
			}
		})
	}
	for _, bad := range []string{"some", "1.5", "-0.1", "NaN", "1e-1", "ALL"} {
		if _, err := web.ParseAccessLog(bad); err == nil {
			t.Errorf("ParseAccessLog(%q) accepted", bad)
		}
	}
}

// TestNewRequestIDs: an id propusk makes is 26 characters of base32, as
// crypto/rand.Text spells one, and no two of many are alike.
func TestNewRequestIDs(t *testing.T) {
	h := web.RequestIDs(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	spelling := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	seen := map[string]bool{}
	for range 10000 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
		id := w.Header().Get("X-Request-Id")
		if !spelling.MatchString(id) || seen[id] {
			t.Fatalf("id %q: malformed or seen before (%d made)", id, len(seen))
		}
		seen[id] = true
	}
}
