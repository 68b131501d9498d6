// Package storetest is the conformance suite of propusk.Store: one set of
// tests that every store adapter must pass, so the service behaves the same
// on SQLite and PostgreSQL.
//
// A store's own test calls Run with a function that opens a fresh, migrated
// and empty store for each subtest and closes it in t.Cleanup:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) propusk.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "propusk.db"))
//			...
//			return s
//		})
//	}
//
// Subtests run in parallel and are named like "renew/ok/rotated" and
// "renew/fail/reused-refresh". Times are fixed, whole milliseconds for
// propusk's own tables and whole seconds for personal_access_tokens (Laravel
// stores seconds), and are compared with time.Time.Equal.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// OpenFunc opens a fresh, migrated, empty store for one subtest, and closes
// it in t.Cleanup.
type OpenFunc = func(t *testing.T) propusk.Store

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open OpenFunc) {
	groups := []struct {
		name string
		run  func(*testing.T, OpenFunc)
	}{
		{"users", testUsers},
		{"passwords", testPasswords},
		{"register", testRegister},
		{"logins", testLogins},
		{"sessions", testSessions},
		{"renew", testRenew},
		{"renew-concurrent", testRenewConcurrent},
		{"renew-forks", testRenewForks},
		{"renew-forks-concurrent", testRenewForksConcurrent},
		{"renew-fork-cap-concurrent", testForkCapConcurrent},
		{"revoke", testRevoke},
		{"tokens", testTokens},
		{"replace-named-token", testReplaceNamedToken},
		{"touch-tokens", testTouchTokens},
		{"budgets", testBudgets},
		{"last-token-id", testLastTokenID},
		{"keys", testKeys},
		{"missing-keys", testMissingKeys},
		{"events", testEvents},
		{"prune", testPrune},
		{"meta", testMeta},
		{"notifier", testNotifier},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// t0 is the suite's "now": a fixed instant with a millisecond part, so that
// the round trip of propusk's own millisecond timestamps is exercised.
var t0 = time.Date(2025, time.March, 1, 12, 0, 0, int(250*time.Millisecond), time.UTC)

// s0 is t0 to the second, for personal_access_tokens.
var s0 = t0.Truncate(time.Second)

const userType = `App\Models\User`

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := propusk.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func newUser(t *testing.T, s propusk.Store, login string) *propusk.User {
	t.Helper()
	u := &propusk.User{Login: login, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", Level: propusk.LevelUser, Boards: []string{"b", "pr"}, CreatedAt: t0}
	must(t, "create user "+login, s.CreateUser(ctxOf(t), u))
	return u
}

func newSession(t *testing.T, s propusk.Store, id string, userID int64, created, expires time.Time) *propusk.Session {
	t.Helper()
	sess := &propusk.Session{
		ID: id, UserID: userID, Generation: 1,
		RotatedAt: created, CreatedAt: created, RenewedAt: created, ExpiresAt: expires,
		UserAgent: "Mozilla/5.0 (test)", IP: "192.0.2.1",
	}
	must(t, "create session "+id, s.CreateSession(ctxOf(t), sess))
	return sess
}

func newToken(t *testing.T, s propusk.Store, userID int64, name, hash string, created time.Time) *propusk.PersonalAccessToken {
	t.Helper()
	tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: userID, Name: name, Hash: hash, Abilities: []string{"*"}, CreatedAt: created, UpdatedAt: created}
	must(t, "create token "+name, s.CreateToken(ctxOf(t), tok))
	return tok
}

// hash64 makes a distinct 64-hex-digit token hash from n.
func hash64(n int) string { return fmt.Sprintf("%064x", n) }

func checkUser(t *testing.T, got, want *propusk.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("user = nil, want %+v", want)
	}
	if got.ID != want.ID || got.Login != want.Login || got.PasswordHash != want.PasswordHash ||
		got.Level != want.Level || !slices.Equal(got.Boards, want.Boards) || got.APIToken != want.APIToken {
		t.Errorf("user = %+v, want %+v", got, want)
	}
	sameTime(t, "user.CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "user.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkSession(t *testing.T, got, want *propusk.Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("session = nil, want %+v", want)
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.Generation != want.Generation ||
		got.UserAgent != want.UserAgent || got.IP != want.IP {
		t.Errorf("session = %+v, want %+v", got, want)
	}
	sameTime(t, "session.RotatedAt", got.RotatedAt, want.RotatedAt)
	sameTime(t, "session.CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "session.RenewedAt", got.RenewedAt, want.RenewedAt)
	sameTime(t, "session.ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	sameTime(t, "session.RevokedAt", got.RevokedAt, want.RevokedAt)
}

func checkToken(t *testing.T, got, want *propusk.PersonalAccessToken) {
	t.Helper()
	if got == nil {
		t.Fatalf("token = nil, want %+v", want)
	}
	if got.ID != want.ID || got.TokenableType != want.TokenableType || got.TokenableID != want.TokenableID ||
		got.Name != want.Name || got.Hash != want.Hash || !slices.Equal(got.Abilities, want.Abilities) {
		t.Errorf("token = %+v, want %+v", got, want)
	}
	sameTime(t, "token.LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	sameTime(t, "token.ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	sameTime(t, "token.CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "token.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// events returns the whole feed.
func events(t *testing.T, s propusk.Store) []propusk.Event {
	t.Helper()
	evs, err := s.Events(ctxOf(t), 0, 1000)
	must(t, "events", err)
	return evs
}

// kindRefs renders a feed as "kind:ref" strings, for comparison.
func kindRefs(evs []propusk.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Kind+":"+e.Ref)
	}
	return out
}

func testUsers(t *testing.T, open OpenFunc) {
	t.Run("ok/create", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := &propusk.User{Login: "alice", PasswordHash: "phc", Level: propusk.LevelAdmin, Boards: []string{"b", "a"}, APIToken: "sealed-blob", CreatedAt: t0}
		must(t, "create", s.CreateUser(ctxOf(t), u))
		if u.ID == 0 {
			t.Fatal("CreateUser left ID 0")
		}
		sameTime(t, "CreatedAt", u.CreatedAt, t0)
		sameTime(t, "UpdatedAt", u.UpdatedAt, t0)
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

func testSessions(t *testing.T, open OpenFunc) {
	t.Run("ok/create-and-get", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		want := newSession(t, s, "sid-1", u.ID, t0, t0.Add(720*time.Hour))
		got, err := s.Session(ctxOf(t), "sid-1")
		must(t, "session", err)
		checkSession(t, got, want)
		if got.Revoked() {
			t.Error("new session is revoked")
		}
	})
	t.Run("fail/duplicate-id", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		newSession(t, s, "sid-1", u.ID, t0, t0.Add(time.Hour))
		err := s.CreateSession(ctxOf(t), &propusk.Session{ID: "sid-1", UserID: u.ID, Generation: 1, CreatedAt: t0, RotatedAt: t0, RenewedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		wantCode(t, "second create", err, propusk.ECONFLICT)
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.Session(ctxOf(t), "nope")
		wantCode(t, "unknown session", err, propusk.ENOTFOUND)
	})
	t.Run("ok/list", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		now := t0.Add(time.Hour)
		oldest := newSession(t, s, "oldest", u.ID, t0, t0.Add(48*time.Hour))
		newest := newSession(t, s, "newest", u.ID, t0.Add(2*time.Minute), t0.Add(48*time.Hour))
		middle := newSession(t, s, "middle", u.ID, t0.Add(time.Minute), t0.Add(48*time.Hour))
		newSession(t, s, "expired", u.ID, t0.Add(3*time.Minute), now)
		newSession(t, s, "revoked", u.ID, t0.Add(4*time.Minute), t0.Add(48*time.Hour))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "revoked", u.ID, t0.Add(5*time.Minute)))
		newSession(t, s, "other-user", other.ID, t0.Add(6*time.Minute), t0.Add(48*time.Hour))

		list, err := s.UserSessions(ctxOf(t), u.ID, now)
		must(t, "user sessions", err)
		var ids []string
		for _, sess := range list {
			ids = append(ids, sess.ID)
		}
		if want := []string{"newest", "middle", "oldest"}; !slices.Equal(ids, want) {
			t.Fatalf("user sessions = %q, want %q", ids, want)
		}
		checkSession(t, list[0], newest)
		checkSession(t, list[1], middle)
		checkSession(t, list[2], oldest)

		list, err = s.UserSessions(ctxOf(t), other.ID+1000, now)
		must(t, "user sessions of nobody", err)
		if len(list) != 0 {
			t.Errorf("sessions of an unknown user = %d, want none", len(list))
		}
	})
}

// renewSetup is the session every renew case starts from: generation 5,
// rotated at t0, expiring in an hour.
func renewSetup(t *testing.T, s propusk.Store) (*propusk.User, *propusk.Session) {
	t.Helper()
	u := newUser(t, s, "alice")
	sess := &propusk.Session{ID: "sid", UserID: u.ID, Generation: 5, RotatedAt: t0, CreatedAt: t0.Add(-time.Hour), RenewedAt: t0, ExpiresAt: t0.Add(time.Hour), UserAgent: "old-agent", IP: "192.0.2.1"}
	must(t, "create session", s.CreateSession(ctxOf(t), sess))
	return u, sess
}

func testRenew(t *testing.T, open OpenFunc) {
	const (
		grace = 10 * time.Second
		ttl   = 720 * time.Hour
	)
	client := propusk.Client{UserAgent: "new-agent", IP: "198.51.100.7"}
	type spend struct {
		gen int64
		at  time.Time
	}
	cases := []struct {
		name string
		// before runs after the setup and before the spend under test.
		before func(t *testing.T, s propusk.Store)
		spend  spend
		want   propusk.RenewOutcome
	}{
		{
			name:  "ok/rotated",
			spend: spend{5, t0.Add(time.Minute)},
			want:  propusk.RenewRotated,
		},
		{
			name: "ok/grace",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 5, t0.Add(time.Minute), propusk.RenewRotated)
			},
			spend: spend{5, t0.Add(time.Minute + grace - time.Millisecond)},
			want:  propusk.RenewGrace,
		},
		{
			name: "fail/reused-refresh",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 5, t0.Add(time.Minute), propusk.RenewRotated)
			},
			spend: spend{5, t0.Add(time.Minute + grace)},
			want:  propusk.RenewReused,
		},
		{
			name:  "fail/reused-older-generation",
			spend: spend{3, t0},
			want:  propusk.RenewReused,
		},
		{
			name: "fail/reused-twice-rotated",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 5, t0.Add(time.Minute), propusk.RenewRotated)
				renew(t, s, 6, t0.Add(time.Minute+time.Second), propusk.RenewRotated)
			},
			// Within grace of the last rotation, but two generations old.
			spend: spend{5, t0.Add(time.Minute + 2*time.Second)},
			want:  propusk.RenewReused,
		},
		{
			name: "fail/after-reuse",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 3, t0, propusk.RenewReused)
			},
			spend: spend{5, t0.Add(time.Second)},
			want:  propusk.RenewInvalid,
		},
		{
			name:  "fail/unknown-session",
			spend: spend{5, t0},
			want:  propusk.RenewInvalid,
		},
		{
			name: "fail/revoked",
			before: func(t *testing.T, s propusk.Store) {
				must(t, "revoke", s.RevokeSession(ctxOf(t), "sid", 0, t0))
			},
			spend: spend{5, t0.Add(time.Second)},
			want:  propusk.RenewInvalid,
		},
		{
			name:  "fail/expired",
			spend: spend{5, t0.Add(time.Hour)},
			want:  propusk.RenewInvalid,
		},
		{
			name:  "fail/future-generation",
			spend: spend{6, t0},
			want:  propusk.RenewInvalid,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u, _ := renewSetup(t, s)
			if tc.before != nil {
				tc.before(t, s)
			}
			id := "sid"
			if tc.name == "fail/unknown-session" {
				id = "no-such-session"
			}
			before, err := s.Session(ctxOf(t), "sid")
			must(t, "session before", err)
			feedBefore := events(t, s)

			r, err := s.RenewSession(ctxOf(t), propusk.Spend{Session: id, Generation: tc.spend.gen}, tc.spend.at, grace, ttl, client)
			must(t, "renew", err)
			out, sess, user := r.Outcome, r.Session, r.User
			if out != tc.want {
				t.Fatalf("outcome = %v, want %v", out, tc.want)
			}
			after, err := s.Session(ctxOf(t), "sid")
			must(t, "session after", err)
			feed := events(t, s)

			switch out {
			case propusk.RenewRotated:
				want := *before
				want.Generation = before.Generation + 1
				want.RotatedAt, want.RenewedAt = tc.spend.at, tc.spend.at
				want.ExpiresAt = tc.spend.at.Add(ttl)
				want.UserAgent, want.IP = client.UserAgent, client.IP
				checkSession(t, sess, &want)
				checkSession(t, after, &want)
				checkUser(t, user, u)
			case propusk.RenewGrace:
				checkSession(t, sess, before)
				checkSession(t, after, before)
				checkUser(t, user, u)
			case propusk.RenewReused:
				want := *before
				want.RevokedAt = tc.spend.at
				checkSession(t, sess, &want)
				checkSession(t, after, &want)
				if user != nil {
					t.Errorf("user = %+v, want nil", user)
				}
				if got, want := kindRefs(feed[len(feedBefore):]), []string{propusk.EventSession + ":sid"}; !slices.Equal(got, want) {
					t.Errorf("new feed entries = %q, want %q", got, want)
				} else {
					sameTime(t, "event.At", feed[len(feed)-1].At, tc.spend.at)
				}
			case propusk.RenewInvalid:
				if sess != nil || user != nil {
					t.Errorf("session, user = %+v, %+v; want nil, nil", sess, user)
				}
				checkSession(t, after, before)
			}
			if out != propusk.RenewReused && len(feed) != len(feedBefore) {
				t.Errorf("feed grew from %d to %d entries", len(feedBefore), len(feed))
			}
		})
	}
}

