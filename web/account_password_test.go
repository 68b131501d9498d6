package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// loginStatus is the status of a script's login with password.
func (e *env) loginStatus(login, password string) int {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/api/v1/user.login",
		body: fmt.Sprintf(`{"login":%q,"password":%q}`, login, password), header: xhr}).StatusCode
}

// TestAccountPasswordForm: the page's password change asks first and
// says that it signs out the other devices; it needs the current password,
// keeps this device and ends the others; a failed one is the page, with
// no password echoed, and changes nothing; a script still gets JSON.
func TestAccountPasswordForm(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		e.register("pat", "password1")
		p := e.signedInPage(t, chromeLinux, "pat", "password1")

		t.Run("ok/form-says-it-signs-out-others", func(t *testing.T) {
			wantPage(t, p.get(t), 200, `id="password-form"`, `name="current_password"`, "signs out all your other devices")
		})

		refused := []struct {
			name   string
			form   url.Values
			status int
			says   string
		}{
			{"fail/wrong-current", url.Values{"current_password": {"wrong-secret"}, "new_password": {"brand-new-secret"}, "new_password_confirmation": {"brand-new-secret"}}, 403, "password"},
			{"fail/no-current", url.Values{"new_password": {"brand-new-secret"}, "new_password_confirmation": {"brand-new-secret"}}, 400, "current password is required"},
			{"fail/new-differ", url.Values{"current_password": {"password1"}, "new_password": {"brand-new-secret"}, "new_password_confirmation": {"brand-new-secreT"}}, 400, "the two new passwords differ"},
			{"fail/new-too-short", url.Values{"current_password": {"password1"}, "new_password": {"short"}, "new_password_confirmation": {"short"}}, 400, "password"},
		}
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) {
				c.form.Set("confirm", "yes")
				body := wantPage(t, p.post(t, "/account/password", c.form), c.status, `role="alert"`, `<main`, c.says, `id="password-form"`)
				for _, secret := range []string{"wrong-secret", "brand-new-secret", "short\""} {
					if strings.Contains(body, secret) {
						t.Fatalf("the page echoes a password %q", secret)
					}
				}
				if e.loginStatus("pat", "password1") != 200 {
					t.Fatal("a refused change changed the password")
				}
			})
		}

		t.Run("fail/stale-form-is-a-fresh-page", func(t *testing.T) {
			r := p.do(req{method: "POST", path: "/account/password", form: url.Values{"_token": {"stale"}, "confirm": {"yes"},
				"current_password": {"password1"}, "new_password": {"brand-new-secret"}, "new_password_confirmation": {"brand-new-secret"}}})
			wantPage(t, r, 419, "This page expired", `role="alert"`)
			if e.loginStatus("pat", "password1") != 200 {
				t.Fatal("a stale form changed the password")
			}
		})
		t.Run("fail/script-gets-json", func(t *testing.T) {
			r := p.do(req{method: "POST", path: "/account/password", form: url.Values{"_token": {"stale"}}, header: xhr})
			want419(t, r, "")
		})

		t.Run("ok/asks-then-changes-and-signs-out-others", func(t *testing.T) {
			other := e.signedInPage(t, "curl/8.5.0", "pat", "password1")
			form := url.Values{"current_password": {"password1"}, "new_password": {"brand-new-secret"}, "new_password_confirmation": {"brand-new-secret"}}
			body := wantPage(t, p.post(t, "/account/password", form), 200, "Change your password?", "signs out all your other devices",
				`name="confirm" value="yes"`, `id="confirm-current-password"`, `id="confirm-new-password2"`)
			if strings.Contains(body, "brand-new-secret") || strings.Contains(body, `value="password1"`) {
				t.Fatal("the confirmation page carries a password")
			}
			if e.loginStatus("pat", "password1") != 200 || !liveSession(e, other.value("accessToken")) {
				t.Fatal("the confirmation page changed the password or ended a session")
			}
			form.Set("confirm", "yes")
			wantRedirect(t, p.post(t, "/account/password", form))
			wantPage(t, p.get(t), 200, "Password changed.", "other devices were signed out")
			if strings.Contains(string(p.get(t).body), "Password changed.") {
				t.Fatal("a reload shows the flash again")
			}
			if liveSession(e, other.value("accessToken")) {
				t.Fatal("another device survived the change")
			}
			if !liveSession(e, p.value("accessToken")) {
				t.Fatal("this device was signed out")
			}
			if e.loginStatus("pat", "password1") != 401 || e.loginStatus("pat", "brand-new-secret") != 200 {
				t.Fatal("the password did not change")
			}
		})
	})
}
