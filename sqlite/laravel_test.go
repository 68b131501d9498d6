package sqlite

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/storetest"
)

// laravelSuite is the Laravel-mode suite on SQLite: each test has a copy
// of the fixture's file of its own.
var laravelSuite = laraveltest.Suite[*Store]{
	Engine:   "sqlite",
	Database: laraveltest.SQLiteDB,
	Connection: func(_ testing.TB, path, timezone string) laraveltest.Connection {
		return laraveltest.SQLiteConnection(path, timezone)
	},
	Open:        Open,
	OpenLaravel: OpenLaravel,
	AppSchema:   appSchema,
	Exec: func(ctx context.Context, s *Store, stmt string) error {
		_, err := s.db.ExecContext(ctx, stmt)
		return err
	},
}

// The tests every store passes in Laravel mode (see laraveltest.Suite).

func TestLaravelStore(t *testing.T)         { laravelSuite.Conformance(t) }
func TestLaravelFixtures(t *testing.T)      { laravelSuite.Fixtures(t) }
func TestLaravelAppWrites(t *testing.T)     { laravelSuite.AppWrites(t) }
func TestLaravelDeleteLatency(t *testing.T) { laravelSuite.DeleteLatency(t) }
func TestLaravelSanctum2(t *testing.T)      { laravelSuite.Sanctum2(t) }

// TestLaravelMigrate is laraveltest's, and OpenLaravel refuses a file that
// does not exist rather than create it.
func TestLaravelMigrate(t *testing.T) {
	laravelSuite.Migrate(t)
	t.Run("fail/no-file", func(t *testing.T) {
		path := t.TempDir() + "/missing.sqlite"
		if _, err := OpenLaravel(t.Context(), path, propusk.Laravel{}); err == nil {
			t.Fatal("OpenLaravel of a missing file succeeded")
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("OpenLaravel created the missing file")
		}
	})
}

// appSchema returns the definitions of the app's tables and their indexes.
func appSchema(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.ro.QueryContext(t.Context(), `SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
		WHERE tbl_name IN ('users', 'personal_access_tokens') AND type IN ('table', 'index') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestLaravelLoginLookup: a login is found through propusk_users' indexes,
// never a scan of the app's users table, the unknown ones included.
func TestLaravelLoginLookup(t *testing.T) {
	s := laravelSuite.Store(t, laraveltest.SQLiteDB(t, laraveltest.Sanctum4Moscow, true), propusk.Laravel{})
	rows, err := s.ro.QueryContext(t.Context(), `EXPLAIN QUERY PLAN SELECT `+userColumns+`, canon FROM users WHERE id IN (
			SELECT user_id FROM propusk_users WHERE lkey = lower(?1)
			UNION SELECT user_id FROM propusk_users WHERE lkey = ?2
			UNION SELECT user_id FROM propusk_users WHERE canon = ?2)
		ORDER BY login = ?1 DESC, canon IS ?2 DESC, id LIMIT 16`, "nobody@example.com", "nobody@example.com")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, step := range plan {
		if strings.HasPrefix(step, "SCAN") && !strings.Contains(step, "USING") {
			t.Errorf("a login lookup scans a table: %q", plan)
		}
	}
	t.Logf("plan: %q", plan)
}

// BenchmarkLaravelReads is BenchmarkReads in Laravel mode (go test
// -run '^$' -bench 'Reads').
func BenchmarkLaravelReads(b *testing.B) {
	storetest.BenchReads(b, laravelSuite.Store(b, laraveltest.SQLiteDB(b, laraveltest.Sanctum4Moscow, false), propusk.Laravel{}))
}