// renew spends gen at now with the suite's grace and ttl and checks the outcome.
func renew(t *testing.T, s propusk.Store, gen int64, now time.Time, want propusk.RenewOutcome) {
	t.Helper()
	r, err := s.RenewSession(ctxOf(t), propusk.Spend{Session: "sid", Generation: gen}, now, 10*time.Second, 720*time.Hour, propusk.Client{})
	must(t, "renew", err)
	if out := r.Outcome; out != want {
		t.Fatalf("renew gen %d at %v: outcome %v, want %v", gen, now, out, want)
	}
}

// testRenewConcurrent spends one generation from many goroutines at once,
// as tabs racing or clients retrying do: exactly one must rotate.
func testRenewConcurrent(t *testing.T, open OpenFunc) {
	const n = 50
	s := open(t)
	u, sess := renewSetup(t, s)
	now := t0.Add(time.Minute)
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		outcomes = make([]propusk.RenewOutcome, n)
		errs     = make([]error, n)
		users    = make([]*propusk.User, n)
		ctx      = ctxOf(t)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := s.RenewSession(ctx, propusk.Spend{Session: sess.ID, Generation: sess.Generation}, now, 10*time.Second, time.Hour, propusk.Client{UserAgent: "tab " + strconv.Itoa(i)})
			if errs[i] = err; err == nil {
				outcomes[i], users[i] = r.Outcome, r.User
			}
		})
	}
	close(start)
	wg.Wait()
	counts := map[propusk.RenewOutcome]int{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("spend %d: %v", i, errs[i])
			continue
		}
		counts[outcomes[i]]++
		if users[i] == nil || users[i].ID != u.ID {
			t.Errorf("spend %d: user %+v, want user %d", i, users[i], u.ID)
		}
	}
	if counts[propusk.RenewRotated] != 1 || counts[propusk.RenewGrace] != n-1 {
		t.Errorf("outcomes = %v, want 1 rotated (%d) and %d grace (%d)", counts, propusk.RenewRotated, n-1, propusk.RenewGrace)
	}
	got, err := s.Session(ctxOf(t), sess.ID)
	must(t, "session", err)
	if got.Generation != sess.Generation+1 || got.Revoked() {
		t.Errorf("session generation %d, revoked %v; want %d, live", got.Generation, got.Revoked(), sess.Generation+1)
	}
}

