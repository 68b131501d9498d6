package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/storetest"
)

// openLaravel opens a migrated store in Laravel mode on the database of
// dsn, closed at the test's end.
func openLaravel(t *testing.T, dsn string, l propusk.Laravel) *Store {
	t.Helper()
	s, err := OpenLaravel(t.Context(), dsn, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func moscow(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestLaravelStore runs the conformance suite in Laravel mode, on the
// database of a fresh Laravel app with Sanctum 4 and a zone that is not UTC.
func TestLaravelStore(t *testing.T) {
	loc := moscow(t)
	storetest.RunWith(t, func(t *testing.T) propusk.Store {
		return openLaravel(t, laraveltest.PostgresSchema(t, laraveltest.Sanctum4Moscow, false), propusk.Laravel{Location: loc})
	}, storetest.Options{UserSeconds: true})
}

func TestLaravelFixtures(t *testing.T) {
	m, _ := laraveltest.Load(t)
	for _, dataset := range []string{laraveltest.Sanctum2UTC, laraveltest.Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			f := m.Fixtures[dataset]["pgsql"]
			s := openLaravel(t, laraveltest.PostgresSchema(t, dataset, true), f.Laravel(t))
			laraveltest.CheckFixture(t, s, f)
		})
	}
}

func TestLaravelAppWrites(t *testing.T) {
	m, _ := laraveltest.Load(t)
	for _, dataset := range []string{laraveltest.Sanctum2UTC, laraveltest.Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			f := m.Fixtures[dataset]["pgsql"]
			dsn := laraveltest.PostgresSchema(t, dataset, true)
			s := openLaravel(t, dsn, f.Laravel(t))
			c := laraveltest.PostgresConnection(t, dsn, f.Timezone).WithTokenableType(f.TokenableType)
			laraveltest.CheckAppWrites(t, s, c)
			laraveltest.CheckReadByApp(t, s, c, f.Location(t))
		})
	}
}

// TestLaravelDeleteLatency logs the time a token deleted through
// Illuminate takes to reach the feed, by LISTEN/NOTIFY (go test ./postgres
// -run LaravelDeleteLatency -v); it asserts only that each arrives.
func TestLaravelDeleteLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 100 deletes")
	}
	dsn := laraveltest.PostgresSchema(t, laraveltest.Sanctum4Moscow, false)
	s := openLaravel(t, dsn, propusk.Laravel{Location: moscow(t)})
	laraveltest.MeasureDeleteLatency(t, s, laraveltest.PostgresConnection(t, dsn, "Europe/Moscow"), 100)
}

// TestLaravelMigrate: Migrate is idempotent, refuses a database without the
// app's tables naming the one missing, and never alters the app's tables.
func TestLaravelMigrate(t *testing.T) {
	ctx := t.Context()
	dsn := laraveltest.PostgresSchema(t, laraveltest.Sanctum2UTC, true)
	base, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	before := appSchema(t, base)
	s := openLaravel(t, dsn, propusk.Laravel{})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	openLaravel(t, dsn, propusk.Laravel{LoginColumn: "name"})
	s3 := openLaravel(t, dsn, propusk.Laravel{})
	if u, err := s3.UserByLogin(ctx, "BOB@EXAMPLE.COM"); err != nil || u.ID != 2 {
		t.Fatalf("after changing the login column back: %v, %v", u, err)
	}
	if after := appSchema(t, base); !slices.Equal(before, after) {
		t.Errorf("Migrate altered the app's tables:\nbefore %q\nafter  %q", before, after)
	}
	storetest.MigrateConcurrently(t, func(ctx context.Context) (storetest.Migrator, error) { return OpenLaravel(ctx, dsn, propusk.Laravel{}) })

	for _, table := range []string{"users", "personal_access_tokens"} {
		t.Run("fail/no-"+table, func(t *testing.T) {
			dsn := laraveltest.PostgresSchema(t, laraveltest.Sanctum2UTC, false)
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.pool.Exec(ctx, `DROP TABLE `+table); err != nil {
				t.Fatal(err)
			}
			_, err = OpenLaravel(ctx, dsn, propusk.Laravel{})
			if msg := propusk.ErrorMessage(err); !strings.Contains(msg, "table "+table+" does not exist") || !strings.Contains(msg, "migrations first") {
				t.Fatalf("OpenLaravel without %s: %v", table, err)
			}
		})
	}
}

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

// TestLaravelSanctum2: a Sanctum 2 table has no expires_at, so its tokens
// never expire, and a token with an expiry is refused rather than kept
// without it.
func TestLaravelSanctum2(t *testing.T) {
	ctx := t.Context()
	s := openLaravel(t, laraveltest.PostgresSchema(t, laraveltest.Sanctum2UTC, false), propusk.Laravel{})
	u := &propusk.User{Login: "a@example.com", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	tok := &propusk.PersonalAccessToken{TokenableType: propusk.DefaultLaravelTokenableType, TokenableID: u.ID, Name: "t",
		Hash: strings.Repeat("a", 64), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateToken(ctx, tok); propusk.ErrorCode(err) != propusk.EINVALID {
		t.Fatalf("a token with an expiry: %v, want EINVALID", err)
	}
	tok.ExpiresAt = time.Time{}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, tok.ID)
	if err != nil || !got.ExpiresAt.IsZero() {
		t.Fatalf("token: %+v, %v", got, err)
	}
}

// BenchmarkLaravelReads is BenchmarkReads in Laravel mode (go test
// -run '^$' -bench 'Reads').
func BenchmarkLaravelReads(b *testing.B) {
	s, err := OpenLaravel(b.Context(), laraveltest.PostgresSchema(b, laraveltest.Sanctum4Moscow, false), propusk.Laravel{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	benchReads(b, s)
}

// TestLaravelLoginLookup: a login is found through propusk_users' indexes,
// never a scan of the app's users table, the unknown ones included. With
// sequential scans priced out, a plan that still scans users has no other
// way.
func TestLaravelLoginLookup(t *testing.T) {
	ctx := t.Context()
	s := openLaravel(t, laraveltest.PostgresSchema(t, laraveltest.Sanctum4Moscow, true), propusk.Laravel{})
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
