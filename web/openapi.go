package web

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// The OpenAPI description of the HTTP API, served at GET
// /api/v1/openapi.json. It is written here, apart from the route table, one
// entry per route pattern, and TestOpenAPIRoutes holds the two together:
// every route of the table has an entry, and every path and method the
// document names is served by the route it says.

// op is the description of one route.
type op struct {
	path    string   // the OpenAPI path ("/api/v1/tokens/{id}")
	methods []string // lower case; a route of any method lists several
	summary string
	tag     string
	// security names the credentials the route takes: "none", "caller"
	// (every kind), "header" (header credentials only), "admin-header".
	security string
	params   []any
	body     any            // a request body, or nil
	answers  map[string]any // status -> response
}

// Reusable pieces.
func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func jsonAnswer(desc string, schema any) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

func errAnswer(desc string) map[string]any { return jsonAnswer(desc, ref("Error")) }

func redirect(desc string) map[string]any {
	return map[string]any{"description": desc, "headers": map[string]any{
		"Location": map[string]any{"schema": map[string]any{"type": "string"}}}}
}

func htmlAnswer(desc string) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"text/html": map[string]any{"schema": map[string]any{"type": "string"}}}}
}

// pageFails is a page form's failure: the page again for a browser, with
// the reason and the input kept; the JSON error for a script.
func pageFails(desc string) map[string]any {
	return map[string]any{"description": desc + "; a browser gets the page again, with the reason and the input kept", "content": map[string]any{
		"text/html":        map[string]any{"schema": map[string]any{"type": "string"}},
		"application/json": map[string]any{"schema": ref("Error")},
	}}
}

func query(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "query", "required": false, "description": desc, "schema": map[string]any{"type": "string"}}
}

func pathParam(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "path", "required": true, "description": desc, "schema": map[string]any{"type": "string"}}
}

func header(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "header", "required": false, "description": desc, "schema": map[string]any{"type": "string"}}
}

// fields is a request body of string fields, as JSON or a form.
func fields(required []string, props map[string]any) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return map[string]any{"required": len(required) > 0, "content": map[string]any{
		"application/json":                  map[string]any{"schema": s},
		"application/x-www-form-urlencoded": map[string]any{"schema": s},
	}}
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func strs(desc string) map[string]any {
	return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": desc}
}

var (
	xrw         = header("X-Requested-With", "any value: the caller is a script, which gets JSON and 403s instead of cookies and redirects")
	redirectQ   = query("redirect", "a same-site path to send a browser (no X-Requested-With) back to")
	tokenFail   = errAnswer("no usable credential (token_required, token_invalid, token_expired), or the caller may not (forbidden); a browser is redirected instead")
	unavail     = errAnswer("store_unavailable: the database cannot be reached")
	badInput    = errAnswer("invalid_input, body_too_large (413) or unsupported_media_type (415)")
	csrfFail    = errAnswer("csrf_mismatch: a cookie-authenticated request without the session's CSRF token, or from another site")
	tooMany     = errAnswer("too_many_attempts, with Retry-After")
	browserRed  = redirect("a browser (no X-Requested-With) is sent on, as docs/API.md says")
	disabled    = errAnswer("forbidden: the account is disabled (said only after a correct password)")
	userIDParam = pathParam("id", "the user id")
	adminFail   = errAnswer("no usable credential (token_required, token_invalid, token_expired), or forbidden: below level 30, through a personal access token without users:manage, or a user above the caller's level; a browser without a token is redirected instead")
	noUser      = errAnswer("not_found: no such user")
	lastAdmin   = errAnswer("conflict: the last enabled user of level 30 or more is never demoted, disabled or deleted; nothing changes")
	reauthFail  = errAnswer("no usable credential (token_required, token_invalid, token_expired), or forbidden: the current password is wrong (a failed login of the account), or the caller may not; a browser without a token is redirected instead")
)

