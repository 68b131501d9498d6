// Package token signs and verifies propusk's JWTs. It knows nothing of
// databases or HTTP.
//
// Access tokens are EdDSA-signed with typ "at+jwt" (RFC 9068) and a kid that
// names a key of the JWKS. Refresh tokens are HS256-signed with a secret only
// the server holds, carry the claim typ "refresh", and are checked by a
// separate parser that accepts no other algorithm, so neither kind can stand
// in for the other, and "alg: none" or HS256 keyed with a public key is
// refused by construction.
//
// Verifying an access token already seen costs a map lookup: verified claims
// are cached by the exact token string, bounded in size, and a cached token
// past its exp is expired all the same. Revocation is not this package's
// concern: callers check the session on every request.
package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/propusk/propusk"
)

// MaxLen bounds the length of a token this package will parse. Ours are under
// 600 bytes; anything far longer is hostile.
const MaxLen = 4096

// AccessType is the JOSE typ of access tokens (RFC 9068).
const AccessType = "at+jwt"

// RefreshType is the typ claim of refresh tokens.
const RefreshType = "refresh"

// AccessClaims are the claims of an access token. A value returned by
// VerifyAccess may be shared with other callers: treat it as read-only.
type AccessClaims struct {
	Issuer    string       `json:"iss"`
	Subject   string       `json:"sub,omitempty"`
	ExpiresAt *NumericDate `json:"exp"`
	IssuedAt  *NumericDate `json:"iat"`
	NotBefore *NumericDate `json:"nbf,omitempty"` // never issued; honoured if present
	ID        string       `json:"jti"`
	SessionID string       `json:"sid"`
	UserID    int64        `json:"_id,omitempty"`
	Level     int          `json:"level"`
	Boards    []string     `json:"boards"`
}

// RefreshClaims are the claims of a refresh token. Fork and Generation name
// the chain and generation of its session the token may spend (see
// propusk.Session); both are empty for anonymous clients, whose refresh
// tokens are stateless.
type RefreshClaims struct {
	ExpiresAt  *NumericDate `json:"exp"`
	IssuedAt   *NumericDate `json:"iat,omitempty"` // never issued; honoured if present
	NotBefore  *NumericDate `json:"nbf,omitempty"` // never issued; honoured if present
	ID         string       `json:"jti"`
	SessionID  string       `json:"sid"`
	Type       string       `json:"typ"`
	UserID     int64        `json:"_id,omitempty"`
	Fork       string       `json:"fork,omitempty"`
	Generation int64        `json:"gen,omitempty"`
}

// Config configures Tokens. Zero values take the defaults in the comments.
type Config struct {
	Issuer    string           // default "propusk"
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // required: jti and nothing else
	CacheSize int              // verified access tokens kept; default 65536, negative disables
	// Reload, when set, is called for tokens whose kid is unknown, at most
	// once per ReloadInterval and one call at a time, so a key added by
	// another process verifies at once while a flood of made-up kids costs
	// a bounded number of small reads. The interval is also how long a
	// made-up kid waits for its 403, so it is kept short. It reads the keys and installs them with SetKeyset, so the
	// embedder orders installs and a slow read never puts back a deleted
	// key. A token that needs a Reload waits for one that started after it
	// arrived, then is checked again: it is never refused because another
	// request got to the Reload first.
	Reload         func(context.Context) error
	ReloadInterval time.Duration // default 100ms: at most ten reads a second
	ReloadWait     time.Duration // how long one Reload may take; default 3s
}

// Tokens issues and verifies tokens with the current Keyset. It is safe for
// concurrent use.
type Tokens struct {
	cfg     Config
	keys    atomic.Pointer[Keyset]
	access  *jwt.Parser
	refresh *jwt.Parser
	cache   *cache

	reloadMu   sync.Mutex  // guards lastReload, pending and running
	lastReload time.Time   // when the last Reload started
	pending    *reloadCall // the Reload that has not started yet, or nil
	running    *reloadCall // the Reload reading now, or nil
	runMu      sync.Mutex  // held while a Reload runs: one at a time
}

