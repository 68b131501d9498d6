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

// patLastStale is how stale the store's highest token id may be. A token
// another process (or Laravel) has just created is refused here for at
// most this long; a flood of made-up ids costs at most one MAX(id) index
// probe per interval.
const patLastStale = 100 * time.Millisecond

// patMissTTL is how long an id at or below the highest, or a bare secret,
// that the store did not have is taken for unknown without asking again.
const patMissTTL = time.Second

// patMisses answers "this token does not exist" without a database read,
// so a flood of made-up personal access tokens (with a valid checksum,
// which anyone can compute) costs the store nothing.
//
// Ids come from a sequence and are never reused. An id above the store's
// highest (last, read at most once per patLastStale whatever the flood) has
// not been issued: no entry is kept for it, so a flood of distinct made-up
// ids takes no memory. An id at or below it that the store did not have
// (deleted, or a gap the sequence skipped) is remembered for patMissTTL, in
// a bounded set. Ids can be created behind a remembered miss only by an
// insert that had not committed when it was read, hence the short TTL; a
// token created in this process clears its id at once (created).
//
// A bare secret (no "<id>|") has no id to compare: its hash is remembered
// the same way, which stops one unknown secret sent over and over (a
// deleted token still in use), though not a flood of distinct ones.
type patMisses struct {
	mu      sync.Mutex
	last    int64     // the highest token id known to exist
	checked time.Time // when the store last said so; zero: never asked
	ids     missSet[int64]
	hashes  missSet[[32]byte]

	// refreshMu lets one caller read the store's highest id while the
	// others wait for its answer instead of each reading it.
	refreshMu sync.Mutex
}

func newPATMisses(max int) *patMisses {
	return &patMisses{ids: newMissSet[int64](max), hashes: newMissSet[[32]byte](max)}
}

// lastTokenIDer is the part of the store patMisses asks: an interface, not a
// method value, so that the request path does not allocate a closure.
type lastTokenIDer interface {
	LastTokenID(ctx context.Context) (int64, error)
}

// missing reports whether token id is known not to exist at now. It asks
// the store only when id is above the highest id and that was read
// patLastStale or more ago. On an error it reports false, so the lookup that
// follows meets and reports the store's failure.
func (m *patMisses) missing(ctx context.Context, id int64, now time.Time, store lastTokenIDer) bool {
	m.mu.Lock()
	if m.ids.has(id, now) {
		m.mu.Unlock()
		return true
	}
	above, fresh := id > m.last, m.fresh(now)
	m.mu.Unlock()
	if !above || fresh {
		return above
	}
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	m.mu.Lock()
	if m.fresh(now) { // read by a caller we waited for
		defer m.mu.Unlock()
		return id > m.last
	}
	m.mu.Unlock()
	n, err := store.LastTokenID(ctx)
	if err != nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// max: a token created here while the read was on its way is newer
	// than what the read saw.
	m.last, m.checked = max(m.last, n), now
	return id > m.last
}

// fresh reports whether last was read from the store within patLastStale;
// the caller holds m.mu.
func (m *patMisses) fresh(now time.Time) bool {
	return !m.checked.IsZero() && now.Sub(m.checked) < patLastStale && !now.Before(m.checked)
}

// note remembers that the store has no usable token id at now.
func (m *patMisses) note(id int64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id <= m.last { // above it, the highest id already answers
		m.ids.add(id, now)
	}
}

// missingHash reports whether a bare secret with this SHA-256 was looked up
// within patMissTTL and not found.
func (m *patMisses) missingHash(sum [32]byte, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hashes.has(sum, now)
}

// noteHash remembers that the store has no usable token with this SHA-256.
func (m *patMisses) noteHash(sum [32]byte, now time.Time) {
	m.mu.Lock()
	m.hashes.add(sum, now)
	m.mu.Unlock()
}

// created records a token this process has just inserted, so it works here
// at once.
func (m *patMisses) created(id int64, sum [32]byte) {
	m.mu.Lock()
	m.ids.remove(id)
	m.hashes.remove(sum)
	m.last = max(m.last, id)
	m.mu.Unlock()
}

// size returns the number of ids and hashes remembered, for tests.
func (m *patMisses) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids.m) + len(m.hashes.m)
}

// missSet remembers keys for patMissTTL, at most max of them: when full it
// drops an arbitrary eighth, as the caches do. The caller locks.
type missSet[K comparable] struct {
	m   map[K]time.Time
	max int
}

func newMissSet[K comparable](max int) missSet[K] {
	return missSet[K]{m: map[K]time.Time{}, max: max}
}

// has reports whether k was added within patMissTTL before now.
func (s *missSet[K]) has(k K, now time.Time) bool {
	at, ok := s.m[k]
	if ok && now.Sub(at) >= patMissTTL {
		delete(s.m, k)
		return false
	}
	return ok
}

func (s *missSet[K]) add(k K, now time.Time) {
	if len(s.m) >= s.max {
		drop := s.max/8 + 1
		for old := range s.m {
			delete(s.m, old)
			if drop--; drop == 0 {
				break
			}
		}
	}
	s.m[k] = now
}

func (s *missSet[K]) remove(k K) { delete(s.m, k) }

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
