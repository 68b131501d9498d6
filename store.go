package propusk

import (
	"context"
	"time"
)

// User is a registered user.
type User struct {
	ID           int64
	Login        string
	PasswordHash string   // PHC-formatted argon2id hash, or one PHP wrote (bcrypt, argon2i)
	Level        int      // LevelUser by default
	Boards       []string // ["*"] by default
	// APIToken is the current "api-token" personal access token, sealed
	// (authenticated encryption under the server's sealing key); "" if none.
	// It is the users.api_token column and never holds plain text.
	APIToken string
	// Name is, in Laravel mode, the users.name column, which a stock
	// Laravel users table requires: a user propusk creates with an empty
	// Name gets the login. Outside Laravel mode it is ignored.
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// DisabledAt is when an administrator disabled the user; zero while
	// the user is enabled.
	DisabledAt time.Time
}

// Session is one signed-in device of a user: the refresh tokens that
// descend from one login. Anonymous clients have no Session row.
//
// A session's refresh tokens form chains. A chain is a generation counter:
// the refresh token usable now carries the chain's id ("fork", "" for the
// session's first chain) and Generation ("gen"); spending it moves the chain
// to Generation+1. Only counters are stored, never a token. When two
// clients race to spend one token, the loser starts a new chain (a fork) at
// the same generation, so each client's token keeps working on its own.
type Session struct {
	ID     string // random, URL-safe; the "sid" claim
	UserID int64
	// Generation is the first chain's counter; RotatedAt is when it last moved.
	Generation int64
	RotatedAt  time.Time // when Generation last moved
	CreatedAt  time.Time
	RenewedAt  time.Time // last renew, for the sessions list
	ExpiresAt  time.Time // the refresh token's lifetime; renews extend it
	RevokedAt  time.Time // zero while the session is live
	UserAgent  string
	IP         string
}

// Revoked reports whether the session has been ended.
func (s *Session) Revoked() bool { return !s.RevokedAt.IsZero() }

