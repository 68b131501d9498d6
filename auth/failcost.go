package auth

import (
	"context"
	"sync"
	"time"
)

// failCost makes every failed login cost the same, whatever the stored
// hash: a failure answers no sooner than the slowest password check the
// process has seen lately after its own check began. Without it a failure
// shows what the account holds: an unknown login costs one check of the
// dummy argon2id hash, a Laravel user's bcrypt hash (cost 10) about three
// times as much, and PHP's argon2id defaults (64 MiB, 4 passes) ten times.
//
// Durations are real time (the monotonic clock), not Config.Now: they
// measure work, which a fake clock does not do. The slowest check is kept
// for the current and the previous window, so one check slowed by a busy
// machine raises the cost of failures for at most two windows. The first
// check of a costlier kind of hash in a window is padded only to what was
// seen before it; Config.MinFailedLogin closes that gap.
type failCost struct {
	min    time.Duration
	window time.Duration

	mu        sync.Mutex
	start     time.Time     // of the current window
	cur, prev time.Duration // slowest check in the current and previous window
}

func newFailCost(min time.Duration) *failCost {
	return &failCost{min: min, window: 10 * time.Minute, start: time.Now()}
}

// observe records a check that took d.
func (f *failCost) observe(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); now.Sub(f.start) >= f.window {
		f.prev, f.cur = f.cur, 0
		if now.Sub(f.start) >= 2*f.window {
			f.prev = 0
		}
		f.start = now
	}
	f.cur = max(f.cur, d)
}

// cost is how long a failed check takes, at least.
func (f *failCost) cost() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(f.min, f.cur, f.prev)
}

// pad waits until a failed check that began at began has cost as much as
// any other, or ctx ends.
func (f *failCost) pad(ctx context.Context, began time.Time) {
	d := f.cost() - time.Since(began)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
