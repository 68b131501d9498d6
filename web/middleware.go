package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/propusk/propusk"
)

// Authenticator identifies a caller by a token; *auth.Service is one.
type Authenticator interface {
	Authenticate(ctx context.Context, token, via string) (*propusk.Principal, error)
}

// Guard decides whether a caller may use a route: nil to let it through, or
// a *propusk.Error (EFORBIDDEN) saying what is missing.
type Guard func(r *http.Request, p *propusk.Principal) error

// RequireUser lets through signed-in users only.
func RequireUser() Guard {
	return func(_ *http.Request, p *propusk.Principal) error {
		if p.Anonymous() {
			return propusk.Errorf(propusk.EFORBIDDEN, "this needs a signed-in user")
		}
		return nil
	}
}

// RequireLevel lets through callers of at least level n.
func RequireLevel(n int) Guard {
	return func(_ *http.Request, p *propusk.Principal) error {
		if p.Level < n {
			return propusk.Errorf(propusk.EFORBIDDEN, "this needs level %d; the caller has %d", n, p.Level)
		}
		return nil
	}
}

// RequireBoard lets through callers whose boards include the one board(r)
// names (for example r.PathValue("board")).
func RequireBoard(board func(*http.Request) string) Guard {
	return func(r *http.Request, p *propusk.Principal) error {
		if b := board(r); !p.CanBoard(b) {
			return propusk.Errorf(propusk.EFORBIDDEN, "the caller may not act on board %q", b)
		}
		return nil
	}
}

// RequireAbility lets through callers whose token carries ability a. An
// access token carries every ability; a personal access token those it was
// given.
func RequireAbility(a string) Guard {
	return func(_ *http.Request, p *propusk.Principal) error {
		if !p.Can(a) {
			return propusk.Errorf(propusk.EFORBIDDEN, "the token lacks the ability %q", a)
		}
		return nil
	}
}

// Middleware authenticates requests and guards routes. It is what a Go web
// app mounts in front of its own handlers; Server uses it for propusk's own
// protected routes.
type Middleware struct {
	Auth Authenticator
	// CSRF, when set, is called for a state-changing request authenticated by
	// a cookie; a non-nil error refuses it. Server sets it to its CSRF
	// guard's Check.
	CSRF func(r *http.Request) error
	// OnError writes a refusal; default: the JSON error of docs/API.md, or the
	// redirects of the browser flow (DenyDefault), logging internal errors
	// to Logger. Called with *propusk.Error values.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives the internal errors of the default refusal (a store
	// that fails while a token is checked); default: slog.Default().
	Logger *slog.Logger
	// CookiePrefix is put before the token cookies' names (default none);
	// Server sets "__Host-" when Config.HostCookies is on.
	CookiePrefix string
}

// Extract returns the access token a request carries and how it came,
// first match wins: X-Access-Token, then Authorization: Bearer, then the
// accessToken cookie.
func Extract(r *http.Request) (tok, via string) { return extract(r, "") }

// extract is Extract under the Middleware's cookie prefix.
func (m *Middleware) extract(r *http.Request) (tok, via string) { return extract(r, m.CookiePrefix) }

func extract(r *http.Request, prefix string) (tok, via string) {
	if t := r.Header.Get("X-Access-Token"); t != "" {
		return t, propusk.ViaAccessToken
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:]), propusk.ViaAccessToken
	}
	if t := cookie(r, cookieName(prefix, CookieAccess)); t != "" {
		return t, propusk.ViaCookie
	}
	return "", ""
}

var (
	errTokenRequired = propusk.Errorf(propusk.ETOKENREQUIRED, "no token: send X-Access-Token, Authorization: Bearer, or the accessToken cookie")
	errCookieExpired = propusk.Errorf(propusk.ETOKENEXPIRED, "no access token, but a refresh token cookie: the access token has expired; renew it")
)

// Identify authenticates r without guarding: it returns the caller, or the
// reason there is none.
func (m *Middleware) Identify(r *http.Request) (*propusk.Principal, error) {
	tok, via := m.extract(r)
	if tok == "" {
		if cookie(r, cookieName(m.CookiePrefix, CookieRefresh)) != "" {
			return nil, errCookieExpired
		}
		return nil, errTokenRequired
	}
	return m.Auth.Authenticate(r.Context(), tok, via)
}

// Protect returns h behind authentication and the guards: h runs with the
// caller in its context (propusk.FromContext), or the request is refused as
// docs/API.md's table says.
func (m *Middleware) Protect(h http.Handler, guards ...Guard) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := m.admit(r, guards)
		if err != nil {
			m.deny(w, r, err)
			return
		}
		h.ServeHTTP(w, r.WithContext(propusk.NewContext(r.Context(), p)))
	})
}

// admit is Protect's decision: the caller, or why r is refused.
func (m *Middleware) admit(r *http.Request, guards []Guard) (*propusk.Principal, error) {
	p, err := m.Identify(r)
	if err == nil && p.Via == propusk.ViaCookie && !safeMethod(r.Method) && m.CSRF != nil {
		err = m.CSRF(r)
	}
	for _, g := range guards {
		if err != nil {
			break
		}
		err = g(r, p)
	}
	return p, err
}

// deny answers a refused request, by OnError or else as DenyDefault does,
// logging internal errors to the Middleware's Logger.
func (m *Middleware) deny(w http.ResponseWriter, r *http.Request, err error) {
	if m.OnError != nil {
		m.OnError(w, r, err)
		return
	}
	log := m.Logger
	if log == nil {
		log = slog.Default()
	}
	deny(w, r, log, err)
}

// DenyDefault is the default refusal of Middleware. Script clients
// (X-Requested-With) get a 403 to act on; a browser, maybe without
// JavaScript, is sent where it can get tokens and come back: token.renew
// when its access token expired, token.obtain when it has none or a bad
// one. Internal errors (a store that failed) are answered 500 or 503 and
// logged to slog.Default().
func DenyDefault(w http.ResponseWriter, r *http.Request, err error) {
	deny(w, r, slog.Default(), err)
}

func deny(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	w = harden(w)
	a := answerOf(r)
	switch propusk.ErrorCode(err) {
	case propusk.ETOKENEXPIRED:
		if a.redirectBack(w, r, "/api/v1/token.renew") {
			return
		}
	case propusk.ETOKENREQUIRED, propusk.ETOKENINVALID:
		if a.redirectBack(w, r, "/api/v1/token.obtain") {
			return
		}
	}
	Error(w, r, log, err)
}
