package mysql

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

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
// The app's users.email compares under utf8mb4_unicode_ci, which holds
// logins that differ only in accents equal: the suite allows for that.
func TestLaravelStore(t *testing.T) {
	loc := moscow(t)
	storetest.RunWith(t, func(t *testing.T) propusk.Store {
		return openLaravel(t, laraveltest.MariaDB(t, laraveltest.Sanctum4Moscow, false), propusk.Laravel{Location: loc})
	}, storetest.Options{UserSeconds: true, CollatedLogins: true})
}

func TestLaravelFixtures(t *testing.T) {
	m, _ := laraveltest.Load(t)
	for _, dataset := range []string{laraveltest.Sanctum2UTC, laraveltest.Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			f := m.Fixtures[dataset]["mariadb"]
			s := openLaravel(t, laraveltest.MariaDB(t, dataset, true), f.Laravel(t))
			laraveltest.CheckFixture(t, s, f)
		})
	}
}

func TestLaravelAppWrites(t *testing.T) {
	m, _ := laraveltest.Load(t)
	for _, dataset := range []string{laraveltest.Sanctum2UTC, laraveltest.Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			f := m.Fixtures[dataset]["mariadb"]
			dsn := laraveltest.MariaDB(t, dataset, true)
			s := openLaravel(t, dsn, f.Laravel(t))
			c := laraveltest.MariaDBConnection(t, dsn, f.Timezone).WithTokenableType(f.TokenableType)
			laraveltest.CheckAppWrites(t, s, c)
			laraveltest.CheckReadByApp(t, s, c, f.Location(t))
		})
	}
}

// TestLaravelDeleteLatency logs the time a token deleted through
// Illuminate takes to reach the feed, read every 5 ms (go test ./mysql
// -run LaravelDeleteLatency -v); serving processes read it every
// PollInterval. It asserts only that each arrives.
func TestLaravelDeleteLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 100 deletes")
	}
	dsn := laraveltest.MariaDB(t, laraveltest.Sanctum4Moscow, false)
	s := openLaravel(t, dsn, propusk.Laravel{Location: moscow(t)})
	laraveltest.MeasureDeleteLatency(t, s, laraveltest.MariaDBConnection(t, dsn, "Europe/Moscow"), 100)
}

// TestLaravelMigrate: Migrate is idempotent, refuses a database without the
// app's tables naming the one missing, and never alters the app's tables.
func TestLaravelMigrate(t *testing.T) {
	ctx := t.Context()
	dsn := laraveltest.MariaDB(t, laraveltest.Sanctum2UTC, true)
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
			dsn := laraveltest.MariaDB(t, laraveltest.Sanctum2UTC, false)
			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.db.ExecContext(ctx, `DROP TABLE `+table); err != nil {
				t.Fatal(err)
			}
			_, err = OpenLaravel(ctx, dsn, propusk.Laravel{})
			if msg := propusk.ErrorMessage(err); !strings.Contains(msg, "table "+table+" does not exist") || !strings.Contains(msg, "migrations first") {
				t.Fatalf("OpenLaravel without %s: %v", table, err)
			}
		})
	}
}

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

// TestLaravelSanctum2: a Sanctum 2 table has no expires_at, so its tokens
// never expire, and a token with an expiry is refused rather than kept
// without it.
func TestLaravelSanctum2(t *testing.T) {
	ctx := t.Context()
	s := openLaravel(t, laraveltest.MariaDB(t, laraveltest.Sanctum2UTC, false), propusk.Laravel{})
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

// TestLaravelLoginLookup: a login is found through propusk_users' indexes,
// never a scan of the app's users table, the unknown ones included.
func TestLaravelLoginLookup(t *testing.T) {
	s := openLaravel(t, laraveltest.MariaDB(t, laraveltest.Sanctum4Moscow, true), propusk.Laravel{})
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
	s, err := OpenLaravel(b.Context(), laraveltest.MariaDB(b, laraveltest.Sanctum4Moscow, false), propusk.Laravel{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	benchReads(b, s)
}
