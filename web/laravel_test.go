package web_test

import (
	"net/http"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// TestRegisterName: user.register's optional name is checked in Laravel
// mode (400 invalid_input for a bad one, and no user is made) and
// ignored by a server in propusk's own schema.
func TestRegisterName(t *testing.T) {
	sqlite := func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s }
	laravel := func(c *auth.Config, _ *web.Config) { c.Laravel = &propusk.Laravel{} }
	for _, tc := range []struct {
		name    string
		laravel bool
		body    string
		status  int
		code    string
	}{
		{"ok/laravel-name", true, `{"login":"tess","password":"password1","name":"Tess Ng"}`, http.StatusCreated, ""},
		{"ok/laravel-no-name", true, `{"login":"tess","password":"password1"}`, http.StatusCreated, ""},
		{"fail/laravel-control-character", true, `{"login":"tess","password":"password1","name":"Tess\u0007"}`, http.StatusBadRequest, "invalid_input"},
		{"ok/propusk-ignores-it", false, `{"login":"tess","password":"password1","name":"Tess\u0007"}`, http.StatusCreated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			if tc.laravel {
				e = newEnv(t, sqlite, laravel)
			} else {
				e = newEnv(t, sqlite)
			}
			r := e.do(req{method: "POST", path: "/api/v1/user.register", body: tc.body, header: xhr})
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tc.status, r.body)
			}
			if tc.code != "" {
				if got := r.json(t)["error"]; got != tc.code {
					t.Errorf("error %v, want %s", got, tc.code)
				}
				if _, err := e.store.UserByLogin(t.Context(), "tess"); propusk.ErrorCode(err) != propusk.ENOTFOUND {
					t.Errorf("a refused registration left a user: %v", err)
				}
			}
		})
	}
}