func testRevoke(t *testing.T, open OpenFunc) {
	setup := func(t *testing.T) (propusk.Store, *propusk.User, *propusk.Session) {
		s := open(t)
		u := newUser(t, s, "alice")
		return s, u, newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
	}
	at := t0.Add(time.Minute)
	t.Run("ok/owner", func(t *testing.T) {
		t.Parallel()
		s, u, sess := setup(t)
		must(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, u.ID, at))
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		want := *sess
		want.RevokedAt = at
		checkSession(t, got, &want)
		feed := events(t, s)
		if got, want := kindRefs(feed), []string{propusk.EventSession + ":sid"}; !slices.Equal(got, want) {
			t.Fatalf("feed = %q, want %q", got, want)
		}
		sameTime(t, "event.At", feed[0].At, at)
	})
	t.Run("ok/any-owner", func(t *testing.T) {
		t.Parallel()
		s, _, sess := setup(t)
		must(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, 0, at))
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		sameTime(t, "RevokedAt", got.RevokedAt, at)
	})
	t.Run("ok/idempotent", func(t *testing.T) {
		t.Parallel()
		s, u, sess := setup(t)
		must(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, u.ID, at))
		must(t, "revoke again", s.RevokeSession(ctxOf(t), sess.ID, u.ID, at.Add(time.Minute)))
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		sameTime(t, "RevokedAt", got.RevokedAt, at)
		if n := len(events(t, s)); n != 1 {
			t.Errorf("feed has %d entries, want 1", n)
		}
	})
	t.Run("fail/not-owner", func(t *testing.T) {
		t.Parallel()
		s, _, sess := setup(t)
		other := newUser(t, s, "mallory")
		wantCode(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, other.ID, at), propusk.ENOTFOUND)
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		if got.Revoked() {
			t.Error("another user revoked the session")
		}
		if n := len(events(t, s)); n != 0 {
			t.Errorf("feed has %d entries, want 0", n)
		}
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s, u, _ := setup(t)
		wantCode(t, "revoke", s.RevokeSession(ctxOf(t), "nope", u.ID, at), propusk.ENOTFOUND)
		wantCode(t, "revoke as admin", s.RevokeSession(ctxOf(t), "nope", 0, at), propusk.ENOTFOUND)
	})
	t.Run("ok/revoked-since", func(t *testing.T) {
		t.Parallel()
		s, u, _ := setup(t)
		for i, id := range []string{"s1", "s2", "s3"} {
			newSession(t, s, id, u.ID, t0, t0.Add(time.Hour))
			must(t, "revoke", s.RevokeSession(ctxOf(t), id, u.ID, t0.Add(time.Duration(i+1)*time.Second)))
		}
		ids, err := s.RevokedSince(ctxOf(t), t0.Add(2*time.Second))
		must(t, "revoked since", err)
		slices.Sort(ids)
		if want := []string{"s2", "s3"}; !slices.Equal(ids, want) {
			t.Errorf("revoked since = %q, want %q", ids, want)
		}
		ids, err = s.RevokedSince(ctxOf(t), t0.Add(time.Hour))
		must(t, "revoked since", err)
		if len(ids) != 0 {
			t.Errorf("revoked since later = %q, want none", ids)
		}
	})
}

