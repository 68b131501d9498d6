// Package auth is propusk's service: registration, login, the rotation of
// refresh tokens, logoff, personal access tokens and the api-token
// lifecycle. It works over any propusk.Store and knows nothing of HTTP.
//
// # State on the request path
//
// Verifying a caller reads no database. An access token is checked by
// signature (cached after the first time) and against an in-memory set of
// revoked sessions. A personal access token is checked against an in-memory
// cache of its row, filled by one lookup by id on a miss. What handlers
// show of the caller's user (Caller) comes from a bounded cache of users.
// All are kept current by the store's revocation feed, which Run follows:
// a logoff or a change to a user on any process reaches every other within
// the feed's latency (LISTEN/NOTIFY on PostgreSQL, a short poll on SQLite).
//
// # Time and randomness
//
// Both come in through Config, so tests run on a fake clock without sleeps.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/seal"
	"github.com/propusk/propusk/token"
)

// Service is the propusk service. Create it with New and keep Run running.
type Service struct {
	cfg    Config
	store  propusk.Store
	log    *slog.Logger
	tokens *token.Tokens
	master *seal.Key
	sealMu sync.RWMutex
	seals  sealKeys

	coarse  *coarseClock // nil when Config.Now was given
	revoked *revokedSet
	pats    *patCache
	users   *userCache
	patMiss *patMisses
	touched *touchLog
	limiter *limiter
	hashing chan struct{}
	// registering holds the hashing slots of registrations, apart from hashing's.
	registering chan struct{}
	writeHash   hashWriter // hashes the passwords the service writes (writerOf)
	dummy       string     // a hash to check unknown logins against, so they cost the same
	failCost    *failCost  // pads failed logins to one cost
	feedMu      sync.Mutex // serialises SyncFeed; guards lastSeq
	lastSeq     int64
	feedWake    chan struct{}

	keysStale bool // under feedMu: a keys event was read, the keys not yet reloaded

	keysMu sync.Mutex // serialises reading and installing keys; guards keyIDs
	keyIDs string     // the ids of the keys in use, to notice a change

	hub *feedHub // the feed entries applied, fanned out to subscribers

	obsState // for Stats
}

// New validates cfg, loads the keys (creating them on first start) and the
// sessions revoked recently, and returns a ready Service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Config.Store is required")
	}
	var coarse *coarseClock
	if cfg.Now == nil {
		coarse = &coarseClock{}
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	master, err := seal.NewKey(cfg.MasterKey, cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("auth: master key: %w", err)
	}
	s := &Service{
		cfg:         cfg,
		store:       cfg.Store,
		log:         cfg.Logger,
		master:      master,
		coarse:      coarse,
		revoked:     newRevokedSet(),
		pats:        newPATCache(1 << 16),
		users:       newUserCache(cfg.UserCacheSize),
		patMiss:     newPATMisses(1 << 16),
		touched:     newTouchLog(),
		limiter:     newLimiter(cfg.LoginLimit, cfg.RegisterLimit, cfg.Store),
		hashing:     make(chan struct{}, cfg.MaxHashing),
		registering: make(chan struct{}, cfg.RegisterHashing),
		feedWake:    make(chan struct{}, 1),
	}
	if err := s.checkMaster(ctx); err != nil {
		return nil, err
	}
	ks, err := s.loadKeys(ctx, true)
	if err != nil {
		return nil, err
	}
	s.tokens = token.New(ks, token.Config{
		Issuer: cfg.Issuer, Now: cfg.Now, Rand: cfg.Rand,
		Reload: s.reloadKeys,
	})
	// The dummy is of the algorithm written: in Laravel mode, the app's,
	// which costs more than propusk's own argon2id.
	s.writeHash = writerOf(cfg)
	if s.dummy, err = s.writeHash(cfg.Rand, "propusk dummy password"); err != nil {
		return nil, err
	}
	s.failCost = newFailCost(cfg.MinFailedLogin)
	if _, _, err := s.verify(ctx, s.dummy, ""); err != nil { // the cost of an unknown login, from the start
		return nil, err
	}
	// Read the feed position before the revoked sessions, so a revocation
	// that lands in between is applied twice rather than missed.
	if s.lastSeq, err = s.store.LastEvent(ctx); err != nil {
		return nil, fmt.Errorf("auth: read feed position: %w", err)
	}
	s.hub = newFeedHub(s.lastSeq)
	s.noteSynced()
	ids, err := s.store.RevokedSince(ctx, cfg.Now().Add(-cfg.AccessTTL))
	if err != nil {
		return nil, fmt.Errorf("auth: load revoked sessions: %w", err)
	}
	for _, id := range ids {
		s.revoked.add(id, cfg.Now())
	}
	return s, nil
}

// JWKS returns the public keys that verify access tokens.
func (s *Service) JWKS() []byte { return s.tokens.Keyset().JWKS() }

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// Rand returns the service's source of randomness, for code beside it
// that draws its own random values (package web's CSRF nonces).
func (s *Service) Rand() io.Reader { return s.cfg.Rand }

// RefreshTTL returns how long a refresh token lives, and so a session
// unless it is renewed: how long a cookie that goes with one should last.
func (s *Service) RefreshTTL() time.Duration { return s.cfg.RefreshTTL }

// Caps returns the per-user caps in effect: personal access tokens and
// live sessions, NoCap for none.
func (s *Service) Caps() (tokens, sessions int) {
	return s.cfg.MaxTokensPerUser, s.cfg.MaxSessionsPerUser
}

