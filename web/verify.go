package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/token"
)

// Forward-auth: GET /api/v1/auth.verify is what nginx auth_request, Caddy
// forward_auth, Traefik ForwardAuth and Envoy ext_authz call for every
// request they gate. It authenticates the original request's credentials as
// Protect does, checks the requirements the auth URL's query states, and
// answers 200 with the caller's identity in headers the proxy copies to the
// upstream, 401 when there is no usable credential, 403 when a requirement
// is not met. docs/EDGE.md has the proxies' configurations.

// Identity headers of an allowed request. Values other than numbers are
// percent-encoded UTF-8 (RFC 3986, a space as %20), lists comma-separated.
const (
	HeaderUser      = "X-Propusk-User"      // user id; 0 for an anonymous client
	HeaderLogin     = "X-Propusk-Login"     // the login, percent-encoded; empty for an anonymous client
	HeaderLevel     = "X-Propusk-Level"     // the caller's level
	HeaderBoards    = "X-Propusk-Boards"    // boards, comma-separated; * is every board
	HeaderAbilities = "X-Propusk-Abilities" // the token's abilities, comma-separated; * for a JWT
	HeaderSession   = "X-Propusk-Session"   // the session id; empty for a personal access token
	HeaderVia       = "X-Propusk-Via"       // access-token, api-token or cookie
	HeaderAssertion = "X-Propusk-Assertion" // the assertion, when ?assert= asked for one
)

// Headers of a refused request, for the proxy's error handling.
const (
	// HeaderError is the error code of the JSON body, for proxies (nginx)
	// that drop the auth answer's body.
	HeaderError = "X-Propusk-Error"
	// HeaderRedirect is where to send a browser (a request without
	// X-Requested-With) refused 401: token.obtain, or token.renew when it
	// has a refresh cookie and its access token expired, with redirect= the
	// original URI.
	HeaderRedirect = "X-Propusk-Redirect"
	// HeaderRenew is "1" on a 401 that token.renew can cure: an expired
	// access token beside a refresh cookie.
	HeaderRenew = "X-Propusk-Renew"
)

// AssertionTTL is the lifetime of an assertion.
const AssertionTTL = 60 * time.Second

// requirements are what a gated location asks of its callers, from the
// auth URL's query.
type requirements struct {
	level     int
	hasLevel  bool
	boards    []string
	abilities []string
	// boardFrom is a pattern such as "/boards/{board}/": the original path
	// must start with prefix, then a board name (one non-empty segment),
	// then suffix.
	boardFrom      bool
	prefix, suffix string
	audience       string
}

// maxRequirement bounds each requirement's value: they come from a
// proxy's configuration, never from a client, and need not be long.
const maxRequirement = 200

// parseRequirements reads the auth URL's query. Anything it does not
// understand is EINVALID (400), so that a typo in a proxy's configuration
// is seen at once rather than silently guarding nothing.
func parseRequirements(q url.Values) (requirements, error) {
	var rq requirements
	for k, vs := range q {
		for _, v := range vs {
			if v == "" || len(v) > maxRequirement || !printable(v) {
				return rq, propusk.Errorf(propusk.EINVALID, "auth.verify: requirement %.40q must be 1 to %d bytes of UTF-8 text without control characters", k, maxRequirement)
			}
		}
		single := func() error {
			if len(vs) > 1 {
				return propusk.Errorf(propusk.EINVALID, "auth.verify: requirement %.40q is given more than once", k)
			}
			return nil
		}
		switch k {
		case "level":
			if err := single(); err != nil {
				return rq, err
			}
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 0 || n > 1000 {
				return rq, propusk.Errorf(propusk.EINVALID, "auth.verify: level must be a whole number from 0 to 1000, not %.40q", vs[0])
			}
			rq.level, rq.hasLevel = n, true
		case "board":
			rq.boards = vs
		case "ability":
			rq.abilities = vs
		case "board_from":
			if err := single(); err != nil {
				return rq, err
			}
			p := vs[0]
			i := strings.Index(p, "{board}")
			if !strings.HasPrefix(p, "/") || i < 0 || strings.Count(p, "{board}") != 1 || strings.ContainsAny(p, "?#") {
				return rq, propusk.Errorf(propusk.EINVALID, "auth.verify: board_from must be a path with one {board}, such as /boards/{board}/, not %.40q", p)
			}
			rq.boardFrom, rq.prefix, rq.suffix = true, p[:i], p[i+len("{board}"):]
		case "assert":
			if err := single(); err != nil {
				return rq, err
			}
			rq.audience = vs[0]
		default:
			return rq, propusk.Errorf(propusk.EINVALID, "auth.verify: unknown requirement %.40q; known: level, board, ability, board_from, assert", k)
		}
	}
	return rq, nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// boardOf takes the board from the original path by rq's pattern; ok is
// false when the path does not match it.
func (rq *requirements) boardOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, rq.prefix)
	if !ok {
		return "", false
	}
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	seg := rest[:end]
	if seg == "" || !strings.HasPrefix(rest[end:], rq.suffix) {
		return "", false
	}
	b, err := url.PathUnescape(seg)
	if err != nil || b == "" || strings.ContainsAny(b, "/,") {
		return "", false
	}
	return b, true
}

