package auth

import (
	"context"
	"sync"
	"time"
)

// patMissTTL is how long an id at or below the highest, or a bare secret,
// that the store did not have is taken for unknown without asking again.
const patMissTTL = time.Second

// patReadEvery is how often, at most, the store's highest token id is read,
// in real time (not the service's clock): a flood of made-up ids above it
// costs at most a hundred index probes a second, whatever its size, and a
// request waits for its answer about this long plus one read.
const patReadEvery = 10 * time.Millisecond

// patReadWait bounds one read of the highest id. The requests that waited
// for a read that failed go on to the lookup, which meets and reports the
// store's failure.
const patReadWait = 5 * time.Second

// patMisses answers "this token does not exist" without a database read,
// so a flood of made-up personal access tokens (with a valid checksum,
// which anyone can compute) costs the store little.
//
// Ids come from a sequence and are never reused. An id above the store's
// highest (last) is refused only once a read of the highest that began
// after the request arrived still finds it above: a token a client holds
// was committed before the client was given it, so that read sees it, and
// a token just created by another process (or Laravel) is never refused.
// Reads are single-flight and paced (patReadEvery): every request waiting
// when a read ends is answered by it, so a flood of made-up ids above last
// costs at most one index probe per interval and no memory, and each of
// its requests waits about one interval for its refusal.
//
// An id at or below last that the store did not have (deleted, or a gap
// the sequence skipped) is remembered for patMissTTL, in a bounded set. Ids
// can be created behind a remembered miss only by an insert that had not
// committed when it was read, hence the short TTL; a token created in this
// process clears its id at once and raises last (created).
//
// A bare secret (no "<id>|") has no id to compare: its hash is remembered
// the same way, which stops one unknown secret sent over and over (a
// deleted token still in use), though not a flood of distinct ones.
type patMisses struct {
	mu     sync.Mutex
	last   int64 // the highest token id known to exist
	ids    missSet[int64]
	hashes missSet[[32]byte]

	// The reads of the highest id, guarded by mu. next is the read that
	// has not begun yet, which every request arriving now waits for (nil
	// until one arrives); reading says readLoop is running; began is when
	// the last read began, in real time.
	next    *lastRead
	reading bool
	began   time.Time
}

// lastRead is one read of the store's highest id, shared by every request
// that arrived before it began. done is closed when it ends; err, its
// outcome, may be read after that.
type lastRead struct {
	done chan struct{}
	err  error
}

func newPATMisses(max int) *patMisses {
	return &patMisses{ids: newMissSet[int64](max), hashes: newMissSet[[32]byte](max)}
}

// lastTokenIDer is the part of the store patMisses asks: an interface, not a
// method value, so that the request path does not allocate a closure.
type lastTokenIDer interface {
	LastTokenID(ctx context.Context) (int64, error)
}

// missing reports whether token id is known not to exist at now. An id
// above the highest waits for a read of the store's highest id that begins
// after the call (see patMisses), or until ctx is done. When that read
// fails, or ctx is done first, it reports false, so the lookup that follows
// meets and reports the failure.
func (m *patMisses) missing(ctx context.Context, id int64, now time.Time, store lastTokenIDer) bool {
	m.mu.Lock()
	if m.ids.has(id, now) {
		m.mu.Unlock()
		return true
	}
	if id <= m.last {
		m.mu.Unlock()
		return false
	}
	r := m.next
	if r == nil {
		r = &lastRead{done: make(chan struct{})}
		m.next = r
		if !m.reading {
			m.reading = true
			go m.readLoop(store)
		}
	}
	m.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return false
	}
	if r.err != nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return id > m.last
}

// readLoop runs the reads requests wait for, one at a time and at most one
// per patReadEvery, and returns when none is waiting.
func (m *patMisses) readLoop(store lastTokenIDer) {
	for {
		m.mu.Lock()
		if m.next == nil {
			m.reading = false
			m.mu.Unlock()
			return
		}
		wait := patReadEvery - time.Since(m.began)
		m.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
		}
		m.mu.Lock()
		r := m.next // requests from now on need a later read
		m.next, m.began = nil, time.Now()
		m.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), patReadWait)
		n, err := store.LastTokenID(ctx)
		cancel()
		if err == nil {
			m.mu.Lock()
			// max: a token created here while the read was on its way is
			// newer than what the read saw.
			m.last = max(m.last, n)
			m.mu.Unlock()
		}
		r.err = err
		close(r.done)
	}
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
