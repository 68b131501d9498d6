package web

import (
	"context"
	"net/http"

	"github.com/propusk/propusk"
)

// access says who may call a route. Every route of the table states one,
// and the zero access panics when the Server is built: a route whose author
// said nothing is a bug, not a public route, so no later edit can open a
// route by leaving its audience out.
type access struct {
	who    string  // for readers of the table, its test and panics
	guards []Guard // nil: no authentication at all
}

// public lets anyone call the route, with or without a token. Its handler
// does its own checks: the token routes, logins, the public key set.
func public() access { return access{who: "public"} }

// caller lets any caller with a valid token through, an anonymous visitor's
// included.
func caller() access { return access{who: "caller", guards: []Guard{}} }

// signedIn lets a signed-in user through, when the guards also agree.
func signedIn(guards ...Guard) access {
	return access{who: "signed in", guards: append([]Guard{RequireUser()}, guards...)}
}

// admin lets a caller of level LevelAdmin or above through, when the guards
// also agree.
func admin(guards ...Guard) access {
	return access{who: "admin", guards: append([]Guard{RequireLevel(propusk.LevelAdmin)}, guards...)}
}

// endpoint is one line of the route table.
type endpoint struct {
	pattern string
	access  access
	h       handlerFunc
	// behind wraps the handler inside the access check, for a route that
	// needs more than its audience says (the CSRF guard of Sanctum's login).
	behind func(http.Handler) http.Handler
}

// at is a line of the route table.
func at(pattern string, a access, h handlerFunc) endpoint {
	return endpoint{pattern: pattern, access: a, h: h}
}

// after puts the route's handler behind wrap.
func (rt endpoint) after(wrap func(http.Handler) http.Handler) endpoint {
	rt.behind = wrap
	return rt
}

// routeTable is every route of the Server, and who may call it.
func (s *Server) routeTable() []endpoint {
	tokensManage := RequireAbility(propusk.AbilityTokensManage)
	sessionsManage := RequireAbility(propusk.AbilitySessionsManage)
	usersManage := RequireAbility(propusk.AbilityUsersManage)
	verify := s.authVerify() // one handler for both forms
	return []endpoint{
		at("GET /api/v1/token.obtain", public(), s.obtain),
		at("GET /api/v1/token.renew", public(), s.renew),
		at("POST /api/v1/token.renew", public(), s.renew),
		at("GET /api/v1/token.check", public(), s.check),
		// auth.verify checks its caller itself: a proxy needs 401 or 403,
		// never a redirect. Envoy's form has the original path after it.
		at("/api/v1/auth.verify", public(), verify),
		at("/api/v1/auth.verify/", public(), verify),
		at("POST /api/v1/user.register", public(), s.register),
		at("POST /api/v1/user.login", public(), s.login),
		at("POST /api/v1/user.logoff", public(), s.logoff),
		at("GET /api/v1/user.me", caller(), s.me),
		at("GET /api/v1/sessions", signedIn(), s.sessions),
		at("DELETE /api/v1/sessions/{id}", signedIn(sessionsManage), s.endSession),
		at("DELETE /api/v1/sessions", signedIn(sessionsManage), s.endOtherSessions),
		at("POST /api/v1/user.password", signedIn(), s.changePassword),

		at("GET /api/v1/tokens", signedIn(), s.listTokens),
		at("POST /api/v1/tokens", signedIn(tokensManage), s.createToken),
		at("DELETE /api/v1/tokens/{id}", signedIn(tokensManage), s.deleteToken),
		at("POST /api/v1/admin/users/{id}/api-token", admin(RequireAbility(propusk.AbilityTokensReissue)), s.reissue),
		at("GET /api/v1/admin/users", admin(usersManage), s.adminUsers),
		at("GET /api/v1/admin/users/{id}", admin(usersManage), s.adminUser),
		at("PATCH /api/v1/admin/users/{id}", admin(usersManage), s.adminPatchUser),
		at("DELETE /api/v1/admin/users/{id}", admin(usersManage), s.adminDeleteUser),
		at("POST /api/v1/admin/users/{id}/password", admin(usersManage), s.adminSetPassword),
		at("GET /api/v1/admin/users/{id}/sessions", admin(usersManage), s.adminSessions),
		at("DELETE /api/v1/admin/users/{id}/sessions", admin(usersManage), s.adminEndSessions),
		at("DELETE /api/v1/admin/users/{id}/sessions/{sid}", admin(usersManage), s.adminEndSessions),
		at("GET /api/v1/admin/audit", admin(RequireAbility(propusk.AbilityAuditRead)), s.adminAudit),
		at("GET /api/v1/user.audit", signedIn(), s.userAudit),
		// These check their caller themselves: an RFC 7662 or SSE client
		// gets 401, never a redirect.
		at("POST /api/v1/token.introspect", public(), s.introspect),
		at("POST /api/v1/token.revoke", public(), s.revoke),
		at("GET /api/v1/revocations", public(), s.revocations),

		at("GET /sanctum/csrf-cookie", public(), s.csrfCookie),
		// Sanctum's login always needs the token: the guard runs first.
		at("POST /login", public(), s.spaLogin).after(s.csrf.Handler),
		at("POST /logout", public(), s.logoff),
		at("GET /api/user", signedIn(), s.me),

		at("GET /account", caller(), s.account),
		at("POST /account/login", public(), s.form(s.accountLogin)),
		at("POST /account/register", public(), s.form(s.accountRegister)),
		at("POST /account/tokens", signedIn(tokensManage), s.form(s.accountCreateToken)),
		at("POST /account/tokens/{id}/delete", signedIn(tokensManage), s.form(s.accountDeleteToken)),
		at("POST /account/sessions/{id}/delete", signedIn(sessionsManage), s.form(s.accountEndSession)),
		at("POST /account/sessions/others", signedIn(sessionsManage), s.form(s.accountEndOthers)),
		at("POST /account/password", signedIn(), s.form(s.accountChangePassword)),
		at("GET /account/admin/users", admin(usersManage), s.form(s.adminUsersPage)),
		at("GET /account/admin/users/{id}", admin(usersManage), s.form(s.adminUserPage)),
		at("POST /account/admin/users/{id}", admin(usersManage), s.form(s.accountAdminUpdate)),
		at("POST /account/admin/users/{id}/disable", admin(usersManage), s.form(s.accountAdminDisable)),
		at("POST /account/admin/users/{id}/enable", admin(usersManage), s.form(s.accountAdminEnable)),
		at("POST /account/admin/users/{id}/password", admin(usersManage), s.form(s.accountAdminPassword)),
		at("POST /account/admin/users/{id}/sessions/delete", admin(usersManage), s.form(s.accountAdminEndSession)),
		at("POST /account/admin/users/{id}/sessions/{sid}/delete", admin(usersManage), s.form(s.accountAdminEndSession)),

		at("GET /.well-known/jwks.json", public(), s.jwks),
		at("GET /assets/{name}", public(), s.asset),
		at("GET /healthz", public(), s.healthz),
		at("GET /api/v1/openapi.json", public(), s.openAPI),
		at("GET /{$}", public(), s.home),
	}
}

