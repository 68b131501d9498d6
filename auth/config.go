package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/propusk/propusk"
)

// Defaults of Config that the command line shows as its flags' defaults.
// Every other default is written in Config's comments and set by fill.
const (
	DefaultIssuer     = "propusk"
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 720 * time.Hour
	// DefaultRenewGrace covers tabs that renew at once, and a client's
	// resend of a renewal whose answer was lost.
	DefaultRenewGrace = 10 * time.Second
	// DefaultAuditRetention is how long audit log entries are kept: 90 days.
	DefaultAuditRetention = 90 * 24 * time.Hour
)

// Default caps on what one user holds: far above any person's use (a
// token per app or CI job, a session per device and browser), low enough
// that one account, or one stolen password, cannot fill the database.
const (
	DefaultMaxTokensPerUser   = 1000
	DefaultMaxSessionsPerUser = 1000
)

// DefaultUserCacheSize is how many users Caller keeps in memory by
// default: a few megabytes, and every user active at once on most sites.
const DefaultUserCacheSize = 10000

// NoGrace, as Config.RenewGrace, turns the grace period off: 0 there
// means the default, as every zero in Config does.
const NoGrace time.Duration = -1

// NoCap, as Config.MaxTokensPerUser or MaxSessionsPerUser, turns the cap off.
const NoCap = -1

// Config configures a Service. Zero values take the defaults in the comments.
type Config struct {
	Store     propusk.Store // required
	MasterKey []byte        // required: 32 bytes that seal the signing and sealing keys at rest

	Now    func() time.Time // default time.Now
	Rand   io.Reader        // default crypto/rand.Reader
	Logger *slog.Logger     // default: slog.Default()

	Issuer     string        // iss of access tokens; default DefaultIssuer
	AccessTTL  time.Duration // default DefaultAccessTTL
	RefreshTTL time.Duration // default DefaultRefreshTTL
	// RenewGrace is how long a spent refresh token still renews, for tabs
	// that race; default DefaultRenewGrace. NoGrace turns it off: a token
	// spent twice is then always a reuse.
	RenewGrace  time.Duration
	APITokenTTL time.Duration // lifetime of api-tokens; default 0, never expire

	TokenPrefix   string // prefix of new personal access token secrets; default none
	TokenableType string // tokenable_type of users' tokens; default `App\Models\User`, as Laravel writes it; Laravel's when Laravel is set

	// Laravel, when set, is Laravel mode: the store shares a Laravel app's
	// users and tokens (the store must be opened in Laravel mode too). It
	// decides three things: the tokenable type is Laravel.TokenableType,
	// KeepHashes is on, and every password hash written (registration,
	// password changes, CreateUser) is of Laravel.Hash with Laravel's
	// defaults, so the app still verifies every password. Default nil: propusk's own schema.
	Laravel *propusk.Laravel

	Argon2 Argon2Params // default OWASP's (m=19 MiB, t=2, p=1)
	// KeepHashes keeps the hash a user logged in with, whatever wrote it.
	// Default false: a bcrypt or argon2i hash (from PHP), or an argon2id
	// hash with other parameters, is replaced by one with Argon2 after a
	// successful login. Laravel mode sets it, so the app sharing the table
	// can still verify the password.
	KeepHashes bool
	// MinFailedLogin is the least a failed login costs from the start of
	// its password check; default 0: the slowest check seen in the last
	// 10 to 20 minutes, at least one of the dummy hash. Set it above the
	// slowest hash in the store (e.g. 200ms) so that even the first failure
	// against a costlier hash costs the same as an unknown login's.
	MinFailedLogin time.Duration
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
	// ECONFLICT. NoCap: none.
	MaxTokensPerUser   int // personal access tokens; default DefaultMaxTokensPerUser
	MaxSessionsPerUser int // live sessions (signed-in devices); default DefaultMaxSessionsPerUser

	PollInterval  time.Duration // how often to read the feed when the store cannot push; default 100ms
	SafetyPoll    time.Duration // how often to read it anyway when it can; default 5s
	TouchInterval time.Duration // how often last_used_at is flushed; default 10s
	PATCacheTTL   time.Duration // how long a verified token row is trusted between feed events; default 1m
	// UserCacheSize bounds the users kept in memory for Caller (login,
	// level, boards, disabled; never a password hash), so that user.me
	// and the like read no database for a repeated caller; default
	// DefaultUserCacheSize. The least recently used leave first
	// (approximately: CLOCK). Every change to a user drops its entry on
	// every process through the revocation feed, so an entry is never
	// older than a revocation would be; a crash loses nothing but the cache.
	UserCacheSize int

	Observer Observer // told of token checks, renewals, logins, registrations, hashing; default NopObserver

	// AuditRetention is how long audit log entries are kept; the hourly
	// prune deletes older ones. Default DefaultAuditRetention.
	AuditRetention time.Duration
}

// fill sets the defaults of the fields left zero, and rejects what cannot work.
func (c *Config) fill() error {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	switch {
	case c.RenewGrace == 0:
		c.RenewGrace = DefaultRenewGrace
	case c.RenewGrace < 0: // NoGrace
		c.RenewGrace = 0
	}
	if c.AccessTTL < 0 || c.RefreshTTL < c.AccessTTL || c.APITokenTTL < 0 {
		return errors.New("auth: TTLs must be positive and the refresh TTL at least the access TTL")
	}
	if len(c.TokenPrefix) > 32 || strings.ContainsFunc(c.TokenPrefix, func(r rune) bool {
		return !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		return errors.New("auth: the token prefix must be at most 32 letters, digits, '_' or '-'")
	}
	if c.Laravel != nil {
		l := c.Laravel.WithDefaults()
		if err := l.Validate(); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
		c.Laravel, c.TokenableType, c.KeepHashes = &l, l.TokenableType, true
	}
	if c.TokenableType == "" {
		c.TokenableType = `App\Models\User`
	}
	c.Argon2.fill()
	if c.MaxHashing <= 0 {
		c.MaxHashing = 2 * runtime.GOMAXPROCS(0)
	}
	if c.RegisterHashing <= 0 {
		c.RegisterHashing = max(1, c.MaxHashing/4)
	}
	c.LoginLimit.fill()
	c.RegisterLimit.fill()
	if c.MaxTokensPerUser == 0 {
		c.MaxTokensPerUser = DefaultMaxTokensPerUser
	}
	if c.MaxSessionsPerUser == 0 {
		c.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.SafetyPoll <= 0 {
		c.SafetyPoll = 5 * time.Second
	}
	if c.TouchInterval <= 0 {
		c.TouchInterval = 10 * time.Second
	}
	if c.PATCacheTTL <= 0 {
		c.PATCacheTTL = time.Minute
	}
	if c.UserCacheSize <= 0 {
		c.UserCacheSize = DefaultUserCacheSize
	}
	if c.Observer == nil {
		c.Observer = NopObserver{}
	}
	if c.AuditRetention <= 0 {
		c.AuditRetention = DefaultAuditRetention
	}
	return nil
}
