package auth

import (
	"context"
	"sync"
	"time"
)

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
