package web_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// TestFailureLogBounded: when the database fails every request (PostgreSQL
// says disk_full), each request answers 503 store_unavailable, but the log
// gets the first failure at once and then one line per 10 s with the number
// it left out, per class of error, not one line per request.
func TestFailureLogBounded(t *testing.T) {
	for _, fs := range faultStores {
		t.Run(fs.name, func(t *testing.T) {
			log := &testenv.LogBuffer{}
			var db rawSQL
			e := newEnv(t, func(t *testing.T) propusk.Store {
				var s propusk.Store
				s, db = fs.open(t)
				return s
			}, func(_ *auth.Config, h *web.Config) {
				h.Logger = slog.New(slog.NewJSONHandler(log, nil))
			})
			// PostgreSQL's fault is disk_full; SQLite's trigger can only
			// make a generic (internal) error, which is bounded alike.
			status, code := 503, propusk.EUNAVAILABLE
			if fs.name == "sqlite" {
				status, code = 500, propusk.EINTERNAL
			}
			db(t, fs.fault("users", "BEFORE INSERT"))
			n := 0
			register := func() {
				t.Helper()
				n++
				r := e.do(req{method: "POST", path: "/api/v1/user.register", body: fmt.Sprintf(`{"login":"user%d","password":"correct horse"}`, n), header: xhr})
				wantError(t, r, status, code)
			}
			steps := []struct {
				name      string
				advance   time.Duration
				requests  int
				wantLines int
				// suppressed is the count the last line carries (0: none).
				suppressed float64
			}{
				{"first-at-once", 0, 1, 1, 0},
				{"then-counted", 0, 40, 1, 0},
				{"still-within-the-interval", 9 * time.Second, 9, 1, 0},
				{"one-line-per-interval-with-the-count", time.Second, 1, 2, 49},
				{"counted-again", 5 * time.Second, 3, 2, 49},
				{"next-interval", 5 * time.Second, 1, 3, 3},
				{"after-a-quiet-interval", time.Minute, 1, 4, 0},
			}
			for _, st := range steps {
				e.clock.Advance(st.advance)
				for range st.requests {
					register()
				}
				lines := log.JSONLines(t, "ERROR")
				if len(lines) != st.wantLines {
					t.Fatalf("%s: %d error lines after %d requests, want %d", st.name, len(lines), n, st.wantLines)
				}
				last := lines[len(lines)-1]
				if got, _ := last["suppressed"].(float64); got != st.suppressed {
					t.Fatalf("%s: the last line says %v suppressed, want %v: %v", st.name, last["suppressed"], st.suppressed, last)
				}
			}
			if fs.name != "postgres" {
				return // SQLite's trigger cannot raise another class
			}
			// Another class of failure is not hidden by the first one's quiet interval.
			db(t, fs.clear("users", "BEFORE INSERT"))
			db(t, `CREATE OR REPLACE FUNCTION other() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'bug'; END $$`)
			db(t, `CREATE TRIGGER fault BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION other()`)
			n++
			wantError(t, e.do(req{method: "POST", path: "/api/v1/user.register", body: fmt.Sprintf(`{"login":"user%d","password":"correct horse"}`, n), header: xhr}), 500, propusk.EINTERNAL)
			if lines := log.JSONLines(t, "ERROR"); len(lines) != 5 {
				t.Fatalf("a new class of error: %d lines, want 5", len(lines))
			}
		})
	}
}
