package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/propusk/propusk"
)

// csrf makes and checks CSRF tokens by OWASP's signed double-submit pattern:
// a token is a random nonce and an HMAC of it bound to the client's session
// id. A token copied from another client names another session and fails; a
// token made up by an attacker fails the HMAC. The key is derived from the
// server's sealing key, so every process sharing a database agrees.
type csrf struct {
	key  []byte
	rand io.Reader
}

const csrfNonce = 16

func (c *csrf) token(binding string) string {
	nonce := make([]byte, csrfNonce)
	if _, err := io.ReadFull(c.rand, nonce); err != nil {
		// crypto/rand does not fail on supported systems; a token that
		// never verifies is the safe degradation.
		return "invalid"
	}
	return base64.RawURLEncoding.EncodeToString(append(nonce, c.mac(binding, nonce)...))
}

func (c *csrf) mac(binding string, nonce []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("propusk-csrf\x00"))
	m.Write([]byte(binding))
	m.Write([]byte{0})
	m.Write(nonce)
	return m.Sum(nil)
}

// valid reports whether tok was made by token(binding); constant-time. No
// token is valid for the empty binding: a client without a session has
// nothing its token could be bound to, and a token "bound to nobody" would be
// one an attacker could fetch and plant in any session-less browser.
func (c *csrf) valid(tok, binding string) bool {
	if binding == "" {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != csrfNonce+sha256.Size {
		return false
	}
	return hmac.Equal(raw[csrfNonce:], c.mac(binding, raw[:csrfNonce]))
}

var (
	errCSRFMissing   = propusk.Errorf(propusk.ECSRF, "CSRF token missing: send the XSRF-TOKEN cookie's value in the X-XSRF-TOKEN header (or X-CSRF-TOKEN, or a _token form field)")
	errCSRFMismatch  = propusk.Errorf(propusk.ECSRF, "CSRF token mismatch: the token is forged, or was issued to another session; fetch /sanctum/csrf-cookie again")
	errCSRFNoSession = propusk.Errorf(propusk.ECSRF, "CSRF token mismatch: the request carries no session cookie for the token to be bound to; GET /sanctum/csrf-cookie first")
)

// originError says which header named a foreign site. The value is the
// client's own, so echoing it reveals nothing.
func originError(r *http.Request) error {
	what := "Sec-Fetch-Site: " + r.Header.Get("Sec-Fetch-Site")
	if o := r.Header.Get("Origin"); o != "" {
		what = "Origin " + o
	} else if ref := r.Header.Get("Referer"); ref != "" && r.Header.Get("Sec-Fetch-Site") == "" {
		what = "Referer " + refererOrigin(ref)
	}
	return propusk.Errorf(propusk.ECSRF, "origin not first-party: %.200q is neither this server's origin nor one of --stateful-origins; cookie authentication is refused", what)
}

// csrfToken returns the token a request carries, from the first of the
// X-XSRF-TOKEN header, the X-CSRF-TOKEN header and the _token form field.
func csrfToken(r *http.Request, in input) string {
	if t := r.Header.Get("X-XSRF-TOKEN"); t != "" {
		return t
	}
	if t := r.Header.Get("X-CSRF-TOKEN"); t != "" {
		return t
	}
	return in.str("_token")
}

// checkCSRF refuses a state-changing request whose credentials came from a
// cookie unless it carries a token bound to binding (the session id).
func (s *Server) checkCSRF(r *http.Request, in input, binding string) error {
	if safeMethod(r.Method) {
		return nil
	}
	t := csrfToken(r, in)
	if t == "" {
		return errCSRFMissing
	}
	if binding == "" {
		return errCSRFNoSession
	}
	if !s.csrf.valid(t, binding) {
		return errCSRFMismatch
	}
	return nil
}

// checkOrigin refuses a state-changing request sent by a page of another
// site (by Sec-Fetch-Site, Origin or, without both, Referer), unless that
// origin is one of the configured first-party origins. A request with none
// of them, such as curl's, passes: it cannot be a cross-site browser request.
func (s *Server) checkOrigin(r *http.Request) error {
	if safeMethod(r.Method) {
		return nil
	}
	if s.origins.site(r) == siteForeign {
		return originError(r)
	}
	return nil
}

// foreign reports whether a request, of any method, was sent by a page of a
// site that is neither this server's origin nor a configured first-party
// one, by the same test checkOrigin applies to state changes.
func (s *Server) foreign(r *http.Request) bool {
	return s.origins.site(r) == siteForeign
}

// refererOrigin is the origin part of a Referer, for an error message: its
// path and query may carry anything, tokens included.
func refererOrigin(ref string) string {
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return "(unparsable)"
	}
	return u.Scheme + "://" + u.Host
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// headerToken reports whether the request carries a token in a header, which
// a cross-site page cannot make a browser send: such requests need no CSRF token.
func headerToken(r *http.Request) bool {
	if r.Header.Get("X-Access-Token") != "" {
		return true
	}
	a := r.Header.Get("Authorization")
	return len(a) > 7 && strings.EqualFold(a[:7], "Bearer ")
}