func testTokens(t *testing.T, open OpenFunc) {
	t.Run("ok/create-and-get", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{
			TokenableType: userType, TokenableID: u.ID, Name: "ci", Hash: hash64(1),
			Abilities: []string{"posts:read", "posts:write"}, ExpiresAt: s0.Add(24 * time.Hour),
			CreatedAt: s0, UpdatedAt: s0.Add(time.Second),
		}
		must(t, "create", s.CreateToken(ctxOf(t), tok))
		if tok.ID == 0 {
			t.Fatal("CreateToken left ID 0")
		}
		got, err := s.Token(ctxOf(t), tok.ID)
		must(t, "token", err)
		checkToken(t, got, tok)
		got, err = s.TokenByHash(ctxOf(t), hash64(1))
		must(t, "token by hash", err)
		checkToken(t, got, tok)
		if got.Expired(s0) || !got.Expired(s0.Add(24*time.Hour)) {
			t.Errorf("Expired: ExpiresAt %v read back wrong", got.ExpiresAt)
		}
	})
	t.Run("ok/defaults", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(1), CreatedAt: s0}
		must(t, "create", s.CreateToken(ctxOf(t), tok))
		got, err := s.Token(ctxOf(t), tok.ID)
		must(t, "token", err)
		if !slices.Equal(got.Abilities, []string{"*"}) || !got.ExpiresAt.IsZero() || !got.LastUsedAt.IsZero() {
			t.Errorf("token = %+v: want abilities [*], no expiry, never used", got)
		}
		sameTime(t, "UpdatedAt", got.UpdatedAt, s0)
		if got.Expired(s0.Add(100 * 365 * 24 * time.Hour)) {
			t.Error("a token without expiry expired")
		}
	})
	t.Run("fail/duplicate-hash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		newToken(t, s, u.ID, "one", hash64(1), s0)
		err := s.CreateToken(ctxOf(t), &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "two", Hash: hash64(1), CreatedAt: s0})
		wantCode(t, "second create", err, propusk.ECONFLICT)
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.Token(ctxOf(t), 42)
		wantCode(t, "token", err, propusk.ENOTFOUND)
		_, err = s.TokenByHash(ctxOf(t), hash64(42))
		wantCode(t, "token by hash", err, propusk.ENOTFOUND)
	})
	t.Run("ok/user-tokens", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		a := newToken(t, s, u.ID, "first", hash64(1), s0)
		newToken(t, s, other.ID, "bobs", hash64(2), s0)
		b := newToken(t, s, u.ID, "second", hash64(3), s0.Add(time.Second))
		// Another model's token with the same id must not show.
		must(t, "create team token", s.CreateToken(ctxOf(t), &propusk.PersonalAccessToken{TokenableType: `App\Models\Team`, TokenableID: u.ID, Name: "team", Hash: hash64(4), CreatedAt: s0}))

		list, err := s.UserTokens(ctxOf(t), userType, u.ID)
		must(t, "user tokens", err)
		if len(list) != 2 {
			t.Fatalf("user tokens = %d, want 2", len(list))
		}
		checkToken(t, list[0], a)
		checkToken(t, list[1], b)
		list, err = s.UserTokens(ctxOf(t), userType, other.ID+1000)
		must(t, "user tokens of nobody", err)
		if len(list) != 0 {
			t.Errorf("tokens of an unknown user = %d, want none", len(list))
		}
	})
	t.Run("ok/delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := newToken(t, s, u.ID, "ci", hash64(1), s0)
		must(t, "delete", s.DeleteToken(ctxOf(t), userType, u.ID, tok.ID))
		_, err := s.Token(ctxOf(t), tok.ID)
		wantCode(t, "token after delete", err, propusk.ENOTFOUND)
		if got, want := kindRefs(events(t, s)), []string{propusk.EventPAT + ":" + strconv.FormatInt(tok.ID, 10)}; !slices.Equal(got, want) {
			t.Errorf("feed = %q, want %q", got, want)
		}
		wantCode(t, "delete again", s.DeleteToken(ctxOf(t), userType, u.ID, tok.ID), propusk.ENOTFOUND)
	})
	t.Run("fail/delete-not-owner", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "mallory")
		tok := newToken(t, s, u.ID, "ci", hash64(1), s0)
		wantCode(t, "delete by another user", s.DeleteToken(ctxOf(t), userType, other.ID, tok.ID), propusk.ENOTFOUND)
		wantCode(t, "delete by another model", s.DeleteToken(ctxOf(t), `App\Models\Team`, u.ID, tok.ID), propusk.ENOTFOUND)
		if _, err := s.Token(ctxOf(t), tok.ID); err != nil {
			t.Errorf("token after refused deletes: %v", err)
		}
		if n := len(events(t, s)); n != 0 {
			t.Errorf("feed has %d entries, want 0", n)
		}
	})
}

