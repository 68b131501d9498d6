package auth

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/propusk/propusk"
)

// revokedSet holds the ids of sessions revoked recently. An access token
// lives at most AccessTTL, so an id can be forgotten once every access token
// of its session has expired; refresh tokens are checked in the store.
type revokedSet struct {
	mu sync.RWMutex
	m  map[string]time.Time
}

func newRevokedSet() *revokedSet { return &revokedSet{m: map[string]time.Time{}} }

func (r *revokedSet) add(id string, at time.Time) {
	r.mu.Lock()
	r.m[id] = at
	r.mu.Unlock()
}

func (r *revokedSet) has(id string) bool {
	r.mu.RLock()
	_, ok := r.m[id]
	r.mu.RUnlock()
	return ok
}

func (r *revokedSet) prune(before time.Time) {
	r.mu.Lock()
	for id, at := range r.m {
		if at.Before(before) {
			delete(r.m, id)
		}
	}
	r.mu.Unlock()
}

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

// patEntry is what verifying a personal access token needs of its row and
// its user, kept in memory so a repeated token costs no database read.
type patEntry struct {
	hash      [32]byte
	tokenID   string // the id as Principal.TokenID carries it, formatted once
	userID    int64
	level     int
	boards    []string
	abilities []string
	expiresAt time.Time
	fetched   time.Time
	// principal is what authenticatePAT returns for this token, built once:
	// callers treat a Principal as read-only, so requests can share it and
	// the request path allocates nothing.
	principal *propusk.Principal
	// noted is the unix second of the last use handed to the touchLog.
	// last_used_at is stored to the second (as Laravel does), so further
	// uses within that second need not take the touchLog's lock.
	noted atomic.Int64
}

// patCache maps token ids to entries; bounded like the access-token cache.
type patCache struct {
	mu  sync.RWMutex
	m   map[int64]*patEntry
	ids map[[32]byte]int64 // by hash, for Sanctum tokens sent without "<id>|"
	max int
	// evictions counts evict calls. A lookup that read the store before a
	// token was deleted must not put the stale row back after the eviction,
	// or the deleted token would work here until PATCacheTTL: put
	// refuses when the count moved since the lookup began. Refusing costs
	// only a later lookup; evictions are rare next to verifications.
	evictions uint64
}

func newPATCache(max int) *patCache {
	return &patCache{m: map[int64]*patEntry{}, ids: map[[32]byte]int64{}, max: max}
}

func (c *patCache) get(id int64) *patEntry {
	c.mu.RLock()
	e := c.m[id]
	c.mu.RUnlock()
	return e
}

// getByHash returns the id and entry of the token with this SHA-256.
func (c *patCache) getByHash(sum [32]byte) (int64, *patEntry) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.ids[sum]
	if !ok {
		return 0, nil
	}
	return id, c.m[id]
}

func (c *patCache) put(id int64, e *patEntry, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evictions != epoch {
		return
	}
	if len(c.m) >= c.max {
		drop := c.max/8 + 1
		for k := range c.m {
			c.remove(k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.remove(id)
	c.m[id] = e
	c.ids[e.hash] = id
}

// remove drops id; the caller holds c.mu.
func (c *patCache) remove(id int64) {
	if e, ok := c.m[id]; ok {
		delete(c.ids, e.hash)
		delete(c.m, id)
	}
}

// epoch returns the eviction count, read before a store lookup and handed
// to put.
func (c *patCache) epoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.evictions
}

func (c *patCache) evict(id int64) {
	c.mu.Lock()
	c.remove(id)
	c.evictions++
	c.mu.Unlock()
}

// clear drops every entry.
func (c *patCache) clear() {
	c.mu.Lock()
	clear(c.m)
	clear(c.ids)
	c.evictions++
	c.mu.Unlock()
}

func (c *patCache) evictRef(ref string) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		c.evict(id)
	}
}

// touchLog coalesces last_used_at per token until the next flush, so a
// thousand requests with one token cost one row update, off the request path.
type touchLog struct {
	mu sync.Mutex
	m  map[int64]time.Time
}

func newTouchLog() *touchLog { return &touchLog{m: map[int64]time.Time{}} }

// use notes that the token of e was used at at, taking the lock at most once
// a second per token.
func (l *touchLog) use(id int64, e *patEntry, at time.Time) {
	sec := at.Unix()
	if old := e.noted.Load(); sec <= old || !e.noted.CompareAndSwap(old, sec) {
		return
	}
	l.touch(id, at)
}

func (l *touchLog) touch(id int64, at time.Time) {
	l.mu.Lock()
	if at.After(l.m[id]) {
		l.m[id] = at
	}
	l.mu.Unlock()
}

func (l *touchLog) take() map[int64]time.Time {
	l.mu.Lock()
	m := l.m
	l.m = map[int64]time.Time{}
	l.mu.Unlock()
	return m
}

// putBack returns entries of a failed flush, keeping newer touches.
func (l *touchLog) putBack(m map[int64]time.Time) {
	for id, at := range m {
		l.touch(id, at)
	}
}
