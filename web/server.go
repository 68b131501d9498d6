// Package web serves propusk over HTTP: the Foxtan token protocol under
// /api/v1, personal access tokens, Sanctum's SPA cookie login, the /account
// page and its assets, and the middleware a Go web app mounts to protect its
// own routes.
//
// # Browser and API routes
//
// Every route answers script clients (those that send X-Requested-With) with
// JSON, and browsers without it with cookies and redirects, so a page works
// with JavaScript off. State-changing requests authenticated by a cookie need
// a CSRF token bound to the session; requests that carry their token in a
// header need none, as a cross-site page cannot make a browser send one.
//
// # Embedding
//
// A Go app builds an auth.Service, then a Server, mounts the Server for
// propusk's own routes and wraps its handlers with Server.Protect:
//
//	srv, err := web.New(web.Config{Service: svc})
//	mux.Handle("/", srv)
//	mux.Handle("POST /boards/{board}/posts", srv.Protect(postHandler,
//		web.RequireBoard(func(r *http.Request) string { return r.PathValue("board") })))
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/hmacpool"
)

// Config configures a Server. Zero values take the defaults in the comments.
type Config struct {
	Service *auth.Service // required
	Logger  *slog.Logger  // default: slog.Default()
	// CookieSecure is "auto" (default: Secure when the request came over
	// TLS), "true" or "false".
	CookieSecure string
	// StatefulOrigins are first-party origins besides the server's own (such
	// as "https://app.example.com") whose pages may use cookie authentication.
	StatefulOrigins []string
	// ClientIPHeader names a header set by a trusted reverse proxy with the
	// client's address (such as "X-Real-IP"); default none: the peer address.
	ClientIPHeader string
	MaxBodyBytes   int64 // default 64 KiB
	// HostCookies names the token cookies __Host-accessToken and
	// __Host-refreshToken, always Secure, Path=/ and without Domain
	// (default false: accessToken, refreshToken). For deployments on
	// HTTPS only: browsers refuse such cookies over plain HTTP. Cookies
	// under the plain names are then ignored.
	HostCookies bool
	// Abilities are the abilities the account page offers as checkboxes
	// for a new token, besides "*" and propusk's own (default none: "*",
	// tokens:manage and sessions:manage).
	Abilities []string
}

// Server is propusk's HTTP handler.
type Server struct {
	cfg Config
	svc *auth.Service
	log *slog.Logger
	mux *http.ServeMux
	// literal holds the routes without wildcards, by path, for
	// Server.literalRoute.
	literal map[string]*literalRoutes
	mw      *Middleware
	tokens  *csrfTokens
	csrf    *csrfGuard // for requests whose credential is their cookies
	// loginCSRF is csrf for logins and logoffs, whose credentials are in
	// the body: a token is needed only when the cookies hold a session.
	loginCSRF *csrfGuard
	origins   *origins
	errs      *rateLog // failed requests, by class (Server.record)
	badAddr   *rateLog // client address headers that do not parse
	streams   streams  // the open revocation streams (CloseStreams)
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("http: Config.Service is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch cfg.CookieSecure {
	case "":
		cfg.CookieSecure = "auto"
	case "auto", "true", "false":
	default:
		return nil, fmt.Errorf("http: CookieSecure must be auto, true or false, not %q", cfg.CookieSecure)
	}
	if cfg.HostCookies && cfg.CookieSecure == "false" {
		return nil, errors.New("http: HostCookies needs Secure cookies; CookieSecure must not be false")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	s := &Server{cfg: cfg, svc: cfg.Service, log: cfg.Logger, mux: http.NewServeMux(), literal: map[string]*literalRoutes{}}
	s.errs = newRateLog(errorLogEvery, cfg.Service.Now)
	s.badAddr = newRateLog(badAddrEvery, cfg.Service.Now)
	o, err := newOrigins(cfg.StatefulOrigins)
	if err != nil {
		return nil, fmt.Errorf("http: stateful origin: %w", err)
	}
	s.origins = o
	s.tokens = &csrfTokens{key: hmacpool.New(cfg.Service.DeriveKey("propusk http csrf v1")), rand: cfg.Service.Rand()}
	s.csrf = &csrfGuard{tokens: s.tokens, origins: s.origins, session: s.cookieSession, maxBody: cfg.MaxBodyBytes, deny: s.fail}
	login := *s.csrf
	login.ifSession = true
	s.loginCSRF = &login
	prefix := ""
	if cfg.HostCookies {
		prefix = hostPrefix
	}
	s.mw = &Middleware{
		Auth:         cfg.Service,
		CookiePrefix: prefix,
		CSRF:         s.csrf.Check,
		Logger:       cfg.Logger,
		OnError: func(w http.ResponseWriter, r *http.Request, err error) {
			if s.formDenied(w, r, err) {
				return
			}
			code := propusk.ErrorCode(err)
			if code == propusk.EINTERNAL || code == propusk.EUNAVAILABLE {
				s.fail(w, r, err)
				return
			}
			DenyDefault(w, r, err)
		},
	}
	s.routes()
	return s, nil
}

// Middleware returns the Server's authentication middleware.
func (s *Server) Middleware() *Middleware { return s.mw }

// Protect is s.Middleware().Protect.
func (s *Server) Protect(h http.Handler, guards ...Guard) http.Handler {
	return s.mw.Protect(h, guards...)
}

// ServeHTTP serves propusk's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = harden(w)
	if s.cors(w, r) {
		return
	}
	if err := overrideMethod(w, r, s.cfg.MaxBodyBytes); err != nil {
		s.fail(w, r, err)
		return
	}
	if h, pattern := s.literalRoute(r); h != nil {
		r.Pattern = pattern
		h.ServeHTTP(w, r)
		return
	}
	h, pattern := s.mux.Handler(r)
	switch {
	case pattern == "":
		s.notFound(w, r)
	case strings.IndexByte(pattern, '{') >= 0:
		s.mux.ServeHTTP(w, r) // it finds the route again, and sets its path values
	default:
		// A route without wildcards is served by the handler just found,
		// rather than looked up a second time: r.Pattern is all that the
		// mux would have set on r.
		r.Pattern = pattern
		h.ServeHTTP(w, r)
	}
}

