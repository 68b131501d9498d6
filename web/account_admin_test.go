package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// open GETs path as the page's browser.
func (p *page) open(path string) *resp {
	return p.do(req{method: "GET", path: path, header: map[string]string{"User-Agent": p.ua}})
}

func wantRedirectTo(t *testing.T, r *resp, to string) {
	t.Helper()
	if r.StatusCode != 303 || r.Header.Get("Location") != to {
		t.Fatalf("status %d to %q, want 303 to %s: %.400s", r.StatusCode, r.Header.Get("Location"), to, r.body)
	}
}

// TestAdminUsersPage: every form of the administrators' users page, on
// every store: the level rules and the last administrator refused as
// pages that say why, changing nothing; confirmations before disabling,
// resetting a password and ending sessions; post/redirect/get with a
// flash; a stale form's 419 page; non-administrators refused with a page.
func TestAdminUsersPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open)
		ctx := context.Background()
		root, err := e.svc.CreateUser(ctx, "root", "correct horse", propusk.LevelAdmin, nil)
		if err != nil {
			t.Fatal(err)
		}
		boss, err := e.svc.CreateUser(ctx, "boss", "correct horse", 50, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.register("alice", "correct horse")
		au, err := e.store.UserByLogin(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		alicePath := fmt.Sprintf("/account/admin/users/%d", au.ID)
		bossPath := fmt.Sprintf("/account/admin/users/%d", boss.ID)
		rootPath := fmt.Sprintf("/account/admin/users/%d", root.ID)
		user := func(id int64) *propusk.User {
			t.Helper()
			u, err := e.store.UserByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}

		// Only an administrator sees the link, and the page.
		ap := e.signedInPage(t, chromeLinux, "alice", "correct horse")
		if strings.Contains(string(ap.get(t).body), "/account/admin/users") {
			t.Fatal("a user's account page links to the users page")
		}
		wantPage(t, ap.open("/account/admin/users"), 403, `role="alert"`)
		wantPage(t, ap.open(alicePath), 403)
		wantPage(t, ap.post(t, alicePath, url.Values{"level": {"30"}}), 403)
		if user(au.ID).Level != propusk.LevelUser {
			t.Fatal("a user raised themself")
		}

		a := e.signedInPage(t, chromeLinux, "root", "correct horse")
		wantPage(t, a.get(t), 200, `href="/account/admin/users"`)
		wantPage(t, a.open("/account/admin/users"), 200, "alice", "boss", "root", `name="viewport"`, "<main")
		body := wantPage(t, a.open("/account/admin/users?login=ALI"), 200, "alice")
		if strings.Contains(body, ">boss<") {
			t.Fatal("the search for ALI lists boss")
		}
		wantPage(t, a.open("/account/admin/users?login=nobody"), 200, "No user has a login with “nobody”")
		wantPage(t, a.open(alicePath), 200, "User alice", "Disable alice", "Reset alice's password", "Save alice's level and boards", "register")
		wantPage(t, a.open("/account/admin/users/999999"), 404, "no such user")

		// Level and boards.
		wantRedirectTo(t, a.post(t, alicePath, url.Values{"level": {"20"}, "boards": {"news, dev"}}), alicePath)
		wantPage(t, a.open(alicePath), 200, "Saved alice's level and boards.", "news, dev", "admin.user.updated")
		if u := user(au.ID); u.Level != 20 || strings.Join(u.Boards, ",") != "news,dev" {
			t.Fatalf("alice: level %d boards %v", u.Level, u.Boards)
		}

		// Refusals are pages that say why, keep the input, and change nothing.
		for _, c := range []struct {
			name, path string
			form       url.Values
			status     int
			says       []string
		}{
			{"above-self", alicePath, url.Values{"level": {"31"}}, 403, []string{"a level above their own", `value="31"`}},
			{"act-above-self", bossPath, url.Values{"level": {"10"}}, 403, []string{"a level above their own"}},
			{"disable-above-self", bossPath + "/disable", url.Values{"confirm": {"yes"}}, 403, []string{"a level above their own"}},
			{"bad-level", alicePath, url.Values{"level": {"lots"}}, 400, []string{"whole number", `value="lots"`}},
			{"no-boards", alicePath, url.Values{"boards": {" , "}}, 400, []string{"at least one board"}},
			{"passwords-differ", alicePath + "/password", url.Values{"confirm": {"yes"}, "new_password": {"password9"}, "new_password_confirmation": {"password8"}}, 400, []string{"differ"}},
			{"short-password", alicePath + "/password", url.Values{"confirm": {"yes"}, "new_password": {"short"}, "new_password_confirmation": {"short"}}, 400, nil},
			{"no-such-session", alicePath + "/sessions/nope/delete", url.Values{"confirm": {"yes"}}, 404, []string{"no such session"}},
		} {
			body := wantPage(t, a.post(t, c.path, c.form), c.status, append([]string{`role="alert"`}, c.says...)...)
			if strings.Contains(body, "password9") {
				t.Fatalf("%s: the page carries a password back", c.name)
			}
		}
		if u := user(au.ID); u.Level != 20 || u.Disabled() {
			t.Fatalf("refusals changed alice: %+v", u)
		}
		if u := user(boss.ID); u.Level != 50 || u.Disabled() {
			t.Fatalf("refusals changed boss: %+v", u)
		}
		if _, err := e.svc.Login(ctx, "alice", "correct horse", propusk.Client{}); err != nil {
			t.Fatalf("a refused reset changed alice's password: %v", err)
		}

		// The last administrator: with boss disabled by the operator, root
		// cannot demote nor disable themself, and the page says why.
		yes := true
		if _, err := e.svc.UpdateUser(ctx, nil, boss.ID, propusk.UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		wantPage(t, a.post(t, rootPath, url.Values{"level": {"10"}}), 409, "the last administrator cannot be demoted", `value="10"`)
		wantPage(t, a.post(t, rootPath+"/disable", url.Values{"confirm": {"yes"}}), 409, "the last administrator")
		if u := user(root.ID); u.Level != propusk.LevelAdmin || u.Disabled() {
			t.Fatalf("the last administrator changed: %+v", u)
		}

		// Sessions: one, after a confirmation, then all.
		other := e.signedInPage(t, chromeLinux, "alice", "correct horse")
		sid := other.sid(t)
		wantPage(t, a.post(t, alicePath+"/sessions/"+sid+"/delete", nil), 200, "Sign out alice's Chrome on Linux", "confirm")
		if !liveSession(e, other.value("accessToken")) {
			t.Fatal("the confirmation page ended the session")
		}
		wantRedirectTo(t, a.post(t, alicePath+"/sessions/"+sid+"/delete", url.Values{"confirm": {"yes"}}), alicePath)
		wantPage(t, a.open(alicePath), 200, "Signed out alice's Chrome on Linux")
		if liveSession(e, other.value("accessToken")) {
			t.Fatal("the session is still live")
		}
		wantPage(t, a.post(t, alicePath+"/sessions/delete", nil), 200, "Sign out all of alice's devices?")
		wantRedirectTo(t, a.post(t, alicePath+"/sessions/delete", url.Values{"confirm": {"yes"}}), alicePath)
		if liveSession(e, ap.value("accessToken")) {
			t.Fatal("sign out all left a session")
		}

		// Disable, after a confirmation; enable.
		wantPage(t, a.post(t, alicePath+"/disable", nil), 200, "Disable alice?", "Disable alice", "Cancel")
		if user(au.ID).Disabled() {
			t.Fatal("the confirmation page disabled alice")
		}
		wantRedirectTo(t, a.post(t, alicePath+"/disable", url.Values{"confirm": {"yes"}}), alicePath)
		wantPage(t, a.open(alicePath), 200, "Disabled alice", "Enable alice")
		if !user(au.ID).Disabled() {
			t.Fatal("alice is not disabled")
		}
		if r := a.open(alicePath); strings.Contains(string(r.body), "Disabled alice") {
			t.Fatal("a reload shows the flash again")
		}
		wantRedirectTo(t, a.post(t, alicePath+"/enable", nil), alicePath)
		if user(au.ID).Disabled() {
			t.Fatal("alice is still disabled")
		}

		// Reset the password, after a confirmation that asks for it.
		wantPage(t, a.post(t, alicePath+"/password", url.Values{"new_password": {"password9"}, "new_password_confirmation": {"password9"}}), 200, "Reset alice's password?", "New password, again")
		if _, err := e.svc.Login(ctx, "alice", "password9", propusk.Client{}); err == nil {
			t.Fatal("the confirmation page reset the password")
		}
		wantRedirectTo(t, a.post(t, alicePath+"/password", url.Values{"confirm": {"yes"}, "new_password": {"password9"}, "new_password_confirmation": {"password9"}}), alicePath)
		if _, err := e.svc.Login(ctx, "alice", "password9", propusk.Client{}); err != nil {
			t.Fatalf("the new password: %v", err)
		}

		// A stale form: the 419 page, nothing changed.
		r := a.do(req{method: "POST", path: alicePath, form: url.Values{"_token": {"stale"}, "level": {"5"}}, header: map[string]string{"User-Agent": a.ua}})
		wantPage(t, r, 419, "Page expired", `value="5"`)
		if user(au.ID).Level != 20 {
			t.Fatal("a stale form changed alice")
		}
	})
}
