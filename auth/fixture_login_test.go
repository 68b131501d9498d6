package auth

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/internal/testenv"
)

// TestFixtureLogins: every user of the databases real Laravel wrote logs
// in to propusk, on SQLite and PostgreSQL, with the password and hash they
// have (bcrypt $2y$10$, PHP's argon2id, a UTF-8 password, one over 72
// bytes), typing the e-mail in any letter case; and leaves with propusk's
// own hash, which Laravel's Hash::check still accepts.
func TestFixtureLogins(t *testing.T) {
	m, dir := laraveltest.Load(t)
	stores := map[string]func(t *testing.T) propusk.Store{
		"sqlite":   func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s },
		"postgres": func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s },
	}
	for storeName, open := range stores {
		for dataset, engines := range m.Fixtures {
			t.Run(storeName+"/"+dataset, func(t *testing.T) {
				t.Parallel()
				f := engines["sqlite"]
				db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, f.File)+"?mode=ro&immutable=1")
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				store := open(t)
				ctx := context.Background()
				svc, err := New(ctx, Config{Store: store, MasterKey: key(t), Argon2: cheapArgon2})
				if err != nil {
					t.Fatal(err)
				}
				for _, fu := range f.Users {
					var hash string
					if err := db.QueryRow(`SELECT password FROM users WHERE id = ?`, fu.ID).Scan(&hash); err != nil {
						t.Fatal(err)
					}
					u := &propusk.User{Login: fu.Email, PasswordHash: hash}
					if err := store.CreateUser(ctx, u); err != nil {
						t.Fatalf("%s: %v", fu.Email, err)
					}
					if _, err := svc.Login(ctx, fu.Email, "!"+fu.Password, propusk.Client{}); propusk.ErrorCode(err) != propusk.ECREDENTIALS {
						t.Fatalf("%s, wrong password: %v", fu.Email, err)
					}
					for _, login := range []string{fu.Email, strings.ToLower(fu.Email), strings.ToUpper(fu.Email)} {
						if _, err := svc.Login(ctx, login, fu.Password, propusk.Client{}); err != nil {
							t.Fatalf("%s (%s hash, %s) as %q: %v", fu.Email, fu.HashKind, fu.Note, login, err)
						}
					}
					got, err := store.UserByID(ctx, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
						t.Fatalf("%s: not rehashed: %.30s", fu.Email, got.PasswordHash)
					}
					if ok := laraveltest.Script(t, "hash.php", fu.Password, "check", got.PasswordHash, "-"); ok != "1" {
						t.Fatalf("%s: Laravel's Hash::check refuses propusk's hash", fu.Email)
					}
				}
			})
		}
	}
}
