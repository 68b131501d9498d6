package propusk_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// TestJudge runs every kind of spend through the renewal rule: the current
// token, a racing tab's within and after the grace period, older tokens,
// tokens never issued, and dead sessions, on the first chain and on a fork,
// below and at the fork cap.
func TestJudge(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const grace = 10 * time.Second
	live := &propusk.Session{Generation: 5, RotatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	revoked := *live
	revoked.RevokedAt = t0
	fork := &propusk.ForkChain{Generation: 3, RotatedAt: t0}
	first := func(gen int64) propusk.Spend {
		return propusk.Spend{Session: "s", Generation: gen, NewFork: "new"}
	}
	forked := func(gen int64) propusk.Spend {
		return propusk.Spend{Session: "s", Fork: "f", Generation: gen, NewFork: "new"}
	}
	rotate := func(f string, g int64) propusk.Verdict {
		return propusk.Verdict{Act: propusk.ActRotate, Fork: f, Generation: g}
	}
	forkTo := func(g int64, shareF string, shareG int64) propusk.Verdict {
		return propusk.Verdict{Act: propusk.ActFork, Fork: "new", Generation: g, ShareFork: shareF, ShareGeneration: shareG}
	}
	share := func(f string, g int64) propusk.Verdict {
		return propusk.Verdict{Act: propusk.ActShare, Fork: f, Generation: g}
	}
	revoke := propusk.Verdict{Act: propusk.ActRevoke}
	refuse := propusk.Verdict{Act: propusk.ActRefuse}

	cases := []struct {
		name  string
		sp    propusk.Spend
		chain propusk.Chain
		at    time.Duration // after t0
		want  propusk.Verdict
	}{
		{"ok/rotated", first(5), propusk.Chain{Swapped: true}, time.Second, rotate("", 6)},
		{"ok/rotated-fork", forked(3), propusk.Chain{Swapped: true}, time.Second, rotate("f", 4)},
		{"ok/grace-fork", first(4), propusk.Chain{Session: live}, 9 * time.Second, forkTo(5, "", 5)},
		{"ok/grace-fork-of-fork", forked(2), propusk.Chain{Session: live, Fork: fork}, 9 * time.Second, forkTo(3, "f", 3)},
		{"ok/grace-share-at-cap", first(4), propusk.Chain{Session: live, Forks: propusk.MaxForks}, time.Second, share("", 5)},
		{"ok/grace-share-fork-at-cap", forked(2), propusk.Chain{Session: live, Fork: fork, Forks: propusk.MaxForks}, time.Second, share("f", 3)},
		{"ok/grace-share-no-new-fork", propusk.Spend{Session: "s", Generation: 4}, propusk.Chain{Session: live}, time.Second, share("", 5)},
		{"ok/grace-below-cap", first(4), propusk.Chain{Session: live, Forks: propusk.MaxForks - 1}, time.Second, forkTo(5, "", 5)},
		{"fail/reused-after-grace", first(4), propusk.Chain{Session: live}, grace, revoke},
		{"fail/reused-older", first(2), propusk.Chain{Session: live}, time.Second, revoke},
		{"fail/reused-fork-after-grace", forked(2), propusk.Chain{Session: live, Fork: fork}, grace, revoke},
		{"fail/reused-fork-older", forked(1), propusk.Chain{Session: live, Fork: fork}, time.Second, revoke},
		{"fail/never-issued", first(7), propusk.Chain{Session: live}, time.Second, refuse},
		{"fail/current-not-swapped", first(5), propusk.Chain{Session: live}, time.Second, refuse},
		{"fail/no-session", first(4), propusk.Chain{}, time.Second, refuse},
		{"fail/revoked", first(4), propusk.Chain{Session: &revoked}, time.Second, refuse},
		{"fail/revoked-old", first(2), propusk.Chain{Session: &revoked}, time.Second, refuse},
		{"fail/expired", first(4), propusk.Chain{Session: live}, time.Hour, refuse},
		{"fail/no-such-fork", forked(2), propusk.Chain{Session: live}, time.Second, refuse},
		{"fail/fork-never-issued", forked(4), propusk.Chain{Session: live, Fork: fork}, time.Second, refuse},
		// A fork is judged by its own counter, not the first chain's.
		{"fail/fork-by-own-counter", forked(4), propusk.Chain{Session: live, Fork: fork}, time.Second, refuse},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got := propusk.Judge(tt.sp, tt.chain, t0.Add(tt.at), grace)
			if got != tt.want {
				t.Fatalf("Judge = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestVerdict: what each verdict tells the caller of Store.RenewSession,
// and that a fork the cap refused falls back to sharing the raced chain.
func TestVerdict(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sess := &propusk.Session{ID: "s", Generation: 5}
	u := &propusk.User{ID: 1}
	cases := []struct {
		v           propusk.Verdict
		want        propusk.RenewOutcome
		withSession bool
		withUser    bool
	}{
		{propusk.Verdict{Act: propusk.ActRotate, Generation: 6}, propusk.RenewRotated, true, true},
		{propusk.Verdict{Act: propusk.ActFork, Fork: "n", Generation: 5}, propusk.RenewGrace, true, true},
		{propusk.Verdict{Act: propusk.ActShare, Generation: 5}, propusk.RenewGrace, true, true},
		{propusk.Verdict{Act: propusk.ActRevoke}, propusk.RenewReused, true, false},
		{propusk.Verdict{Act: propusk.ActRefuse}, propusk.RenewInvalid, false, false},
	}
	for _, tt := range cases {
		t.Run(fmt.Sprint(tt.want), func(t *testing.T) {
			r := tt.v.Renewal(sess, u, t0)
			if r.Outcome != tt.want || (r.Session != nil) != tt.withSession || (r.User != nil) != tt.withUser {
				t.Fatalf("Renewal = %+v, want outcome %v, session %v, user %v", r, tt.want, tt.withSession, tt.withUser)
			}
			if r.Fork != tt.v.Fork || r.Generation != tt.v.Generation {
				t.Errorf("carries %q/%d, want %q/%d", r.Fork, r.Generation, tt.v.Fork, tt.v.Generation)
			}
			if tt.want == propusk.RenewReused && !r.Session.RevokedAt.Equal(t0) {
				t.Errorf("revoked session shows RevokedAt %v, want %v", r.Session.RevokedAt, t0)
			}
		})
	}
	if sess.Revoked() {
		t.Error("Renewal changed the session it was given")
	}
	v := propusk.Verdict{Act: propusk.ActFork, Fork: "n", Generation: 5, ShareFork: "f", ShareGeneration: 3}
	if got, want := v.Shared(), (propusk.Verdict{Act: propusk.ActShare, Fork: "f", Generation: 3}); got != want {
		t.Errorf("Shared = %+v, want %+v", got, want)
	}
}
