package storetest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// testForkCapConcurrent: however many race losers replay at once, on the
// first chain and on a fork, a session never has more than MaxForks forks.
// The cap must be part of the write that forks: a count read before it is
// stale by the time the insert lands.
func testForkCapConcurrent(t *testing.T, open OpenFunc) {
	cases := []struct {
		name   string
		losers int
		// onFork sends every other loser to a fork chain made beforehand.
		onFork bool
	}{
		{"first-chain", 4 * propusk.MaxForks, false},
		{"first-chain-and-fork", 4 * propusk.MaxForks, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			_, sess := renewSetup(t, s)
			g := sess.Generation
			now := t0.Add(time.Second)
			// The winner has rotated: every spend below is a grace replay.
			if r := spendAt(t, s, "", g, "", now); r.Outcome != propusk.RenewRotated {
				t.Fatalf("winner: %v", r.Outcome)
			}
			made := map[string]int64{} // fork: the generation its token carries
			var fork *propusk.Renewal
			if tc.onFork {
				fork = spendAt(t, s, "", g, "base", now)
				if fork.Outcome != propusk.RenewGrace || fork.Fork != "base" {
					t.Fatalf("base fork: %+v", fork)
				}
				if r := spendAt(t, s, "base", fork.Generation, "", now); r.Outcome != propusk.RenewRotated {
					t.Fatalf("base fork rotation: %v", r.Outcome)
				}
				made["base"] = 0
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				got   = make([]*propusk.Renewal, tc.losers)
				errs  = make([]error, tc.losers)
			)
			for i := range tc.losers {
				sp := propusk.Spend{Session: sess.ID, Generation: g, NewFork: "tab-" + strconv.Itoa(i)}
				if fork != nil && i%2 == 1 {
					sp.Fork, sp.Generation = fork.Fork, fork.Generation
				}
				wg.Go(func() {
					<-start
					got[i], errs[i] = s.RenewSession(ctxOf(t), sp, now, 10*time.Second, time.Hour, propusk.Client{})
				})
			}
			close(start)
			wg.Wait()
			for i, r := range got {
				must(t, "replay "+strconv.Itoa(i), errs[i])
				if r.Outcome != propusk.RenewGrace {
					t.Fatalf("replay %d: %v, want grace", i, r.Outcome)
				}
				if r.Fork == "tab-"+strconv.Itoa(i) {
					made[r.Fork] = r.Generation
				}
			}
			if len(made) != propusk.MaxForks {
				t.Fatalf("%d forks, want exactly MaxForks (%d)", len(made), propusk.MaxForks)
			}
			// Every fork a replay was told of exists: its token rotates.
			for f, gen := range made {
				if f == "base" {
					continue
				}
				if r := spendAt(t, s, f, gen, "", now.Add(time.Minute)); r.Outcome != propusk.RenewRotated {
					t.Errorf("fork %s: %v", f, r.Outcome)
				}
			}
		})
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
