package auth

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/propusk/propusk"
)

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