// PersonalAccessToken is a row of Sanctum's personal_access_tokens table.
type PersonalAccessToken struct {
	ID            int64
	TokenableType string // "App\\Models\\User" for tokens of users
	TokenableID   int64  // the user's id
	Name          string
	Hash          string   // hex SHA-256 of the secret; the plain secret is never stored
	Abilities     []string // ["*"] by default
	LastUsedAt    time.Time
	ExpiresAt     time.Time // zero: never expires
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Expired reports whether the token has expired at now.
func (t *PersonalAccessToken) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Key uses.
const (
	KeyUseAccess  = "access"  // Ed25519 key that signs access tokens; public half in the JWKS
	KeyUseRefresh = "refresh" // HMAC key that signs refresh tokens; never published
	KeyUseSeal    = "seal"    // AES-256 key that seals users.api_token
)

// Key is a signing or sealing key as stored: its secret half is sealed under
// the master key, which never enters the store.
type Key struct {
	ID        string // the JWT "kid"
	Use       string // KeyUseAccess, KeyUseRefresh or KeyUseSeal
	Sealed    []byte // the private or secret key, sealed under the master key
	Public    []byte // the public key (Ed25519 only)
	CreatedAt time.Time
}

// Event kinds of the revocation feed.
const (
	EventSession = "session" // Ref is a session id that was revoked
	EventPAT     = "pat"     // Ref is a personal access token id that was deleted
	EventKeys    = "keys"    // the key set changed; Ref is empty
	// EventUser: Ref is the id of a user whose row changed (login, password,
	// level, boards, disabled) or who was deleted. Processes drop what they
	// cached of that user. In Laravel mode a trigger on the app's users
	// table appends it too, for changes the app makes.
	EventUser = "user"
)

// Event is one entry of the revocation feed: every process applies it to its
// in-memory state (revoked sessions, cached tokens, keys).
type Event struct {
	Seq  int64 // increasing; a process resumes after the last Seq it applied
	Kind string
	Ref  string
	At   time.Time
}

// Store is what the service needs from a database: the stores of each
// concept below, in one. Implementations translate driver errors by code:
// ENOTFOUND, ECONFLICT and EUNAVAILABLE as *Error, and everything else
// wrapped with context. Every method is safe for concurrent use.
//
// The service needs all of it, and every database implements all of it, so
// auth.Config takes a Store; the small interfaces group the methods by
// concept for the reader and let code that needs one concept ask for it.
type Store interface {
	UserStore
	PasswordStore
	SessionStore
	TokenStore
	KeyStore
	FeedStore
	MetaStore
	UserAdminStore
	AuditStore

	// Close releases the store's connections.
	Close() error
}

// UserStore keeps users.
type UserStore interface {
	// CreateUser inserts u, setting u.ID, CreatedAt and UpdatedAt (from u.CreatedAt
	// when it is set), and stores the login's canonical key (package logins)
	// beside it. ECONFLICT when the login, or one with the same key, is
	// taken; EINVALID when the login has no key.
	CreateUser(ctx context.Context, u *User) error
	// Register writes r in one transaction: inserts r.User, then r.Session
	// and r.Token for it, and sets the user's api_token to
	// r.SealAPIToken(r.User.ID). On any error nothing is written.
	// ECONFLICT when the login is taken.
	Register(ctx context.Context, r *Registration) error
	// UserByID returns the user or ENOTFOUND.
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByLogin returns the user whose login has the same canonical key
	// as login ("ADMIN" finds "admin"), or ENOTFOUND. A row written without
	// a key (by another app sharing the table) matches its exact login only.
	UserByLogin(ctx context.Context, login string) (*User, error)
}

// SessionStore keeps signed-in sessions and spends their refresh tokens.
type SessionStore interface {
	// CreateSession inserts s. ECONFLICT if the id exists.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session or ENOTFOUND.
	Session(ctx context.Context, id string) (*Session, error)
	// UserSessions returns the user's sessions that are neither revoked nor
	// expired at now, newest first.
	UserSessions(ctx context.Context, userID int64, now time.Time) ([]*Session, error)
	// RenewSession spends the refresh token sp names at now, atomically:
	// with one compare-and-swap on its chain, not a read then a write, so
	// that of many concurrent spends of one generation, across processes,
	// exactly one rotates. On RenewRotated it extends ExpiresAt to now+ttl
	// and records c. On RenewGrace (Judge decides) it forks the
	// chain as sp.NewFork at the spent generation+1, unless the session has
	// MaxForks forks. On RenewReused it revokes the session and appends an
	// EventSession. A fork that does not exist is RenewInvalid.
	RenewSession(ctx context.Context, sp Spend, now time.Time, grace, ttl time.Duration, c Client) (*Renewal, error)
	// RevokeSession revokes the session at now and appends an EventSession, in
	// one transaction. Revoking a revoked session changes nothing and is no error.
	// ENOTFOUND if it does not exist or userID is not 0 and not its owner.
	RevokeSession(ctx context.Context, id string, userID int64, now time.Time) error
	// RevokedSince returns the ids of sessions revoked at or after t; a
	// starting process loads them so recent revocations hold from its first
	// request. It includes the sessions of users deleted since t (from the
	// feed, as their rows are gone).
	RevokedSince(ctx context.Context, t time.Time) ([]string, error)
}

// TokenStore keeps personal access tokens, in Sanctum's table.
type TokenStore interface {
	// CreateToken inserts t, setting t.ID. ECONFLICT if the hash exists.
	CreateToken(ctx context.Context, t *PersonalAccessToken) error
	// Token returns the token with this id, or ENOTFOUND.
	Token(ctx context.Context, id int64) (*PersonalAccessToken, error)
	// TokenByHash returns the token with this hex SHA-256, or ENOTFOUND; for
	// Sanctum tokens presented without their "id|" part.
	TokenByHash(ctx context.Context, hash string) (*PersonalAccessToken, error)
	// LastTokenID returns the highest personal access token id in the store,
	// 0 when there is none. Ids are never reused, so an id above it has not
	// been issued yet: the service answers such ids without a lookup.
	LastTokenID(ctx context.Context) (int64, error)
	// UserTokens returns the tokens of the user (tokenable_type typ), oldest first.
	UserTokens(ctx context.Context, typ string, userID int64) ([]*PersonalAccessToken, error)
	// DeleteToken deletes the user's token and appends an EventPAT, in one
	// transaction. ENOTFOUND if there is no such token of that user.
	DeleteToken(ctx context.Context, typ string, userID, id int64) error
	// ReplaceNamedToken, in one transaction: deletes the user's tokens named
	// t.Name (appending an EventPAT for each), inserts t (setting t.ID), and
	// sets users.api_token to sealed. It returns the ids it deleted.
	// ENOTFOUND if the user does not exist.
	ReplaceNamedToken(ctx context.Context, t *PersonalAccessToken, sealed string) ([]int64, error)
	// TouchTokens sets last_used_at for many tokens in one transaction;
	// tokens that no longer exist are skipped.
	TouchTokens(ctx context.Context, used map[int64]time.Time) error
}

// KeyStore keeps the signing and sealing keys, sealed.
type KeyStore interface {
	// Keys returns every stored key, oldest first.
	Keys(ctx context.Context) ([]*Key, error)
	// AddKeys inserts the keys and appends one EventKeys, in one transaction.
	AddKeys(ctx context.Context, keys ...*Key) error
	// DeleteKeys deletes the keys by id and appends one EventKeys.
	DeleteKeys(ctx context.Context, ids ...string) error
	// AddMissingKeys inserts each of keys whose use has no stored key yet
	// (appending one EventKeys if it inserted any) and returns every stored
	// key, oldest first, in one transaction that excludes every other
	// AddMissingKeys: however many processes start at once on an empty
	// database, one key of each use is stored, and all of them get it.
	AddMissingKeys(ctx context.Context, keys ...*Key) ([]*Key, error)
}

// FeedStore is the revocation feed, and the pruning of what it no longer needs.
type FeedStore interface {
	// Events returns the feed entries with Seq > after, in order, at most limit.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// LastEvent returns the highest Seq in the feed, 0 when it is empty.
	LastEvent(ctx context.Context) (int64, error)
	// Prune deletes sessions that expired and feed entries recorded before t.
	Prune(ctx context.Context, before time.Time) error
}

// MetaStore keeps values the processes sharing a store must agree on.
type MetaStore interface {
	// SetMetaOnce stores value under name unless one is there; it returns the
	// value stored, so that of many processes starting at once all agree.
	SetMetaOnce(ctx context.Context, name, value string) (string, error)
}

// Notifier is implemented by stores that can push new feed entries (for
// PostgreSQL, LISTEN/NOTIFY). Wait blocks until an entry may have been added
// after the caller's last read, ctx ends, or the connection fails; after an
// error the caller reads Events to catch up and calls Wait again.
type Notifier interface {
	Wait(ctx context.Context) error
}