// original is the request a proxy asks about.
type original struct {
	method, uri, host string
}

// originalOf reads the forwarded request: nginx sends what its
// configuration names (X-Original-URI, X-Original-Method), Caddy and
// Traefik X-Forwarded-Method and X-Forwarded-Uri, Envoy the original method
// and path themselves. A proxy sets one pair and passes the client's other
// headers through, so a client could send the other pair: when both name
// a method, or both a URI, they must agree, or the request is refused
// (400) rather than judged by a value the client chose.
func originalOf(r *http.Request) (original, error) {
	o := original{host: r.Header.Get("X-Forwarded-Host")}
	var err error
	if o.method, err = forwarded(r, "X-Original-Method", "X-Forwarded-Method"); err != nil {
		return o, err
	}
	if o.uri, err = forwarded(r, "X-Original-URI", "X-Forwarded-Uri"); err != nil {
		return o, err
	}
	if o.method == "" {
		o.method = r.Method
	}
	if o.host == "" {
		o.host = r.Host
	}
	if o.uri != "" && (!strings.HasPrefix(o.uri, "/") || strings.HasPrefix(o.uri, "//") || len(o.uri) > 8192) {
		return o, propusk.Errorf(propusk.EINVALID, "auth.verify: the original URI (X-Original-URI or X-Forwarded-Uri) must be a path starting with a single /")
	}
	for _, c := range o.method {
		if c < 'A' || c > 'Z' {
			return o, propusk.Errorf(propusk.EINVALID, "auth.verify: the original method is not a method")
		}
	}
	return o, nil
}

// forwarded returns the value of header a or b, refusing a request where
// both are present and differ, or either is repeated.
func forwarded(r *http.Request, a, b string) (string, error) {
	va, vb := r.Header.Values(a), r.Header.Values(b)
	if len(va) > 1 || len(vb) > 1 || len(va) == 1 && len(vb) == 1 && va[0] != vb[0] {
		return "", propusk.Errorf(propusk.EINVALID, "auth.verify: %s and %s disagree or repeat: the proxy must set one and the client's must not pass", a, b)
	}
	if len(va) == 1 {
		return va[0], nil
	}
	if len(vb) == 1 {
		return vb[0], nil
	}
	return "", nil
}

// envoyPrefix is the auth URL of Envoy's ext_authz, which appends the
// original path and query to it.
const envoyPrefix = "/api/v1/auth.verify/"

// envoyForm returns the requirements, as the query string that states
// them, and for Envoy's form of the auth URL
// (/api/v1/auth.verify/<original path and query>) the original URI and
// envoy true. In that form the query is the original request's, so the
// requirements come in the X-Propusk-Require header, which Envoy's
// headers_to_add sets (and a client's cannot reach propusk unless
// allowed_headers lets it).
func envoyForm(r *http.Request) (query, uri string, envoy bool, err error) {
	requestURI := r.URL.RequestURI()
	if !strings.HasPrefix(requestURI, envoyPrefix) {
		if _, ok := r.Header["X-Propusk-Require"]; ok {
			return "", "", false, propusk.Errorf(propusk.EINVALID, "auth.verify: X-Propusk-Require is for Envoy's form, /api/v1/auth.verify/<original path>; state requirements in the query")
		}
		return r.URL.RawQuery, "", false, nil
	}
	vs := r.Header.Values("X-Propusk-Require")
	if len(vs) > 1 {
		return "", "", false, propusk.Errorf(propusk.EINVALID, "auth.verify: X-Propusk-Require is repeated")
	}
	if len(vs) == 1 {
		query = vs[0]
	}
	return query, requestURI[len(envoyPrefix)-1:], true, nil
}

