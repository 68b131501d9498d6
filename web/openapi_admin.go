package web

// The descriptions of the user administration, self-service and account
// routes that came without one, so that TestOpenAPIRoutes holds: every
// route served is described.
func init() {
	userID := pathParam("id", "the user id")
	adminFail := errAnswer("no usable credential, below level 30, a personal access token without users:manage, or a user above the caller's level (forbidden); a browser is redirected instead")
	schemas["User"] = map[string]any{"type": "object", "required": []string{"id", "login", "level", "boards", "disabled", "disabledAt", "created", "updated"}, "properties": map[string]any{
		"id": map[string]any{"type": "integer"}, "login": str(""), "level": map[string]any{"type": "integer"}, "boards": strs(""),
		"disabled":   map[string]any{"type": "boolean"},
		"disabledAt": map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
		"created":    map[string]any{"type": "string", "format": "date-time"}, "updated": map[string]any{"type": "string", "format": "date-time"}}}
	schemas["UsersPage"] = map[string]any{"type": "object", "required": []string{"users", "next"}, "properties": map[string]any{
		"users": map[string]any{"type": "array", "items": ref("User")}, "next": str("the cursor of the next page; empty on the last")}}
	schemas["UserSession"] = map[string]any{"type": "object", "required": []string{"id", "created", "lastRenewed", "userAgent", "ip", "expires"}, "properties": map[string]any{
		"id": str("the session id"), "created": map[string]any{"type": "string", "format": "date-time"}, "lastRenewed": map[string]any{"type": "string", "format": "date-time"},
		"userAgent": str(""), "ip": str("the client address"), "current": map[string]any{"type": "boolean"}, "expires": map[string]any{"type": "string", "format": "date-time"}}}
	flag := func(name string) map[string]any {
		return map[string]any{"type": "object", "required": []string{name}, "properties": map[string]any{name: map[string]any{"type": "boolean"}}}
	}
	adds := map[string]op{
		"DELETE /api/v1/sessions": {path: "/api/v1/sessions", methods: []string{"delete"}, tag: "sessions", security: "caller",
			summary: "Sign out other devices: end every session of the caller but the current one (ability sessions:manage; the current password)",
			params:  []any{xrw}, body: fields([]string{"password"}, map[string]any{"password": str("the caller's current password")}),
			answers: map[string]any{"200": jsonAnswer("how many ended", map[string]any{"type": "object", "required": []string{"ended"}, "properties": map[string]any{"ended": map[string]any{"type": "integer"}}}),
				"302": browserRed, "400": badInput, "403": tokenFail, "419": csrfFail, "429": tooMany, "503": unavail}},
		"POST /api/v1/user.password": {path: "/api/v1/user.password", methods: []string{"post"}, tag: "users", security: "caller",
			summary: "Change the caller's password (the current password); ends every other session",
			params:  []any{xrw}, body: fields([]string{"current", "new"}, map[string]any{"current": str("the current password"), "new": str("the new password")}),
			answers: map[string]any{"200": jsonAnswer("changed", flag("changed")), "302": browserRed, "400": badInput, "403": tokenFail, "419": csrfFail, "429": tooMany, "503": unavail}},
		"GET /api/v1/admin/users": {path: "/api/v1/admin/users", methods: []string{"get"}, tag: "admin", security: "caller",
			summary: "Users in id order (level 30; ability users:manage)",
			params:  []any{xrw, query("login", "a part of the login, case-insensitive"), query("cursor", "the next of the previous page"), query("limit", "1 to 500, default 50")},
			answers: map[string]any{"200": jsonAnswer("a page of users", ref("UsersPage")), "302": browserRed, "400": badInput, "403": adminFail, "503": unavail}},
		"GET /api/v1/admin/users/{id}": {path: "/api/v1/admin/users/{id}", methods: []string{"get"}, tag: "admin", security: "caller",
			summary: "One user (level 30; ability users:manage)", params: []any{xrw, userID},
			answers: map[string]any{"200": jsonAnswer("the user", ref("User")), "302": browserRed, "403": adminFail, "404": errAnswer("not_found"), "503": unavail}},
		"PATCH /api/v1/admin/users/{id}": {path: "/api/v1/admin/users/{id}", methods: []string{"patch"}, tag: "admin", security: "caller",
			summary: "Set a user's level, boards or disabled (level 30; ability users:manage)", params: []any{xrw, userID},
			body: map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{
				"level": map[string]any{"type": "integer"}, "boards": strs("boards; * is every board"), "disabled": map[string]any{"type": "boolean"}}}}}},
			answers: map[string]any{"200": jsonAnswer("the user as stored", ref("User")), "302": browserRed, "400": badInput, "403": adminFail, "404": errAnswer("not_found"), "409": errAnswer("conflict: the last administrator"), "419": csrfFail, "503": unavail}},
		"DELETE /api/v1/admin/users/{id}": {path: "/api/v1/admin/users/{id}", methods: []string{"delete"}, tag: "admin", security: "caller",
			summary: "Remove a user, their sessions and tokens (level 30; ability users:manage)", params: []any{xrw, userID},
			answers: map[string]any{"200": jsonAnswer("deleted", flag("deleted")), "302": browserRed, "403": adminFail, "404": errAnswer("not_found"), "409": errAnswer("conflict: the last administrator"), "419": csrfFail, "503": unavail}},
		"POST /api/v1/admin/users/{id}/password": {path: "/api/v1/admin/users/{id}/password", methods: []string{"post"}, tag: "admin", security: "caller",
			summary: "Set a user's password and end their sessions (level 30; ability users:manage)", params: []any{xrw, userID},
			body:    fields([]string{"password"}, map[string]any{"password": str("the new password")}),
			answers: map[string]any{"200": jsonAnswer("changed", flag("changed")), "302": browserRed, "400": badInput, "403": adminFail, "404": errAnswer("not_found"), "419": csrfFail, "503": unavail}},
		"GET /api/v1/admin/users/{id}/sessions": {path: "/api/v1/admin/users/{id}/sessions", methods: []string{"get"}, tag: "admin", security: "caller",
			summary: "A user's live sessions (level 30; ability users:manage)", params: []any{xrw, userID},
			answers: map[string]any{"200": jsonAnswer("newest first", map[string]any{"type": "array", "items": ref("UserSession")}), "302": browserRed, "403": adminFail, "404": errAnswer("not_found"), "503": unavail}},
		"DELETE /api/v1/admin/users/{id}/sessions": {path: "/api/v1/admin/users/{id}/sessions", methods: []string{"delete"}, tag: "admin", security: "caller",
			summary: "End every session of a user (level 30; ability users:manage)", params: []any{xrw, userID},
			answers: map[string]any{"200": jsonAnswer("ended", ref("Ended")), "302": browserRed, "403": adminFail, "404": errAnswer("not_found"), "419": csrfFail, "503": unavail}},
		"DELETE /api/v1/admin/users/{id}/sessions/{sid}": {path: "/api/v1/admin/users/{id}/sessions/{sid}", methods: []string{"delete"}, tag: "admin", security: "caller",
			summary: "End one session of a user (level 30; ability users:manage)", params: []any{xrw, userID, pathParam("sid", "the session id")},
			answers: map[string]any{"200": jsonAnswer("ended", ref("Ended")), "302": browserRed, "403": adminFail, "404": errAnswer("not_found"), "419": csrfFail, "503": unavail}},
		"POST /account/register": {path: "/account/register", methods: []string{"post"}, tag: "pages", security: "none",
			summary: "The account page's registration form",
			body: fields([]string{"login", "password", "password_confirmation"}, map[string]any{
				"login": str("the login"), "password": str("the password"), "password_confirmation": str("the password again")}),
			answers: map[string]any{"303": redirect("registered and signed in: to /account"), "400": htmlAnswer("the page again, with the reason"), "409": htmlAnswer("the page again: the login is taken"), "419": csrfFail, "429": htmlAnswer("the page again, with the reason")}},
		"POST /account/sessions/others": {path: "/account/sessions/others", methods: []string{"post"}, tag: "pages", security: "caller",
			summary: "The account page's \"sign out all other devices\" form (the current password)",
			body:    fields(nil, map[string]any{"password": str("the current password"), "confirm": str("set by the confirmation page")}),
			answers: map[string]any{"200": htmlAnswer("the confirmation page"), "303": redirect("to /account"), "302": browserRed, "403": htmlAnswer("the page again: the password is wrong"), "419": csrfFail}},
	}
	for k, v := range adds {
		if _, ok := ops[k]; !ok {
			ops[k] = v
		}
	}
}
