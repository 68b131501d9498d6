package mysql

import (
	"context"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/storetest"
)

// laravelSuite is the Laravel-mode suite on MariaDB: each test has a
// database of its own, loaded from the fixture's dump.
var laravelSuite = laraveltest.Suite[*Store]{
	Engine:      "mariadb",
	Database:    laraveltest.MariaDB,
	Connection:  laraveltest.MariaDBConnection,
	Open:        Open,
	OpenLaravel: OpenLaravel,
	AppSchema:   appSchema,
	Exec: func(ctx context.Context, s *Store, stmt string) error {
		_, err := s.db.ExecContext(ctx, stmt)
		return err
	},
	// The app's users.email compares under utf8mb4_unicode_ci, which
	// holds logins that differ only in accents equal.
	Options: storetest.Options{CollatedLogins: true},
}

// The tests every store passes in Laravel mode (see laraveltest.Suite).
// DeleteLatency reads the feed every 5 ms; serving processes read it
// every PollInterval.

func TestLaravelStore(t *testing.T)         { laravelSuite.Conformance(t) }
func TestLaravelFixtures(t *testing.T)      { laravelSuite.Fixtures(t) }
func TestLaravelAppWrites(t *testing.T)     { laravelSuite.AppWrites(t) }
func TestLaravelDeleteLatency(t *testing.T) { laravelSuite.DeleteLatency(t) }
func TestLaravelMigrate(t *testing.T)       { laravelSuite.Migrate(t) }
func TestLaravelSanctum2(t *testing.T)      { laravelSuite.Sanctum2(t) }

// appSchema describes the app's tables as the server would create them
// again. The triggers Migrate installs are propusk's, and not in it.
func appSchema(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"users", "personal_access_tokens"} {
		var name, def string
		if err := s.db.QueryRowContext(t.Context(), "SHOW CREATE TABLE `"+table+"`").Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		out = append(out, def)
	}
	return out
}

// TestLaravelLoginLookup: a login is found through propusk_users' indexes,
// never a scan of the app's users table, the unknown ones included.
func TestLaravelLoginLookup(t *testing.T) {
	s := laravelSuite.Store(t, laraveltest.MariaDB(t, laraveltest.Sanctum4Moscow, true), propusk.Laravel{})
	rows, err := s.db.QueryContext(t.Context(), `EXPLAIN SELECT `+userColumns+`, u.canon FROM (
			SELECT user_id FROM propusk_users WHERE lkey = LOWER(?)
			UNION SELECT user_id FROM propusk_users WHERE lkey = ?
			UNION SELECT user_id FROM propusk_users WHERE canon = ?) k
		JOIN users u ON u.id = k.user_id
		ORDER BY BINARY u.login = ? DESC, u.canon <=> ? DESC, u.id LIMIT 16`, "x", "x", "x", "x", "x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				row[c] = string(b)
			}
		}
		t.Logf("plan: %v", row)
		if (row["table"] == "u" || row["table"] == "users") && row["type"] == "ALL" {
			t.Errorf("a login lookup scans the app's users table: %v", row)
		}
	}
}

// BenchmarkLaravelReads is BenchmarkReads in Laravel mode (go test
// -run '^$' -bench 'Reads').
func BenchmarkLaravelReads(b *testing.B) {
	storetest.BenchReads(b, laravelSuite.Store(b, laraveltest.MariaDB(b, laraveltest.Sanctum4Moscow, false), propusk.Laravel{}))
}
