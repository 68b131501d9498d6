package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

const chromeLinux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

var formToken = regexp.MustCompile(`name="_token" value="([^"]+)"`)

// page is a browser without JavaScript on the account page: it sends
// forms with the page's own _token and no X-Requested-With.
type page struct {
	*browser
	ua string
}

func (e *env) page(ua string) *page { return &page{browser: e.browser(), ua: ua} }

func (p *page) get(t *testing.T) *resp {
	t.Helper()
	r := p.do(req{method: "GET", path: "/account", header: map[string]string{"User-Agent": p.ua}})
	if r.StatusCode != 200 {
		t.Fatalf("GET /account: %d %s", r.StatusCode, r.body)
	}
	return r
}

// post sends form to path with the _token of a fresh page.
func (p *page) post(t *testing.T, path string, form url.Values) *resp {
	t.Helper()
	m := formToken.FindSubmatch(p.get(t).body)
	if m == nil {
		t.Fatalf("the page has no _token")
	}
	f := url.Values{"_token": {string(m[1])}}
	for k, v := range form {
		f[k] = v
	}
	return p.do(req{method: "POST", path: path, form: f, header: map[string]string{"User-Agent": p.ua}})
}

// signedIn starts a page's browser with anonymous cookies and signs in
// through the page's login form.
func (e *env) signedInPage(t *testing.T, ua, login, password string) *page {
	t.Helper()
	p := e.page(ua)
	p.csrfCookie()
	if r := p.post(t, "/account/login", url.Values{"login": {login}, "password": {password}}); r.StatusCode != 303 {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	return p
}

func wantPage(t *testing.T, r *resp, status int, says ...string) string {
	t.Helper()
	if r.StatusCode != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d %s, want %d and a page: %.300s", r.StatusCode, r.Header.Get("Content-Type"), status, r.body)
	}
	body := html.UnescapeString(string(r.body))
	for _, s := range says {
		if !strings.Contains(body, s) {
			t.Fatalf("the page does not say %q:\n%s", s, body)
		}
	}
	return body
}

