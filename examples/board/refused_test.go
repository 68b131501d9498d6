package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/propusk/propusk/internal/browsertest"
)

// textarea is the text the page's post form holds.
func (b *nojs) textarea() string {
	for _, n := range find(b.doc, func(n *html.Node) bool { return n.Data == "textarea" }) {
		if n.FirstChild != nil {
			return n.FirstChild.Data
		}
		return ""
	}
	b.t.Fatalf("%s: no textarea: %s", b.url.Path, b.text)
	return ""
}

// TestRefusedPostIsKept: a post that propusk's middleware refuses comes
// back as the board or thread it was sent on, with its text in the form,
// the reason in a role="alert" and, for an anonymous visitor on a closed
// board, the word to log in; logging in, the text can be sent again.
func TestRefusedPostIsKept(t *testing.T) {
	a := newApp(t)
	dasha := a.browser(t)
	dasha.open("/d/")
	dasha.submit("login-form", map[string]string{"login": "dasha", "password": "dasha-password"})
	dasha.submit("post-form", map[string]string{"text": "dasha's thread"})
	thread := dasha.url.Path

	cases := []struct {
		name, path, token string
		signIn            bool
		status            int
		says              []string
	}{
		{name: "fail/anonymous-new-thread-on-d", path: "/d/", status: 403, says: []string{"Log in to post on /d/", "kept below", "/d/ — Discussion", "dasha's thread"}},
		{name: "fail/anonymous-reply-on-d", path: thread, status: 403, says: []string{"Log in to post on /d/", "kept below", "thread"}},
		{name: "fail/stale-form", path: thread, signIn: true, token: "forged", status: 419, says: []string{"page expired", "kept below", "dasha's thread"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := a.browser(t)
			b.open(c.path)
			if c.signIn {
				b.submit("login-form", map[string]string{"login": "dasha", "password": "dasha-password"})
			}
			text := "a long post I would hate to type again"
			fill := map[string]string{"text": text}
			if c.token != "" {
				fill["_token"] = c.token
			}
			b.submit("post-form", fill)
			b.want(c.status, c.says...)
			if got := b.textarea(); got != text {
				t.Fatalf("the form holds %q, want the refused text %q", got, text)
			}
			if len(find(b.doc, func(n *html.Node) bool { return attr(n, "role") == "alert" })) != 1 {
				t.Fatal("the reason is not announced (role=alert)")
			}
			if !c.signIn {
				// The login form is on the page; logged in, the kept text
				// goes through.
				b.submit("login-form", map[string]string{"login": "dasha", "password": "dasha-password"})
				b.want(200, "Signed in as dasha")
			}
			b.submit("post-form", map[string]string{"text": text})
			b.want(200, text)
		})
	}
}

// TestPagesInChromium: a board and a refused post (with JavaScript) pass axe-core
// and do not scroll sideways on a phone.
func TestPagesInChromium(t *testing.T) {
	a := newApp(t)
	b := a.browser(t)
	b.open("/b/")
	b.submit("post-form", map[string]string{"text": strings.Repeat("a-long-word-without-spaces", 8)})
	ctx := browsertest.New(t)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	do(chromedp.Navigate(a.ts.URL+"/b/"), chromedp.WaitVisible(`#post-form`))
	browsertest.CheckPage(t, ctx, "board-b")
	do(chromedp.Navigate(a.ts.URL+"/d/"), chromedp.WaitVisible(`#post-form`))
	// With JavaScript, board.js posts with fetch: the refusal is shown in
	// place, with the word to log in, and the text stays.
	do(chromedp.SendKeys(`#post-text`, "refused text"), chromedp.Click(`#post-form button`), chromedp.WaitVisible(`#error`))
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#post-text`)); v != "refused text" {
		t.Fatalf("the refused text was not kept: %q", v)
	}
	if s, _ := chromedp.Run(ctx, chromedp.TextContent(`#error`)); !strings.Contains(s, "Log in to post on /d/") {
		t.Fatalf("the error says %q", s)
	}
	browsertest.CheckPage(t, ctx, "board-refused")
}
