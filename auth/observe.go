package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/propusk/propusk"
)

// Observer is told what the Service does, for metrics: a package that
// exports them (propusk/metrics) implements it, and the Service stays free of
// any metrics library. Every argument is one of a few fixed words, never a
// user id, a login or a token. Calls are made on the request path, so an
// Observer must be quick and safe for concurrent use.
type Observer interface {
	// TokenChecked is called once per Authenticate: kind is "access-token"
	// (a JWT) or "api-token" (a personal access token); outcome is
	// "verified" (checked without the store for a JWT, or read from the
	// store for an api-token), "cached" (an api-token found in the cache),
	// or a refusal: "invalid", "expired", "revoked", "malformed",
	// "unknown", "in_cookie", "unavailable", "error".
	TokenChecked(kind, outcome string)
	// Renewed is called once per Renew: "rotated", "fork" (a race loser
	// got a chain of its own), "grace" (a race loser past MaxForks shares
	// the raced chain), "reuse_revoked", "anonymous", "session_ended",
	// "invalid", "unavailable", "error".
	Renewed(outcome string)
	// LoggedIn is called once per Login, and Registered once per Register:
	// "ok", or the error code (invalid_credentials, too_many_attempts,
	// login_taken, invalid_input, conflict, store_unavailable, internal).
	LoggedIn(outcome string)
	Registered(outcome string)
	// HashWaited is called when a password hash got its slot, or gave up:
	// pool is "login" or "register"; wait is how long it queued.
	HashWaited(pool string, wait time.Duration)
}

// NopObserver observes nothing; the default Config.Observer.
type NopObserver struct{}

// TokenChecked does nothing.
func (NopObserver) TokenChecked(kind, outcome string) {}

// Renewed does nothing.
func (NopObserver) Renewed(outcome string) {}

// LoggedIn does nothing.
func (NopObserver) LoggedIn(outcome string) {}

// Registered does nothing.
func (NopObserver) Registered(outcome string) {}

// HashWaited does nothing.
func (NopObserver) HashWaited(pool string, wait time.Duration) {}

// Stats is the Service's state at one moment, for gauges.
type Stats struct {
	HashingBusy      int       // login password hashes running
	HashingWaiting   int       // password hashes (logins and registrations) waiting for a slot
	RegisterBusy     int       // registration password hashes running
	RevokedSessions  int       // sessions in the in-memory revoked set
	PATCacheEntries  int       // personal access tokens cached
	UserCacheEntries int       // users cached for Caller (at most Config.UserCacheSize)
	FeedApplied      int64     // the last revocation feed entry applied
	FeedSyncedAt     time.Time // when the feed was last read to its end
}

// obsState is what the Service keeps for Stats.
type obsState struct {
	hashWaiting  atomic.Int64
	feedSyncedAt atomic.Int64 // unix nanoseconds
}

// Stats returns the Service's state now.
func (s *Service) Stats() Stats {
	s.revoked.mu.RLock()
	revoked := len(s.revoked.m)
	s.revoked.mu.RUnlock()
	s.pats.mu.RLock()
	cached := len(s.pats.m)
	s.pats.mu.RUnlock()
	s.feedMu.Lock()
	applied := s.lastSeq
	s.feedMu.Unlock()
	st := Stats{
		HashingBusy: len(s.hashing), RegisterBusy: len(s.registering),
		HashingWaiting:  int(s.hashWaiting.Load()),
		RevokedSessions: revoked, PATCacheEntries: cached, FeedApplied: applied,
		UserCacheEntries: s.users.len(),
	}
	if ns := s.feedSyncedAt.Load(); ns != 0 {
		st.FeedSyncedAt = time.Unix(0, ns)
	}
	return st
}

// LastEvent returns the revocation feed's end as the store has it, for the
// lag between it and Stats().FeedApplied.
func (s *Service) LastEvent(ctx context.Context) (int64, error) {
	return s.store.LastEvent(ctx)
}

// noteSynced records that the feed was read to its end.
func (s *Service) noteSynced() { s.feedSyncedAt.Store(time.Now().UnixNano()) }

// acquireHashing is acquire, counted for Stats and timed for the Observer.
func (s *Service) acquireHashing(ctx context.Context, pool chan struct{}) error {
	name := "login"
	if pool == s.registering {
		name = "register"
	}
	start := time.Now()
	s.hashWaiting.Add(1)
	err := acquire(ctx, pool)
	s.hashWaiting.Add(-1)
	s.cfg.Observer.HashWaited(name, time.Since(start))
	return err
}

// checkOutcome is the Observer's word for a refused Authenticate.
func checkOutcome(err error) string {
	switch {
	case errors.Is(err, errRevoked):
		return "revoked"
	case errors.Is(err, errPATMalformed):
		return "malformed"
	case errors.Is(err, errPATUnknown):
		return "unknown"
	case errors.Is(err, errPATExpired):
		return "expired"
	case errors.Is(err, errPATCookie):
		return "in_cookie"
	}
	return codeOutcome(err)
}

// codeOutcome is the Observer's word for an error: "invalid" and
// "expired" for refused tokens, else the error's code.
func codeOutcome(err error) string {
	switch code := propusk.ErrorCode(err); code {
	case "":
		return "ok"
	case propusk.ETOKENINVALID:
		return "invalid"
	case propusk.ETOKENEXPIRED:
		return "expired"
	case propusk.EUNAVAILABLE:
		return "unavailable"
	case propusk.EINTERNAL:
		return "error"
	default:
		return code
	}
}

// resultOf is "ok" for nil, else err's code.
func resultOf(err error) string {
	if err == nil {
		return "ok"
	}
	return propusk.ErrorCode(err)
}

// renewOutcome is the Observer's word for a Renew.
func renewOutcome(r *propusk.Renewal, sp propusk.Spend) string {
	switch r.Outcome {
	case propusk.RenewRotated:
		return "rotated"
	case propusk.RenewGrace:
		if r.Fork == sp.NewFork {
			return "fork"
		}
		return "grace"
	case propusk.RenewReused:
		return "reuse_revoked"
	}
	return "session_ended"
}