func testReplaceNamedToken(t *testing.T, open OpenFunc) {
	t.Run("ok/replaces", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		old1 := newToken(t, s, u.ID, "api-token", hash64(1), s0)
		manual := newToken(t, s, u.ID, "my script", hash64(2), s0)
		old2 := newToken(t, s, u.ID, "api-token", hash64(3), s0.Add(time.Second))
		bobs := newToken(t, s, other.ID, "api-token", hash64(4), s0)

		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(5), CreatedAt: s0.Add(time.Minute)}
		deleted, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed-v1")
		must(t, "replace", err)
		if tok.ID == 0 {
			t.Fatal("ReplaceNamedToken left ID 0")
		}
		slices.Sort(deleted)
		if want := []int64{old1.ID, old2.ID}; !slices.Equal(deleted, want) {
			t.Errorf("deleted = %v, want %v", deleted, want)
		}
		list, err := s.UserTokens(ctxOf(t), userType, u.ID)
		must(t, "user tokens", err)
		var ids []int64
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		if want := []int64{manual.ID, tok.ID}; !slices.Equal(ids, want) {
			t.Errorf("tokens after replace = %v, want %v", ids, want)
		}
		if _, err := s.Token(ctxOf(t), bobs.ID); err != nil {
			t.Errorf("another user's api-token: %v", err)
		}
		got, err := s.Token(ctxOf(t), tok.ID)
		must(t, "new token", err)
		checkToken(t, got, tok)
		user, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "user", err)
		if user.APIToken != "sealed-v1" {
			t.Errorf("users.api_token = %q, want %q", user.APIToken, "sealed-v1")
		}
		feed := kindRefs(events(t, s))
		slices.Sort(feed)
		want := []string{propusk.EventPAT + ":" + strconv.FormatInt(old1.ID, 10), propusk.EventPAT + ":" + strconv.FormatInt(old2.ID, 10)}
		slices.Sort(want)
		if !slices.Equal(feed, want) {
			t.Errorf("feed = %q, want %q", feed, want)
		}

		// Again: only the token just made goes.
		next := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(6), CreatedAt: s0.Add(2 * time.Minute)}
		deleted, err = s.ReplaceNamedToken(ctxOf(t), next, "sealed-v2")
		must(t, "replace again", err)
		if want := []int64{tok.ID}; !slices.Equal(deleted, want) {
			t.Errorf("deleted = %v, want %v", deleted, want)
		}
	})
	t.Run("ok/first", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(1), CreatedAt: s0}
		deleted, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed")
		must(t, "replace", err)
		if len(deleted) != 0 {
			t.Errorf("deleted = %v, want none", deleted)
		}
		if n := len(events(t, s)); n != 0 {
			t.Errorf("feed has %d entries, want 0", n)
		}
	})
	t.Run("fail/unknown-user", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID + 1000, Name: "api-token", Hash: hash64(1), CreatedAt: s0}
		_, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed")
		wantCode(t, "replace", err, propusk.ENOTFOUND)
		_, err = s.TokenByHash(ctxOf(t), hash64(1))
		wantCode(t, "token of the failed replace", err, propusk.ENOTFOUND)
	})
	t.Run("fail/duplicate-hash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		old := newToken(t, s, u.ID, "api-token", hash64(1), s0)
		newToken(t, s, u.ID, "other", hash64(2), s0)
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(2), CreatedAt: s0}
		_, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed")
		wantCode(t, "replace", err, propusk.ECONFLICT)
		// Nothing of the transaction remains.
		if _, err := s.Token(ctxOf(t), old.ID); err != nil {
			t.Errorf("old token after failed replace: %v", err)
		}
		user, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "user", err)
		if user.APIToken != "" {
			t.Errorf("users.api_token = %q after failed replace", user.APIToken)
		}
		if n := len(events(t, s)); n != 0 {
			t.Errorf("feed has %d entries, want 0", n)
		}
	})
}

