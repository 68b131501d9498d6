package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/storetest"
)

// openTest opens a migrated store on a new file in t's temporary directory.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "propusk.db"))
	return storetest.Migrated(t, s, err)
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) propusk.Store { return openTest(t) })
}

func TestPragmas(t *testing.T) {
	s := openTest(t)
	for _, db := range []*sql.DB{s.db, s.ro} {
		var (
			mode        string
			sync, fk    int
			busyTimeout int
		)
		if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`PRAGMA busy_timeout`).Scan(&busyTimeout); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busyTimeout != 5000 {
			t.Errorf("journal_mode %s, foreign_keys %d, busy_timeout %d; want wal, 1, 5000", mode, fk, busyTimeout)
		}
		if db == s.db {
			if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if sync != 2 {
				t.Errorf("synchronous = %d, want 2 (FULL)", sync)
			}
		}
	}
	if _, err := s.ro.Exec(`DELETE FROM meta`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestMigrateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "propusk.db")
	storetest.MigrateConcurrently(t, func(ctx context.Context) (storetest.Migrator, error) { return Open(ctx, path) })
	s2, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n int
	if err := s2.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	if n != len(names) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(names))
	}
}

// TestWritersOfTwoProcesses writes through two Stores on one file, as two
// processes would: no caller may see SQLITE_BUSY.
func TestWritersOfTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "propusk.db")
	var stores []*Store
	for range 2 {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 50 {
		wg.Go(func() {
			s := stores[i%2]
			u := &propusk.User{Login: fmt.Sprintf("user%d", i), PasswordHash: "x"}
			if err := s.CreateUser(t.Context(), u); err != nil {
				errs <- err
				return
			}
			if _, err := s.UserByID(t.Context(), u.ID); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLaravelFormats checks personal_access_tokens both ways: rows as
// Laravel writes them read back, and rows we write are in Laravel's formats.
func TestLaravelFormats(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	// As Laravel inserts: text timestamps, abilities JSON, and no expiry.
	u := storetest.LaravelRows(t, s, func(ctx context.Context, userID int64) error {
		_, err := s.db.ExecContext(ctx, `INSERT INTO personal_access_tokens
		(tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at)
		VALUES ('App\Models\User', ?, 'api-token', 'aaaa', '["*"]', NULL, NULL, '2024-05-06 07:08:09', '2024-05-06 07:08:09'),
		       ('App\Models\User', ?, 'legacy', 'bbbb', NULL, '2024-05-07 00:00:00', '2025-01-01 00:00:00', '2024-05-06 07:08:10', '2024-05-06 07:08:10')`,
			userID, userID)
		return err
	})

	ours := &propusk.PersonalAccessToken{TokenableType: `App\Models\User`, TokenableID: u.ID, Name: "ci", Hash: "cccc",
		ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("X", 3600)),
		CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.CreateToken(ctx, ours); err != nil {
		t.Fatal(err)
	}
	var created, expires, typ, abilities string
	if err := s.db.QueryRow(`SELECT created_at || '', expires_at || '', typeof(created_at), abilities FROM personal_access_tokens WHERE token = 'cccc'`).
		Scan(&created, &expires, &typ, &abilities); err != nil {
		t.Fatal(err)
	}
	if created != "2025-01-02 03:04:05" || expires != "2026-01-02 02:04:05" || typ != "text" || abilities != `["*"]` {
		t.Errorf("stored created_at %q (%s), expires_at %q, abilities %q; want Laravel's formats", created, typ, expires, abilities)
	}
}
