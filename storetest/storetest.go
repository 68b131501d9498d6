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
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// OpenFunc opens a fresh, migrated, empty store for one subtest, and closes
// it in t.Cleanup.
type OpenFunc = func(t *testing.T) propusk.Store

// Options say what a store cannot give that the suite otherwise asks, so
// that those few checks are relaxed for it alone. The zero value asks
// everything.
type Options struct {
	// UserSeconds: users' CreatedAt and UpdatedAt are kept to the second,
	// as the users table of a Laravel app keeps them.
	UserSeconds bool
	// CollatedLogins: the database may refuse a login that another one
	// equals under its collation, though their canonical keys differ
	// (MySQL's utf8mb4_unicode_ci, under a Laravel app's unique index on
	// users.email, holds "elodie" and "élodie" equal). Such a login is
	// still never found for the other.
	CollatedLogins bool
}

// userTime is t as a store with o keeps a user's time.
func (o Options) userTime(t time.Time) time.Time {
	if o.UserSeconds {
		return propusk.TruncSeconds(t)
	}
	return t
}

// Run runs the conformance suite against the stores open returns.
func Run(t *testing.T, open OpenFunc) { RunWith(t, open, Options{}) }

// RunWith is Run for a store that cannot give what o says.
func RunWith(t *testing.T, open OpenFunc, o Options) {
	groups := []struct {
		name string
		run  func(*testing.T, OpenFunc)
	}{
		{"users", func(t *testing.T, open OpenFunc) { testUsers(t, open, o) }},
		{"passwords", func(t *testing.T, open OpenFunc) { testPasswords(t, open, o) }},
		{"register", testRegister},
		{"logins", func(t *testing.T, open OpenFunc) { testLogins(t, open, o) }},
		{"sessions", testSessions},
		{"renew", testRenew},
		{"renew-concurrent", testRenewConcurrent},
		{"renew-many-concurrent", testRenewManyConcurrent},
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
		{"user-admin", testUserAdmin},
		{"user-events", testUserEvents},
		{"notifier", testNotifier},
		{"audit", testAudit},
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

// wantFeedLen checks that the feed holds n entries.
func wantFeedLen(t *testing.T, s propusk.Store, n int) {
	t.Helper()
	if got := len(events(t, s)); got != n {
		t.Errorf("feed has %d entries, want %d", got, n)
	}
}

// kindRefs renders a feed as "kind:ref" strings, for comparison.
func kindRefs(evs []propusk.Event) []string {
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.Kind+":"+e.Ref)
	}
	return out
}