// reloadCall is one Reload, shared by every caller that asked for it before
// it started; done is closed when it ends, and err, its outcome, may be read
// after that.
type reloadCall struct {
	done chan struct{}
	err  error
}

// New returns Tokens using ks.
func New(ks *Keyset, cfg Config) *Tokens {
	if cfg.Issuer == "" {
		cfg.Issuer = "propusk"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReloadInterval == 0 {
		cfg.ReloadInterval = 100 * time.Millisecond
	}
	if cfg.ReloadWait <= 0 {
		cfg.ReloadWait = 3 * time.Second
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 1 << 16
	}
	t := &Tokens{cfg: cfg, cache: newCache(cfg.CacheSize)}
	t.keys.Store(ks)
	// The claims are checked by checkClaims, not by golang-jwt's validator:
	// one pass over the few dates and the issuer, with the leeway on iat
	// and nbf only (see checkNotYet).
	t.access = newParser("EdDSA", jwt.WithoutClaimsValidation())
	t.refresh = newParser("HS256", jwt.WithoutClaimsValidation())
	return t
}

// SetKeyset replaces the keys. Tokens already cached stay valid until exp,
// unless the key that signed them is gone: a key deleted (say, after a
// compromise) must stop its tokens at once, so then the cache is emptied.
func (t *Tokens) SetKeyset(ks *Keyset) {
	old := t.keys.Swap(ks)
	if old == nil {
		return
	}
	for kid := range old.access {
		if _, ok := ks.access[kid]; !ok {
			t.cache.clear()
			return
		}
	}
}

// Keyset returns the keys in use.
func (t *Tokens) Keyset() *Keyset { return t.keys.Load() }

// NewID returns a random token id (jti, sid): 128 bits, URL-safe.
func NewID(rand io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", err
	}
	return encodeID(b), nil
}

// SignAccess fills in iss and jti and returns the signed access token.
func (t *Tokens) SignAccess(c *AccessClaims) (string, error) {
	ks := t.keys.Load()
	if ks.signer.Private == nil {
		return "", errCannotSign
	}
	c.Issuer = t.cfg.Issuer
	if c.ID == "" {
		id, err := NewID(t.cfg.Rand)
		if err != nil {
			return "", err
		}
		c.ID = id
	}
	if c.Boards == nil {
		c.Boards = []string{}
	}
	if c.UserID != 0 {
		c.Subject = strconv.FormatInt(c.UserID, 10)
	}
	return signEdDSA(ks.accessHead, appendAccessClaims(make([]byte, 0, 320), c), ks.signer.Private), nil
}

// SignRefresh fills in typ and jti and returns the signed refresh token.
func (t *Tokens) SignRefresh(c *RefreshClaims) (string, error) {
	ks := t.keys.Load()
	if ks.refreshKey.Secret == nil {
		return "", errCannotSign
	}
	c.Type = RefreshType
	if c.ID == "" {
		id, err := NewID(t.cfg.Rand)
		if err != nil {
			return "", err
		}
		c.ID = id
	}
	return signHS256(ks.refreshHead, appendRefreshClaims(make([]byte, 0, 192), c), ks.refreshMAC), nil
}

var (
	errMalformed   = propusk.Errorf(propusk.ETOKENINVALID, "the token is malformed")
	errSignature   = propusk.Errorf(propusk.ETOKENINVALID, "the token's signature is invalid")
	errUnknownKey  = propusk.Errorf(propusk.ETOKENINVALID, "the token is signed with an unknown key")
	errNotAccess   = propusk.Errorf(propusk.ETOKENINVALID, "not an access token")
	errNotRefresh  = propusk.Errorf(propusk.ETOKENINVALID, "not a refresh token")
	errBadClaims   = propusk.Errorf(propusk.ETOKENINVALID, "the token's claims are invalid")
	errExpired     = propusk.Errorf(propusk.ETOKENEXPIRED, "the access token has expired")
	errAlgorithm   = propusk.Errorf(propusk.ETOKENINVALID, "the token's algorithm is not accepted")
	errRefreshGone = propusk.Errorf(propusk.ETOKENINVALID, "the refresh token has expired")
)