// ops are the descriptions, by route pattern.
var ops = map[string]op{
	"GET /api/v1/token.obtain": {path: "/api/v1/token.obtain", methods: []string{"get"}, tag: "tokens", security: "none",
		summary: "Anonymous tokens", params: []any{xrw, redirectQ},
		answers: map[string]any{"200": jsonAnswer("an anonymous pair; a browser also gets cookies", ref("Pair")), "302": browserRed, "503": unavail}},
	"GET /api/v1/token.renew": {path: "/api/v1/token.renew", methods: []string{"get"}, tag: "tokens", security: "none",
		summary: "Spend a refresh token for a new pair", params: []any{xrw, redirectQ, query("refreshToken", "the refresh token (else the body field or the refreshToken cookie)")},
		answers: map[string]any{"200": jsonAnswer("a new pair", ref("Pair")), "302": browserRed, "403": errAnswer("token_invalid, or token_reused: the session is revoked"), "503": unavail}},
	"POST /api/v1/token.renew": {path: "/api/v1/token.renew", methods: []string{"post"}, tag: "tokens", security: "none",
		summary: "Spend a refresh token for a new pair", params: []any{xrw, redirectQ, query("refreshToken", "the refresh token (else the body field or the refreshToken cookie, which needs a CSRF token)")},
		body:    fields(nil, map[string]any{"refreshToken": str("the refresh token"), "redirect": str("where to send a browser")}),
		answers: map[string]any{"200": jsonAnswer("a new pair", ref("Pair")), "302": browserRed, "400": badInput, "403": errAnswer("token_invalid, or token_reused: the session is revoked"), "419": csrfFail, "503": unavail}},
	"GET /api/v1/token.check": {path: "/api/v1/token.check", methods: []string{"get"}, tag: "tokens", security: "caller-optional",
		summary: "Whether the caller's access token is usable",
		answers: map[string]any{"200": jsonAnswer("isActive, and the seconds it has left", ref("Check")), "503": unavail}},
	"/api/v1/auth.verify": {path: "/api/v1/auth.verify", methods: []string{"get", "post", "put", "patch", "delete"}, tag: "forward-auth", security: "caller",
		summary: "Forward-auth for nginx, Caddy, Traefik and Envoy: any method is answered alike",
		params: []any{query("level", "level at least N"), query("board", "may act on this board (repeatable)"), query("board_from", "a path pattern with one {board}"),
			query("ability", "the token carries this ability (repeatable)"), query("assert", "add an assertion for this audience"),
			header("X-Original-URI", "the original request's path"), header("X-Original-Method", "the original request's method"), header("X-Forwarded-Host", "the original host")},
		answers: map[string]any{"200": map[string]any{"description": "allowed; identity in X-Propusk-* headers"}, "400": badInput, "401": tokenFail, "403": errAnswer("forbidden or csrf_mismatch"), "503": unavail}},
	"/api/v1/auth.verify/": {path: "/api/v1/auth.verify/{original}", methods: []string{"get", "post", "put", "patch", "delete"}, tag: "forward-auth", security: "caller",
		summary: "Forward-auth, Envoy's form: the original path follows", params: []any{pathParam("original", "the original request's path"), query("level", "level at least N")},
		answers: map[string]any{"200": map[string]any{"description": "allowed; identity in X-Propusk-* headers"}, "400": badInput, "401": tokenFail, "403": errAnswer("forbidden or csrf_mismatch"), "503": unavail}},
	"POST /api/v1/user.register": {path: "/api/v1/user.register", methods: []string{"post"}, tag: "users", security: "none",
		summary: "Create a user and sign in", params: []any{xrw, redirectQ},
		body:    fields([]string{"login", "password"}, map[string]any{"login": str("1 to 64 characters of one script"), "password": str("8 characters to 1024 bytes"), "name": str("Laravel mode: users.name, 1 to 255 characters (default: the login); ignored otherwise"), "redirect": str("where to send a browser")}),
		answers: map[string]any{"201": jsonAnswer("the user's first pair and api-token", ref("Pair")), "302": browserRed, "400": badInput, "409": errAnswer("login_taken"), "419": csrfFail, "429": tooMany, "503": unavail}},
	"POST /api/v1/user.login": {path: "/api/v1/user.login", methods: []string{"post"}, tag: "users", security: "none",
		summary: "Sign in", params: []any{xrw, redirectQ},
		body:    fields([]string{"login", "password"}, map[string]any{"login": str("the login"), "password": str("the password"), "redirect": str("where to send a browser")}),
		answers: map[string]any{"200": jsonAnswer("a new session's pair and api-token", ref("Pair")), "302": browserRed, "400": badInput, "401": errAnswer("invalid_credentials"), "403": disabled, "409": errAnswer("conflict: too many sessions"), "419": csrfFail, "429": tooMany, "503": unavail}},
	"POST /api/v1/user.logoff": {path: "/api/v1/user.logoff", methods: []string{"post"}, tag: "users", security: "caller-optional",
		summary: "End the caller's session", params: []any{xrw, redirectQ},
		body:    fields(nil, map[string]any{"refreshToken": str("a refresh token of the session"), "redirect": str("where to send a browser")}),
		answers: map[string]any{"200": jsonAnswer("ended, or there was nothing to end", ref("LoggedOff")), "302": browserRed, "400": badInput, "419": csrfFail, "503": unavail}},
	"GET /api/v1/user.me": {path: "/api/v1/user.me", methods: []string{"get"}, tag: "users", security: "caller",
		summary: "The caller", params: []any{xrw},
		answers: map[string]any{"200": jsonAnswer("who the caller is", ref("Me")), "302": browserRed, "403": tokenFail, "503": unavail}},
	"GET /api/v1/sessions": {path: "/api/v1/sessions", methods: []string{"get"}, tag: "sessions", security: "caller",
		summary: "The signed-in user's live sessions", params: []any{xrw},
		answers: map[string]any{"200": jsonAnswer("newest first", map[string]any{"type": "array", "items": ref("Session")}), "302": browserRed, "403": tokenFail, "503": unavail}},
	"DELETE /api/v1/sessions/{id}": {path: "/api/v1/sessions/{id}", methods: []string{"delete"}, tag: "sessions", security: "caller",
		summary: "End one of the user's sessions (ability sessions:manage)", params: []any{xrw, pathParam("id", "the session id")},
		answers: map[string]any{"200": jsonAnswer("ended", ref("Ended")), "302": browserRed, "403": tokenFail, "404": errAnswer("not_found"), "419": csrfFail, "503": unavail}},
	"DELETE /api/v1/sessions": {path: "/api/v1/sessions", methods: []string{"delete"}, tag: "sessions", security: "caller",
		summary: "Sign out other devices: end every session of the user but the current one, with the current password (ability sessions:manage; through a personal access token, every session)", params: []any{xrw},
		body:    fields([]string{"password"}, map[string]any{"password": str("the current password, always")}),
		answers: map[string]any{"200": jsonAnswer("how many sessions ended", ref("EndedCount")), "302": browserRed, "400": errAnswer("invalid_input: no password; body_too_large (413) or unsupported_media_type (415)"), "403": reauthFail, "419": csrfFail, "429": tooMany, "503": unavail}},
	"POST /api/v1/user.password": {path: "/api/v1/user.password", methods: []string{"post"}, tag: "users", security: "caller",
		summary: "Change the caller's password, with the current one; every other session of the user ends", params: []any{xrw},
		body:    fields([]string{"current", "new"}, map[string]any{"current": str("the current password, always"), "new": str("the new password: 8 characters to 1024 bytes")}),
		answers: map[string]any{"200": jsonAnswer("changed", ref("Changed")), "302": browserRed, "400": errAnswer("invalid_input: no current password, or a new one registration would refuse; body_too_large (413) or unsupported_media_type (415)"), "403": reauthFail, "419": csrfFail, "429": tooMany, "503": unavail}},
	"GET /api/v1/admin/users": {path: "/api/v1/admin/users", methods: []string{"get"}, tag: "admin", security: "caller",
		summary: "Users in id order, a page at a time (level 30; ability users:manage)",
		params:  []any{xrw, query("login", "only logins that contain this, case-insensitive, no wildcards"), query("limit", "1 to 500; default 50"), query("cursor", "the previous page's next")},
		answers: map[string]any{"200": jsonAnswer("a page of users", ref("UsersPage")), "302": browserRed, "400": errAnswer("invalid_input: a limit or cursor out of range, or a login too long"), "403": adminFail, "503": unavail}},
	"GET /api/v1/admin/users/{id}": {path: "/api/v1/admin/users/{id}", methods: []string{"get"}, tag: "admin", security: "caller",
		summary: "One user (level 30; ability users:manage)", params: []any{xrw, userIDParam},
		answers: map[string]any{"200": jsonAnswer("the user", ref("User")), "302": browserRed, "403": adminFail, "404": noUser, "503": unavail}},
	"PATCH /api/v1/admin/users/{id}": {path: "/api/v1/admin/users/{id}", methods: []string{"patch"}, tag: "admin", security: "caller",
		summary: "Change a user's level, boards or state (level 30; ability users:manage); disabling ends every session and token of the user on every process", params: []any{xrw, userIDParam},
		body: map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"type": "object", "additionalProperties": false, "properties": map[string]any{
				"level":    map[string]any{"type": "integer", "minimum": 0, "maximum": 1000, "description": "at most the caller's own"},
				"boards":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1, "description": `the boards, or ["*"]`},
				"disabled": map[string]any{"type": "boolean", "description": "true: the user cannot sign in, and everything they hold is refused"}}}}}},
		answers: map[string]any{"200": jsonAnswer("the user, changed", ref("User")), "302": browserRed, "400": errAnswer("invalid_input: not a JSON object of these fields, a level out of range, empty or malformed boards; body_too_large (413)"),
			"403": adminFail, "404": noUser, "409": lastAdmin, "415": errAnswer("unsupported_media_type: JSON only"), "419": csrfFail, "503": unavail}},
	"DELETE /api/v1/admin/users/{id}": {path: "/api/v1/admin/users/{id}", methods: []string{"delete"}, tag: "admin", security: "caller",
		summary: "Delete a user, their sessions and tokens, refused on every process (level 30; ability users:manage)", params: []any{xrw, userIDParam},
		answers: map[string]any{"200": jsonAnswer("deleted", ref("Deleted")), "302": browserRed, "403": adminFail, "404": noUser, "409": lastAdmin, "419": csrfFail, "503": unavail}},
	"POST /api/v1/admin/users/{id}/password": {path: "/api/v1/admin/users/{id}/password", methods: []string{"post"}, tag: "admin", security: "caller",
		summary: "Set a user's password and end every session of the user (level 30; ability users:manage)", params: []any{xrw, userIDParam},
		body:    fields([]string{"password"}, map[string]any{"password": str("8 characters to 1024 bytes")}),
		answers: map[string]any{"200": jsonAnswer("changed", ref("Changed")), "302": browserRed, "400": badInput, "403": adminFail, "404": noUser, "419": csrfFail, "503": unavail}},
	"GET /api/v1/admin/users/{id}/sessions": {path: "/api/v1/admin/users/{id}/sessions", methods: []string{"get"}, tag: "admin", security: "caller",
		summary: "A user's live sessions (level 30; ability users:manage)", params: []any{xrw, userIDParam},
		answers: map[string]any{"200": jsonAnswer("newest first, as GET /api/v1/sessions; current is always false", map[string]any{"type": "array", "items": ref("Session")}), "302": browserRed, "403": adminFail, "404": noUser, "503": unavail}},
	"DELETE /api/v1/admin/users/{id}/sessions": {path: "/api/v1/admin/users/{id}/sessions", methods: []string{"delete"}, tag: "admin", security: "caller",
		summary: "End every session of a user (level 30; ability users:manage)", params: []any{xrw, userIDParam},
		answers: map[string]any{"200": jsonAnswer("ended, or there was nothing to end", ref("Ended")), "302": browserRed, "403": adminFail, "404": noUser, "419": csrfFail, "503": unavail}},
	"DELETE /api/v1/admin/users/{id}/sessions/{sid}": {path: "/api/v1/admin/users/{id}/sessions/{sid}", methods: []string{"delete"}, tag: "admin", security: "caller",
		summary: "End one session of a user (level 30; ability users:manage)", params: []any{xrw, userIDParam, pathParam("sid", "the session id")},
		answers: map[string]any{"200": jsonAnswer("ended", ref("Ended")), "302": browserRed, "403": adminFail, "404": errAnswer("not_found: no such user, or no such session of the user"), "419": csrfFail, "503": unavail}},
	"GET /api/v1/tokens": {path: "/api/v1/tokens", methods: []string{"get"}, tag: "tokens", security: "caller",
		summary: "The user's personal access tokens", params: []any{xrw},
		answers: map[string]any{"200": jsonAnswer("oldest first; never a secret", map[string]any{"type": "array", "items": ref("Token")}), "302": browserRed, "403": tokenFail, "503": unavail}},
	"POST /api/v1/tokens": {path: "/api/v1/tokens", methods: []string{"post"}, tag: "tokens", security: "caller",
		summary: "Create a personal access token (ability tokens:manage)", params: []any{xrw},
		body:    fields([]string{"name"}, map[string]any{"name": str("its name"), "abilities": strs("its abilities; default every one"), "expires_at": str("RFC 3339; default never")}),
		answers: map[string]any{"201": jsonAnswer("the token, with its secret shown once", ref("NewToken")), "302": browserRed, "400": badInput, "403": tokenFail, "409": errAnswer("conflict: too many tokens"), "419": csrfFail, "503": unavail}},
	"DELETE /api/v1/tokens/{id}": {path: "/api/v1/tokens/{id}", methods: []string{"delete"}, tag: "tokens", security: "caller",
		summary: "Delete a personal access token (ability tokens:manage)", params: []any{xrw, pathParam("id", "the token id")},
		answers: map[string]any{"204": map[string]any{"description": "deleted"}, "302": browserRed, "403": tokenFail, "404": errAnswer("not_found"), "419": csrfFail, "503": unavail}},
	"POST /api/v1/admin/users/{id}/api-token": {path: "/api/v1/admin/users/{id}/api-token", methods: []string{"post"}, tag: "admin", security: "caller",
		summary: "Reissue a user's api-token (level 30; ability tokens:reissue)", params: []any{xrw, pathParam("id", "the user id")},
		body:    fields([]string{"reason"}, map[string]any{"reason": str("letters, digits and underscores")}),
		answers: map[string]any{"201": jsonAnswer("the new api-token", ref("APIToken")), "302": browserRed, "400": badInput, "403": tokenFail, "404": errAnswer("not_found"), "419": csrfFail, "503": unavail}},
	"GET /api/v1/admin/audit": {path: "/api/v1/admin/audit", methods: []string{"get"}, tag: "admin", security: "caller",
		summary: "The audit log, newest first (level 30; ability audit:read)",
		params: []any{xrw, query("user", "entries whose subject or actor is this user id"), query("kind", "one event kind"),
			query("since", "RFC 3339: entries at or after"), query("until", "RFC 3339: entries before"),
			query("cursor", "the next of the previous page"), query("limit", "1 to 500, default 50")},
		answers: map[string]any{"200": jsonAnswer("a page of entries", ref("AuditPage")), "302": browserRed, "400": badInput, "403": tokenFail, "503": unavail}},
	"GET /api/v1/user.audit": {path: "/api/v1/user.audit", methods: []string{"get"}, tag: "users", security: "caller",
		summary: "The signed-in user's own account events, newest first",
		params: []any{xrw, query("kind", "one event kind"),
			query("since", "RFC 3339: entries at or after"), query("until", "RFC 3339: entries before"),
			query("cursor", "the next of the previous page"), query("limit", "1 to 500, default 50")},
		answers: map[string]any{"200": jsonAnswer("a page of entries", ref("AuditPage")), "302": browserRed, "400": badInput, "403": tokenFail, "503": unavail}},
	"POST /api/v1/token.introspect": {path: "/api/v1/token.introspect", methods: []string{"post"}, tag: "relying services", security: "header",
		summary: "RFC 7662 token introspection (ability tokens:introspect)",
		body:    fields([]string{"token"}, map[string]any{"token": str("the token to introspect"), "token_type_hint": str("ignored")}),
		answers: map[string]any{"200": jsonAnswer("active or not", ref("Introspection")), "400": badInput, "401": errAnswer("no usable credential, or forbidden (see WWW-Authenticate)"), "503": unavail}},
	"POST /api/v1/token.revoke": {path: "/api/v1/token.revoke", methods: []string{"post"}, tag: "relying services", security: "none",
		summary: "RFC 7009 revocation: holding the token is the authority",
		body:    fields([]string{"token"}, map[string]any{"token": str("the token to revoke"), "token_type_hint": str("ignored")}),
		answers: map[string]any{"200": jsonAnswer("always, whether there was anything to revoke", map[string]any{"type": "object"}), "400": badInput, "503": unavail}},
	"GET /api/v1/revocations": {path: "/api/v1/revocations", methods: []string{"get"}, tag: "relying services", security: "caller",
		summary: "The revocation feed as Server-Sent Events (ability revocations:read)", params: []any{query("after", "resume after this sequence number"), header("Last-Event-ID", "resume after this sequence number")},
		answers: map[string]any{"200": map[string]any{"description": "an event stream", "content": map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{"type": "string"}}}},
			"400": badInput, "401": errAnswer("token_required or token_invalid"), "403": errAnswer("forbidden"), "503": unavail}},
	"GET /sanctum/csrf-cookie": {path: "/sanctum/csrf-cookie", methods: []string{"get"}, tag: "spa", security: "none",
		summary: "Set the XSRF-TOKEN cookie (Sanctum)", answers: map[string]any{"204": map[string]any{"description": "the cookie is set"}}},
	"POST /login": {path: "/login", methods: []string{"post"}, tag: "spa", security: "none",
		summary: "Sanctum's SPA login: cookies, with X-XSRF-TOKEN",
		body:    fields([]string{"login", "password"}, map[string]any{"login": str("the login"), "password": str("the password")}),
		answers: map[string]any{"200": jsonAnswer("the user; the session is in the cookies", ref("Me")), "400": badInput, "401": errAnswer("invalid_credentials"), "403": disabled, "419": csrfFail, "429": tooMany, "503": unavail}},
	"POST /logout": {path: "/logout", methods: []string{"post"}, tag: "spa", security: "caller-optional",
		summary: "Sanctum's logout: as user.logoff", params: []any{xrw},
		answers: map[string]any{"200": jsonAnswer("ended", ref("LoggedOff")), "302": browserRed, "419": csrfFail, "503": unavail}},
	"GET /api/user": {path: "/api/user", methods: []string{"get"}, tag: "spa", security: "caller",
		summary: "Sanctum's current user", params: []any{xrw},
		answers: map[string]any{"200": jsonAnswer("the user", ref("Me")), "302": browserRed, "403": tokenFail, "503": unavail}},
	"GET /account": {path: "/account", methods: []string{"get"}, tag: "pages", security: "caller",
		summary: "The account page", answers: map[string]any{"200": htmlAnswer("the page"), "302": browserRed, "503": unavail}},
	"POST /account/login": {path: "/account/login", methods: []string{"post"}, tag: "pages", security: "none",
		summary: "The account page's login form",
		body:    fields([]string{"login", "password"}, map[string]any{"login": str("the login"), "password": str("the password")}),
		answers: map[string]any{"303": redirect("signed in: to /account"), "401": htmlAnswer("the page again, with the reason"), "403": htmlAnswer("the page again: the account is disabled"), "419": csrfFail, "429": htmlAnswer("the page again, with the reason")}},
	"POST /account/register": {path: "/account/register", methods: []string{"post"}, tag: "pages", security: "none",
		summary: "The account page's registration form: create a user and sign in",
		body:    fields([]string{"login", "password", "password_confirmation"}, map[string]any{"login": str("1 to 64 characters of one script"), "password": str("8 characters to 1024 bytes"), "password_confirmation": str("the password again")}),
		answers: map[string]any{"303": redirect("registered and signed in (cookies): to /account"), "400": pageFails("invalid_input (or the two passwords differ), body_too_large (413), unsupported_media_type (415)"),
			"409": pageFails("login_taken"), "419": pageFails("csrf_mismatch: a cross-site post, or a browser holding session cookies without the CSRF token (\"Page expired\")"), "429": pageFails("too_many_attempts, with Retry-After"), "503": unavail}},
	"POST /account/tokens": {path: "/account/tokens", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The account page's token form",
		body:    fields([]string{"name"}, map[string]any{"name": str("its name"), "abilities": strs("its abilities")}),
		answers: map[string]any{"201": htmlAnswer("the page, with the secret shown once"), "302": browserRed, "419": csrfFail}},
	"POST /account/tokens/{id}/delete": {path: "/account/tokens/{id}/delete", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The account page's token delete form", params: []any{pathParam("id", "the token id")},
		answers: map[string]any{"303": redirect("to /account"), "302": browserRed, "419": csrfFail}},
	"POST /account/sessions/{id}/delete": {path: "/account/sessions/{id}/delete", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The account page's session end form", params: []any{pathParam("id", "the session id")},
		answers: map[string]any{"303": redirect("to /account"), "302": browserRed, "419": csrfFail}},
	"POST /account/sessions/others": {path: "/account/sessions/others", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The account page's \"sign out all other devices\" form, with the current password (ability sessions:manage)",
		body: fields(nil, map[string]any{"confirm": map[string]any{"type": "string", "enum": []string{"yes"}, "description": "without it, the confirmation page asks (and asks for the password)"},
			"password": str("the current password; needed with confirm=yes")}),
		answers: map[string]any{"200": htmlAnswer("without confirm=yes: the confirmation page, with a password field"), "303": redirect("the other devices are signed out: to /account"), "302": browserRed,
			"400": pageFails("invalid_input: no password"), "403": pageFails("forbidden: the current password is wrong (a failed login of the account), or no sessions:manage; a script without a usable token gets its token error"),
			"419": pageFails("csrf_mismatch: the form's _token is of another session (\"Page expired\")"), "429": pageFails("too_many_attempts, with Retry-After"), "503": unavail}},
	"POST /account/password": {path: "/account/password", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The account page's password change: the other devices are signed out, this one stays signed in",
		body: fields(nil, map[string]any{"confirm": map[string]any{"type": "string", "enum": []string{"yes"}, "description": "without it, the confirmation page asks (and asks for the passwords again)"},
			"current_password": str("the current password"), "new_password": str("the new password, at least 8 characters"),
			"new_password_confirmation": str("the new password again")}),
		answers: map[string]any{"200": htmlAnswer("without confirm=yes: the confirmation page, with the password fields"), "303": redirect("the password is changed: to /account"), "302": browserRed,
			"400": pageFails("invalid_input: a password missing, the new ones differ, or the new one is too short"), "403": pageFails("forbidden: the current password is wrong (a failed login of the account)"),
			"419": pageFails("csrf_mismatch: the form's _token is of another session (\"Page expired\")"), "429": pageFails("too_many_attempts, with Retry-After"), "503": unavail}},
	"GET /account/admin/users": {path: "/account/admin/users", methods: []string{"get"}, tag: "pages", security: "caller",
		summary: "The administrators' users page: the users, searched by a part of the login (level 30, ability users:manage)",
		params:  []any{query("login", "a part of the login"), query("cursor", "the next page's cursor")},
		answers: map[string]any{"200": htmlAnswer("the page"), "302": browserRed, "403": pageFails("forbidden: not an administrator"), "503": unavail}},
	"GET /account/admin/users/{id}": {path: "/account/admin/users/{id}", methods: []string{"get"}, tag: "pages", security: "caller",
		summary: "The administrators' page of one user: level and boards, state, password, sessions, tokens and latest audit events", params: []any{pathParam("id", "the user id")},
		answers: map[string]any{"200": htmlAnswer("the page"), "302": browserRed, "403": pageFails("forbidden: not an administrator"), "404": pageFails("not_found: no such user"), "503": unavail}},
	"POST /account/admin/users/{id}": {path: "/account/admin/users/{id}", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The users page's level and boards form", params: []any{pathParam("id", "the user id")},
		body:    fields(nil, map[string]any{"level": str("the new level, at most the administrator's own"), "boards": str("the boards, comma-separated, or *")}),
		answers: adminFormAnswers("saved: to the user's page")},
	"POST /account/admin/users/{id}/disable": {path: "/account/admin/users/{id}/disable", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The users page's disable form: every session and token of the user ends", params: []any{pathParam("id", "the user id")},
		body:    fields(nil, map[string]any{"confirm": confirmField}),
		answers: adminFormAnswers("disabled: to the user's page")},
	"POST /account/admin/users/{id}/enable": {path: "/account/admin/users/{id}/enable", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The users page's enable form", params: []any{pathParam("id", "the user id")},
		answers: adminFormAnswers("enabled: to the user's page")},
	"POST /account/admin/users/{id}/password": {path: "/account/admin/users/{id}/password", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The users page's password reset: the user is signed out everywhere", params: []any{pathParam("id", "the user id")},
		body: fields(nil, map[string]any{"confirm": confirmField, "new_password": str("the new password, at least 8 characters"),
			"new_password_confirmation": str("the new password again")}),
		answers: adminFormAnswers("reset: to the user's page")},
	"POST /account/admin/users/{id}/sessions/delete": {path: "/account/admin/users/{id}/sessions/delete", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The users page's \"sign out all devices\" form", params: []any{pathParam("id", "the user id")},
		body:    fields(nil, map[string]any{"confirm": confirmField}),
		answers: adminFormAnswers("signed out: to the user's page")},
	"POST /account/admin/users/{id}/sessions/{sid}/delete": {path: "/account/admin/users/{id}/sessions/{sid}/delete", methods: []string{"post"}, tag: "pages", security: "caller",
		summary: "The users page's session end form", params: []any{pathParam("id", "the user id"), pathParam("sid", "the session id")},
		body:    fields(nil, map[string]any{"confirm": confirmField}),
		answers: adminFormAnswers("signed out: to the user's page")},
	"GET /.well-known/jwks.json": {path: "/.well-known/jwks.json", methods: []string{"get"}, tag: "keys", security: "none",
		summary: "The public keys of access tokens",
		answers: map[string]any{"200": map[string]any{"description": "a JWK set", "content": map[string]any{"application/jwk-set+json": map[string]any{"schema": ref("JWKS")}}}}},
	"GET /assets/{name}": {path: "/assets/{name}", methods: []string{"get"}, tag: "pages", security: "none",
		summary: "The scripts and styles of the pages", params: []any{pathParam("name", "bootstrap.js, propusk.js, …")},
		answers: map[string]any{"200": map[string]any{"description": "the asset"}, "404": errAnswer("not_found")}},
	"GET /healthz": {path: "/healthz", methods: []string{"get"}, tag: "operations", security: "none",
		summary: "Liveness and the store's health",
		answers: map[string]any{"200": jsonAnswer("ok", ref("Health")), "503": unavail}},
	"GET /{$}": {path: "/", methods: []string{"get"}, tag: "pages", security: "none",
		summary: "The home: to /account", answers: map[string]any{"302": redirect("to /account")}},
	"GET /api/v1/openapi.json": {path: "/api/v1/openapi.json", methods: []string{"get"}, tag: "operations", security: "none",
		summary: "This document", answers: map[string]any{"200": jsonAnswer("OpenAPI 3.1", map[string]any{"type": "object"})}},
}

