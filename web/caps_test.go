package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/web"
)

// TestPerUserCaps: past its cap a user's next personal access token, or
// next login, is a 409 conflict that changes nothing; deleting a token or
// ending a session makes room again, other users are not affected, and the
// caps are on by default.
func TestPerUserCaps(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		const maxTokens, maxSessions = 3, 2
		e := newEnv(t, open, func(c *auth.Config, _ *web.Config) {
			c.MaxTokensPerUser, c.MaxSessionsPerUser = maxTokens, maxSessions
		})
		alice := e.register("alice", "correct horse") // a session and an api-token
		bob := e.register("bob", "correct horse")
		jwt := func(p pair) map[string]string { return withXHR(map[string]string{"X-Access-Token": p.access}) }
		create := func(p pair, name string) *resp {
			return e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"` + name + `"}`, header: jwt(p)})
		}
		count := func(p pair, path string) int {
			t.Helper()
			r := e.do(req{method: "GET", path: path, header: jwt(p)})
			if r.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.StatusCode, r.body)
			}
			return len(r.jsonList(t))
		}
		login := func(login, password string) *resp {
			return e.do(req{method: "POST", path: "/api/v1/user.login", body: `{"login":"` + login + `","password":"` + password + `"}`, header: xhr})
		}

		t.Run("tokens", func(t *testing.T) {
			var last map[string]any
			for i := 1; i < maxTokens; i++ {
				r := create(alice, fmt.Sprint("t", i))
				if r.StatusCode != http.StatusCreated {
					t.Fatalf("token %d of %d: %d %s", i+1, maxTokens, r.StatusCode, r.body)
				}
				last = r.json(t)
			}
			wantError(t, create(alice, "one too many"), http.StatusConflict, propusk.ECONFLICT)
			if n := count(alice, "/api/v1/tokens"); n != maxTokens {
				t.Fatalf("%d tokens after a refused create, want %d", n, maxTokens)
			}
			if r := create(bob, "bob's"); r.StatusCode != http.StatusCreated {
				t.Fatalf("another user: %d %s", r.StatusCode, r.body)
			}
			r := e.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/tokens/%v", last["id"]), header: jwt(alice)})
			if r.StatusCode != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.StatusCode, r.body)
			}
			if r := create(alice, "room again"); r.StatusCode != http.StatusCreated {
				t.Fatalf("after a delete: %d %s", r.StatusCode, r.body)
			}
			// The api-token lifecycle replaces, and is never refused.
			if _, err := e.svc.ReissueAPIToken(t.Context(), userID(t, e, alice.api), auth.ReasonCoursePurchase); err != nil {
				t.Fatalf("reissue at the cap: %v", err)
			}
		})

		t.Run("sessions", func(t *testing.T) {
			r := login("alice", "correct horse")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("login %d of %d: %d %s", 2, maxSessions, r.StatusCode, r.body)
			}
			second := pair{access: r.json(t)["accessToken"].(string), refresh: r.json(t)["refreshToken"].(string)}
			wantError(t, login("alice", "correct horse"), http.StatusConflict, propusk.ECONFLICT)
			// The cap is not told to someone without the password.
			wantError(t, login("alice", "wrong password"), http.StatusUnauthorized, propusk.ECREDENTIALS)
			if n := count(alice, "/api/v1/sessions"); n != maxSessions {
				t.Fatalf("%d sessions after a refused login, want %d", n, maxSessions)
			}
			if r := login("bob", "correct horse"); r.StatusCode != http.StatusOK {
				t.Fatalf("another user: %d %s", r.StatusCode, r.body)
			}
			if r := e.do(req{method: "POST", path: "/api/v1/user.logoff", header: jwt(second)}); r.StatusCode != http.StatusOK {
				t.Fatalf("logoff: %d %s", r.StatusCode, r.body)
			}
			if r := login("alice", "correct horse"); r.StatusCode != http.StatusOK {
				t.Fatalf("after a logoff: %d %s", r.StatusCode, r.body)
			}
			// Expired sessions do not count.
			e.clock.Advance(e.svc.RefreshTTL() + time.Second)
			for range maxSessions {
				if r := login("alice", "correct horse"); r.StatusCode != http.StatusOK {
					t.Fatalf("after the sessions expired: %d %s", r.StatusCode, r.body)
				}
			}
			wantError(t, login("alice", "correct horse"), http.StatusConflict, propusk.ECONFLICT)
		})
	})
}

// TestPerUserCapsDefault: the caps are on unless turned off.
func TestPerUserCapsDefault(t *testing.T) {
	e := newEnv(t, storeKinds[0].open)
	if tokens, sessions := e.svc.Caps(); tokens != auth.DefaultMaxTokensPerUser || sessions != auth.DefaultMaxSessionsPerUser {
		t.Fatalf("caps %d tokens, %d sessions; want the defaults", tokens, sessions)
	}
}
