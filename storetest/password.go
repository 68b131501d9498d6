package storetest

import (
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// testPasswords: SetPasswordHash replaces a hash only while it is the one
// the caller read.
func testPasswords(t *testing.T, open OpenFunc, o Options) {
	s := open(t)
	u := &propusk.User{Login: "laravel-user", PasswordHash: "$2y$10$old", CreatedAt: t0}
	must(t, "create", s.CreateUser(ctxOf(t), u))
	later := t0.Add(time.Hour)
	cases := []struct {
		name      string
		id        int64
		old, hash string
		code      string
		want      string
	}{
		{"fail/unknown-user", u.ID + 100, "$2y$10$old", "$argon2id$new", propusk.ENOTFOUND, "$2y$10$old"},
		{"fail/changed-meanwhile", u.ID, "$2y$10$other", "$argon2id$new", propusk.ENOTFOUND, "$2y$10$old"},
		{"ok/rehashed", u.ID, "$2y$10$old", "$argon2id$new", "", "$argon2id$new"},
		{"fail/already-rehashed", u.ID, "$2y$10$old", "$argon2id$newer", propusk.ENOTFOUND, "$argon2id$new"},
	}
	for _, c := range cases {
		err := s.SetPasswordHash(ctxOf(t), c.id, c.old, c.hash, later)
		if c.code == "" {
			must(t, c.name, err)
		} else {
			wantCode(t, c.name, err, c.code)
		}
		got, err := s.UserByID(ctxOf(t), u.ID)
		must(t, c.name+": read", err)
		if got.PasswordHash != c.want {
			t.Fatalf("%s: hash %q, want %q", c.name, got.PasswordHash, c.want)
		}
		if c.code == "" {
			sameTime(t, c.name+": UpdatedAt", got.UpdatedAt, o.userTime(later))
		}
	}
}