// requirementsOf parses the requirements a query string states: the auth
// URL's query, where parts that do not parse are dropped as
// url.URL.Query drops them, or Envoy's X-Propusk-Require, which must parse.
func requirementsOf(query string, envoy bool) (requirements, error) {
	q, err := url.ParseQuery(query)
	if err != nil && envoy {
		return requirements{}, propusk.Errorf(propusk.EINVALID, "auth.verify: X-Propusk-Require must be a query string, such as level=10&ability=posts:write")
	}
	return parseRequirements(q)
}

// requirementsCacheSize bounds the requirements kept parsed: a proxy's
// configuration states a few sets, one per gated location.
const requirementsCacheSize = 256

// requirementsCache keeps the requirements of the query strings seen, so
// a gated request does not parse its location's query again. Only what
// parses is kept, and once the cache is full nothing more is added: a
// caller that sends made-up queries costs itself the parsing and nobody
// else anything.
type requirementsCache struct {
	mu sync.RWMutex
	m  map[requirementsKey]requirements
}

type requirementsKey struct {
	query string
	envoy bool
}

func (c *requirementsCache) get(query string, envoy bool) (requirements, error) {
	k := requirementsKey{query, envoy}
	c.mu.RLock()
	rq, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return rq, nil
	}
	rq, err := requirementsOf(query, envoy)
	if err != nil {
		return rq, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[requirementsKey]requirements{}
	}
	if len(c.m) < requirementsCacheSize {
		c.m[k] = rq
	}
	c.mu.Unlock()
	return rq, nil
}

// path is the original URI without its query.
func (o original) path() string {
	p, _, _ := strings.Cut(o.uri, "?")
	return p
}

