package web_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/missing"
)

// w3mBrowser is Debian's w3m, a real browser without JavaScript, with its
// cookies kept under its own $HOME between runs.
type w3mBrowser struct {
	t    *testing.T
	bin  string
	home string
	base string
}

func (b *w3mBrowser) run(args ...string) string {
	b.t.Helper()
	cmd := exec.Command(b.bin, append([]string{"-cookie", "-o", "accept_cookie=1", "-o", "accept_bad_cookie=1"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+b.home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.t.Fatalf("w3m %q: %v: %s", args, err, out)
	}
	return string(out)
}

// token reads the page's _token.
func (b *w3mBrowser) token() string {
	b.t.Helper()
	m := formToken.FindStringSubmatch(b.run("-dump_source", b.base+"/account"))
	if m == nil {
		b.t.Fatal("no _token on the page")
	}
	return m[1]
}

// submit posts form to path as w3m does a form, with the page's _token
// unless form has one, and returns the page it ends on, as text.
func (b *w3mBrowser) submit(path string, form url.Values) string {
	b.t.Helper()
	if form.Get("_token") == "" {
		form.Set("_token", b.token())
	}
	f := filepath.Join(b.t.TempDir(), "post")
	if err := os.WriteFile(f, []byte(form.Encode()), 0o600); err != nil {
		b.t.Fatal(err)
	}
	return b.run("-dump", "-post", f, b.base+path)
}

func wantSays(t *testing.T, out string, says ...string) {
	t.Helper()
	for _, s := range says {
		if !strings.Contains(out, s) {
			t.Fatalf("w3m shows no %q:\n%s", s, out)
		}
	}
}

// TestAccountInW3M: each flow of the account page in w3m, without
// JavaScript: register, create a token with an expiry and abilities, a
// reload, confirm and revoke it, sign out another device and the others,
// change the password, and a stale form answered with a page.
func TestAccountInW3M(t *testing.T) {
	bin, err := exec.LookPath("w3m")
	if err != nil {
		missing.Skip(t, "w3m not installed (apt-get install w3m)")
	}
	e := newEnv(t, storeKinds[0].open)
	b := &w3mBrowser{t: t, bin: bin, home: t.TempDir(), base: e.ts.URL}
	wantSays(t, b.run("-dump", e.ts.URL+"/account"), "Sign in", "Create an account")

	out := b.submit("/account/register", url.Values{"login": {"wanda"}, "password": {"password1"}, "password_confirmation": {"password1"}})
	wantSays(t, out, "Welcome", "Signed in as wanda", "this device")

	out = b.submit("/account/tokens", url.Values{"name": {"nightly-backup"}, "expires": {"30"}, "abilities": {"tokens:manage"}})
	wantSays(t, out, "Token “nightly-backup” created.", "shown only once", "expires in 30 days")
	secret := regexp.MustCompile(`\S+\|\S+`).FindString(out[strings.Index(out, "shown only once"):])
	if secret == "" {
		t.Fatalf("no secret on the page:\n%s", out)
	}
	if again := b.run("-dump", e.ts.URL+"/account"); strings.Contains(again, secret) || strings.Count(again, "nightly-backup") != 1 {
		t.Fatalf("a reload shows the secret again, or made a second token:\n%s", again)
	}

	id := regexp.MustCompile(`/account/tokens/(\d+)/delete" data-confirm="Revoke token nightly-backup`).FindStringSubmatch(b.run("-dump_source", e.ts.URL+"/account"))
	if id == nil {
		t.Fatal("no revoke form for nightly-backup")
	}
	wantSays(t, b.submit("/account/tokens/"+id[1]+"/delete", url.Values{}), "Revoke token nightly-backup?", "Revoke token nightly-backup", "Cancel")
	wantSays(t, b.submit("/account/tokens/"+id[1]+"/delete", url.Values{"confirm": {"yes"}}), "Token “nightly-backup” revoked.")

	other := e.signedInPage(t, chromeLinux, "wanda", "password1")
	wantSays(t, b.submit("/account/sessions/"+other.sid(t)+"/delete", url.Values{}), "Sign out Chrome on Linux")
	wantSays(t, b.submit("/account/sessions/"+other.sid(t)+"/delete", url.Values{"confirm": {"yes"}}), "Signed out Chrome on Linux")
	e.signedInPage(t, chromeLinux, "wanda", "password1")
	wantSays(t, b.submit("/account/sessions/others", url.Values{}), "Sign out all other devices?")
	wantSays(t, b.submit("/account/sessions/others", url.Values{"confirm": {"yes"}, "password": {"password1"}}), "Signed out 1 other device.")

	wantSays(t, b.submit("/account/password", url.Values{}), "Change your password?", "signs out all your other devices", "New password, again")
	wantSays(t, b.submit("/account/password", url.Values{"confirm": {"yes"}, "current_password": {"password1"}, "new_password": {"password2"}, "new_password_confirmation": {"password2"}}),
		"Password changed.", "other devices were signed out", "Signed in as wanda")

	out = b.submit("/account/tokens", url.Values{"_token": {"stale"}, "name": {"kept-name"}, "abilities": {"*"}})
	wantSays(t, out, "Page expired", "send the form again")
	if strings.Contains(out, `"error"`) {
		t.Fatalf("a stale form got JSON:\n%s", out)
	}
}

// TestAdminDisablesUserInW3M: an administrator disabling a user in w3m,
// without JavaScript: the link from the account page, the search, the
// user's page, the confirmation page, and the flash after the redirect.
func TestAdminDisablesUserInW3M(t *testing.T) {
	bin, err := exec.LookPath("w3m")
	if err != nil {
		missing.Skip(t, "w3m not installed (apt-get install w3m)")
	}
	e := newEnv(t, storeKinds[0].open)
	if _, err := e.svc.CreateUser(context.Background(), "root", "password1", propusk.LevelAdmin, nil); err != nil {
		t.Fatal(err)
	}
	alice := e.register("alice", "password1")
	b := &w3mBrowser{t: t, bin: bin, home: t.TempDir(), base: e.ts.URL}
	b.run("-dump", e.ts.URL+"/account")
	wantSays(t, b.submit("/account/login", url.Values{"login": {"root"}, "password": {"password1"}}), "Signed in as root", "Administration: users")

	wantSays(t, b.run("-dump", e.ts.URL+"/account/admin/users"), "Users", "Search users", "alice", "root")
	src := b.run("-dump_source", e.ts.URL+"/account/admin/users?login=ali")
	m := regexp.MustCompile(`href="(/account/admin/users/\d+)">alice<`).FindStringSubmatch(src)
	if m == nil {
		t.Fatalf("no link to alice:\n%s", src)
	}
	wantSays(t, b.run("-dump", e.ts.URL+m[1]), "User alice", "enabled", "Disable alice", "Reset alice's password")
	wantSays(t, b.submit(m[1]+"/disable", url.Values{}), "Disable alice?", "every session and token of alice ends", "Cancel")
	if !refusedNot(e, alice.access) {
		t.Fatal("the confirmation page disabled alice")
	}
	wantSays(t, b.submit(m[1]+"/disable", url.Values{"confirm": {"yes"}}), "Disabled alice", "disabled", "Enable alice")
	if refusedNot(e, alice.access) {
		t.Fatal("alice's session outlived her account")
	}
}

// refusedNot reports whether the access token still works.
func refusedNot(e *env, access string) bool { return e.me(access).StatusCode == 200 }
