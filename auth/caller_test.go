package auth_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// TestCallerFollowsFeed: process B shows a user from its cache until the
// feed says the user changed on process A, and then the change (or a
// refusal): nothing a user relies on waits for more than the feed's latency.
func TestCallerFollowsFeed(t *testing.T) {
	ctx := context.Background()
	lvl := func(n int) *int { return &n }
	yes := true
	cases := []struct {
		name   string
		change func(t *testing.T, d *db, a *auth.Service, id int64)
		check  func(u *propusk.User) bool // what B shows after the feed
		code   string                     // or its refusal
	}{
		{"ok/level", func(t *testing.T, _ *db, a *auth.Service, id int64) {
			_, err := a.UpdateUser(ctx, nil, id, propusk.UserChange{Level: lvl(20)})
			noErr(t, err)
		}, func(u *propusk.User) bool { return u.Level == 20 }, ""},
		{"ok/boards", func(t *testing.T, _ *db, a *auth.Service, id int64) {
			_, err := a.UpdateUser(ctx, nil, id, propusk.UserChange{Boards: []string{"b", "pr"}})
			noErr(t, err)
		}, func(u *propusk.User) bool { return slices.Equal(u.Boards, []string{"b", "pr"}) }, ""},
		{"ok/password", func(t *testing.T, _ *db, a *auth.Service, id int64) {
			noErr(t, a.SetUserPassword(ctx, nil, id, "another password"))
		}, func(u *propusk.User) bool { return u.Level == propusk.LevelUser }, ""},
		{"ok/login-changed-by-another-app", func(t *testing.T, d *db, _ *auth.Service, id int64) {
			// What a Laravel app sharing the table does, and its trigger
			// appends: the row changes and an EventUser follows.
			tx, err := d.raw.BeginTx(ctx, nil)
			noErr(t, err)
			defer tx.Rollback()
			_, err = tx.ExecContext(ctx, d.q(`UPDATE users SET login = ? WHERE id = ?`), "renamed", id)
			noErr(t, err)
			if d.path != "" {
				_, err = tx.ExecContext(ctx, `INSERT INTO events (kind, ref, at) VALUES ('user', ?, 0)`, id)
			} else {
				_, err = tx.ExecContext(ctx, `WITH c AS (UPDATE event_seq SET seq = seq + 1 RETURNING seq)
					INSERT INTO events (seq, kind, ref, at) SELECT seq, 'user', $1, now() FROM c`, strconv.FormatInt(id, 10))
			}
			noErr(t, err)
			noErr(t, tx.Commit())
		}, func(u *propusk.User) bool { return u.Login == "renamed" }, ""},
		{"fail/disabled", func(t *testing.T, _ *db, a *auth.Service, id int64) {
			_, err := a.UpdateUser(ctx, nil, id, propusk.UserChange{Disabled: &yes})
			noErr(t, err)
		}, nil, propusk.ETOKENINVALID},
		{"fail/deleted", func(t *testing.T, _ *db, a *auth.Service, id int64) {
			noErr(t, a.DeleteUser(ctx, nil, id))
		}, nil, propusk.ETOKENINVALID},
	}
	forEachStore(t, func(t *testing.T, d *db) {
		clk := newClock()
		a, b := twoProcesses(t, d.store, clk)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				reg := register(t, a, strings.ReplaceAll(c.name, "/", "-"))
				p := &propusk.Principal{UserID: reg.UserID, Level: propusk.LevelUser, Via: propusk.ViaAccessToken}
				before, err := b.Caller(ctx, p)
				noErr(t, err)
				c.change(t, d, a, reg.UserID)
				if again, err := b.Caller(ctx, p); err != nil || again != before {
					t.Fatalf("before B read the feed: %+v, %v; want the cached %+v", again, err, before)
				}
				noErr(t, b.SyncFeed(ctx))
				after, err := b.Caller(ctx, p)
				if c.code != "" {
					if propusk.ErrorCode(err) != c.code {
						t.Fatalf("after the feed: %+v, %v; want %s", after, err, c.code)
					}
					return
				}
				noErr(t, err)
				if !c.check(after) {
					t.Fatalf("after the feed: %+v", after)
				}
				if after.PasswordHash != "" || after.APIToken != "" {
					t.Fatal("Caller hands out the password hash or the sealed api-token")
				}
			})
		}
	})
}

// slowUsers is a store whose UserByID, once armed, reads the row and then
// waits for hold to close before returning it: a read overtaken by a
// change and its feed entry.
type slowUsers struct {
	propusk.Store
	reads atomic.Int64
	armed atomic.Bool
	read  chan struct{}
	hold  chan struct{}
}

func (s *slowUsers) UserByID(ctx context.Context, id int64) (*propusk.User, error) {
	s.reads.Add(1)
	u, err := s.Store.UserByID(ctx, id)
	if s.armed.CompareAndSwap(true, false) {
		close(s.read)
		<-s.hold
	}
	return u, err
}

// TestCallerStaleReadNotCached: a read of the user that began before a
// change, and returns after the change's feed entry was applied, answers
// its own request but is not cached: the next request reads the new row.
func TestCallerStaleReadNotCached(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, d *db) {
		clk := newClock()
		key := masterKey()
		a := newService(t, d.store, clk, key)
		slow := &slowUsers{Store: d.store, read: make(chan struct{}), hold: make(chan struct{})}
		b := newService(t, slow, clk, key)
		reg := register(t, a, "alice")
		p := &propusk.Principal{UserID: reg.UserID, Level: propusk.LevelUser, Via: propusk.ViaAccessToken}
		slow.armed.Store(true)
		done := make(chan *propusk.User)
		go func() {
			u, err := b.Caller(ctx, p)
			if err != nil {
				t.Error(err)
			}
			done <- u
		}()
		<-slow.read
		lvl := 20
		_, err := a.UpdateUser(ctx, nil, reg.UserID, propusk.UserChange{Level: &lvl})
		noErr(t, err)
		noErr(t, b.SyncFeed(ctx))
		close(slow.hold)
		if u := <-done; u == nil || u.Level != propusk.LevelUser {
			t.Fatalf("the overtaken read answered %+v", u)
		}
		u, err := b.Caller(ctx, p)
		noErr(t, err)
		if u.Level != 20 || slow.reads.Load() != 2 {
			t.Fatalf("after the overtaken read: level %d after %d reads; want 20 after 2", u.Level, slow.reads.Load())
		}
	})
}

// TestCallerReadsOnce: a caller's user is read once, then served from the
// cache, however often it is asked for; a personal access token's first
// use fills it, so its user is not read twice.
func TestCallerReadsOnce(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, d *db) {
		clk := newClock()
		slow := &slowUsers{Store: d.store}
		svc := newService(t, slow, clk, masterKey())
		reg := register(t, svc, "alice")
		p, err := svc.Authenticate(ctx, reg.APIToken, propusk.ViaAccessToken)
		noErr(t, err)
		reads := slow.reads.Load()
		for range 100 {
			if _, err := svc.Caller(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if n := slow.reads.Load() - reads; n != 0 {
			t.Fatalf("%d reads of the user for 100 calls after the token's first use", n)
		}
	})
}

// TestCallerAnonymous: an anonymous caller has no user to show.
func TestCallerAnonymous(t *testing.T) {
	svc := newService(t, kinds[0].open(t).store, newClock(), masterKey())
	_, err := svc.Caller(context.Background(), &propusk.Principal{Via: propusk.ViaAccessToken})
	if propusk.ErrorCode(err) != propusk.EFORBIDDEN {
		t.Fatalf("anonymous: %v", err)
	}
}

// noErr fails the test at once on an error.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
