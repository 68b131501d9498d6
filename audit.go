package propusk

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"
)

// AbilityAuditRead is the ability a personal access token needs to read
// the audit log (an access token of an administrator has every ability).
const AbilityAuditRead = "audit:read"

// Audit event kinds.
const (
	AuditRegister        = "register"           // a user signed up
	AuditLogin           = "login"              // a login succeeded
	AuditLoginFailed     = "login.failed"       // a wrong login or password
	AuditRateLimited     = "rate_limited"       // a login or registration refused for too many tries
	AuditLogoff          = "logoff"             // the caller ended their own session
	AuditSessionEnded    = "session.ended"      // a session ended from the sessions list
	AuditReuse           = "session.reused"     // a spent refresh token came back: the session is revoked
	AuditTokenCreated    = "token.created"      // a personal access token was created
	AuditTokenDeleted    = "token.deleted"      // a personal access token was deleted
	AuditTokenReissued   = "token.reissued"     // the api-token was replaced; Detail is the reason
	AuditPasswordChanged = "password.changed"   // the user changed their own password
	AuditPasswordReset   = "password.reset"     // an administrator or the operator set it
	AuditUserCreated     = "admin.user.created" // the operator created a user (propusk user add, or a library call)
	AuditUserUpdated     = "admin.user.updated"
	AuditUserDeleted     = "admin.user.deleted"
	AuditSessionsEnded   = "admin.sessions.ended"
	AuditKeysRotated     = "keys.rotated"
	AuditKeysPruned      = "keys.pruned"
)

// How an actor authenticated.
const (
	AuthPassword = "password" // a login or registration form
	AuthAccess   = "access"   // an access token (JWT)
	AuthPAT      = "pat"      // a personal access token
	AuthToken    = "token"    // the holder of a token the request named, unauthenticated (logoff, RFC 7009 revocation)
	AuthOperator = "operator" // the command line, with the store's credentials
	AuthSystem   = "system"   // the server itself (pruning, rotation)
)

// AuditEntry is one security event. It never holds a token, a password or
// a hash: only ids, the address and user agent, and words.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Kind      string
	ActorID   int64  // the user who acted; 0 when anonymous, the operator or the system
	ActorPAT  int64  // the personal access token they acted through, 0 if none
	ActorAuth string // AuthPassword, AuthAccess, AuthPAT, AuthOperator or AuthSystem
	UserID    int64  // the subject user, 0 when none
	// UserIDOf, when set, is read for UserID as the store writes the entry:
	// the id of a user the same transaction creates.
	UserIDOf *int64 `json:"-"`
	Session  string // the subject session id, if any
	TokenID  int64  // the subject personal access token id, if any
	// TokenIDOf, when set, is read for TokenID as the store writes the
	// entry: the id of a token the same transaction creates.
	TokenIDOf *int64 `json:"-"`
	IP        string
	UserAgent string
	Outcome   string // "ok", or why it failed
	Detail    string // a reason or a short description; never a secret
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	UserID int64     // entries whose subject or actor is this user; 0 for all
	Kind   string    // one kind; "" for all
	Since  time.Time // at or after; zero for no bound
	Until  time.Time // before; zero for no bound
	Before int64     // the cursor: only entries with a lower id; 0 for the newest
	Limit  int       // at most this many; 0 or less means 100
}

// AuditStore keeps the audit log. Entries of changes are written by the
// store's write methods themselves, in the transaction of the change: a
// write method whose context carries an entry (WithAudit) inserts it before
// it commits, so a change that fails leaves no entry and no change goes
// unrecorded.
type AuditStore interface {
	// AddAudit inserts e on its own, for events that change nothing else
	// (a failed login). It sets e.ID.
	AddAudit(ctx context.Context, e *AuditEntry) error
	// Audit returns the entries q selects, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)
	// PruneAudit deletes the entries recorded before t and says how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

type auditKey struct{}

// WithAudit returns ctx carrying e: the next store write made with it
// records e in its transaction. Use it on one store call only.
func WithAudit(ctx context.Context, e *AuditEntry) context.Context {
	return context.WithValue(ctx, auditKey{}, e)
}

// AuditFrom returns the entry ctx carries, or nil. Stores call it inside
// their write transactions.
func AuditFrom(ctx context.Context) *AuditEntry {
	e, _ := ctx.Value(auditKey{}).(*AuditEntry)
	return e
}

// Prepared returns the entry to insert at now: UserIDOf read, At set if
// zero, and its strings made storable (valid UTF-8 without control
// characters, which no database refuses) and cut to what the stores keep.
func (e *AuditEntry) Prepared(now time.Time) *AuditEntry {
	c := *e
	if c.UserIDOf != nil {
		c.UserID = *c.UserIDOf
	}
	if c.TokenIDOf != nil {
		c.TokenID = *c.TokenIDOf
	}
	if c.At.IsZero() {
		c.At = now
	}
	c.At = TruncMillis(c.At)
	c.Kind = cut(c.Kind, 64)
	c.ActorAuth = cut(c.ActorAuth, 16)
	c.Session = cut(c.Session, 255)
	c.IP = cut(c.IP, 255)
	c.UserAgent = cut(c.UserAgent, 512)
	c.Outcome = cut(c.Outcome, 64)
	c.Detail = cut(c.Detail, 255)
	return &c
}

// cut is s as valid UTF-8 without control characters, shortened to at
// most n bytes on a UTF-8 boundary.
func cut(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ReuseAudit is the entry a store records, in the transaction that revokes
// the session, when a spent refresh token comes back (RenewReused).
func ReuseAudit(sessionID string, userID int64, c Client) *AuditEntry {
	return &AuditEntry{
		Kind: AuditReuse, ActorAuth: AuthSystem, UserID: userID, Session: sessionID,
		IP: c.IP, UserAgent: c.UserAgent, Outcome: "revoked", Detail: "refresh token reused",
	}
}

type clientKey struct{}

// WithClient returns ctx carrying c, the client of the request, for the
// audit entries of what the request does.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// WithClientOf is WithClient with the client made by of, when ClientFrom
// first asks for it, and then kept: most requests record nothing in the
// audit log, and reading a client (its address parsed from a header) is
// then work no one needs.
func WithClientOf(ctx context.Context, of func() Client) context.Context {
	return context.WithValue(ctx, clientKey{}, &lazyClient{of: of})
}

// lazyClient is the client WithClientOf puts in a context.
type lazyClient struct {
	once sync.Once
	of   func() Client
	c    Client
}

// ClientFrom returns the client ctx carries, and whether it carries one
// (whether ctx is a request's).
func ClientFrom(ctx context.Context) (Client, bool) {
	switch c := ctx.Value(clientKey{}).(type) {
	case Client:
		return c, true
	case *lazyClient:
		c.once.Do(func() { c.c, c.of = c.of(), nil })
		return c.c, true
	}
	return Client{}, false
}
