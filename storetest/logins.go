package storetest

import (
	"testing"

	"github.com/propusk/propusk"
)

// testLogins checks that a store keys users by the canonical form of their
// login: look-alikes find the user and cannot register again.
func testLogins(t *testing.T, open OpenFunc, o Options) {
	cases := []struct {
		name     string
		login    string   // registered, and kept as typed
		alikes   []string // each finds it and is taken
		distinct []string // each is another login
	}{
		{"ok/case-and-width", "admin", []string{"Admin", "ADMIN", "ａｄｍｉｎ", "ＡＤＭＩＮ"}, []string{"admin1", "adm in"}},
		{"ok/nfd-registered", "e\u0301lodie", []string{"\u00e9lodie", "\u00c9LODIE", "E\u0301lodie"}, []string{"elodie"}},
		{"ok/nfc-registered", "\u00e9lodie", []string{"e\u0301lodie"}, []string{"elodie"}},
		{"ok/cyrillic", "Пропуск", []string{"пропуск", "ПРОПУСК"}, []string{"пропуск2"}},
		{"ok/words", "John Smith", []string{"john smith", "JOHN SMITH"}, []string{"johnsmith"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u := newUser(t, s, c.login)
			for _, l := range append([]string{c.login}, c.alikes...) {
				got, err := s.UserByLogin(ctxOf(t), l)
				must(t, "by login "+l, err)
				if got.ID != u.ID || got.Login != c.login {
					t.Errorf("UserByLogin(%+q) = id %d %+q; want id %d %+q as typed", l, got.ID, got.Login, u.ID, c.login)
				}
				err = s.CreateUser(ctxOf(t), &propusk.User{Login: l, PasswordHash: "x", CreatedAt: t0})
				wantCode(t, "create look-alike "+l, err, propusk.ECONFLICT)
			}
			for _, l := range c.distinct {
				_, err := s.UserByLogin(ctxOf(t), l)
				wantCode(t, "by other login "+l, err, propusk.ENOTFOUND)
				if o.CollatedLogins {
					err := s.CreateUser(ctxOf(t), &propusk.User{Login: l, PasswordHash: "x", CreatedAt: t0})
					if err != nil {
						wantCode(t, "create "+l+" that the collation may hold equal", err, propusk.ECONFLICT)
					}
					continue
				}
				newUser(t, s, l)
			}
		})
	}
	t.Run("fail/no-canonical-form", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newUser(t, s, "admin")
		for _, l := range []string{"\u0430dmin", "adm\u200bin", "admin😀", "john  smith", ""} {
			err := s.CreateUser(ctxOf(t), &propusk.User{Login: l, PasswordHash: "x", CreatedAt: t0})
			wantCode(t, "create "+l, err, propusk.EINVALID)
			_, err = s.UserByLogin(ctxOf(t), l)
			wantCode(t, "by login "+l, err, propusk.ENOTFOUND)
		}
	})
}
