package storetest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// LoginStore is a store whose schema can be migrated.
type LoginStore interface {
	propusk.Store
	Migrate(ctx context.Context) error
}

// LoginKeyMigration checks the migration that adds canonical login keys, on
// a migrated store s. unmigrate must take the database back to before that
// migration (no login_key column or index, the migration not recorded);
// insert must add a user row with a login and no key, in the store's
// dialect, and return its id. Logins that collide once canonical, or that
// have no canonical form, make Migrate fail naming each of them and change
// nothing; once they are renamed it succeeds and every login is keyed.
func LoginKeyMigration(t *testing.T, s LoginStore, unmigrate func(ctx context.Context) error,
	insert func(ctx context.Context, login string) (int64, error), rename func(ctx context.Context, id int64, login string) error) {
	t.Helper()
	ctx := ctxOf(t)
	must(t, "unmigrate", unmigrate(ctx))
	ids := map[string]int64{}
	for _, l := range []string{"admin", "bob", "Admin", "ａｄｍｉｎ", "e\u0301lodie", "\u00e9lodie", "\u0430dmin", "carol"} {
		id, err := insert(ctx, l)
		must(t, "insert "+l, err)
		ids[l] = id
	}
	err := s.Migrate(ctx)
	wantCode(t, "migrate over colliding logins", err, propusk.ECONFLICT)
	msg := propusk.ErrorMessage(err)
	for _, want := range []string{
		`id ` + itoa(ids["admin"]) + ` "admin", id ` + itoa(ids["Admin"]) + ` "Admin", id ` + itoa(ids["ａｄｍｉｎ"]) + ` "ａｄｍｉｎ"`,
		"id " + itoa(ids["e\u0301lodie"]) + " \"e\u0301lodie\"", "id " + itoa(ids["\u00e9lodie"]) + " \"\u00e9lodie\"",
		"id " + itoa(ids["\u0430dmin"]) + " \"\u0430dmin\"", "mixes Cyrillic and Latin",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal does not name %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "bob") || strings.Contains(msg, "carol") {
		t.Errorf("the refusal names logins that collide with none:\n%s", msg)
	}
	// Nothing changed: all rows are still there, none merged.
	for l, id := range ids {
		if u, err := s.UserByID(ctx, id); err != nil || u.Login != l {
			t.Errorf("user %d after the refused migration: %v, %v", id, u, err)
		}
	}
	// Rolled back and not recorded: it refuses again.
	wantCode(t, "migrate again", s.Migrate(ctx), propusk.ECONFLICT)

	for _, l := range []string{"Admin", "ａｄｍｉｎ", "\u00e9lodie"} {
		must(t, "rename "+l, rename(ctx, ids[l], "renamed"+itoa(ids[l])))
	}
	must(t, "rename", rename(ctx, ids["\u0430dmin"], "\u0430д\u043c\u0438\u043d"))
	must(t, "migrate after renaming", s.Migrate(ctx))
	for _, c := range []struct{ login, as string }{
		{"ADMIN", "admin"}, {"Bob", "bob"}, {"\u00c9LODIE", "e\u0301lodie"}, {"Renamed" + itoa(ids["Admin"]), "renamed" + itoa(ids["Admin"])},
	} {
		u, err := s.UserByLogin(ctx, c.login)
		must(t, "by login "+c.login, err)
		if u.Login != c.as {
			t.Errorf("UserByLogin(%q) = %q; want %q", c.login, u.Login, c.as)
		}
	}
	wantCode(t, "look-alike after migrating", s.CreateUser(ctx, &propusk.User{Login: "CAROL", PasswordHash: "x"}), propusk.ECONFLICT)
}

// KeylessRows checks a user row written without a login key, as another app
// sharing the users table writes it: insert adds one with login "Dave". It
// is found by its exact login only, and does not block other logins.
func KeylessRows(t *testing.T, s propusk.Store, insert func(ctx context.Context, login string) (int64, error)) {
	t.Helper()
	ctx := ctxOf(t)
	newUser(t, s, "dave") // a keyed row whose key a keyless row's login shares
	id, err := insert(ctx, "Dave")
	must(t, "insert keyless", err)
	u, err := s.UserByLogin(ctx, "Dave")
	must(t, "by exact login", err)
	if u.ID == id {
		t.Errorf("UserByLogin(Dave) found the keyless row; a keyed row has the same key and wins")
	}
	id2, err := insert(ctx, "Erin")
	must(t, "insert keyless", err)
	u, err = s.UserByLogin(ctx, "Erin")
	must(t, "keyless by exact login", err)
	if u.ID != id2 {
		t.Errorf("UserByLogin(Erin) = id %d; want %d", u.ID, id2)
	}
	_, err = s.UserByLogin(ctx, "erin")
	wantCode(t, "keyless by look-alike", err, propusk.ENOTFOUND)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Migrator is a store whose schema can be created or upgraded.
type Migrator interface {
	Migrate(ctx context.Context) error
	Close() error
}

// Migrated takes a store a test has just opened (s, or err): it fails t
// on err, closes s at the test's end, migrates it and returns it.
func Migrated[S Migrator](t testing.TB, s S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// MigrateConcurrently opens four stores on one database with open and
// migrates each twice at the same time, as processes starting together do:
// every run must succeed, and the second must find nothing to do.
func MigrateConcurrently(t *testing.T, open func(ctx context.Context) (Migrator, error)) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := open(t.Context())
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			if errs[i] = s.Migrate(t.Context()); errs[i] == nil {
				errs[i] = s.Migrate(t.Context())
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// LaravelRows checks that rows written the way a Laravel app writes them
// read back right: insert must add, for userID, two rows to
// personal_access_tokens in the database's own dialect: token "aaaa" named
// "api-token" with abilities '["*"]', no expiry and created and updated at
// 2024-05-06 07:08:09; and token "bbbb" named "legacy" with NULL abilities,
// last used 2024-05-07 00:00:00 and expiring 2025-01-01 00:00:00 (all UTC).
// It returns the user it made.
func LaravelRows(t *testing.T, s propusk.Store, insert func(ctx context.Context, userID int64) error) *propusk.User {
	t.Helper()
	ctx := t.Context()
	u := &propusk.User{Login: "alice", PasswordHash: "x"}
	must(t, "create user", s.CreateUser(ctx, u))
	must(t, "insert as Laravel does", insert(ctx, u.ID))
	tok, err := s.TokenByHash(ctx, "aaaa")
	must(t, "token aaaa", err)
	if want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC); !tok.CreatedAt.Equal(want) || !tok.ExpiresAt.IsZero() || !slices.Equal(tok.Abilities, []string{"*"}) {
		t.Errorf("laravel row = %+v", tok)
	}
	tok, err = s.TokenByHash(ctx, "bbbb")
	must(t, "token bbbb", err)
	if !slices.Equal(tok.Abilities, []string{"*"}) || !tok.ExpiresAt.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		!tok.LastUsedAt.Equal(time.Date(2024, 5, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("laravel row with NULL abilities = %+v", tok)
	}
	return u
}
