package remote

import (
	"sync"
	"time"

	"github.com/propusk/propusk/token"
)

// revocations is what the Verifier knows of revoked sessions: the ids it
// has seen revoked, and the horizon before which it may have missed some.
//
// A revoked session issues no more tokens, so a token issued after the
// horizon belongs to a session whose revocation, if any, came after the
// horizon too, and is in the set. A token issued at or before it may belong
// to a session revoked unseen, and is refused as expired: the client renews
// it at propusk.
type revocations struct {
	retention int64 // seconds a revoked session is remembered

	mu        sync.RWMutex
	sessions  map[string]int64 // revoked session id → when (unix seconds)
	horizon   int64            // tokens issued before it are refused (unix seconds)
	lastPrune int64
}

func newRevocations(retention time.Duration) *revocations {
	return &revocations{retention: int64(retention / time.Second), sessions: map[string]int64{}}
}

// check returns nil when a token of session sid issued at iat may be used.
func (r *revocations) check(sid string, iat *token.NumericDate) error {
	var issued int64 // a token without iat is as old as can be
	if iat != nil {
		issued = iat.Unix()
	}
	r.mu.RLock()
	_, revoked := r.sessions[sid]
	horizon := r.horizon
	r.mu.RUnlock()
	switch {
	case revoked:
		return errRevoked
	case issued < horizon:
		return errHorizon
	}
	return nil
}

// revoke records that session sid was revoked at (unix seconds, propusk's
// clock), and forgets sessions revoked more than the retention before now,
// moving the horizon past them, at most once a minute.
func (r *revocations) revoke(sid string, at, now int64) {
	if at <= 0 {
		at = now
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions[sid] = at
	if now-r.lastPrune < 60 {
		return
	}
	r.lastPrune = now
	for id, when := range r.sessions {
		if when < now-r.retention {
			delete(r.sessions, id)
			r.horizon = max(r.horizon, when+1) // a token of the same second may predate it
		}
	}
}

// reset forgets every revoked session and moves the horizon to now: the
// Verifier has missed events, or never saw those before it started.
func (r *revocations) reset(now int64) {
	r.mu.Lock()
	clear(r.sessions)
	r.horizon = max(r.horizon, now)
	r.mu.Unlock()
}
