package storetest

import (
	"slices"
	"strconv"
	"testing"

	"github.com/propusk/propusk"
)

func testUsers(t *testing.T, open OpenFunc, o Options) {
	t.Run("ok/create", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := &propusk.User{Login: "alice", PasswordHash: "phc", Level: propusk.LevelAdmin, Boards: []string{"b", "a"}, APIToken: "sealed-blob", CreatedAt: t0}
		must(t, "create", s.CreateUser(ctxOf(t), u))
		if u.ID == 0 {
			t.Fatal("CreateUser left ID 0")
		}
		sameTime(t, "CreatedAt", u.CreatedAt, o.userTime(t0))
		sameTime(t, "UpdatedAt", u.UpdatedAt, o.userTime(t0))
		got, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "by id", err)
		checkUser(t, got, u)
		got, err = s.UserByLogin(ctxOf(t), "alice")
		must(t, "by login", err)
		checkUser(t, got, u)

		u2 := newUser(t, s, "bob")
		if u2.ID == u.ID {
			t.Errorf("two users share id %d", u.ID)
		}
	})
	t.Run("ok/defaults", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := &propusk.User{Login: "carol", PasswordHash: "phc", CreatedAt: t0}
		must(t, "create", s.CreateUser(ctxOf(t), u))
		got, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "by id", err)
		if got.Level != propusk.LevelUser || !slices.Equal(got.Boards, []string{propusk.AllBoards}) || got.APIToken != "" {
			t.Errorf("defaults: level %d, boards %q, api token %q; want %d, [*], empty", got.Level, got.Boards, got.APIToken, propusk.LevelUser)
		}
	})
	t.Run("ok/created-now", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := &propusk.User{Login: "dave", PasswordHash: "phc"}
		must(t, "create", s.CreateUser(ctxOf(t), u))
		if u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Errorf("CreatedAt %v, UpdatedAt %v: want both set and equal", u.CreatedAt, u.UpdatedAt)
		}
		got, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "by id", err)
		sameTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)
	})
	t.Run("fail/login-taken", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newUser(t, s, "alice")
		err := s.CreateUser(ctxOf(t), &propusk.User{Login: "alice", PasswordHash: "other", CreatedAt: t0})
		wantCode(t, "second create", err, propusk.ECONFLICT)
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		_, err := s.UserByID(ctxOf(t), u.ID+1000)
		wantCode(t, "unknown id", err, propusk.ENOTFOUND)
		for _, login := range []string{"bob", "alice ", "\u0430lice", ""} {
			_, err = s.UserByLogin(ctxOf(t), login)
			wantCode(t, "login "+strconv.Quote(login), err, propusk.ENOTFOUND)
		}
	})
}
