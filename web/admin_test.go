package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// tryLogin signs in by the API and returns the answer, and the pair on success.
func (e *env) tryLogin(login, password string) (*resp, pair) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"` + login + `","password":"` + password + `"}`, header: xhr})
	if r.StatusCode != 200 {
		return r, pair{}
	}
	m := r.json(e.t)
	return r, pair{access: m["accessToken"].(string), refresh: m["refreshToken"].(string), api: m["apiToken"].(string)}
}

func xhrBearer(tok string) map[string]string { return withXHR(bearer(tok)) }

// TestSelfService: a password change and "sign out other devices" need the
// current password, and end every other session but keep the caller's.
func TestSelfService(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		a := e.register("alice", "correct horse")
		_, b := e.tryLogin("alice", "correct horse")

		cases := []struct {
			name, path, method, body string
			status                   int
			code                     string
		}{
			{"fail/password-wrong-current", "/api/v1/user.password", "POST", `{"current":"wrong horse","new":"battery staple"}`, 403, propusk.EFORBIDDEN},
			{"fail/password-no-current", "/api/v1/user.password", "POST", `{"new":"battery staple"}`, 400, propusk.EINVALID},
			{"fail/password-too-short", "/api/v1/user.password", "POST", `{"current":"correct horse","new":"short"}`, 400, propusk.EINVALID},
			{"fail/sessions-no-password", "/api/v1/sessions", "DELETE", `{}`, 400, propusk.EINVALID},
			{"fail/sessions-wrong-password", "/api/v1/sessions", "DELETE", `{"password":"wrong horse"}`, 403, propusk.EFORBIDDEN},
		}
		for _, c := range cases {
			r := e.do(req{method: c.method, path: c.path, body: c.body, header: xhrBearer(a.access)})
			if r.StatusCode != c.status {
				t.Fatalf("%s: %d %s", c.name, r.StatusCode, r.body)
			}
			wantError(t, r, c.status, c.code)
			if e.me(b.access).StatusCode != 200 {
				t.Fatalf("%s: refused request ended the other session", c.name)
			}
		}

		r := e.do(req{method: "POST", path: "/api/v1/user.password", body: `{"current":"correct horse","new":"battery staple"}`, header: xhrBearer(a.access)})
		if r.StatusCode != 200 {
			t.Fatalf("change password: %d %s", r.StatusCode, r.body)
		}
		if e.me(a.access).StatusCode != 200 {
			t.Fatal("the caller's own session ended")
		}
		if r := e.me(b.access); !refused(r) {
			t.Fatalf("other session's access token: %d", r.StatusCode)
		}
		if r, _ := e.renew(b.refresh); r.StatusCode == 200 {
			t.Fatal("other session's refresh token still renews")
		}
		if r, _ := e.tryLogin("alice", "correct horse"); r.StatusCode != 401 {
			t.Fatalf("old password: %d", r.StatusCode)
		}
		_, c := e.tryLogin("alice", "battery staple")
		_, d := e.tryLogin("alice", "battery staple")

		r = e.do(req{method: "DELETE", path: "/api/v1/sessions", body: `{"password":"battery staple"}`, header: xhrBearer(c.access)})
		if r.StatusCode != 200 || r.json(t)["ended"] != float64(2) {
			t.Fatalf("sign out other devices: %d %s", r.StatusCode, r.body)
		}
		if e.me(c.access).StatusCode != 200 {
			t.Fatal("DELETE /api/v1/sessions ended the current session")
		}
		for _, p := range []pair{a, d} {
			if r := e.me(p.access); !refused(r) {
				t.Fatalf("another device's access token: %d", r.StatusCode)
			}
		}
	})
}

// TestUserAdmin: the administration API keeps the level rules and stops a
// disabled or deleted user's access, refresh and personal access tokens.
func TestUserAdmin(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		ctx := context.Background()
		root, err := e.svc.CreateUser(ctx, "root", "correct horse", propusk.LevelAdmin, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateUser(ctx, "boss", "correct horse", 50, nil); err != nil {
			t.Fatal(err)
		}
		_, admin := e.tryLogin("root", "correct horse")
		alice := e.register("alice", "correct horse")
		au, err := e.store.UserByLogin(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		aliceID := au.ID
		users := fmt.Sprintf("/api/v1/admin/users/%d", aliceID)
		bossID := root.ID + 1
		call := func(method, path, body, tok string) *resp {
			return e.do(req{method: method, path: path, body: body, header: xhrBearer(tok)})
		}

		// Level rules, and bad input, change nothing.
		for _, c := range []struct {
			name, method, path, body, tok string
			status                        int
		}{
			{"fail/not-admin", "GET", "/api/v1/admin/users", "", alice.access, 403},
			{"fail/raise-above-self", "PATCH", users, `{"level":31}`, admin.access, 403},
			{"fail/act-above-self", "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", bossID), `{"disabled":true}`, admin.access, 403},
			{"fail/unknown-field", "PATCH", users, `{"lvl":20}`, admin.access, 400},
			{"fail/bad-level", "PATCH", users, `{"level":-1}`, admin.access, 400},
			{"fail/no-such-user", "PATCH", "/api/v1/admin/users/999999", `{"level":20}`, admin.access, 404},
			{"fail/bad-id", "GET", "/api/v1/admin/users/x", "", admin.access, 404},
			{"fail/short-password", "POST", users + "/password", `{"password":"short"}`, admin.access, 400},
		} {
			if r := call(c.method, c.path, c.body, c.tok); r.StatusCode != c.status {
				t.Fatalf("%s: %d, want %d: %s", c.name, r.StatusCode, c.status, r.body)
			}
		}
		if r := e.me(alice.access); r.StatusCode != 200 || r.json(t)["level"] != float64(propusk.LevelUser) {
			t.Fatalf("refused writes changed alice: %s", r.body)
		}

		r := call("GET", "/api/v1/admin/users?login=ALI&limit=1", "", admin.access)
		if r.StatusCode != 200 {
			t.Fatalf("list: %d %s", r.StatusCode, r.body)
		}
		if l := r.json(t)["users"].([]any); len(l) != 1 || l[0].(map[string]any)["login"] != "alice" {
			t.Fatalf("search: %s", r.body)
		}

		// Disable: every credential of alice's stops, and she cannot sign in.
		if r := call("PATCH", users, `{"disabled":true,"level":20}`, admin.access); r.StatusCode != 200 || r.json(t)["disabled"] != true {
			t.Fatalf("disable: %d %s", r.StatusCode, r.body)
		}
		wantRefused(t, e, alice)
		if r, _ := e.tryLogin("alice", "correct horse"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("disabled login: %d %s", r.StatusCode, r.body)
		}
		if r := call("PATCH", users, `{"disabled":false}`, admin.access); r.StatusCode != 200 {
			t.Fatalf("enable: %d %s", r.StatusCode, r.body)
		}
		r2, again := e.tryLogin("alice", "correct horse")
		if r2.StatusCode != 200 {
			t.Fatalf("enabled login: %d %s", r2.StatusCode, r2.body)
		}

		// Password reset ends her sessions.
		if r := call("POST", users+"/password", `{"password":"new battery"}`, admin.access); r.StatusCode != 200 {
			t.Fatalf("reset: %d %s", r.StatusCode, r.body)
		}
		if !refused(e.me(again.access)) {
			t.Fatal("password reset left a session")
		}
		_, again = e.tryLogin("alice", "new battery")

		// The last enabled administrator stays: the operator disables boss,
		// whom root may not touch.
		yes := true
		if _, err := e.svc.UpdateUser(ctx, nil, bossID, propusk.UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if r := call("DELETE", fmt.Sprintf("/api/v1/admin/users/%d", root.ID), "", admin.access); r.StatusCode != 409 {
			t.Fatalf("delete the last admin: %d %s", r.StatusCode, r.body)
		}
		if r := call("PATCH", fmt.Sprintf("/api/v1/admin/users/%d", root.ID), `{"level":10}`, admin.access); r.StatusCode != 409 {
			t.Fatalf("demote the last admin: %d %s", r.StatusCode, r.body)
		}

		// Delete: every credential stops.
		if r := call("DELETE", users, "", admin.access); r.StatusCode != 200 {
			t.Fatalf("delete: %d %s", r.StatusCode, r.body)
		}
		wantRefused(t, e, again)
		if r := call("GET", users, "", admin.access); r.StatusCode != 404 {
			t.Fatalf("deleted user: %d", r.StatusCode)
		}
	})
}

// refused reports whether r refuses its token: 401, or 403 for a revoked session.
func refused(r *resp) bool {
	return r.StatusCode == 401 || r.StatusCode == 403 && strings.Contains(string(r.body), propusk.ETOKENINVALID)
}

// wantRefused checks that none of p's tokens is accepted any more.
func wantRefused(t *testing.T, e *env, p pair) {
	t.Helper()
	if r := e.me(p.access); !refused(r) {
		t.Fatalf("access token: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/user.me", header: xhrBearer(p.api)}); !refused(r) {
		t.Fatalf("api-token: %d %s", r.StatusCode, r.body)
	}
	if r, _ := e.renew(p.refresh); r.StatusCode == 200 {
		t.Fatal("refresh token renews")
	}
}