// VerifyAccess returns the claims of a valid access token. Errors are
// *propusk.Error: ETOKENEXPIRED for a genuine token past its exp, ETOKENINVALID
// with a message naming the failed check for anything else.
func (t *Tokens) VerifyAccess(s string) (*AccessClaims, error) {
	if c, ok := t.cache.get(s); ok {
		if !t.cfg.Now().Before(c.ExpiresAt.Time) {
			return nil, errExpired
		}
		return c, nil
	}
	if !wellFormed(s) {
		return nil, errMalformed
	}
	c := new(AccessClaims)
	var err error
	switch verifyOwn(s, t.keys.Load().accessHeads, c, checkEdDSA) {
	case forged:
		return nil, errSignature
	case undecided:
		c = new(AccessClaims) // the fast path may have filled some fields
		_, err = t.access.ParseWithClaims(s, c, t.accessKey)
	}
	if errors.Is(err, errUnknownKey) {
		if err = t.reload(s, accessKnown); err == nil {
			c = new(AccessClaims)
			_, err = t.access.ParseWithClaims(s, c, t.accessKey)
		}
	}
	if err != nil {
		return nil, classify(err, errExpired, s, "EdDSA", errNotAccess)
	}
	if c.SessionID == "" || c.ID == "" || c.Boards == nil || c.Issuer != t.cfg.Issuer || (c.UserID != 0 && c.Subject != strconv.FormatInt(c.UserID, 10)) {
		return nil, errBadClaims
	}
	if err := checkDates(t.cfg.Now(), errExpired, c.ExpiresAt, c.IssuedAt, c.NotBefore); err != nil {
		return nil, err
	}
	t.cache.put(s, c)
	return c, nil
}

