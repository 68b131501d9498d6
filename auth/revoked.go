package auth

import (
	"sync"
	"time"
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
