package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/browsertest"
)

// TestAccountInChromium walks the account page in a real headless
// Chromium, with JavaScript: sign in, create a token and copy it, revoke
// it through the dialog, sign out another device, change the password;
// and the pages a form without JavaScript would reach (confirmation,
// error, expired). Every
// state is checked by pageCheck.
func TestAccountInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnv(t, storeKinds[0].open)
	e.register("owner", "password1")
	other := e.signedInPage(t, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "owner", "password1")
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(sel))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}

	do(chromedp.Navigate(e.ts.URL+"/account"), chromedp.WaitVisible(`#login-form`))
	browsertest.CheckPage(t, ctx, "anonymous")

	do(chromedp.SendKeys(`#login`, "owner"), chromedp.SendKeys(`#password`, "wrong password"), chromedp.Submit(`#login-form`), chromedp.WaitVisible(`#error`))
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#login`)); v != "owner" {
		t.Fatalf("the login was not kept: %q", v)
	}
	browsertest.CheckPage(t, ctx, "error")

	do(chromedp.SendKeys(`#password`, "password1"), chromedp.Submit(`#login-form`), chromedp.WaitVisible(`#flash`))
	if !strings.Contains(text(`#this-device`), "this device") {
		t.Fatal("this device is not marked")
	}
	browsertest.CheckPage(t, ctx, "signed-in")

	do(chromedp.SendKeys(`#token-name`, "ci-deploy"), chromedp.Click(`input[name=abilities][value="*"]`), chromedp.Submit(`#token-form`), chromedp.WaitVisible(`#new-token`),
		chromedp.WaitVisible(`#copy-token`))
	secret := text(`#new-token`)
	// Headless Chromium grants no clipboard: the button's wiring is what
	// is tested, with writeText recorded.
	do(chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = s => { window.copied = s; return Promise.resolve(); }`), chromedp.Click(`#copy-token`),
		chromedp.Poll[chromedp.Void](`document.getElementById('copy-status').textContent === 'Copied.'`))
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.copied`)); got != secret || secret == "" {
		t.Fatalf("copied %q, want the secret %q", got, secret)
	}
	browsertest.CheckPage(t, ctx, "token-created")

	// Revoke through the dialog: it names the token, and Cancel keeps it.
	revoke := `li[data-token-id] button[aria-label="Revoke token ci-deploy"]`
	do(chromedp.Click(revoke), chromedp.WaitVisible(`#confirm-dialog`))
	if s := text(`#confirm-dialog-text`); !strings.Contains(s, "ci-deploy") {
		t.Fatalf("the dialog says %q", s)
	}
	browsertest.CheckPage(t, ctx, "dialog")
	do(chromedp.Click(`#confirm-no`), chromedp.WaitNotVisible(`#confirm-dialog`))
	// The page before had a flash too: drop it, so that the wait is for
	// the next page's.
	do(dropFlash, chromedp.Click(revoke), chromedp.WaitVisible(`#confirm-dialog`), chromedp.Click(`#confirm-yes`), chromedp.WaitVisible(`#flash`))
	if s := text(`#flash`); !strings.Contains(s, "“ci-deploy” revoked") {
		t.Fatalf("flash %q", s)
	}

	// The confirmation page, as a browser without JavaScript reaches it.
	do(chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.getElementById('others-form'))`), chromedp.WaitVisible(`#confirm-form`))
	browsertest.CheckPage(t, ctx, "confirmation")
	do(chromedp.Navigate(e.ts.URL+"/account"), chromedp.WaitVisible(`#others-form`))
	do(chromedp.SendKeys(`#others-password`, "password1"), dropFlash, chromedp.Click(`#others-form button`), chromedp.WaitVisible(`#confirm-dialog`), chromedp.Click(`#confirm-yes`), chromedp.WaitVisible(`#flash`))
	if liveSession(e, other.value("accessToken")) {
		t.Fatal("the other device is still signed in")
	}

	// The password change: its confirmation page without JavaScript, then
	// the dialog.
	do(chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.getElementById('password-form'))`), chromedp.WaitVisible(`#confirm-form`))
	if s := text(`#confirm-text`); !strings.Contains(s, "signs out all your other devices") {
		t.Fatalf("the confirmation says %q", s)
	}
	browsertest.CheckPage(t, ctx, "password-confirmation")
	do(chromedp.Navigate(e.ts.URL+"/account"), chromedp.WaitVisible(`#password-form`))
	do(chromedp.SendKeys(`#current-password`, "password1"), chromedp.SendKeys(`#new-password`, "password2"), chromedp.SendKeys(`#new-password2`, "password2"),
		dropFlash, chromedp.Click(`#password-form button`), chromedp.WaitVisible(`#confirm-dialog`))
	if s := text(`#confirm-dialog-text`); !strings.Contains(s, "other devices") {
		t.Fatalf("the dialog says %q", s)
	}
	do(chromedp.Click(`#confirm-yes`), chromedp.WaitVisible(`#flash`))
	if s := text(`#flash`); !strings.Contains(s, "Password changed.") {
		t.Fatalf("flash %q", s)
	}

	// A stale page: the 419 page with a fresh form.
	do(chromedp.SetValue(`#token-form input[name=_token]`, "stale"), chromedp.SendKeys(`#token-name`, "kept"), chromedp.Click(`input[name=abilities][value="*"]`),
		chromedp.Submit(`#token-form`), chromedp.WaitVisible(`#error`))
	if s := text(`h1`); s != "Page expired" {
		t.Fatalf("h1 %q", s)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#token-name`)); v != "kept" {
		t.Fatalf("the input was not kept: %q", v)
	}
	browsertest.CheckPage(t, ctx, "expired")
}