// confirmField is a destructive page form's confirm field.
var confirmField = map[string]any{"type": "string", "enum": []string{"yes"}, "description": "without it, the confirmation page asks"}

// adminFormAnswers are the answers of a users page form; ok is its 303.
func adminFormAnswers(ok string) map[string]any {
	return map[string]any{"200": htmlAnswer("without confirm=yes: the confirmation page"), "303": redirect(ok), "302": browserRed,
		"400": pageFails("invalid_input"), "403": pageFails("forbidden: not an administrator, or a level above the administrator's own"),
		"404": pageFails("not_found: no such user or session"), "409": pageFails("conflict: the last administrator cannot be demoted or disabled"),
		"419": pageFails("csrf_mismatch: the form's _token is of another session (\"Page expired\")"), "503": unavail}
}

// securityOf is an operation's security requirement.
func securityOf(kind string) []any {
	every := []any{
		map[string]any{"accessToken": []any{}}, map[string]any{"bearerJWT": []any{}},
		map[string]any{"apiToken": []any{}}, map[string]any{"cookie": []any{}},
	}
	switch kind {
	case "caller":
		return every
	case "caller-optional":
		return append(every, map[string]any{})
	case "header":
		return every[:3]
	}
	return []any{}
}

var schemas = map[string]any{
	"AuditPage": map[string]any{"type": "object", "required": []string{"entries", "next"}, "properties": map[string]any{
		"entries": map[string]any{"type": "array", "items": ref("AuditEntry")},
		"next":    str("the cursor of the next, older page; empty on the last")}},
	"AuditEntry": map[string]any{"type": "object", "required": []string{"id", "at", "kind", "actor", "user", "session", "token", "ip", "userAgent", "outcome", "detail"}, "properties": map[string]any{
		"id": map[string]any{"type": "integer"}, "at": map[string]any{"type": "string", "format": "date-time"},
		"kind": str("register, login, login.failed, rate_limited, logoff, session.ended, session.reused, token.created, token.deleted, token.reissued, password.changed, password.reset, admin.user.updated, admin.user.deleted, admin.sessions.ended, keys.rotated or keys.pruned"),
		"actor": map[string]any{"type": "object", "required": []string{"id", "pat", "auth"}, "properties": map[string]any{
			"id":   map[string]any{"type": "integer", "description": "the user who acted; 0: anonymous, the operator or the server"},
			"pat":  map[string]any{"type": "integer", "description": "the personal access token they acted through; 0 if none"},
			"auth": str("password, access, pat, token, operator or system")}},
		"user":    map[string]any{"type": "integer", "description": "the user the event is about; 0 if none"},
		"session": str("the session the event is about, if any"),
		"token":   map[string]any{"type": "integer", "description": "the personal access token the event is about; 0 if none"},
		"ip":      str("the client's address"), "userAgent": str("the client's user agent"),
		"outcome": str("ok, refused or revoked"), "detail": str("a reason; never a secret")}},
	"Error": map[string]any{"type": "object", "required": []string{"error", "message"}, "properties": map[string]any{
		"error":   map[string]any{"type": "string", "enum": []string{"invalid_input", "invalid_credentials", "token_required", "token_expired", "token_invalid", "token_reused", "forbidden", "not_found", "method_not_allowed", "login_taken", "conflict", "body_too_large", "unsupported_media_type", "csrf_mismatch", "too_many_attempts", "internal", "store_unavailable"}},
		"message": str("for people; never parse it")}},
	"Pair": map[string]any{"type": "object", "required": []string{"accessToken", "refreshToken", "expires"}, "properties": map[string]any{
		"accessToken": str("a JWT"), "refreshToken": str("a JWT for token.renew only"),
		"expires":  map[string]any{"type": "integer", "description": "the access token's exp, unix seconds"},
		"apiToken": str("a personal access token, <id>|<secret>; on register and login")}},
	"Check": map[string]any{"type": "object", "required": []string{"isActive", "expires"}, "properties": map[string]any{
		"isActive": map[string]any{"type": "boolean"}, "expires": map[string]any{"type": []string{"integer", "null"}, "description": "seconds left"}}},
	"Me": map[string]any{"type": "object", "required": []string{"level", "boards", "via"}, "properties": map[string]any{
		"_id": map[string]any{"type": "integer"}, "login": str("as typed at registration"), "level": map[string]any{"type": "integer"},
		"boards": map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": "string"}},
		"via":    map[string]any{"type": "string", "enum": []string{"access-token", "api-token", "cookie"}}}},
	"LoggedOff":  map[string]any{"type": "object", "required": []string{"loggedOff"}, "properties": map[string]any{"loggedOff": map[string]any{"type": "boolean"}}},
	"Ended":      map[string]any{"type": "object", "required": []string{"ended"}, "properties": map[string]any{"ended": map[string]any{"type": "boolean"}}},
	"EndedCount": map[string]any{"type": "object", "required": []string{"ended"}, "properties": map[string]any{"ended": map[string]any{"type": "integer", "minimum": 0, "description": "how many sessions ended"}}},
	"Changed":    map[string]any{"type": "object", "required": []string{"changed"}, "properties": map[string]any{"changed": map[string]any{"type": "boolean"}}},
	"Deleted":    map[string]any{"type": "object", "required": []string{"deleted"}, "properties": map[string]any{"deleted": map[string]any{"type": "boolean"}}},
	"User": map[string]any{"type": "object", "required": []string{"id", "login", "level", "boards", "disabled", "disabledAt", "created", "updated"}, "properties": map[string]any{
		"id": map[string]any{"type": "integer"}, "login": str("as typed at registration"), "level": map[string]any{"type": "integer"},
		"boards":     map[string]any{"type": []string{"array", "null"}, "items": map[string]any{"type": "string"}},
		"disabled":   map[string]any{"type": "boolean"},
		"disabledAt": map[string]any{"type": []string{"string", "null"}, "format": "date-time", "description": "when it was disabled; null when enabled"},
		"created":    map[string]any{"type": "string", "format": "date-time"}, "updated": map[string]any{"type": "string", "format": "date-time"}}},
	"UsersPage": map[string]any{"type": "object", "required": []string{"users", "next"}, "properties": map[string]any{
		"users": map[string]any{"type": "array", "items": ref("User")}, "next": str(`the cursor of the next page; "" on the last`)}},
	"Session": map[string]any{"type": "object", "required": []string{"id", "created", "lastRenewed", "userAgent", "ip", "current", "expires"}, "properties": map[string]any{
		"id": str("the session id"), "created": map[string]any{"type": "string", "format": "date-time"}, "lastRenewed": map[string]any{"type": "string", "format": "date-time"},
		"userAgent": str(""), "ip": str("the client address"), "current": map[string]any{"type": "boolean"}, "expires": map[string]any{"type": "string", "format": "date-time"}}},
	"Token":    map[string]any{"type": "object", "required": []string{"id", "name", "abilities", "last_used_at", "expires_at", "created_at"}, "properties": tokenProps(false)},
	"NewToken": map[string]any{"type": "object", "required": []string{"id", "name", "abilities", "created_at", "token"}, "properties": tokenProps(true)},
	"APIToken": map[string]any{"type": "object", "required": []string{"apiToken"}, "properties": map[string]any{"apiToken": str("<id>|<secret>")}},
	"Introspection": map[string]any{"type": "object", "required": []string{"active"}, "properties": map[string]any{
		"active": map[string]any{"type": "boolean"}, "token_type": str("Bearer"), "scope": str("abilities, space-separated"), "sub": str("the user id"),
		"_id": map[string]any{"type": "integer"}, "iss": str(""), "exp": map[string]any{"type": "integer"}, "iat": map[string]any{"type": "integer"},
		"jti": str(""), "sid": str(""), "level": map[string]any{"type": "integer"}, "boards": strs(""), "abilities": strs(""), "via": str("")}},
	"JWKS":   map[string]any{"type": "object", "required": []string{"keys"}, "properties": map[string]any{"keys": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}},
	"Health": map[string]any{"type": "object", "required": []string{"status"}, "properties": map[string]any{"status": str("ok")}},
}

