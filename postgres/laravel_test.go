package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/storetest"
)

// laravelSuite is the Laravel-mode suite on PostgreSQL: each test has a
// schema of its own, restored from the fixture's dump.
var laravelSuite = laraveltest.Suite[*Store]{
	Engine:      "pgsql",
	Database:    laraveltest.PostgresSchema,
	Connection:  laraveltest.PostgresConnection,
	Open:        Open,
	OpenLaravel: OpenLaravel,
	AppSchema:   appSchema,
	Exec: func(ctx context.Context, s *Store, stmt string) error {
		_, err := s.pool.Exec(ctx, stmt)
		return err
	},
}

// The tests every store passes in Laravel mode (see laraveltest.Suite).
// DeleteLatency reads the feed as LISTEN/NOTIFY wakes it.

func TestLaravelStore(t *testing.T)         { laravelSuite.Conformance(t) }
func TestLaravelFixtures(t *testing.T)      { laravelSuite.Fixtures(t) }
func TestLaravelAppWrites(t *testing.T)     { laravelSuite.AppWrites(t) }
func TestLaravelDeleteLatency(t *testing.T) { laravelSuite.DeleteLatency(t) }
func TestLaravelMigrate(t *testing.T)       { laravelSuite.Migrate(t) }
func TestLaravelSanctum2(t *testing.T)      { laravelSuite.Sanctum2(t) }

// appSchema describes the app's tables: columns, indexes, constraints. The
// triggers Migrate installs are propusk's, and not in it.
func appSchema(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `
		SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name IN ('users', 'personal_access_tokens')
		UNION ALL SELECT 'index ' || indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename IN ('users', 'personal_access_tokens')
		UNION ALL SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid IN (to_regclass('users'), to_regclass('personal_access_tokens'))
		ORDER BY 1`)
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

// BenchmarkLaravelReads is BenchmarkReads in Laravel mode (go test
// -run '^$' -bench 'Reads').
func BenchmarkLaravelReads(b *testing.B) {
	storetest.BenchReads(b, laravelSuite.Store(b, laraveltest.PostgresSchema(b, laraveltest.Sanctum4Moscow, false), propusk.Laravel{}))
}

// TestLaravelLoginLookup: a login is found through propusk_users' indexes,
// never a scan of the app's users table, the unknown ones included. With
// sequential scans priced out, a plan that still scans users has no other
// way.
func TestLaravelLoginLookup(t *testing.T) {
	ctx := t.Context()
	s := laravelSuite.Store(t, laraveltest.PostgresSchema(t, laraveltest.Sanctum4Moscow, true), propusk.Laravel{})
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN SELECT `+userColumns+`, u.canon FROM users u WHERE u.id IN (
			SELECT user_id FROM propusk_users WHERE lkey = lower($1)
			UNION SELECT user_id FROM propusk_users WHERE lkey = $2
			UNION SELECT user_id FROM propusk_users WHERE canon = $2)
		ORDER BY u.login = $1 DESC, u.canon IS NOT DISTINCT FROM $2 DESC, u.id LIMIT 16`, "nobody@example.com", "nobody@example.com")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range plan {
		if strings.Contains(line, "Seq Scan on users") {
			t.Errorf("a login lookup scans the app's users table:\n%s", strings.Join(plan, "\n"))
		}
	}
}