func testTouchTokens(t *testing.T, open OpenFunc) {
	t.Run("ok/touch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		a := newToken(t, s, u.ID, "a", hash64(1), s0)
		b := newToken(t, s, u.ID, "b", hash64(2), s0)
		c := newToken(t, s, u.ID, "c", hash64(3), s0)
		used := map[int64]time.Time{a.ID: s0.Add(time.Minute), b.ID: s0.Add(2 * time.Minute), c.ID + 1000: s0}
		must(t, "touch", s.TouchTokens(ctxOf(t), used))
		for _, tok := range []*propusk.PersonalAccessToken{a, b, c} {
			got, err := s.Token(ctxOf(t), tok.ID)
			must(t, "token", err)
			sameTime(t, "LastUsedAt of "+tok.Name, got.LastUsedAt, used[tok.ID])
		}
	})
	t.Run("ok/empty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "touch nothing", s.TouchTokens(ctxOf(t), nil))
	})
}

func testKeys(t *testing.T, open OpenFunc) {
	t.Run("ok/add-list-delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		keys, err := s.Keys(ctxOf(t))
		must(t, "keys", err)
		if len(keys) != 0 {
			t.Fatalf("keys of a new store = %d", len(keys))
		}
		access := &propusk.Key{ID: "k-access", Use: propusk.KeyUseAccess, Sealed: []byte("sealed-ed25519"), Public: []byte("public-ed25519"), CreatedAt: t0}
		refresh := &propusk.Key{ID: "k-refresh", Use: propusk.KeyUseRefresh, Sealed: []byte{0, 1, 2, 255}, CreatedAt: t0.Add(time.Second)}
		seal := &propusk.Key{ID: "k-seal", Use: propusk.KeyUseSeal, Sealed: []byte("sealed-aes"), CreatedAt: t0.Add(2 * time.Second)}
		must(t, "add", s.AddKeys(ctxOf(t), seal, access))
		must(t, "add", s.AddKeys(ctxOf(t), refresh))
		if got, want := kindRefs(events(t, s)), []string{propusk.EventKeys + ":", propusk.EventKeys + ":"}; !slices.Equal(got, want) {
			t.Errorf("feed = %q, want %q", got, want)
		}

		keys, err = s.Keys(ctxOf(t))
		must(t, "keys", err)
		want := []*propusk.Key{access, refresh, seal}
		if len(keys) != len(want) {
			t.Fatalf("keys = %d, want %d", len(keys), len(want))
		}
		for i, k := range keys {
			w := want[i]
			if k.ID != w.ID || k.Use != w.Use || !bytes.Equal(k.Sealed, w.Sealed) || !bytes.Equal(k.Public, w.Public) {
				t.Errorf("key %d = %+v, want %+v", i, k, w)
			}
			sameTime(t, "key.CreatedAt", k.CreatedAt, w.CreatedAt)
		}
		if len(keys[1].Public) != 0 {
			t.Errorf("refresh key has a public half %x", keys[1].Public)
		}

		must(t, "delete", s.DeleteKeys(ctxOf(t), "k-access", "k-unknown"))
		keys, err = s.Keys(ctxOf(t))
		must(t, "keys", err)
		if len(keys) != 2 || keys[0].ID != "k-refresh" || keys[1].ID != "k-seal" {
			t.Errorf("keys after delete = %+v", keys)
		}
		if n := len(events(t, s)); n != 3 {
			t.Errorf("feed has %d entries, want 3", n)
		}
	})
	t.Run("fail/duplicate-id", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "add", s.AddKeys(ctxOf(t), &propusk.Key{ID: "k1", Use: propusk.KeyUseAccess, Sealed: []byte("a"), CreatedAt: t0}))
		err := s.AddKeys(ctxOf(t),
			&propusk.Key{ID: "k2", Use: propusk.KeyUseAccess, Sealed: []byte("b"), CreatedAt: t0},
			&propusk.Key{ID: "k1", Use: propusk.KeyUseAccess, Sealed: []byte("c"), CreatedAt: t0})
		wantCode(t, "add duplicate", err, propusk.ECONFLICT)
		keys, err := s.Keys(ctxOf(t))
		must(t, "keys", err)
		if len(keys) != 1 || string(keys[0].Sealed) != "a" {
			t.Errorf("keys after failed add = %+v, want only the first k1", keys)
		}
		if n := len(events(t, s)); n != 1 {
			t.Errorf("feed has %d entries, want 1", n)
		}
	})
}

