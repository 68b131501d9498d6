package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/hmacpool"
)

// csrfTokens makes and checks CSRF tokens by OWASP's signed double-submit
// pattern: a token is a random nonce and an HMAC of it bound to the client's
// session id. A token copied from another client names another session and
// fails; a token made up by an attacker fails the HMAC. The key is derived
// from the server's sealing key, so every process sharing a database agrees.
type csrfTokens struct {
	key  *hmacpool.Key
	rand io.Reader
}

const csrfNonce = 16

func (c *csrfTokens) token(binding string) string {
	nonce := make([]byte, csrfNonce)
	if _, err := io.ReadFull(c.rand, nonce); err != nil {
		// crypto/rand does not fail on supported systems; a token that
		// never verifies is the safe degradation.
		return "invalid"
	}
	return base64.RawURLEncoding.EncodeToString(append(nonce, c.mac(binding, nonce)...))
}

func (c *csrfTokens) mac(binding string, nonce []byte) []byte {
	m := c.key.Get()
	defer c.key.Put(m)
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
func (c *csrfTokens) valid(tok, binding string) bool {
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

// csrfGuard refuses a state-changing request that a page of another site
// could have made a browser send with its cookies. It is the one place
// where the origin check and the CSRF token check meet, in one order:
//
//   - a request sent by a page of a foreign site (by Sec-Fetch-Site, Origin
//     or, without both, Referer; see origins.site) is refused, unless that
//     origin is one of the configured first-party ones. A request with none
//     of them, such as curl's, passes: it cannot be a cross-site browser
//     request;
//   - then the request needs a CSRF token bound to the session its cookies
//     hold.
//
// As with net/http's CrossOriginProtection, Check decides and Handler
// wires. Whether a request needs the guard at all is the caller's to say: a
// request that carries its credential in a header needs none, as no page of
// another site can make a browser send one.
type csrfGuard struct {
	tokens  *csrfTokens
	origins *origins
	session func(*http.Request) (sid string, ok bool) // the session the request's cookies hold
	maxBody int64
	// ifSession asks for a token only when the request's cookies hold a
	// session: for a login or a logoff, whose credentials are in the body,
	// a browser without a session has nothing to protect (and nothing a
	// token could be bound to), while one with a session must not have it
	// replaced or ended by another site's form (login CSRF). Without it,
	// a request with no session is refused: its credential is its cookies.
	ifSession bool
	deny      func(w http.ResponseWriter, r *http.Request, err error)
}

// Check refuses a state-changing request of a foreign site, or one without
// a CSRF token bound to its cookies' session, with an ECSRF error. Safe
// methods pass. The token is read from the headers, or from the _token
// field of a form body (parsed here when nothing has parsed it yet, so
// that a library user's handler finds it in r.PostForm as usual).
func (g *csrfGuard) Check(r *http.Request) error {
	if safeMethod(r.Method) {
		return nil
	}
	in, err := csrfInput(r, g.maxBody)
	if err != nil {
		return err
	}
	if g.origins.site(r) == siteForeign {
		return originError(r)
	}
	sid, ok := g.session(r)
	if !ok && g.ifSession {
		return nil
	}
	t := csrfToken(r, in)
	if t == "" {
		return errCSRFMissing
	}
	if sid == "" {
		return errCSRFNoSession
	}
	if !g.tokens.valid(t, sid) {
		return errCSRFMismatch
	}
	return nil
}

// Handler returns h behind Check: a refused request is answered by the
// guard's deny function and never reaches h.
func (g *csrfGuard) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			g.deny(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// csrfInput returns the form fields a CSRF check may read _token from. On
// propusk's own routes overrideMethod has parsed the form already. On a
// library user's route, mounted on their own mux, nothing has: the form is
// parsed here, and the handler finds it in r.PostForm as usual. Any other
// body is left unread (the CSRF check reads only headers then).
func csrfInput(r *http.Request, max int64) (input, error) {
	in := input{vals: map[string]string{}, lists: map[string][]string{}, has: map[string]bool{}}
	if r.PostForm == nil && r.Body != nil {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch mt {
		case "application/x-www-form-urlencoded":
			r.Body = http.MaxBytesReader(nil, r.Body, max)
			if err := r.ParseForm(); err != nil {
				return in, propusk.Errorf(propusk.EINVALID, "the form is malformed or too large")
			}
		case "multipart/form-data":
			// ParseMultipartForm bounds memory only and spools the rest to
			// disk: the body itself must be bounded, or anyone holding free
			// anonymous cookies could fill the disk.
			r.Body = http.MaxBytesReader(nil, r.Body, max)
			if err := r.ParseMultipartForm(max); err != nil {
				return in, propusk.Errorf(propusk.EINVALID, "the form is malformed or too large")
			}
		}
	}
	if r.PostForm != nil {
		return fromForm(in, r.PostForm)
	}
	return in, nil
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
