package laraveltest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/storetest"
)

// Store is what Suite asks of a store adapter's *Store, in either mode.
type Store interface {
	propusk.Store
	Migrate(ctx context.Context) error
	Close() error
}

// Suite is the Laravel-mode tests every store passes, written once: a
// store's own test file fills in how to reach its databases and open its
// store, and calls each method from a test of its own name
// (TestLaravelFixtures calls Fixtures), so that every store reports the
// same tests:
//
//	var laravelSuite = laraveltest.Suite[*Store]{Engine: "sqlite", Database: laraveltest.SQLiteDB, ...}
//
//	func TestLaravelFixtures(t *testing.T) { laravelSuite.Fixtures(t) }
//
// Each test gets databases of its own from Database, as real Laravel left
// them.
type Suite[S Store] struct {
	// Engine names the store's database among the fixtures' (manifest.json):
	// sqlite, pgsql or mariadb.
	Engine string
	// Database gives a test a fresh copy of dataset (SQLiteDB,
	// PostgresSchema or MariaDB), and returns what Open, OpenLaravel and
	// Connection reach it by.
	Database func(t testing.TB, dataset string, data bool) string
	// Connection is a Laravel app's connection to db in timezone.
	Connection func(t testing.TB, db, timezone string) Connection
	// Open opens the store on db in propusk's own mode, not migrated: a
	// way to the app's tables beside Laravel mode, for AppSchema and Exec.
	Open func(ctx context.Context, db string) (S, error)
	// OpenLaravel opens the store on db in Laravel mode, not migrated.
	OpenLaravel func(ctx context.Context, db string, l propusk.Laravel) (S, error)
	// AppSchema describes the app's tables (users, personal_access_tokens)
	// as the database holds them, columns, indexes and constraints, in any
	// fixed order: Migrate must leave it as it was. The triggers Migrate
	// installs are propusk's, and not in it.
	AppSchema func(t *testing.T, s S) []string
	// Exec runs one statement on s's database, as the app's own
	// migrations would.
	Exec func(ctx context.Context, s S, stmt string) error
	// Options relax the conformance suite for what the store cannot give
	// in Laravel mode; UserSeconds always holds, since the app's users
	// table keeps seconds.
	Options storetest.Options
}

// Store opens a migrated store in Laravel mode on db, closed at the
// test's end.
func (su Suite[S]) Store(t testing.TB, db string, l propusk.Laravel) S {
	t.Helper()
	s, err := su.OpenLaravel(t.Context(), db, l)
	return storetest.Migrated(t, s, err)
}

// Conformance runs storetest's suite in Laravel mode, on the database of
// a fresh Laravel app with Sanctum 4 and a zone that is not UTC.
func (su Suite[S]) Conformance(t *testing.T) {
	loc := moscow(t)
	o := su.Options
	o.UserSeconds = true
	storetest.RunWith(t, func(t *testing.T) propusk.Store {
		return su.Store(t, su.Database(t, Sanctum4Moscow, false), propusk.Laravel{Location: loc})
	}, o)
}

// Fixtures runs CheckFixture on each dataset, as Laravel wrote it.
func (su Suite[S]) Fixtures(t *testing.T) {
	su.eachDataset(t, func(t *testing.T, f *Fixture, db string) {
		CheckFixture(t, su.Store(t, db, f.Laravel(t)), f)
	})
}

// AppWrites runs CheckAppWrites and CheckReadByApp on each dataset, with
// the app connected as its configuration connects it.
func (su Suite[S]) AppWrites(t *testing.T) {
	su.eachDataset(t, func(t *testing.T, f *Fixture, db string) {
		s := su.Store(t, db, f.Laravel(t))
		c := su.Connection(t, db, f.Timezone).WithTokenableType(f.TokenableType)
		CheckAppWrites(t, s, c)
		CheckReadByApp(t, s, c, f.Location(t))
	})
}

// eachDataset runs check in a parallel subtest named for each of the
// fixtures' datasets, on a copy of the engine's database of it with its
// rows.
func (su Suite[S]) eachDataset(t *testing.T, check func(t *testing.T, f *Fixture, db string)) {
	m, _ := Load(t)
	for _, dataset := range []string{Sanctum2UTC, Sanctum4Moscow} {
		t.Run(dataset, func(t *testing.T) {
			t.Parallel()
			f := m.Fixtures[dataset][su.Engine]
			if f == nil {
				t.Fatalf("the fixtures have no %s database of %s", su.Engine, dataset)
			}
			check(t, f, su.Database(t, dataset, true))
		})
	}
}

// DeleteLatency logs the time 100 tokens deleted through Illuminate take
// to reach the feed (MeasureDeleteLatency: go test ./<store> -run
// LaravelDeleteLatency -v); it asserts only that each arrives. -short
// skips it.
func (su Suite[S]) DeleteLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measures 100 deletes")
	}
	db := su.Database(t, Sanctum4Moscow, false)
	s := su.Store(t, db, propusk.Laravel{Location: moscow(t)})
	MeasureDeleteLatency(t, s, su.Connection(t, db, "Europe/Moscow"), 100)
}

// Migrate checks that Migrate is idempotent, with another login column
// too, never alters the app's tables, and succeeds in processes starting
// together; and that OpenLaravel refuses a database without one of the
// app's tables, naming it (subtests fail/no-<table>).
func (su Suite[S]) Migrate(t *testing.T) {
	ctx := t.Context()
	db := su.Database(t, Sanctum2UTC, true)
	base, err := su.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	before := su.AppSchema(t, base)
	s := su.Store(t, db, propusk.Laravel{})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	// Another login column installs the triggers again, once.
	s2 := su.Store(t, db, propusk.Laravel{LoginColumn: "name"})
	if err := s2.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s3 := su.Store(t, db, propusk.Laravel{})
	if u, err := s3.UserByLogin(ctx, "BOB@EXAMPLE.COM"); err != nil || u.ID != 2 {
		t.Fatalf("after changing the login column back: %v, %v", u, err)
	}
	if after := su.AppSchema(t, base); !slices.Equal(before, after) {
		t.Errorf("Migrate altered the app's tables:\nbefore %q\nafter  %q", before, after)
	}
	storetest.MigrateConcurrently(t, func(ctx context.Context) (storetest.Migrator, error) {
		return su.OpenLaravel(ctx, db, propusk.Laravel{})
	})

	for _, table := range []string{"users", "personal_access_tokens"} {
		t.Run("fail/no-"+table, func(t *testing.T) {
			db := su.Database(t, Sanctum2UTC, false)
			s, err := su.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := su.Exec(ctx, s, `DROP TABLE `+table); err != nil {
				t.Fatal(err)
			}
			_, err = su.OpenLaravel(ctx, db, propusk.Laravel{})
			if msg := propusk.ErrorMessage(err); !strings.Contains(msg, "table "+table+" does not exist") || !strings.Contains(msg, "migrations first") {
				t.Fatalf("OpenLaravel without %s: %v", table, err)
			}
		})
	}
}

// Sanctum2 checks that a Sanctum 2 table, which has no expires_at, keeps
// tokens that never expire, and refuses a token with an expiry rather
// than keep it without it.
func (su Suite[S]) Sanctum2(t *testing.T) {
	ctx := t.Context()
	s := su.Store(t, su.Database(t, Sanctum2UTC, false), propusk.Laravel{})
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

// moscow is the app.timezone of Sanctum4Moscow.
func moscow(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
