package auth

import (
	"context"
	"sync/atomic"
	"time"
)

// coarseTick is how often Run refreshes the coarse clock.
const coarseTick = 20 * time.Millisecond

// coarseClock is the wall clock as Run last read it. On some machines (VMs
// whose clock source is kvm-clock or hpet) time.Now costs as much as the
// SHA-256 a personal access token's verification needs, so that path reads
// this instead. It is used only when Config.Now is left to default: an
// injected clock (a test's) is always read directly.
type coarseClock struct {
	ns atomic.Int64 // unix nanoseconds; 0 while Run is not refreshing it
}

// now returns the coarse time, or fallback() when Run is not refreshing it.
func (c *coarseClock) now(fallback func() time.Time) time.Time {
	if c != nil {
		if ns := c.ns.Load(); ns != 0 {
			return time.Unix(0, ns)
		}
	}
	return fallback()
}

// run refreshes the clock every coarseTick until ctx ends.
func (c *coarseClock) run(ctx context.Context) {
	c.ns.Store(time.Now().UnixNano())
	t := time.NewTicker(coarseTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.ns.Store(0)
			return
		case <-t.C:
			c.ns.Store(time.Now().UnixNano())
		}
	}
}
