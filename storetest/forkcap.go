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
