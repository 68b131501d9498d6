package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAuditCommand: propusk audit prints the entries its filters select,
// newest first, one JSON object a line, and refuses bad filters.
func TestAuditCommand(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		if code, out, errs := runBinary(t, dir, nil, "", "keys", "rotate"); code != 0 {
			t.Fatalf("keys rotate: exit %d\n%s%s", code, out, errs)
		}
	}
	lines := func(out string) []map[string]any {
		t.Helper()
		var es []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var e map[string]any
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("not a JSON line: %q", l)
			}
			es = append(es, e)
		}
		return es
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		n    int    // entries printed
		errs string // a substring of standard error
	}{
		{"ok/all", nil, 0, 2, ""},
		{"ok/kind", []string{"--kind", "keys.rotated"}, 0, 2, ""},
		{"ok/other-kind", []string{"--kind", "login"}, 0, 0, ""},
		{"ok/limit", []string{"--limit", "1"}, 0, 1, ""},
		{"ok/since-future", []string{"--since", "2999-01-01T00:00:00Z"}, 0, 0, ""},
		{"ok/until-future", []string{"--until", "2999-01-01T00:00:00Z"}, 0, 2, ""},
		{"ok/user", []string{"--user", "5"}, 0, 0, ""},
		{"fail/limit", []string{"--limit", "0"}, 2, 0, "--limit must be 1 to 10000"},
		{"fail/since", []string{"--since", "yesterday"}, 2, 0, "--since must be an RFC 3339 time"},
		{"fail/user", []string{"--user", "-3"}, 2, 0, "must be ids"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runBinary(t, dir, nil, "", append([]string{"audit"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.errs) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			es := lines(out)
			if len(es) != tc.n {
				t.Fatalf("%d entries, want %d:\n%s", len(es), tc.n, out)
			}
			for i, e := range es {
				if e["kind"] != "keys.rotated" || e["actor"].(map[string]any)["auth"] != "operator" {
					t.Errorf("entry %v", e)
				}
				if i > 0 && e["id"].(float64) >= es[i-1]["id"].(float64) {
					t.Errorf("entries not newest first: %v", es)
				}
			}
		})
	}
}