// literalRoute returns the handler and pattern of the route without
// wildcards whose path is r's exactly, or nil, when the mux must decide.
// Every hot route (token.obtain, token.renew, user.me, auth.verify) is
// one, and a map finds it for a tenth of what the mux's matching costs
// (about 0.6 µs a request, measured in auth.verify). It chooses as the mux would: a path named exactly by a
// literal pattern matches no more specific one (propusk registers no host
// patterns, and a wildcard pattern that competed would not register), a
// pattern with the request's method before one without, and GET's for
// HEAD. A path with escapes the mux would keep (RawPath) is left to it.
func (s *Server) literalRoute(r *http.Request) (http.Handler, string) {
	if r.URL.RawPath != "" {
		return nil, ""
	}
	routes := s.literal[r.URL.Path]
	if routes == nil {
		return nil, ""
	}
	rt, ok := routes.byMethod[r.Method]
	if !ok && r.Method == http.MethodHead {
		rt, ok = routes.byMethod[http.MethodGet]
	}
	if !ok {
		rt = routes.any
	}
	return rt.h, rt.pattern
}

// literalRoutes are the routes of one path without wildcards.
type literalRoutes struct {
	byMethod map[string]literalRoute // of patterns with a method
	any      literalRoute            // of the pattern without one, if any
}

type literalRoute struct {
	h       http.Handler
	pattern string
}

// addLiteral records the route of pattern, when it has no wildcards, for
// literalRoute.
func (s *Server) addLiteral(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	if strings.ContainsRune(path, '{') || strings.HasSuffix(path, "/") || !strings.HasPrefix(path, "/") {
		return
	}
	routes := s.literal[path]
	if routes == nil {
		routes = &literalRoutes{byMethod: map[string]literalRoute{}}
		s.literal[path] = routes
	}
	if method == "" {
		routes.any = literalRoute{h, pattern}
	} else {
		routes.byMethod[method] = literalRoute{h, pattern}
	}
}

// cors lets the pages of the first-party origins (StatefulOrigins) call
// propusk with credentials, as Sanctum's stateful mode expects of an SPA on
// another port or subdomain: it answers their preflights and marks their
// answers readable. Other origins get no CORS headers, so a browser keeps
// their scripts from reading anything. It reports whether it answered.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(s.cfg.StatefulOrigins, origin) {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Requested-With, X-XSRF-TOKEN, X-CSRF-TOKEN, X-Access-Token, Authorization")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// notFound answers an unrouted request: 405 when the path exists under
// another method, 404 otherwise, as JSON like every other error.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.fail(w, r, propusk.Errorf(propusk.EMETHOD, "%s is not served here; allowed: %s", r.Method, strings.Join(allow, ", ")))
		return
	}
	s.fail(w, r, propusk.Errorf(propusk.ENOTFOUND, "no such endpoint"))
}

// overrideMethod lets an HTML form, which can only GET or POST, ask for
// DELETE, PUT or PATCH with a _method field, as Laravel forms do.
func overrideMethod(w http.ResponseWriter, r *http.Request, max int64) error {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil
	}
	in, err := readInput(w, r, max)
	if err != nil {
		return err
	}
	r.PostForm = url.Values{}
	for k, v := range in.vals {
		r.PostForm[k] = []string{v}
	}
	for k, l := range in.lists {
		r.PostForm[k] = l
	}
	if r.Form == nil {
		r.Form = r.PostForm
	}
	if m := strings.ToUpper(in.str("_method")); slices.Contains([]string{http.MethodDelete, http.MethodPut, http.MethodPatch}, m) {
		r.Method = m
	}
	return nil
}

// clientOf describes the client for the sessions list and the budgets of
// attempts; see clientAddr.
func (s *Server) clientOf(r *http.Request) propusk.Client {
	if c, ok := propusk.ClientFrom(r.Context()); ok {
		return c // handle put it there: the header is read, and warned of, once
	}
	return propusk.Client{UserAgent: r.UserAgent(), IP: s.clientAddr(r.Header.Get(s.cfg.ClientIPHeader), r.RemoteAddr)}
}

// healthz answers 200 while the database answers, and 503
// store_unavailable while it does not, so a load balancer can tell. Tokens
// keep verifying meanwhile; the check is about what needs the database.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		if propusk.ErrorCode(err) == propusk.EINTERNAL {
			s.log.Error("health check", "err", err)
			err = propusk.Errorf(propusk.EUNAVAILABLE, "the database is unavailable")
		}
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// home sends a visitor of the bare server's root to the account page: the
// place SafeRedirect falls back to should not be a 404. An app that mounts
// the Server under its own mux serves its own "/".
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/account", http.StatusFound)
	return nil
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(s.svc.JWKS())
	return err
}