// VerifyRefresh returns the claims of a valid refresh token; errors as for
// VerifyAccess, except that an expired refresh token is ETOKENINVALID: there
// is nothing left to renew it with.
func (t *Tokens) VerifyRefresh(s string) (*RefreshClaims, error) {
	if !wellFormed(s) {
		return nil, errMalformed
	}
	c := new(RefreshClaims)
	var err error
	switch verifyOwn(s, t.keys.Load().refreshHeads, c, checkHS256) {
	case forged:
		return nil, errSignature
	case undecided:
		c = new(RefreshClaims) // the fast path may have filled some fields
		_, err = t.refresh.ParseWithClaims(s, c, t.refreshKey)
	}
	if errors.Is(err, errUnknownKey) {
		if err = t.reload(s, refreshKnown); err == nil {
			c = new(RefreshClaims)
			_, err = t.refresh.ParseWithClaims(s, c, t.refreshKey)
		}
	}
	if err != nil {
		return nil, classify(err, errRefreshGone, s, "HS256", errNotRefresh)
	}
	if c.Type != RefreshType || c.SessionID == "" {
		return nil, errNotRefresh
	}
	if err := checkDates(t.cfg.Now(), errRefreshGone, c.ExpiresAt, c.IssuedAt, c.NotBefore); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseExpiredAccess returns the claims of a genuine access token even when
// it has expired. Logoff uses it to find the session of a client whose access
// token lapsed; nothing else may.
func (t *Tokens) ParseExpiredAccess(s string) (*AccessClaims, error) {
	c, err := t.VerifyAccess(s)
	if propusk.ErrorCode(err) != propusk.ETOKENEXPIRED {
		return c, err
	}
	c = new(AccessClaims)
	p := newParser("EdDSA", jwt.WithoutClaimsValidation())
	if _, err := p.ParseWithClaims(s, c, t.accessKey); err != nil {
		return nil, classify(err, errExpired, s, "EdDSA", errNotAccess)
	}
	return c, nil
}

func (t *Tokens) accessKey(tok *jwt.Token) (any, error) {
	if err := checkHeader(tok); err != nil {
		return nil, err
	}
	if typ, _ := tok.Header["typ"].(string); typ != AccessType {
		return nil, errNotAccess
	}
	kid, _ := tok.Header["kid"].(string)
	k, ok := t.keys.Load().access[kid]
	if !ok {
		return nil, errUnknownKey
	}
	return k, nil
}

func (t *Tokens) refreshKey(tok *jwt.Token) (any, error) {
	if err := checkHeader(tok); err != nil {
		return nil, err
	}
	kid, _ := tok.Header["kid"].(string)
	k, ok := t.keys.Load().refresh[kid]
	if !ok {
		return nil, errUnknownKey
	}
	return k, nil
}

// errReloading answers a token whose kid may be new while the keys cannot
// be read: "try again", not "invalid", so a client keeps its tokens.
var errReloading = propusk.Errorf(propusk.EUNAVAILABLE, "the signing keys cannot be read right now")

// reload brings the keys up to date for tok, whose kid is unknown. It
// returns nil once keys in which known finds the kid are installed, or a
// Reload that started after the call has installed the keys, so the token
// is worth checking again; errReloading when that Reload failed or took
// longer than ReloadWait.
//
// A Reload reading while the call arrives is waited for first: in a
// rotation, it is the one that finds the new key. If the kid is still
// unknown, the call waits for a Reload that reads the store after it
// arrived, so a key that existed when its token was presented is always
// found (a key is stored before anything signs with it). Callers that
// arrive before a Reload starts share it; one starts at most once per
// ReloadInterval, so a flood of made-up kids costs ten reads a second.
func (t *Tokens) reload(tok string, known func(ks *Keyset, kid string) bool) error {
	if t.cfg.Reload == nil {
		return errUnknownKey
	}
	_, kid := header(tok)
	if known(t.keys.Load(), kid) {
		return nil
	}
	timer := time.NewTimer(t.cfg.ReloadInterval + 2*t.cfg.ReloadWait)
	defer timer.Stop()
	t.reloadMu.Lock()
	running := t.running
	t.reloadMu.Unlock()
	if running != nil {
		select {
		case <-running.done:
		case <-timer.C:
			return errReloading
		}
		if known(t.keys.Load(), kid) {
			return nil
		}
	}
	t.reloadMu.Lock()
	call := t.pending
	if call == nil {
		call = &reloadCall{done: make(chan struct{})}
		t.pending = call
		go t.runReload(call)
	}
	t.reloadMu.Unlock()
	select {
	case <-call.done:
		if call.err != nil {
			return errReloading
		}
		return nil
	case <-timer.C:
		return errReloading
	}
}

// runReload runs call once the Reload before it has ended and ReloadInterval
// has passed since that one started.
func (t *Tokens) runReload(call *reloadCall) {
	t.runMu.Lock()
	defer t.runMu.Unlock()
	t.reloadMu.Lock()
	wait := t.cfg.ReloadInterval - t.cfg.Now().Sub(t.lastReload)
	t.reloadMu.Unlock()
	if wait > 0 {
		time.Sleep(wait)
	}
	t.reloadMu.Lock()
	t.pending, t.running = nil, call // callers from now on need a later read
	t.lastReload = t.cfg.Now()
	t.reloadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.ReloadWait)
	call.err = t.cfg.Reload(ctx)
	cancel()
	t.reloadMu.Lock()
	t.running = nil
	t.reloadMu.Unlock()
	close(call.done)
}

func accessKnown(ks *Keyset, kid string) bool  { _, ok := ks.access[kid]; return ok }
func refreshKnown(ks *Keyset, kid string) bool { _, ok := ks.refresh[kid]; return ok }

// classify turns the parser's errors into propusk errors naming the failed check.
// A token whose alg is not the one this parser accepts is, nearly always,
// the other kind of token (a refresh token sent as an access token), or an
// attack (alg none, HS256 with a public key); wrongKind says which.
func classify(err error, expired *propusk.Error, tok, alg string, wrongKind *propusk.Error) error {
	var pe *propusk.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, jwt.ErrTokenExpired):
		return expired
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if h, _ := header(tok); h != alg {
			if h == "EdDSA" || h == "HS256" {
				return wrongKind
			}
			return errAlgorithm
		}
		return errSignature
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errAlgorithm
	default:
		return errBadClaims
	}
}

// header returns the alg and kid of a token's header, read without
// verifying anything: for error messages, and to tell whether a reload
// found the kid.
func header(tok string) (alg, kid string) {
	head, _, ok := strings.Cut(tok, ".")
	if !ok {
		return "", ""
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", ""
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "", ""
	}
	return h.Alg, h.Kid
}
