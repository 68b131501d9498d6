// Package remote lets a Go service that does not embed propusk accept
// propusk's access tokens: it is propusk seen from a relying party, over the
// network. It needs no database and imports no store.
//
// # Verifying
//
// A Verifier checks access tokens (typ "at+jwt", EdDSA) with the public keys
// of propusk's JWKS, fetched once and cached. A token signed with a key it
// does not know makes it fetch the JWKS again, at most once per
// Config.RefetchInterval, so a rotation is picked up at once and a flood of
// made-up kids costs propusk one small request a second. Verified tokens
// are cached by their exact string, as in propusk itself: a request with a
// cached token costs a map lookup and sends nothing to propusk. Every fetch
// has a timeout.
//
// # Revocation
//
// A signature stays valid until exp, but a logoff must not. The Verifier
// follows propusk's revocation stream (GET /api/v1/revocations, Server-Sent
// Events), reconnecting with Last-Event-ID and a growing back-off, and
// refuses a token of a revoked session as soon as the event arrives: within
// a second of the logoff, without asking propusk per request. A key change
// on the stream makes it fetch the JWKS again, so a deleted key stops at
// once.
//
// What the Verifier cannot have seen, it does not trust. It keeps a
// horizon: a token issued at or before it is refused as expired, so the
// client renews it at propusk (which knows every revocation) and comes back
// with a token issued after it. The horizon moves to the moment the stream
// first connects (revocations before this process started were never seen),
// to the moment of a "reset" (the stream says events were missed), and past
// revocations old enough to be forgotten (Config.Retention). Each costs a
// client at most one renew.
//
// # Middleware
//
// A Verifier is a web.Authenticator, so the embedded library's Middleware
// and guards (web.RequireUser, web.RequireLevel, web.RequireBoard,
// web.RequireAbility) work unchanged: Protect is web.Middleware.Protect with
// this Verifier. Personal access tokens cannot be checked without asking
// propusk, so they are refused here; route them through propusk's
// forward-auth (docs/EDGE.md) when a service must take them.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/pat"
	"github.com/propusk/propusk/token"
	"github.com/propusk/propusk/web"
)

// Config configures a Verifier. Zero values take the defaults in the comments.
type Config struct {
	// URL is propusk's base URL, as the relying service reaches it
	// ("https://auth.example.com"); required. The JWKS is read from
	// URL/.well-known/jwks.json and the stream from URL/api/v1/revocations.
	URL string
	// Token authenticates the stream: a personal access token with ability
	// "revocations:read"; required. It is sent to URL only.
	Token string
	// Issuer is the iss every access token must carry: propusk's --issuer.
	Issuer string // default "propusk"

	Client          *http.Client     // default: a new http.Client (no overall timeout: the stream is long-lived)
	Timeout         time.Duration    // each JWKS fetch, and each stream connection until its headers; default 5s
	IdleTimeout     time.Duration    // a stream silent this long (propusk pings every 15 s) is dropped and reopened; default 45s
	RefetchInterval time.Duration    // at most one JWKS fetch per interval for unknown kids; default 1s
	KeyRefresh      time.Duration    // the JWKS is read again this often regardless; default 5m
	MaxBackoff      time.Duration    // the longest wait between stream reconnections; default 30s
	Retention       time.Duration    // how long a revoked session is remembered; default 1h (see the package doc)
	Now             func() time.Time // default time.Now
	Logger          *slog.Logger     // default: discard
	// CrossOrigin guards state-changing requests authenticated by the
	// accessToken cookie, which a browser sends cross-site too; default a
	// new http.CrossOriginProtection trusting no other origin. Header
	// credentials need no such guard.
	CrossOrigin *http.CrossOriginProtection
}

// Verifier authenticates requests with propusk's access tokens without a
// database. It is safe for concurrent use. Run must be running for it to
// accept anything: until the revocation stream has connected once,
// Authenticate answers EUNAVAILABLE.
type Verifier struct {
	cfg       Config
	base      *url.URL
	tokens    *token.Tokens
	revoked   *revocations
	mw        *web.Middleware
	keysMu    sync.Mutex    // one JWKS fetch at a time, so installs happen in order
	keysDirty chan struct{} // a keys event or reset asks the key loop to fetch
	ready     chan struct{} // closed when the stream first connects
	readyOnce sync.Once
}