// Run follows the revocation feed, flushes last_used_at, prunes old rows
// and (when Config.Now was left to default) keeps the coarse clock that
// personal access token verification reads, until ctx ends; then it flushes
// once more and returns. A server runs it in the background for its whole life.
func (s *Service) Run(ctx context.Context) error {
	go s.followFeed(ctx)
	if s.coarse != nil {
		go s.coarse.run(ctx)
	}
	touch := time.NewTicker(s.cfg.TouchInterval)
	defer touch.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return s.Flush(flushCtx)
		case <-touch.C:
			if err := s.Flush(ctx); err != nil {
				s.log.Warn("flush last_used_at", "err", err)
			}
		case <-prune.C:
			s.revoked.prune(s.cfg.Now().Add(-2 * s.cfg.AccessTTL))
			if err := s.limiter.prune(ctx, s.cfg.Now()); err != nil {
				s.log.Warn("prune attempt budgets", "err", err)
			}
			if err := s.store.Prune(ctx, s.cfg.Now().Add(-24*time.Hour-s.cfg.AccessTTL)); err != nil {
				s.log.Warn("prune", "err", err)
			}
			if err := s.PruneKeys(ctx); err != nil {
				s.log.Warn("prune keys", "err", err)
			}
			if err := s.PruneAudit(ctx); err != nil {
				s.log.Warn("prune audit log", "err", err)
			}
		}
	}
}

// Ping checks that the store answers, for health checks.
func (s *Service) Ping(ctx context.Context) error {
	if _, err := s.store.LastEvent(ctx); err != nil {
		return fmt.Errorf("auth: ping: %w", err)
	}
	return nil
}

// Flush writes the coalesced last_used_at times of personal access tokens.
func (s *Service) Flush(ctx context.Context) error {
	used := s.touched.take()
	if len(used) == 0 {
		return nil
	}
	if err := s.store.TouchTokens(ctx, used); err != nil {
		s.touched.putBack(used)
		return fmt.Errorf("auth: flush last_used_at: %w", err)
	}
	return nil
}

// followFeed applies the revocation feed: pushed by the store when it can
// (with a slow safety poll for anything missed), polled otherwise.
func (s *Service) followFeed(ctx context.Context) {
	n, push := s.store.(propusk.Notifier)
	if push {
		go func() {
			backoff := 100 * time.Millisecond
			for ctx.Err() == nil {
				if err := n.Wait(ctx); err != nil {
					if ctx.Err() != nil {
						return
					}
					s.log.Warn("revocation feed: waiting for notifications", "err", err)
					select {
					case <-ctx.Done():
						return
					case <-time.After(backoff):
					}
					backoff = min(2*backoff, 2*time.Second)
				} else {
					backoff = 100 * time.Millisecond
				}
				// Read after every wake and after every failure: a
				// reconnected listener may have missed notifications.
				select {
				case s.feedWake <- struct{}{}:
				default:
				}
			}
		}()
	}
	interval := s.cfg.PollInterval
	if push {
		interval = s.cfg.SafetyPoll
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	safety := time.NewTicker(s.cfg.SafetyPoll)
	defer safety.Stop()
	// A failed catch-up is retried soon, not at the next event: the keys
	// event it could not apply may be the deletion of a compromised key.
	var retry <-chan time.Time
	backoff, failures := 50*time.Millisecond, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.feedWake:
		case <-retry:
		case <-safety.C:
			if err := s.checkKeys(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("signing keys: safety check", "err", err)
			}
		}
		err := s.SyncFeed(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if failures++; failures == 1 {
				s.log.Warn("revocation feed: catching up; retrying", "err", err)
			}
			retry = time.After(backoff)
			backoff = min(2*backoff, 500*time.Millisecond)
		default:
			if failures > 0 {
				s.log.Info("revocation feed: caught up", "failures", failures)
			}
			retry, backoff, failures = nil, 50*time.Millisecond, 0
		}
	}
}

// SyncFeed applies every feed entry not yet applied. Run calls it; tests and
// tools may call it to catch up at once.
func (s *Service) SyncFeed(ctx context.Context) error {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	for {
		events, err := s.store.Events(ctx, s.lastSeq, 500)
		if err != nil {
			return err
		}
		for _, e := range events {
			switch e.Kind {
			case propusk.EventSession:
				s.revoked.add(e.Ref, e.At)
			case propusk.EventPAT:
				s.pats.evictRef(e.Ref)
			case propusk.EventUser:
				s.users.dropRef(e.Ref)
			case propusk.EventKeys:
				s.keysStale = true
			}
			s.lastSeq = e.Seq
		}
		s.hub.publish(events)
		// The cursor has moved past the keys event, so keysStale, not the
		// feed, remembers the reload until one succeeds.
		if s.keysStale {
			if err := s.reloadKeys(ctx); err != nil {
				return err
			}
			s.keysStale = false
		}
		if len(events) == 0 {
			s.noteSynced()
			return s.checkFeedRegression(ctx)
		}
		if len(events) < 500 {
			s.noteSynced()
			return nil
		}
	}
}

// checkFeedRegression handles a feed whose numbering went back: a database
// restored from a backup, or a replica promoted after losing the last
// transactions. Waiting for numbers past the old position would skip every
// revocation until then, so the process starts over from the store's state:
// recent revocations, keys, and the feed's current end. The caller holds feedMu.
func (s *Service) checkFeedRegression(ctx context.Context) error {
	last, err := s.store.LastEvent(ctx)
	if err != nil || last >= s.lastSeq {
		return err
	}
	s.log.Warn("revocation feed went back; reloading revocations and keys", "had", s.lastSeq, "store", last)
	ids, err := s.store.RevokedSince(ctx, s.cfg.Now().Add(-s.cfg.AccessTTL))
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.revoked.add(id, s.cfg.Now())
	}
	if err := s.reloadKeys(ctx); err != nil {
		return err
	}
	s.keysStale = false
	s.pats.clear()
	s.users.clear()
	s.lastSeq = last
	s.hub.restart(last)
	return nil
}