// dropFlash removes the page's flash message, so that waiting for one
// waits for the page that follows a post/redirect/get.
var dropFlash = chromedp.Evaluate[chromedp.Void](`document.getElementById('flash')?.remove()`)

// TestAdminUsersInChromium walks the administrators' users page in
// headless Chromium: the list and a search, the user's page, disabling
// through the dialog, the confirmation page a browser without JavaScript
// reaches, and a refused form; each state checked by pageCheck.
func TestAdminUsersInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnv(t, storeKinds[0].open)
	if _, err := e.svc.CreateUser(context.Background(), "root", "password1", propusk.LevelAdmin, []string{"*"}); err != nil {
		t.Fatal(err)
	}
	e.register("alice", "password1")
	e.signedInPage(t, chromeLinux, "alice", "password1")
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(sel))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}

	do(chromedp.Navigate(e.ts.URL+"/account"), chromedp.WaitVisible(`#login-form`),
		chromedp.SendKeys(`#login`, "root"), chromedp.SendKeys(`#password`, "password1"), chromedp.Submit(`#login-form`), chromedp.WaitVisible(`#admin-link`))
	do(chromedp.Click(`#admin-link`), chromedp.WaitVisible(`#search-form`))
	browsertest.CheckPage(t, ctx, "admin-users")
	// The list is dropped first, so that the wait is for the next page's.
	do(chromedp.SendKeys(`#search`, "ali"), chromedp.Evaluate[chromedp.Void](`document.getElementById('users')?.remove()`), chromedp.Submit(`#search-form`), chromedp.WaitVisible(`#users`))
	if s := text(`#users`); !strings.Contains(s, "alice") || strings.Contains(s, "root") {
		t.Fatalf("the search lists %q", s)
	}
	do(chromedp.Click(`#users a`), chromedp.WaitVisible(`#disable-form`))
	browsertest.CheckPage(t, ctx, "admin-user")

	// A refused form: the page, with the reason announced and the input kept.
	do(chromedp.SetValue(`#level`, "31"), chromedp.Submit(`#level-form`), chromedp.WaitVisible(`#error`))
	if s := text(`#error`); !strings.Contains(s, "above their own") {
		t.Fatalf("error %q", s)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#level`)); v != "31" {
		t.Fatalf("the input was not kept: %q", v)
	}
	browsertest.CheckPage(t, ctx, "admin-error")

	// The confirmation page, as a browser without JavaScript reaches it.
	do(chromedp.Evaluate[chromedp.Void](`HTMLFormElement.prototype.submit.call(document.getElementById('disable-form'))`), chromedp.WaitVisible(`#confirm-form`))
	if s := text(`h1`); s != "Disable alice?" {
		t.Fatalf("h1 %q", s)
	}
	browsertest.CheckPage(t, ctx, "admin-confirmation")
	do(chromedp.Click(`#confirm-form a`), chromedp.WaitVisible(`#disable-form`))

	// With JavaScript, the dialog, which names the user.
	do(chromedp.Click(`#disable-form button`), chromedp.WaitVisible(`#confirm-dialog`))
	if s := text(`#confirm-dialog-text`); !strings.Contains(s, "Disable alice?") {
		t.Fatalf("the dialog says %q", s)
	}
	browsertest.CheckPage(t, ctx, "admin-dialog")
	do(chromedp.Click(`#confirm-yes`), chromedp.WaitVisible(`#flash`))
	if s := text(`#flash`); !strings.Contains(s, "Disabled alice") {
		t.Fatalf("flash %q", s)
	}
	if s := text(`#user-state`); s != "disabled" {
		t.Fatalf("state %q", s)
	}
}

// TestAccountRegisterAndDevicesInChromium: with JavaScript, a visitor
// registers from the page, then signs out one other device through the
// dialog, and chooses a token's expiry; the no-JavaScript forms of the same
// flows are TestAccountInW3M's.
func TestAccountRegisterAndDevicesInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnv(t, storeKinds[0].open)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(sel))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}

	do(chromedp.Navigate(e.ts.URL+"/account"), chromedp.WaitVisible(`#register-form`),
		chromedp.SendKeys(`#reg-login`, "nadia"), chromedp.SendKeys(`#reg-password`, "password1"), chromedp.SendKeys(`#reg-password2`, "password1"),
		chromedp.Submit(`#register-form`), chromedp.WaitVisible(`#flash`), chromedp.WaitVisible(`#this-device`))

	// Another device of nadia's, signed out from this one through the dialog.
	other := e.signedInPage(t, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "nadia", "password1")
	sid := other.sid(t)
	form := `li[data-session-id="` + sid + `"] form button`
	do(chromedp.Navigate(e.ts.URL+"/account"), chromedp.WaitVisible(form), dropFlash,
		chromedp.Click(form), chromedp.WaitVisible(`#confirm-dialog`))
	if s := text(`#confirm-dialog-text`); !strings.Contains(s, "Safari on iOS") {
		t.Fatalf("the dialog names %q, not the device", s)
	}
	do(chromedp.Click(`#confirm-yes`), chromedp.WaitVisible(`#flash`))
	if s := text(`#flash`); !strings.Contains(s, "Safari on iOS") {
		t.Fatalf("flash %q", s)
	}
	if liveSession(e, other.value("accessToken")) {
		t.Fatal("the other device is still signed in")
	}

	// A token that expires in 7 days.
	do(dropFlash, chromedp.SendKeys(`#token-name`, "weekly"), chromedp.SetValue(`select[name=expires]`, "7"),
		chromedp.Click(`input[name=abilities][value="*"]`), chromedp.Submit(`#token-form`), chromedp.WaitVisible(`#new-token`))
	if s := text(`#flash`); !strings.Contains(s, "weekly") {
		t.Fatalf("flash %q", s)
	}
}