// New returns a Verifier for the propusk at cfg.URL after reading its JWKS
// once, so a wrong URL fails here and not on the first request. Start Run
// next.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("remote: URL %q: want http(s)://host[:port][/path]", cfg.URL)
	}
	if cfg.Token == "" {
		return nil, errors.New("remote: Token is required: a personal access token with ability revocations:read")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "propusk"
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	setDefault(&cfg.Timeout, 5*time.Second)
	setDefault(&cfg.IdleTimeout, 45*time.Second)
	setDefault(&cfg.RefetchInterval, time.Second)
	setDefault(&cfg.KeyRefresh, 5*time.Minute)
	setDefault(&cfg.MaxBackoff, 30*time.Second)
	setDefault(&cfg.Retention, time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CrossOrigin == nil {
		cfg.CrossOrigin = http.NewCrossOriginProtection()
	}
	v := &Verifier{
		cfg:       cfg,
		base:      base,
		revoked:   newRevocations(cfg.Retention),
		keysDirty: make(chan struct{}, 1),
		ready:     make(chan struct{}),
	}
	ks, err := v.fetchKeys(ctx)
	if err != nil {
		return nil, err
	}
	v.tokens = token.New(ks, token.Config{
		Issuer: cfg.Issuer, Now: cfg.Now, Rand: zeroRand{},
		Reload: v.reloadKeys, ReloadInterval: cfg.RefetchInterval, ReloadWait: cfg.Timeout,
	})
	v.mw = &web.Middleware{Auth: v, CSRF: v.crossOrigin, OnError: v.deny}
	return v, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// zeroRand stands in for the randomness token.Tokens uses to sign; a
// Verifier never signs.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var (
	errNotReady = propusk.Errorf(propusk.EUNAVAILABLE, "not yet following propusk's revocations; try again")
	errNotJWT   = propusk.Errorf(propusk.ETOKENINVALID, "not an access token: this service accepts propusk access tokens only")
	errRevoked  = propusk.Errorf(propusk.ETOKENINVALID, "the token's session has been revoked")
	errHorizon  = propusk.Errorf(propusk.ETOKENEXPIRED, "the access token is older than this service's view of revocations; renew it")
	errCrossOrg = propusk.Errorf(propusk.EFORBIDDEN, "a cross-origin request may not use the accessToken cookie")
)

// Authenticate implements web.Authenticator: it returns the caller of a
// valid access token. Errors are *propusk.Error: ETOKENEXPIRED for a token
// past its exp or issued before the horizon (renew it), ETOKENINVALID for
// anything else wrong with it (a revoked session included), EUNAVAILABLE
// before the stream has connected or when the keys cannot be fetched for a
// new kid.
func (v *Verifier) Authenticate(_ context.Context, tok, via string) (*propusk.Principal, error) {
	select {
	case <-v.ready:
	default:
		return nil, errNotReady
	}
	if pat.Looks(tok) {
		return nil, errNotJWT
	}
	c, err := v.tokens.VerifyAccess(tok)
	if err != nil {
		return nil, err
	}
	if err := v.revoked.check(c.SessionID, c.IssuedAt); err != nil {
		return nil, err
	}
	return &propusk.Principal{
		UserID: c.UserID, Level: c.Level, Boards: c.Boards, SessionID: c.SessionID,
		Via: via, TokenID: c.ID, ExpiresAt: c.ExpiresAt.Time,
	}, nil
}

// Ready is closed once the revocation stream has connected: from then on
// the Verifier accepts tokens.
func (v *Verifier) Ready() <-chan struct{} { return v.ready }

// Middleware returns the Verifier's web.Middleware. Refusals are the JSON
// errors of docs/API.md, for every client: propusk's browser redirects
// point at propusk's own paths, which this service does not serve (set
// OnError to redirect to propusk's token.obtain if it should). A cookie
// credential on a state-changing request must pass Config.CrossOrigin.
func (v *Verifier) Middleware() *web.Middleware { return v.mw }

// Protect returns h behind the Verifier and the guards, as
// web.Middleware.Protect: h runs with the caller in its context
// (propusk.FromContext).
func (v *Verifier) Protect(h http.Handler, guards ...web.Guard) http.Handler {
	return v.mw.Protect(h, guards...)
}

func (v *Verifier) crossOrigin(r *http.Request) error {
	if v.cfg.CrossOrigin.Check(r) != nil {
		return errCrossOrg
	}
	return nil
}

func (v *Verifier) deny(w http.ResponseWriter, r *http.Request, err error) {
	web.Error(w, r, v.cfg.Logger, err)
}

// maxJWKS bounds the JWKS read: propusk's holds a few keys of 130 bytes.
const maxJWKS = 1 << 20

// fetchKeys reads and parses the JWKS, within Config.Timeout.
func (v *Verifier) fetchKeys(ctx context.Context) (*token.Keyset, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base.String()+"/.well-known/jwks.json", nil)
	if err != nil {
		return nil, fmt.Errorf("remote: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("remote: jwks: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("remote: jwks: %s", res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxJWKS))
	if err != nil {
		return nil, fmt.Errorf("remote: jwks: %w", err)
	}
	keys, err := token.ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	return token.NewVerifyKeyset(keys)
}

// reloadKeys fetches the JWKS and installs it. Fetches are serialized, so a
// slow one never installs keys older than a later one's.
func (v *Verifier) reloadKeys(ctx context.Context) error {
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	ks, err := v.fetchKeys(ctx)
	if err != nil {
		v.cfg.Logger.Warn("propusk keys", "err", err)
		return err
	}
	v.tokens.SetKeyset(ks)
	return nil
}

// keysChanged asks the key loop to fetch the JWKS again.
func (v *Verifier) keysChanged() {
	select {
	case v.keysDirty <- struct{}{}:
	default:
	}
}

// followKeys fetches the JWKS when a keys event or reset asks for it, and
// every KeyRefresh; a failed fetch is retried every half second until one
// succeeds, since a deleted key must stop.
func (v *Verifier) followKeys(ctx context.Context) {
	tick := time.NewTicker(v.cfg.KeyRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-v.keysDirty:
		case <-tick.C:
		}
		for v.reloadKeys(ctx) != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}
