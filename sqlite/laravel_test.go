package sqlite

import (
	"database/sql"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/storetest"
)

// openLaravel opens a migrated store in Laravel mode on the database at
// path, closed at the test's end.
func openLaravel(t *testing.T, path string, l propusk.Laravel) *Store {
	t.Helper()
	s, err := OpenLaravel(t.Context(), path, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// moscow is the app.timezone of the sanctum4-moscow fixture.
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
		return openLaravel(t, laraveltest.SQLiteDB(t, laraveltest.Sanctum4Moscow, false), propusk.Laravel{Location: loc})
	}, storetest.Options{UserSeconds: true})
}

func TestLaravelFixtures(t *testing.T) {
	m, _ := laraveltest.Load(t)
	for _, dataset := range []string{laraveltest.Sanctum2UTC, laraveltest.Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			f := m.Fixtures[dataset]["sqlite"]
			s := openLaravel(t, laraveltest.SQLiteDB(t, dataset, true), f.Laravel(t))
			laraveltest.CheckFixture(t, s, f)
		})
	}
}

func TestLaravelAppWrites(t *testing.T) {
	for _, dataset := range []string{laraveltest.Sanctum2UTC, laraveltest.Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			m, _ := laraveltest.Load(t)
			f := m.Fixtures[dataset]["sqlite"]
			path := laraveltest.SQLiteDB(t, dataset, true)
			s := openLaravel(t, path, f.Laravel(t))
			c := laraveltest.SQLiteConnection(path, f.Timezone).WithTokenableType(f.TokenableType)
			laraveltest.CheckAppWrites(t, s, c)
			laraveltest.CheckReadByApp(t, s, c, f.Location(t))
		})
	}
}

// TestLaravelDeleteLatency logs the time a token deleted through
// Illuminate takes to reach the feed (go test ./sqlite -run
// LaravelDeleteLatency -v); it asserts only that each arrives.
func TestLaravelDeleteLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 100 deletes")
	}
	path := laraveltest.SQLiteDB(t, laraveltest.Sanctum4Moscow, false)
	s := openLaravel(t, path, propusk.Laravel{Location: moscow(t)})
	laraveltest.MeasureDeleteLatency(t, s, laraveltest.SQLiteConnection(path, "Europe/Moscow"), 100)
}

// TestLaravelMigrate: Migrate is idempotent, refuses a database without the
// app's tables naming the one missing, and never alters the app's tables.
func TestLaravelMigrate(t *testing.T) {
	ctx := t.Context()
	path := laraveltest.SQLiteDB(t, laraveltest.Sanctum2UTC, true)
	before := appSchema(t, path)
	s := openLaravel(t, path, propusk.Laravel{})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	// Another login column installs the triggers again, once.
	s2 := openLaravel(t, path, propusk.Laravel{LoginColumn: "name"})
	if err := s2.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s3 := openLaravel(t, path, propusk.Laravel{})
	if u, err := s3.UserByLogin(ctx, "BOB@EXAMPLE.COM"); err != nil || u.ID != 2 {
		t.Fatalf("after changing the login column back: %v, %v", u, err)
	}
	if after := appSchema(t, path); !slices.Equal(before, after) {
		t.Errorf("Migrate altered the app's tables:\nbefore %q\nafter  %q", before, after)
	}

	for _, table := range []string{"users", "personal_access_tokens"} {
		t.Run("fail/no-"+table, func(t *testing.T) {
			path := laraveltest.SQLiteDB(t, laraveltest.Sanctum2UTC, false)
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`DROP TABLE ` + table); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = OpenLaravel(ctx, path, propusk.Laravel{})
			if msg := propusk.ErrorMessage(err); !strings.Contains(msg, "table "+table+" does not exist") || !strings.Contains(msg, "migrations first") {
				t.Fatalf("OpenLaravel without %s: %v", table, err)
			}
		})
	}
	t.Run("fail/no-file", func(t *testing.T) {
		path := t.TempDir() + "/missing.sqlite"
		if _, err := OpenLaravel(ctx, path, propusk.Laravel{}); err == nil {
			t.Fatal("OpenLaravel of a missing file succeeded")
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("OpenLaravel created the missing file")
		}
	})
}

// appSchema returns the definitions of the app's tables and their indexes.
func appSchema(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
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

// TestLaravelSanctum2: a Sanctum 2 table has no expires_at, so its tokens
// never expire, and a token with an expiry is refused rather than kept
// without it.
func TestLaravelSanctum2(t *testing.T) {
	ctx := t.Context()
	s := openLaravel(t, laraveltest.SQLiteDB(t, laraveltest.Sanctum2UTC, false), propusk.Laravel{})
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
	s := openLaravel(t, laraveltest.SQLiteDB(t, laraveltest.Sanctum4Moscow, true), propusk.Laravel{})
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
	s, err := OpenLaravel(b.Context(), laraveltest.SQLiteDB(b, laraveltest.Sanctum4Moscow, false), propusk.Laravel{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	benchReads(b, s)
}