func testEvents(t *testing.T, open OpenFunc) {
	t.Run("ok/empty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		last, err := s.LastEvent(ctxOf(t))
		must(t, "last event", err)
		if last != 0 {
			t.Errorf("last event of an empty feed = %d", last)
		}
		evs, err := s.Events(ctxOf(t), 0, 10)
		must(t, "events", err)
		if len(evs) != 0 {
			t.Errorf("events of an empty feed = %v", evs)
		}
	})
	t.Run("ok/order-after-limit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		var refs []string
		for i := range 5 {
			id := "s" + strconv.Itoa(i)
			refs = append(refs, propusk.EventSession+":"+id)
			newSession(t, s, id, u.ID, t0, t0.Add(time.Hour))
			must(t, "revoke", s.RevokeSession(ctxOf(t), id, 0, t0.Add(time.Duration(i)*time.Second)))
		}
		all := events(t, s)
		if got := kindRefs(all); !slices.Equal(got, refs) {
			t.Fatalf("feed = %q, want %q", got, refs)
		}
		for i := 1; i < len(all); i++ {
			if all[i].Seq <= all[i-1].Seq {
				t.Fatalf("feed not in Seq order: %v", all)
			}
		}
		for i, e := range all {
			sameTime(t, "event.At", e.At, t0.Add(time.Duration(i)*time.Second))
		}
		last, err := s.LastEvent(ctxOf(t))
		must(t, "last event", err)
		if last != all[4].Seq {
			t.Errorf("last event = %d, want %d", last, all[4].Seq)
		}

		cases := []struct {
			name  string
			after int64
			limit int
			want  []string
		}{
			{"all", 0, 100, refs},
			{"limit", 0, 2, refs[:2]},
			{"after", all[1].Seq, 100, refs[2:]},
			{"after-and-limit", all[1].Seq, 2, refs[2:4]},
			{"after-last", all[4].Seq, 100, nil},
		}
		for _, tc := range cases {
			evs, err := s.Events(ctxOf(t), tc.after, tc.limit)
			must(t, tc.name, err)
			if got := kindRefs(evs); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("%s: events = %q, want %q", tc.name, got, tc.want)
			}
		}
	})
}

func testPrune(t *testing.T, open OpenFunc) {
	t.Run("ok/prune", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		cut := t0.Add(time.Hour)
		newSession(t, s, "expired", u.ID, t0, cut.Add(-time.Millisecond))
		newSession(t, s, "live", u.ID, t0, cut.Add(time.Hour))
		newSession(t, s, "revoked-early", u.ID, t0, cut.Add(time.Hour))
		newSession(t, s, "revoked-late", u.ID, t0, cut.Add(time.Hour))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "revoked-early", 0, cut.Add(-time.Minute)))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "revoked-late", 0, cut.Add(time.Minute)))
		lastBefore, err := s.LastEvent(ctxOf(t))
		must(t, "last event", err)

		must(t, "prune", s.Prune(ctxOf(t), cut))
		_, err = s.Session(ctxOf(t), "expired")
		wantCode(t, "expired session", err, propusk.ENOTFOUND)
		for _, id := range []string{"live", "revoked-early", "revoked-late"} {
			if _, err := s.Session(ctxOf(t), id); err != nil {
				t.Errorf("session %s after prune: %v", id, err)
			}
		}
		if got, want := kindRefs(events(t, s)), []string{propusk.EventSession + ":revoked-late"}; !slices.Equal(got, want) {
			t.Errorf("feed after prune = %q, want %q", got, want)
		}

		// A Seq is never handed out twice, even once the feed is empty.
		must(t, "prune all", s.Prune(ctxOf(t), cut.Add(24*time.Hour)))
		newSession(t, s, "later", u.ID, t0, cut.Add(48*time.Hour))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "later", 0, cut.Add(25*time.Hour)))
		evs := events(t, s)
		if len(evs) != 1 || evs[0].Seq <= lastBefore {
			t.Errorf("feed after pruning all and one revoke = %v, want one entry with Seq > %d", evs, lastBefore)
		}
	})
}

func testMeta(t *testing.T, open OpenFunc) {
	t.Run("ok/set-once", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		v, err := s.SetMetaOnce(ctxOf(t), "instance", "first")
		must(t, "set once", err)
		if v != "first" {
			t.Errorf("set once = %q, want first", v)
		}
		v, err = s.SetMetaOnce(ctxOf(t), "instance", "second")
		must(t, "set once again", err)
		if v != "first" {
			t.Errorf("second set once = %q, want first", v)
		}
		v, err = s.SetMetaOnce(ctxOf(t), "other", "own")
		must(t, "set once another name", err)
		if v != "own" {
			t.Errorf("set once another name = %q, want own", v)
		}
	})
	t.Run("ok/concurrent-set-once", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 20
		var (
			wg   sync.WaitGroup
			got  = make([]string, n)
			errs = make([]error, n)
			ctx  = ctxOf(t)
		)
		for i := range n {
			wg.Go(func() {
				got[i], errs[i] = s.SetMetaOnce(ctx, "key", "value-"+strconv.Itoa(i))
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("set once %d: %v", i, errs[i])
			}
			if got[i] != got[0] {
				t.Fatalf("processes disagree: %q and %q", got[0], got[i])
			}
		}
	})
}

// testNotifier checks a store that pushes feed entries. A Wait that has just
// started listening returns at once, because entries may have been added
// before it listened; after that it returns when an entry is added.
func testNotifier(t *testing.T, open OpenFunc) {
	s := open(t)
	n, ok := s.(propusk.Notifier)
	if !ok {
		t.Skipf("%T does not implement propusk.Notifier", s)
	}
	u := newUser(t, s, "alice")
	newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	must(t, "first wait", n.Wait(ctx))

	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	err := n.Wait(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with nothing added = %v, want context.DeadlineExceeded", err)
	}

	woke := make(chan error, 1)
	go func() { woke <- n.Wait(ctx) }()
	must(t, "revoke", s.RevokeSession(ctxOf(t), "sid", 0, t0))
	select {
	case err := <-woke:
		must(t, "wait after revoke", err)
	case <-ctx.Done():
		t.Fatal("Wait did not return after a feed entry was added")
	}
}