func wantRedirect(t *testing.T, r *resp) {
	t.Helper()
	if r.StatusCode != 303 || r.Header.Get("Location") != "/account" {
		t.Fatalf("status %d to %q, want 303 to /account: %.300s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
}

// TestAccountForms: every page form ends in a redirect and a flash shown
// once; a failed form is the page with its message and input; a stale one
// is the 419 page with a fresh form; scripts still get JSON.
func TestAccountForms(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		t.Run("ok/register-from-the-page", func(t *testing.T) {
			p := e.page(chromeLinux)
			p.csrfCookie()
			r := p.post(t, "/account/register", url.Values{"login": {"newcomer"}, "password": {"password1"}, "password_confirmation": {"password1"}})
			wantRedirect(t, r)
			wantPage(t, p.get(t), 200, "Welcome", `id="login">newcomer<`)
			if strings.Contains(string(p.get(t).body), "Welcome") {
				t.Fatal("a reload shows the flash again")
			}
		})
		t.Run("fail/register-taken-keeps-login", func(t *testing.T) {
			p := e.page(chromeLinux)
			p.csrfCookie()
			r := p.post(t, "/account/register", url.Values{"login": {"newcomer"}, "password": {"hunter2-secret"}, "password_confirmation": {"hunter2-secret"}})
			body := wantPage(t, r, 409, `role="alert"`, `value="newcomer"`)
			if strings.Contains(body, "hunter2-secret") {
				t.Fatal("the page echoes the password")
			}
		})
		t.Run("fail/login-keeps-login-not-password", func(t *testing.T) {
			p := e.page(chromeLinux)
			p.csrfCookie()
			r := p.post(t, "/account/login", url.Values{"login": {"newcomer"}, "password": {"wrong-secret"}})
			body := wantPage(t, r, 401, `role="alert"`, `value="newcomer"`)
			if strings.Contains(body, "wrong-secret") {
				t.Fatal("the page echoes the password")
			}
		})

		e.register("owner", "password1")
		p := e.signedInPage(t, chromeLinux, "owner", "password1")
		tokens := func() []any {
			t.Helper()
			return p.do(req{method: "GET", path: "/api/v1/tokens", header: withXHR(map[string]string{"X-Access-Token": p.value("accessToken")})}).jsonList(t)
		}

		t.Run("ok/create-token-post-redirect-get", func(t *testing.T) {
			before := len(tokens())
			r := p.post(t, "/account/tokens", url.Values{"name": {" ci-deploy "}, "expires": {"7"}, "abilities": {"tokens:manage", "sessions:manage"}})
			wantRedirect(t, r)
			if strings.Contains(string(r.body), "pat_") || strings.Contains(r.Header.Get("Location"), "token") {
				t.Fatalf("the redirect carries the secret: %q %s", r.Header.Get("Location"), r.body)
			}
			body := wantPage(t, p.get(t), 200, "Token “ci-deploy” created.", `id="new-token"`, `id="copy-token"`)
			secret := regexp.MustCompile(`id="new-token" tabindex="0">([^<]+)<`).FindStringSubmatch(body)
			if secret == nil {
				t.Fatal("no secret on the page")
			}
			again := string(p.get(t).body)
			if strings.Contains(again, secret[1]) || strings.Contains(again, "created.") {
				t.Fatal("a reload shows the secret again")
			}
			l := tokens()
			if len(l) != before+1 {
				t.Fatalf("%d tokens after a create and two reloads, want %d", len(l), before+1)
			}
			var got map[string]any
			for _, x := range l {
				if x.(map[string]any)["name"] == "ci-deploy" {
					got = x.(map[string]any)
				}
			}
			exp, _ := time.Parse(time.RFC3339, got["expires_at"].(string))
			if want := e.clock.Now().AddDate(0, 0, 7); !exp.Equal(want.UTC().Truncate(time.Second)) && exp.Sub(want).Abs() > time.Second {
				t.Fatalf("expires_at %v, want %v", exp, want)
			}
			if a := got["abilities"].([]any); len(a) != 2 {
				t.Fatalf("abilities %v", a)
			}
			// Another session cannot read the flash cookie it never had.
			wantPage(t, p.get(t), 200, "ci-deploy", "expires <time", "in 7 days")
		})
		t.Run("ok/api-token-marked", func(t *testing.T) {
			wantPage(t, p.get(t), 200, `id="api-token-badge"`, "replaces it at each sign-in")
		})

		invalid := []struct {
			name string
			form url.Values
			says []string
		}{
			{"fail/blank-name", url.Values{"name": {"   "}, "expires": {"90"}, "abilities": {"*"}}, []string{"must not be blank", `value="90" selected`, `value="*" checked`}},
			{"fail/no-ability", url.Values{"name": {"keepme"}, "expires": {"30"}}, []string{"at least one ability", `value="keepme"`}},
			{"fail/bad-expiry", url.Values{"name": {"keepme"}, "expires": {"365"}, "abilities": {"*"}}, []string{"choose when the token expires", `value="keepme"`}},
			{"fail/date-missing", url.Values{"name": {"keepme"}, "expires": {"date"}, "abilities": {"*"}}, []string{"the day the token expires", `value="date" selected`}},
			{"fail/past-date", url.Values{"name": {"keepme"}, "expires": {"date"}, "expires_on": {"2001-01-01"}, "abilities": {"*"}}, []string{"in the future", `value="2001-01-01"`}},
		}
		for _, c := range invalid {
			t.Run(c.name, func(t *testing.T) {
				before := len(tokens())
				r := p.post(t, "/account/tokens", c.form)
				wantPage(t, r, 400, append([]string{`role="alert"`, `<main`}, c.says...)...)
				if n := len(tokens()); n != before {
					t.Fatalf("a refused form made a token: %d, was %d", n, before)
				}
			})
		}

		t.Run("fail/stale-form-is-a-fresh-page", func(t *testing.T) {
			before := len(tokens())
			stale := e.page(chromeLinux)
			stale.csrfCookie()
			old := formToken.FindSubmatch(stale.get(t).body)[1] // a token of another session
			r := p.do(req{method: "POST", path: "/account/tokens", form: url.Values{"_token": {string(old)}, "name": {"from-a-stale-tab"}, "abilities": {"*"}}})
			body := wantPage(t, r, 419, "This page expired", `role="alert"`, `value="from-a-stale-tab"`)
			if len(tokens()) != before {
				t.Fatal("a stale form made a token")
			}
			fresh := formToken.FindStringSubmatch(body)[1]
			r = p.do(req{method: "POST", path: "/account/tokens", form: url.Values{"_token": {fresh}, "name": {"from-a-stale-tab"}, "abilities": {"*"}}})
			wantRedirect(t, r)
		})
		t.Run("fail/stale-form-script-gets-json", func(t *testing.T) {
			r := p.do(req{method: "POST", path: "/account/tokens", form: url.Values{"_token": {"stale"}, "name": {"x"}}, header: xhr})
			want419(t, r, "")
		})

		t.Run("ok/revoke-asks-first", func(t *testing.T) {
			id := ""
			for _, x := range tokens() {
				if x.(map[string]any)["name"] == "ci-deploy" {
					id = formatID(x)
				}
			}
			r := p.post(t, "/account/tokens/"+id+"/delete", nil)
			wantPage(t, r, 200, "Revoke token ci-deploy?", `name="confirm" value="yes"`, "Revoke token ci-deploy</button>")
			if !hasToken(tokens(), "ci-deploy") {
				t.Fatal("the confirmation page revoked the token")
			}
			wantRedirect(t, p.post(t, "/account/tokens/"+id+"/delete", url.Values{"confirm": {"yes"}}))
			if hasToken(tokens(), "ci-deploy") {
				t.Fatal("the token survived its confirmed revocation")
			}
			wantPage(t, p.get(t), 200, "Token “ci-deploy” revoked.")
			wantPage(t, p.post(t, "/account/tokens/"+id+"/delete", url.Values{"confirm": {"yes"}}), 404, "no such token")
		})

		t.Run("ok/devices", func(t *testing.T) {
			other := e.signedInPage(t, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "owner", "password1")
			third := e.signedInPage(t, "curl/8.5.0", "owner", "password1")
			body := wantPage(t, p.get(t), 200, "Chrome on Linux", `id="this-device"`, "Safari on iOS", "Sign out all other devices")
			if strings.Index(body, "this device</span>") > strings.Index(body, "Safari on iOS") {
				t.Fatal("this device is not first")
			}
			r := p.post(t, "/account/sessions/"+other.sid(t)+"/delete", nil)
			wantPage(t, r, 200, "Sign out Safari on iOS")
			wantRedirect(t, p.post(t, "/account/sessions/"+other.sid(t)+"/delete", url.Values{"confirm": {"yes"}}))
			wantPage(t, p.get(t), 200, "Signed out Safari on iOS")
			if liveSession(e, other.value("accessToken")) {
				t.Fatal("the other device's session survived")
			}
			// Sign out other devices.
			again := e.signedInPage(t, chromeLinux, "owner", "password1")
			wantPage(t, p.post(t, "/account/sessions/others", nil), 200, "Sign out all other devices?")
			if !liveSession(e, third.value("accessToken")) {
				t.Fatal("the confirmation page ended sessions")
			}
			wantPage(t, p.post(t, "/account/sessions/others", url.Values{"confirm": {"yes"}, "password": {"wrong password"}}), 403, "password")
			if !liveSession(e, third.value("accessToken")) {
				t.Fatal("a wrong password ended sessions")
			}
			wantRedirect(t, p.post(t, "/account/sessions/others", url.Values{"confirm": {"yes"}, "password": {"password1"}}))
			wantPage(t, p.get(t), 200, "Signed out 3 other devices.") // the registration's, third and again
			if liveSession(e, third.value("accessToken")) || liveSession(e, again.value("accessToken")) {
				t.Fatal("another device survived")
			}
			if !liveSession(e, p.value("accessToken")) {
				t.Fatal("this device was signed out")
			}
		})
		t.Run("ok/end-this-device-says-so", func(t *testing.T) {
			q := e.signedInPage(t, chromeLinux, "owner", "password1")
			wantPage(t, q.post(t, "/account/sessions/"+q.sid(t)+"/delete", nil), 200, "signs you out")
			access := q.value("accessToken")
			wantRedirect(t, q.post(t, "/account/sessions/"+q.sid(t)+"/delete", url.Values{"confirm": {"yes"}}))
			if liveSession(e, access) {
				t.Fatal("the session survived")
			}
			q.csrfCookie() // as the redirect to token.obtain does
			wantPage(t, q.get(t), 200, "You are signed out", `id="login-form"`)
		})
	})
}

func formatID(x any) string {
	return strconv.FormatInt(int64(x.(map[string]any)["id"].(float64)), 10)
}

func hasToken(l []any, name string) bool {
	for _, x := range l {
		if x.(map[string]any)["name"] == name {
			return true
		}
	}
	return false
}
