package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// testBudgets: attempts counted in the store hold for every process on the
// database, so concurrent reservations never admit more than a budget.
func testBudgets(t *testing.T, open OpenFunc) {
	budgets := func(t *testing.T) propusk.Budgets {
		b, ok := open(t).(propusk.Budgets)
		if !ok {
			t.Fatal("the store does not count budgets (propusk.Budgets): each process would count its own")
		}
		return b
	}
	login := propusk.Budget{Key: "login:ann", Limit: 2, Window: time.Minute}
	addr := propusk.Budget{Key: "ip:10.0.0.1", Limit: 3, Window: time.Minute}
	reserve := func(t *testing.T, b propusk.Budgets, now time.Time, wantOK bool, wantRetry time.Time, bs ...propusk.Budget) {
		t.Helper()
		ok, retry, err := b.ReserveBudgets(ctxOf(t), bs, now)
		must(t, "reserve", err)
		if ok != wantOK {
			t.Fatalf("reserve %v at %v: ok %v, want %v", bs, now, ok, wantOK)
		}
		if !wantOK {
			sameTime(t, "retry", retry, wantRetry)
		}
	}

	t.Run("ok/within-limit-then-refused-until-window-ends", func(t *testing.T) {
		t.Parallel()
		b := budgets(t)
		reserve(t, b, t0, true, time.Time{}, login, addr)
		reserve(t, b, t0.Add(time.Second), true, time.Time{}, login, addr)
		reserve(t, b, t0.Add(2*time.Second), false, t0.Add(time.Minute), login, addr)
		reserve(t, b, t0.Add(time.Minute-time.Millisecond), false, t0.Add(time.Minute), login)
		reserve(t, b, t0.Add(time.Minute), true, time.Time{}, login)
	})
	t.Run("fail/all-or-none", func(t *testing.T) {
		t.Parallel()
		b := budgets(t)
		reserve(t, b, t0, true, time.Time{}, login)
		reserve(t, b, t0, true, time.Time{}, login)
		// The login's budget is spent: the address's must not be taken either.
		for range 5 {
			reserve(t, b, t0, false, t0.Add(time.Minute), login, addr)
		}
		other := propusk.Budget{Key: "login:bob", Limit: 5, Window: time.Minute}
		for range 3 {
			reserve(t, b, t0, true, time.Time{}, other, addr)
		}
		reserve(t, b, t0, false, t0.Add(time.Minute), other, addr)
	})
	t.Run("ok/release", func(t *testing.T) {
		t.Parallel()
		b := budgets(t)
		reserve(t, b, t0, true, time.Time{}, login, addr)
		reserve(t, b, t0, true, time.Time{}, login, addr)
		must(t, "release", b.ReleaseBudgets(ctxOf(t), []string{addr.Key}, []string{login.Key}, t0))
		reserve(t, b, t0, true, time.Time{}, login, addr)
		reserve(t, b, t0, true, time.Time{}, login, addr)
		// Giving back more than was taken, or unknown keys, is no error and
		// never goes below zero.
		for range 3 {
			must(t, "release", b.ReleaseBudgets(ctxOf(t), []string{login.Key, "ip:unknown"}, nil, t0))
		}
		reserve(t, b, t0, true, time.Time{}, login)
		reserve(t, b, t0, true, time.Time{}, login)
		reserve(t, b, t0, false, t0.Add(time.Minute), login)
		must(t, "release nothing", b.ReleaseBudgets(ctxOf(t), nil, nil, t0))
	})
	t.Run("ok/prune", func(t *testing.T) {
		t.Parallel()
		b := budgets(t)
		reserve(t, b, t0, true, time.Time{}, login)
		reserve(t, b, t0, true, time.Time{}, login)
		must(t, "prune", b.PruneBudgets(ctxOf(t), t0.Add(time.Minute-time.Millisecond)))
		reserve(t, b, t0.Add(time.Second), false, t0.Add(time.Minute), login)
		must(t, "prune", b.PruneBudgets(ctxOf(t), t0.Add(time.Minute)))
		reserve(t, b, t0.Add(time.Minute), true, time.Time{}, login)
	})
	t.Run("ok/concurrent-never-over-budget", func(t *testing.T) {
		t.Parallel()
		b := budgets(t)
		const workers, limit = 40, 7
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for i := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				own := propusk.Budget{Key: fmt.Sprintf("login:u%d", i), Limit: 5, Window: time.Minute}
				shared := propusk.Budget{Key: "ip:10.9.9.9", Limit: limit, Window: time.Minute}
				ok, _, err := b.ReserveBudgets(ctxOf(t), []propusk.Budget{own, shared}, t0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					admitted.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := admitted.Load(); n > limit || n == 0 {
			t.Fatalf("%d concurrent reservations admitted, want at most %d (and some)", n, limit)
		}
	})
}