// Migrator is a store whose schema can be created or upgraded.
type Migrator interface {
	Migrate(ctx context.Context) error
	Close() error
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

// spendAt spends (fork, gen) of session "sid" at now with the suite's grace.
func spendAt(t *testing.T, s propusk.Store, fork string, gen int64, newFork string, now time.Time) *propusk.Renewal {
	t.Helper()
	r, err := s.RenewSession(ctxOf(t), propusk.Spend{Session: "sid", Fork: fork, Generation: gen, NewFork: newFork}, now, 10*time.Second, time.Hour, propusk.Client{})
	must(t, "renew", err)
	return r
}

// testRenewForks: the loser of a race gets a chain of its own, whose token
// keeps working after the winner's has moved on, each one time only.
func testRenewForks(t *testing.T, open OpenFunc) {
	t.Run("ok/loser-keeps-working", func(t *testing.T) {
		s := open(t)
		_, sess := renewSetup(t, s)
		g := sess.Generation
		a := spendAt(t, s, "", g, "fork-a", t0.Add(time.Second))
		b := spendAt(t, s, "", g, "fork-b", t0.Add(2*time.Second))
		if a.Outcome != propusk.RenewRotated || a.Fork != "" || a.Generation != g+1 {
			t.Fatalf("winner: %+v", a)
		}
		if b.Outcome != propusk.RenewGrace || b.Fork != "fork-b" || b.Generation != g+1 || b.User == nil || b.Session == nil {
			t.Fatalf("loser: %+v", b)
		}
		// Long after the grace period, each spends its own token in turn.
		if r := spendAt(t, s, a.Fork, a.Generation, "x", t0.Add(time.Minute)); r.Outcome != propusk.RenewRotated {
			t.Fatalf("winner's next renew: %v", r.Outcome)
		}
		r := spendAt(t, s, b.Fork, b.Generation, "y", t0.Add(2*time.Minute))
		if r.Outcome != propusk.RenewRotated || r.Fork != "fork-b" || r.Generation != g+2 {
			t.Fatalf("loser's next renew: %+v", r)
		}
		// A fork's token is one-time too: replayed later, it revokes the session.
		if r := spendAt(t, s, b.Fork, b.Generation, "z", t0.Add(3*time.Minute)); r.Outcome != propusk.RenewReused {
			t.Fatalf("fork replay: %v", r.Outcome)
		}
		if r := spendAt(t, s, "", g+2, "w", t0.Add(4*time.Minute)); r.Outcome != propusk.RenewInvalid {
			t.Fatalf("the first chain after its session was revoked: %v", r.Outcome)
		}
	})
	t.Run("fail/unknown-fork", func(t *testing.T) {
		s := open(t)
		_, sess := renewSetup(t, s)
		if r := spendAt(t, s, "no-such-fork", sess.Generation, "x", t0.Add(time.Second)); r.Outcome != propusk.RenewInvalid {
			t.Fatalf("outcome %v", r.Outcome)
		}
	})
	t.Run("ok/forks-bounded", func(t *testing.T) {
		s := open(t)
		_, sess := renewSetup(t, s)
		g := sess.Generation
		spendAt(t, s, "", g, "", t0.Add(time.Second))
		forks := map[string]bool{}
		for i := range propusk.MaxForks + 4 {
			r := spendAt(t, s, "", g, "fork-"+strconv.Itoa(i), t0.Add(2*time.Second))
			if r.Outcome != propusk.RenewGrace {
				t.Fatalf("spend %d: %v", i, r.Outcome)
			}
			if r.Fork == "" && r.Generation != g+1 {
				t.Fatalf("spend %d past the bound: generation %d, want the raced chain's %d", i, r.Generation, g+1)
			}
			forks[r.Fork] = true
		}
		if n := len(forks) - 1; n != propusk.MaxForks { // minus the shared first chain
			t.Fatalf("%d forks, want %d", n, propusk.MaxForks)
		}
	})
}

// testRenewForksConcurrent races tabs on one token: one rotates, every
// other forks, and afterwards every racer's token renews once.
func testRenewForksConcurrent(t *testing.T, open OpenFunc) {
	const n = 10 // under MaxForks: every loser gets a chain
	s := open(t)
	_, sess := renewSetup(t, s)
	now := t0.Add(time.Second)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		got   = make([]*propusk.Renewal, n)
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.RenewSession(ctxOf(t), propusk.Spend{Session: sess.ID, Generation: sess.Generation, NewFork: "tab-" + strconv.Itoa(i)},
				now, 10*time.Second, time.Hour, propusk.Client{})
		})
	}
	close(start)
	wg.Wait()
	rotated := 0
	for i := range n {
		must(t, "renew", errs[i])
		if got[i].Outcome == propusk.RenewRotated {
			rotated++
		}
	}
	if rotated != 1 {
		t.Fatalf("%d rotations, want 1", rotated)
	}
	for i, r := range got {
		later := now.Add(time.Duration(i+1) * time.Minute) // each long past the grace period
		if again := spendAt(t, s, r.Fork, r.Generation, "", later); again.Outcome != propusk.RenewRotated {
			t.Fatalf("racer %d's token (fork %q, gen %d) later: %v", i, r.Fork, r.Generation, again.Outcome)
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
