// Package auth is propusk's service: registration, login, the rotation of
// refresh tokens, logoff, personal access tokens and the api-token
// lifecycle. It works over any propusk.Store and knows nothing of HTTP.
//
// # State on the request path
//
// Verifying a caller reads no database. An access token is checked by
// signature (cached after the first time) and against an in-memory set of
// revoked sessions. A personal access token is checked against an in-memory
// cache of its row, filled by one lookup by id on a miss. Both are kept
// current by the store's revocation feed, which Run follows: a logoff on any
// process reaches every other within the feed's latency (LISTEN/NOTIFY on
// PostgreSQL, a short poll on SQLite).
//
// # Time and randomness
//
// Both come in through Config, so tests run on a fake clock without sleeps.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/seal"
	"github.com/propusk/propusk/token"
)

// Config configures a Service. Zero values take the defaults in the comments.
type Config struct {
	Store     propusk.Store // required
	MasterKey []byte        // required: 32 bytes that seal the signing and sealing keys at rest

	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand.Reader
	Logger *slog.Logger     // default: discard

	Issuer      string        // iss of access tokens; default "propusk"
	AccessTTL   time.Duration // default 15m
	RefreshTTL  time.Duration // default 720h
	RenewGrace  time.Duration // default 10s; negative: no grace
	APITokenTTL time.Duration // lifetime of api-tokens; default 0, never expire

	TokenPrefix   string // prefix of new personal access token secrets; default none
	TokenableType string // tokenable_type of users' tokens; default `App\Models\User`, as Laravel writes it

	Argon2 Argon2Params // default OWASP's (m=19 MiB, t=2, p=1)
	// MaxHashing bounds concurrent argon2 computations, each of which takes
	// Argon2.Memory: without it a login flood would exhaust memory. Default 2×GOMAXPROCS.
	MaxHashing int
	// RegisterHashing bounds concurrent argon2 computations of
	// registrations. They have slots of their own, apart from MaxHashing's,
	// so a registration flood can never take the slots logins need.
	// Default MaxHashing/4, at least 1.
	RegisterHashing int

	LoginLimit    LimitConfig         // default 5 failures per login and 50 per address in 15 minutes
	RegisterLimit RegisterLimitConfig // default 30 registrations per address in an hour

	// Caps on what one user holds; past them CreateToken and Login answer
	// ECONFLICT. Negative: no cap.
	MaxTokensPerUser   int // personal access tokens; default 1000
	MaxSessionsPerUser int // live sessions (signed-in devices); default 1000

	PollInterval  time.Duration // how often to read the feed when the store cannot push; default 500ms
	SafetyPoll    time.Duration // how often to read it anyway when it can; default 5s
	TouchInterval time.Duration // how often last_used_at is flushed; default 10s
	PATCacheTTL   time.Duration // how long a verified token row is trusted between feed events; default 1m
}

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
	patMiss *patMisses
	touched *touchLog
	limiter *limiter
	hashing chan struct{}
	// registering holds the hashing slots of registrations, apart from hashing's.
	registering chan struct{}
	dummy       string     // a hash to check unknown logins against, so they cost the same
	feedMu      sync.Mutex // serialises SyncFeed; guards lastSeq
	lastSeq     int64
	feedWake    chan struct{}

	keysStale bool // under feedMu: a keys event was read, the keys not yet reloaded

	keysMu sync.Mutex // serialises reading and installing keys; guards keyIDs
	keyIDs string     // the ids of the keys in use, to notice a change

	hub *feedHub // the feed entries applied, fanned out to subscribers
}

// New validates cfg, loads the keys (creating them on first start) and the
// sessions revoked recently, and returns a ready Service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Config.Store is required")
	}
	var coarse *coarseClock
	if cfg.Now == nil {
		cfg.Now = time.Now
		coarse = &coarseClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "propusk"
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 720 * time.Hour
	}
	if cfg.RenewGrace == 0 {
		cfg.RenewGrace = 10 * time.Second
	}
	if cfg.RenewGrace < 0 {
		cfg.RenewGrace = 0
	}
	if cfg.AccessTTL < 0 || cfg.RefreshTTL < cfg.AccessTTL || cfg.APITokenTTL < 0 {
		return nil, errors.New("auth: TTLs must be positive and the refresh TTL at least the access TTL")
	}
	if len(cfg.TokenPrefix) > 32 || strings.ContainsFunc(cfg.TokenPrefix, func(r rune) bool {
		return !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		return nil, errors.New("auth: the token prefix must be at most 32 letters, digits, '_' or '-'")
	}
	if cfg.TokenableType == "" {
		cfg.TokenableType = `App\Models\User`
	}
	cfg.Argon2.fill()
	if cfg.MaxHashing <= 0 {
		cfg.MaxHashing = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.RegisterHashing <= 0 {
		cfg.RegisterHashing = max(1, cfg.MaxHashing/4)
	}
	cfg.LoginLimit.fill()
	cfg.RegisterLimit.fill()
	if cfg.MaxTokensPerUser == 0 {
		cfg.MaxTokensPerUser = DefaultMaxTokensPerUser
	}
	if cfg.MaxSessionsPerUser == 0 {
		cfg.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.SafetyPoll <= 0 {
		cfg.SafetyPoll = 5 * time.Second
	}
	if cfg.TouchInterval <= 0 {
		cfg.TouchInterval = 10 * time.Second
	}
	if cfg.PATCacheTTL <= 0 {
		cfg.PATCacheTTL = time.Minute
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
	if s.dummy, err = hashPassword(cfg.Rand, cfg.Argon2, "propusk dummy password"); err != nil {
		return nil, err
	}
	// Read the feed position before the revoked sessions, so a revocation
	// that lands in between is applied twice rather than missed.
	if s.lastSeq, err = s.store.LastEvent(ctx); err != nil {
		return nil, fmt.Errorf("auth: read feed position: %w", err)
	}
	s.hub = newFeedHub(s.lastSeq)
	ids, err := s.store.RevokedSince(ctx, cfg.Now().Add(-cfg.AccessTTL))
	if err != nil {
		return nil, fmt.Errorf("auth: load revoked sessions: %w", err)
	}
	for _, id := range ids {
		s.revoked.add(id, cfg.Now())
	}
	return s, nil
}

// Signer returns the JWT signer and verifier, for code that mints or checks
// tokens directly (tests, tools).
func (s *Service) Signer() *token.Tokens { return s.tokens }

// JWKS returns the public keys that verify access tokens.
func (s *Service) JWKS() []byte { return s.tokens.Keyset().JWKS() }

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.cfg.Now() }

// Config returns the configuration in effect, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

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
			return s.checkFeedRegression(ctx)
		}
		if len(events) < 500 {
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
	s.lastSeq = last
	s.hub.restart(last)
	return nil
}