// authVerify returns the forward-auth handler.
func (s *Server) authVerify() handlerFunc {
	var requirements requirementsCache
	return func(w http.ResponseWriter, r *http.Request) error {
		query, suffix, envoy, err := envoyForm(r)
		if err != nil {
			return err
		}
		rq, err := requirements.get(query, envoy)
		if err != nil {
			return err
		}
		o, err := originalOf(r)
		if err != nil {
			return err
		}
		if suffix != "" {
			if strings.HasPrefix(suffix, "//") {
				return propusk.Errorf(propusk.EINVALID, "auth.verify: the original URI must be a path starting with a single /")
			}
			if o.uri != "" && o.uri != suffix {
				return propusk.Errorf(propusk.EINVALID, "auth.verify: the path after auth.verify and X-Original-URI or X-Forwarded-Uri disagree")
			}
			o.uri = suffix
		}
		if rq.boardFrom && o.uri == "" {
			return propusk.Errorf(propusk.EINVALID, "auth.verify: board_from needs the original URI: have the proxy send X-Original-URI or X-Forwarded-Uri")
		}
		p, err := s.mw.Identify(r)
		login := ""
		if err == nil && !p.Anonymous() {
			// From the user cache: a deleted or disabled user is refused
			// here as a credential failure (401), like a revoked token.
			var u *propusk.User
			if u, err = s.svc.Caller(r.Context(), p); err == nil {
				login = u.Login
			}
		}
		if err == nil && p.Via == propusk.ViaCookie && !safeMethod(o.method) && s.mw.CSRF != nil {
			// A cookie-authenticated state change is checked as Protect
			// checks it, on the original method and host. The proxy sends
			// no body, so the CSRF token must come in a header.
			or := r.Clone(r.Context())
			or.Method, or.Host, or.Body, or.PostForm, or.Form = o.method, o.host, http.NoBody, nil, nil
			or.Header.Del("Content-Type")
			err = s.mw.CSRF(or)
		}
		if err == nil {
			err = rq.check(p, o)
		}
		if err != nil {
			return s.refuse(w, r, o, err)
		}
		// The keys are canonical already: assigning skips canonicalising
		// them. Cache-Control: no-store comes with the hardening headers.
		h := w.Header()
		h[HeaderUser] = []string{strconv.FormatInt(p.UserID, 10)}
		// Every identity header is sent, empty when it has no value:
		// Caddy 2.6's copy_headers would otherwise hand the app the text of
		// its placeholder, and a client's own header must never survive.
		h[HeaderLogin] = []string{headerEscape(login)}
		h[HeaderLevel] = []string{strconv.Itoa(p.Level)}
		h[HeaderBoards] = []string{headerList(p.Boards)}
		if p.Abilities == nil {
			h[HeaderAbilities] = []string{propusk.AllAbilities}
		} else {
			h[HeaderAbilities] = []string{headerList(p.Abilities)}
		}
		h[HeaderSession] = []string{p.SessionID}
		h[HeaderVia] = []string{p.Via}
		if rq.audience != "" {
			a, err := s.assertion(p, rq.audience)
			if err != nil {
				return err
			}
			h[HeaderAssertion] = []string{a}
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// check applies the requirements to the caller.
func (rq *requirements) check(p *propusk.Principal, o original) error {
	if rq.hasLevel {
		if err := RequireLevel(rq.level)(nil, p); err != nil {
			return err
		}
	}
	for _, b := range rq.boards {
		if !p.CanBoard(b) {
			return propusk.Errorf(propusk.EFORBIDDEN, "the caller may not act on board %q", b)
		}
	}
	if rq.boardFrom {
		b, ok := rq.boardOf(o.path())
		if !ok {
			return propusk.Errorf(propusk.EFORBIDDEN, "the path names no board where this location expects one")
		}
		if !p.CanBoard(b) {
			return propusk.Errorf(propusk.EFORBIDDEN, "the caller may not act on board %q", b)
		}
	}
	for _, a := range rq.abilities {
		if err := RequireAbility(a)(nil, p); err != nil {
			return err
		}
	}
	return nil
}

// refuse answers a refused forward-auth request: 401 or 403 with the JSON
// error, the code again in a header, and for a browser refused 401 where
// to send it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, o original, err error) error {
	status := edgeStatus(err)
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return err
	}
	code := propusk.ErrorCode(err)
	h := w.Header()
	h.Set(HeaderError, code)
	renew := code == propusk.ETOKENEXPIRED && cookie(r, cookieName(s.mw.CookiePrefix, CookieRefresh)) != ""
	if renew {
		h.Set(HeaderRenew, "1")
	}
	if status == http.StatusUnauthorized && answerOf(r) == browser {
		target := "/api/v1/token.obtain"
		if renew {
			target = "/api/v1/token.renew"
		}
		uri := o.uri
		if uri == "" {
			uri = "/"
		}
		h.Set(HeaderRedirect, target+"?redirect="+url.QueryEscape(uri))
	}
	writeJSON(w, status, ErrorBody{Error: code, Message: propusk.ErrorMessage(err)})
	return nil
}

// assertion signs the caller's identity for audience.
func (s *Server) assertion(p *propusk.Principal, audience string) (string, error) {
	now := s.svc.Now()
	abilities := p.Abilities
	if abilities == nil {
		abilities = []string{propusk.AllAbilities}
	}
	a, err := s.svc.SignAssertion(&token.AssertionClaims{
		Audience: audience, UserID: p.UserID, Level: p.Level, Boards: p.Boards, Abilities: abilities,
		SessionID: p.SessionID, Via: p.Via,
		IssuedAt: token.NewNumericDate(now), ExpiresAt: token.NewNumericDate(now.Add(AssertionTTL)),
	})
	if err != nil {
		return "", propusk.Errorf(propusk.EINTERNAL, "auth.verify: sign assertion: %v", err)
	}
	return a, nil
}

// headerEscape percent-encodes s for a header value: logins and boards may
// hold spaces, commas and any script's letters. Printable ASCII stays as it
// is but for space, '%' and ',', so "posts:write" and "*" read as they are,
// and decodeURIComponent, rawurldecode or url.PathUnescape decode the rest.
func headerEscape(s string) string {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '%' || c == ',' {
			b := make([]byte, 0, len(s)+8)
			for j := 0; j < len(s); j++ {
				if c := s[j]; c <= ' ' || c >= 0x7f || c == '%' || c == ',' {
					b = append(b, '%', hex[c>>4], hex[c&15])
				} else {
					b = append(b, c)
				}
			}
			return string(b)
		}
	}
	return s
}

func headerList(l []string) string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = headerEscape(v)
	}
	return strings.Join(out, ",")
}