func tokenProps(secret bool) map[string]any {
	date := map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	p := map[string]any{
		"id": map[string]any{"type": "integer"}, "name": str(""), "abilities": strs(""),
		"last_used_at": date, "expires_at": date, "created_at": map[string]any{"type": "string", "format": "date-time"},
	}
	if secret {
		p["token"] = str("<id>|<secret>, shown once")
	}
	return p
}

var (
	openAPIOnce sync.Once
	openAPIJSON []byte
)

// OpenAPI returns the OpenAPI 3.1 description of the HTTP API.
func OpenAPI() []byte {
	openAPIOnce.Do(func() {
		paths := map[string]any{}
		patterns := make([]string, 0, len(ops))
		for p := range ops {
			patterns = append(patterns, p)
		}
		sort.Strings(patterns)
		for _, pattern := range patterns {
			o := ops[pattern]
			item, _ := paths[o.path].(map[string]any)
			if item == nil {
				item = map[string]any{}
				paths[o.path] = item
			}
			for _, m := range o.methods {
				id := strings.NewReplacer("/", "_", ".", "_", "{", "", "}", "", "-", "_").Replace(m + o.path)
				d := map[string]any{
					"operationId": id, "summary": o.summary, "tags": []string{o.tag},
					"security": securityOf(o.security), "responses": o.answers,
				}
				if len(o.params) > 0 {
					d["parameters"] = o.params
				}
				if o.body != nil {
					d["requestBody"] = o.body
				}
				item[m] = d
			}
		}
		doc := map[string]any{
			"openapi": "3.1.0",
			"info": map[string]any{
				"title": "propusk", "version": "1",
				"description": "API-token authentication: the Foxtan token protocol, personal access tokens, Sanctum's SPA login, forward-auth and relying services. The contract is docs/API.md.",
				"license":     map[string]any{"name": "Apache-2.0", "identifier": "Apache-2.0"},
			},
			"servers": []any{map[string]any{"url": "/"}},
			"tags":    tags(),
			"paths":   paths,
			"components": map[string]any{
				"schemas": schemas,
				"securitySchemes": map[string]any{
					"accessToken": map[string]any{"type": "apiKey", "in": "header", "name": "X-Access-Token", "description": "an access token (JWT)"},
					"bearerJWT":   map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "an access token in Authorization: Bearer"},
					"apiToken":    map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "<id>|<secret>", "description": "a personal access token in Authorization: Bearer"},
					"cookie":      map[string]any{"type": "apiKey", "in": "cookie", "name": "accessToken", "description": "the accessToken cookie (or __Host-accessToken); unsafe methods also need the session's CSRF token in X-XSRF-TOKEN, X-CSRF-TOKEN or _token"},
				},
			},
		}
		openAPIJSON, _ = json.MarshalIndent(doc, "", "  ")
	})
	return openAPIJSON
}

func tags() []any {
	var out []any
	for _, t := range [][2]string{
		{"tokens", "access, refresh and personal access tokens"},
		{"users", "registration, login, logoff, the caller"},
		{"sessions", "the signed-in user's sessions"},
		{"admin", "administrators' routes (level 30)"},
		{"relying services", "introspection, revocation and the revocation stream"},
		{"forward-auth", "what a reverse proxy calls for each request it gates"},
		{"spa", "Laravel Sanctum's SPA cookie login"},
		{"pages", "the account page and its assets"},
		{"keys", "the public keys of access tokens"},
		{"operations", "health and this document"},
	} {
		out = append(out, map[string]any{"name": t[0], "description": t[1]})
	}
	return out
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(OpenAPI())
	return err
}
