package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

func loginBody(login, password string) string {
	b, _ := json.Marshal(map[string]string{"login": login, "password": password})
	return string(b)
}

// TestLookAlikeLogins: logins that look alike are one login. Once "admin"
// and "e\u0301lodie" (NFD) exist, each look-alike is taken, signs in to
// the same account, and a login mixing scripts is refused.
func TestLookAlikeLogins(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		admin := e.register("admin", "password1")
		elodie := e.register("e\u0301lodie", "password2")
		adminID := claims(t, admin.access)["_id"]
		elodieID := claims(t, elodie.access)["_id"]

		accounts := []struct {
			name, password string
			id             any
			typed          string
			alikes         []string
		}{
			{"admin", "password1", adminID, "admin", []string{"admin", "Admin", "ADMIN", "ａｄｍｉｎ", "ＡＤＭＩＮ", "aDmIn"}},
			{"elodie", "password2", elodieID, "e\u0301lodie", []string{"e\u0301lodie", "\u00e9lodie", "\u00c9LODIE", "E\u0301lodie"}},
		}
		for _, a := range accounts {
			for _, l := range a.alikes {
				t.Run("fail/register-taken/"+a.name+"/"+strings.ToValidUTF8(l, ""), func(t *testing.T) {
					r := e.do(req{method: "POST", path: "/api/v1/user.register", body: loginBody(l, "another password"), header: xhr})
					wantError(t, r, 409, propusk.ELOGINTAKEN)
					f := e.do(req{method: "POST", path: "/api/v1/user.register", form: url.Values{"login": {l}, "password": {"another password"}}, header: xhr})
					wantError(t, f, 409, propusk.ELOGINTAKEN)
				})
				t.Run("ok/login/"+a.name+"/"+l, func(t *testing.T) {
					r := e.do(req{method: "POST", path: "/api/v1/user.login", body: loginBody(l, a.password), header: xhr})
					if r.StatusCode != 200 {
						t.Fatalf("login as %+q: %d %s", l, r.StatusCode, r.body)
					}
					access := r.json(t)["accessToken"].(string)
					if id := claims(t, access)["_id"]; id != a.id {
						t.Fatalf("login as %+q signed in user %v; want %v", l, id, a.id)
					}
					me := e.me(access).json(t)
					if me["login"] != a.typed {
						t.Errorf("user.me login = %+q; want %+q, as registered", me["login"], a.typed)
					}
				})
			}
		}

		mixed := []struct{ name, login, says string }{
			{"cyrillic-a", "\u0430dmin", "mixes Cyrillic and Latin letters"},
			{"greek-o", "r\u03bfot", "mixes Latin and Greek letters"},
			{"fullwidth-and-cyrillic", "ａｄｍ\u0438n", "mixes Latin and Cyrillic letters"},
		}
		for _, c := range mixed {
			t.Run("fail/register-mixed-scripts/"+c.name, func(t *testing.T) {
				r := e.do(req{method: "POST", path: "/api/v1/user.register", body: loginBody(c.login, "password3"), header: xhr})
				wantError(t, r, 400, propusk.EINVALID)
				if msg := r.json(t)["message"].(string); !strings.Contains(msg, c.says) {
					t.Errorf("message %q does not say %q", msg, c.says)
				}
			})
			t.Run("fail/login-mixed-scripts/"+c.name, func(t *testing.T) {
				// Like any unknown login: no such account can exist.
				r := e.do(req{method: "POST", path: "/api/v1/user.login", body: loginBody(c.login, "password1"), header: xhr})
				wantError(t, r, 401, propusk.ECREDENTIALS)
			})
		}
		// None of the refused registrations made a user.
		for _, l := range []string{"\u0430dmin", "Admin", "\u00e9lodie"} {
			u, err := e.store.UserByLogin(t.Context(), l)
			if err == nil && u.ID != int64(adminID.(float64)) && u.ID != int64(elodieID.(float64)) {
				t.Errorf("a refused registration of %+q made user %d", l, u.ID)
			}
		}
	})
}
