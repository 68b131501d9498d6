package auth

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/propusk/propusk"
)

// userStripes is how many invalidation counters userCache keeps, each for
// the ids equal modulo it: a power of two, so an id's is a mask away.
const userStripes = 1024

// userCache keeps users as the request path shows them (login, level,
// boards, disabled; never the password hash or the sealed api-token), by
// id, so that a handler that needs only the caller's user reads nothing.
//
// It holds at most max entries and makes room with CLOCK (second chance):
// a hit only sets its entry's bit, under the read lock, and the hand
// evicts the first entry whose bit is clear, clearing bits as it passes.
// That keeps the users who call often, as an LRU would, without the
// exclusive lock an LRU takes on every hit to reorder its list: this is
// the path of every user.me.
//
// The feed drops an entry (drop) when its user changes. A read of the
// store that began before a drop must not put the row it read back after
// it, or the old row would live until the next change: put refuses when
// the stamp of the id's stripe moved since the read began (stamp). A
// refusal costs only a later read; drops are rare next to reads.
type userCache struct {
	mu     sync.RWMutex
	m      map[int64]*userSlot
	ring   []int64 // the ids in m, in the hand's order
	hand   int     // the next position of ring the hand looks at
	max    int
	stamps [userStripes]uint64 // drops so far, by stripe of ids
}

// userSlot is one cached user.
type userSlot struct {
	user *propusk.User // read-only: callers share it
	pos  int           // its index in ring
	used atomic.Bool   // hit since the hand last passed
}

func newUserCache(max int) *userCache {
	return &userCache{m: make(map[int64]*userSlot, min(max, 1024)), max: max}
}

// get returns the cached user, or nil.
func (c *userCache) get(id int64) *propusk.User {
	c.mu.RLock()
	e := c.m[id]
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	if !e.used.Load() { // a load first: most hits need not write the cache line
		e.used.Store(true)
	}
	return e.user
}

// stamp returns the id's stripe stamp, read before a store read and
// handed to put.
func (c *userCache) stamp(id int64) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stamps[id&(userStripes-1)]
}

// put caches u, read from the store after stamp returned st, unless a
// drop of its stripe came in between.
func (c *userCache) put(u *propusk.User, st uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamps[u.ID&(userStripes-1)] != st {
		return
	}
	if e, ok := c.m[u.ID]; ok {
		e.user = u
		return
	}
	e := &userSlot{user: u}
	if len(c.ring) < c.max {
		e.pos = len(c.ring)
		c.ring = append(c.ring, u.ID)
		c.m[u.ID] = e
		return
	}
	// Full: the hand takes the place of the first entry not used since
	// it last passed. Two turns at most: the first clears every bit.
	for {
		old := c.m[c.ring[c.hand]]
		if old.used.Load() {
			old.used.Store(false)
			c.hand = (c.hand + 1) % len(c.ring)
			continue
		}
		delete(c.m, c.ring[c.hand])
		e.pos = c.hand
		c.ring[c.hand] = u.ID
		c.m[u.ID] = e
		c.hand = (c.hand + 1) % len(c.ring)
		return
	}
}

// drop forgets user id, and refuses the puts of reads that began before.
func (c *userCache) drop(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stamps[id&(userStripes-1)]++
	e, ok := c.m[id]
	if !ok {
		return
	}
	delete(c.m, id)
	// The ring's last id takes the dropped one's place.
	last := len(c.ring) - 1
	if e.pos != last {
		moved := c.ring[last]
		c.ring[e.pos] = moved
		c.m[moved].pos = e.pos
	}
	c.ring = c.ring[:last]
	if c.hand >= len(c.ring) {
		c.hand = 0
	}
}

// dropRef is drop for a feed entry's ref.
func (c *userCache) dropRef(ref string) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		c.drop(id)
	}
}

// clear forgets every user, and refuses the puts of every read begun before.
func (c *userCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
	c.ring = c.ring[:0]
	c.hand = 0
	for i := range c.stamps {
		c.stamps[i]++
	}
}

// len returns how many users are cached.
func (c *userCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// shown is u as the cache keeps it: what handlers show of a user, without
// the password hash, the sealed api-token and updated_at, which a login
// (a rehash) or a new api-token changes without a feed entry.
func shown(u *propusk.User) *propusk.User {
	return &propusk.User{
		ID: u.ID, Login: u.Login, Level: u.Level, Boards: slices.Clone(u.Boards),
		CreatedAt: u.CreatedAt, DisabledAt: u.DisabledAt,
	}
}