func (s *Server) routes() {
	for _, rt := range s.routeTable() {
		s.handle(rt)
	}
}

// handlerFunc is a handler that returns its error, so that every error is
// answered in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle mounts a route. An error the handler returns is answered, unless
// the handler had begun its answer already: a second answer would only be
// appended to the first (a JSON error after a page), so the error is logged.
func (s *Server) handle(rt endpoint) {
	if rt.access.who == "" {
		panic("web: route " + rt.pattern + " states no access: say public(), caller(), signedIn() or admin()")
	}
	serve := func(w http.ResponseWriter, r *http.Request) {
		hw := harden(w)
		if err := rt.h(hw, r); err != nil {
			if hw.wrote {
				s.lateError(r, err)
				return
			}
			s.fail(hw, r, err)
		}
	}
	// The client goes with the request for the audit log's entries, read
	// only if one is written. A copy of r, made here: the mux set Pattern
	// on r for the request log.
	withClient := func(ctx context.Context, r *http.Request) *http.Request {
		return r.WithContext(propusk.WithClientOf(ctx, func() propusk.Client { return s.clientOf(r) }))
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, withClient(r.Context(), r))
	})
	switch {
	case rt.access.guards != nil && rt.behind == nil:
		// Protect, with the caller and the client put in one copy of the
		// request rather than one each: every copy allocates a whole
		// Request, on every protected request.
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := s.mw.admit(r, rt.access.guards)
			if err != nil {
				s.mw.deny(w, r, err)
				return
			}
			serve(w, withClient(propusk.NewContext(r.Context(), p), r))
		})
	case rt.access.guards != nil:
		h = s.mw.Protect(rt.behind(h), rt.access.guards...)
	case rt.behind != nil:
		h = rt.behind(h)
	}
	s.mux.Handle(rt.pattern, h)
	s.addLiteral(rt.pattern, h)
}
