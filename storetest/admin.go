package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// newAdmin is a user of level LevelAdmin.
func newAdmin(t *testing.T, s propusk.Store, login string) *propusk.User {
	t.Helper()
	u := &propusk.User{Login: login, PasswordHash: "x", Level: propusk.LevelAdmin, Boards: []string{"*"}, CreatedAt: t0}
	must(t, "create admin "+login, s.CreateUser(ctxOf(t), u))
	return u
}

// feedSince returns the kinds and refs of the entries after seq, as "kind:ref".
func feedSince(t *testing.T, s propusk.Store, seq int64) []string {
	t.Helper()
	es, err := s.Events(ctxOf(t), seq, 1000)
	must(t, "Events", err)
	var out []string
	for _, e := range es {
		out = append(out, e.Kind+":"+e.Ref)
	}
	slices.Sort(out)
	return out
}

func lastSeq(t *testing.T, s propusk.Store) int64 {
	t.Helper()
	n, err := s.LastEvent(ctxOf(t))
	must(t, "LastEvent", err)
	return n
}

// testUserAdmin: the writes of user administration end access through the
// feed, in one transaction, and keep the last administrator.
func testUserAdmin(t *testing.T, open OpenFunc) {
	ctx := ctxOf(t)
	later := t0.Add(time.Minute)
	yes, no := true, false
	lvl := func(n int) *int { return &n }

	t.Run("ok/list-search-cursor", func(t *testing.T) {
		s := open(t)
		var ids []int64
		for _, l := range []string{"alice", "bob", "Alicia", "carol"} {
			ids = append(ids, newUser(t, s, l).ID)
		}
		us, err := s.Users(ctx, propusk.UserQuery{Login: "ALI"})
		must(t, "Users", err)
		if len(us) != 2 || us[0].Login != "alice" || us[1].Login != "Alicia" {
			t.Fatalf("search ALI: %v", logins(us))
		}
		us, err = s.Users(ctx, propusk.UserQuery{After: ids[1], Limit: 1})
		must(t, "Users", err)
		if len(us) != 1 || us[0].ID != ids[2] {
			t.Fatalf("after %d, limit 1: %v", ids[1], logins(us))
		}
		us, err = s.Users(ctx, propusk.UserQuery{Login: "%"})
		must(t, "Users", err)
		if len(us) != 0 {
			t.Fatalf("%% is no wildcard: %v", logins(us))
		}
	})

	t.Run("ok/disable-revokes-and-enable", func(t *testing.T) {
		s := open(t)
		newAdmin(t, s, "root")
		u := newUser(t, s, "alice")
		newSession(t, s, "s1", u.ID, t0, t0.Add(time.Hour))
		newSession(t, s, "s2", u.ID, t0, t0.Add(time.Hour))
		must(t, "RevokeSession s2", s.RevokeSession(ctx, "s2", 0, t0))
		tok := newToken(t, s, u.ID, "t", hash64(1), s0)
		seq := lastSeq(t, s)
		got, err := s.UpdateUser(ctx, u.ID, propusk.UserChange{Disabled: &yes}, userType, later)
		must(t, "UpdateUser", err)
		if !got.Disabled() || got.Level != propusk.LevelUser {
			t.Fatalf("returned %+v", got)
		}
		want := []string{fmt.Sprintf("pat:%d", tok.ID), "session:s1", fmt.Sprintf("user:%d", u.ID)}
		if f := feedSince(t, s, seq); !slices.Equal(f, want) {
			t.Fatalf("feed %v, want %v", f, want)
		}
		sess, err := s.Session(ctx, "s1")
		must(t, "Session", err)
		if !sess.Revoked() {
			t.Fatal("s1 not revoked")
		}
		stored, err := s.UserByID(ctx, u.ID)
		must(t, "UserByID", err)
		if !stored.DisabledAt.Equal(propusk.TruncMillis(later)) {
			t.Fatalf("DisabledAt = %v", stored.DisabledAt)
		}
		got, err = s.UpdateUser(ctx, u.ID, propusk.UserChange{Disabled: &no, Level: lvl(20), Boards: []string{"x"}}, userType, later)
		must(t, "UpdateUser enable", err)
		stored, err = s.UserByID(ctx, u.ID)
		must(t, "UserByID", err)
		if stored.Disabled() || stored.Level != 20 || !slices.Equal(stored.Boards, []string{"x"}) || got.Disabled() {
			t.Fatalf("after enable: %+v", stored)
		}
	})

	t.Run("ok/delete", func(t *testing.T) {
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		newSession(t, s, "s1", u.ID, t0, t0.Add(time.Hour))
		newSession(t, s, "keep", other.ID, t0, t0.Add(time.Hour))
		tok := newToken(t, s, u.ID, "t", hash64(1), s0)
		seq := lastSeq(t, s)
		must(t, "DeleteUser", s.DeleteUser(ctx, u.ID, userType, later))
		want := []string{fmt.Sprintf("pat:%d", tok.ID), "session:s1", fmt.Sprintf("user:%d", u.ID)}
		if f := feedSince(t, s, seq); !slices.Equal(f, want) {
			t.Fatalf("feed %v, want %v", f, want)
		}
		_, err := s.UserByID(ctx, u.ID)
		wantCode(t, "UserByID after delete", err, propusk.ENOTFOUND)
		_, err = s.Token(ctx, tok.ID)
		wantCode(t, "Token after delete", err, propusk.ENOTFOUND)
		ids, err := s.RevokedSince(ctx, t0)
		must(t, "RevokedSince", err)
		if !slices.Equal(ids, []string{"s1"}) {
			t.Fatalf("RevokedSince = %v: a deleted user's sessions must stay revoked for starting processes", ids)
		}
		wantCode(t, "DeleteUser again", s.DeleteUser(ctx, u.ID, userType, later), propusk.ENOTFOUND)
	})

	t.Run("ok/password-and-sessions-keep-one", func(t *testing.T) {
		s := open(t)
		u := newUser(t, s, "alice")
		for _, id := range []string{"a", "b", "c"} {
			newSession(t, s, id, u.ID, t0, t0.Add(time.Hour))
		}
		seq := lastSeq(t, s)
		must(t, "SetPassword", s.SetPassword(ctx, u.ID, "new-hash", "a", later))
		if f := feedSince(t, s, seq); !slices.Equal(f, []string{"session:b", "session:c", fmt.Sprintf("user:%d", u.ID)}) {
			t.Fatalf("feed %v", f)
		}
		stored, err := s.UserByID(ctx, u.ID)
		must(t, "UserByID", err)
		if stored.PasswordHash != "new-hash" {
			t.Fatalf("hash %q", stored.PasswordHash)
		}
		newSession(t, s, "d", u.ID, t0, t0.Add(time.Hour))
		ids, err := s.EndUserSessions(ctx, u.ID, "d", later)
		must(t, "EndUserSessions", err)
		if !slices.Equal(ids, []string{"a"}) {
			t.Fatalf("ended %v, want [a]", ids)
		}
		wantCode(t, "SetPassword of nobody", s.SetPassword(ctx, u.ID+100, "h", "", later), propusk.ENOTFOUND)
	})

	t.Run("fail/last-admin", func(t *testing.T) {
		cases := []struct {
			name  string
			write func(s propusk.Store, id int64) error
		}{
			{"demote", func(s propusk.Store, id int64) error {
				_, err := s.UpdateUser(ctx, id, propusk.UserChange{Level: lvl(propusk.LevelUser)}, userType, later)
				return err
			}},
			{"disable", func(s propusk.Store, id int64) error {
				_, err := s.UpdateUser(ctx, id, propusk.UserChange{Disabled: &yes}, userType, later)
				return err
			}},
			{"delete", func(s propusk.Store, id int64) error { return s.DeleteUser(ctx, id, userType, later) }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := open(t)
				a, b := newAdmin(t, s, "a"), newAdmin(t, s, "b")
				newSession(t, s, "sa", a.ID, t0, t0.Add(time.Hour))
				must(t, "first "+c.name, c.write(s, b.ID))
				seq := lastSeq(t, s)
				wantCode(t, "last "+c.name, c.write(s, a.ID), propusk.ECONFLICT)
				if f := feedSince(t, s, seq); len(f) != 0 {
					t.Fatalf("a refused write appended %v", f)
				}
				stored, err := s.UserByID(ctx, a.ID)
				must(t, "UserByID", err)
				if stored.Level != propusk.LevelAdmin || stored.Disabled() {
					t.Fatalf("the refused write changed %+v", stored)
				}
			})
		}
	})

	t.Run("fail/last-admin-concurrent", func(t *testing.T) {
		s := open(t)
		a, b := newAdmin(t, s, "a"), newAdmin(t, s, "b")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []int64{a.ID, b.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.UpdateUser(ctx, id, propusk.UserChange{Level: lvl(propusk.LevelUser)}, userType, later)
			}()
		}
		wg.Wait()
		us, err := s.Users(ctx, propusk.UserQuery{})
		must(t, "Users", err)
		admins := 0
		for _, u := range us {
			if u.Level >= propusk.LevelAdmin {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("%d administrators left (errors %v), want 1", admins, errs)
		}
	})

	t.Run("fail/not-found", func(t *testing.T) {
		s := open(t)
		_, err := s.UpdateUser(ctx, 404, propusk.UserChange{Disabled: &yes}, userType, later)
		wantCode(t, "UpdateUser", err, propusk.ENOTFOUND)
		wantCode(t, "DeleteUser", s.DeleteUser(ctx, 404, userType, later), propusk.ENOTFOUND)
	})
}

func logins(us []*propusk.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Login)
	}
	return out
}
