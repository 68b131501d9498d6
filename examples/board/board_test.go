package main

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// app is the board running in-process, with the demo users.
type app struct {
	ts    *httptest.Server
	clock *testenv.Clock
}

func newApp(t *testing.T) *app {
	t.Helper()
	ctx := context.Background()
	store, _ := testenv.SQLite(t)
	a := &app{clock: testenv.NewClock(time.Now().UTC())}
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := auth.New(ctx, auth.Config{
		Store: store, MasterKey: key, Now: a.clock.Now,
		Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}, // fast; production's are tested in auth
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range demoUsers {
		if _, err := svc.CreateUser(ctx, u.login, u.password, u.level, u.boards); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	a.ts = httptest.NewServer(New(svc, srv))
	t.Cleanup(a.ts.Close)
	return a
}

// nojs is a browser without JavaScript: it keeps cookies, follows
// redirects, and submits the forms of the page it shows. Nothing else.
type nojs struct {
	t      *testing.T
	client *http.Client
	hops   []string // the paths the last navigation went through
	url    *url.URL
	status int
	doc    *html.Node
	text   string // the page's visible text, for assertions
}

func (a *app) browser(t *testing.T) *nojs {
	jar, _ := cookiejar.New(nil)
	b := &nojs{t: t}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		b.hops = append(b.hops, r.URL.Path)
		if len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	b.url, _ = url.Parse(a.ts.URL)
	return b
}

func (b *nojs) navigate(r *http.Request) {
	b.t.Helper()
	b.hops = []string{r.URL.Path}
	res, err := b.client.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	b.url, b.status = res.Request.URL, res.StatusCode
	if b.doc, err = html.Parse(strings.NewReader(string(body))); err != nil {
		b.t.Fatal(err)
	}
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode && (n.Parent == nil || (n.Parent.Data != "script" && n.Parent.Data != "style")) {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(b.doc)
	b.text = strings.Join(strings.Fields(sb.String()), " ")
}

// open follows a link (or types a URL).
func (b *nojs) open(path string) {
	b.t.Helper()
	r, err := http.NewRequest("GET", b.url.ResolveReference(&url.URL{Path: path}).String(), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	b.navigate(r)
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && match(n) {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, find(c, match)...)
	}
	return out
}

// submit fills in the form the page shows (the first matching selector: an
// id, or a class) as a user would, and sends it as the browser would.
func (b *nojs) submit(form string, fill map[string]string) {
	b.t.Helper()
	forms := find(b.doc, func(n *html.Node) bool {
		return n.Data == "form" && (attr(n, "id") == form || strings.Contains(" "+attr(n, "class")+" ", " "+form+" "))
	})
	if len(forms) == 0 {
		b.t.Fatalf("%s: no form %q on the page: %s", b.url.Path, form, b.text)
	}
	f := forms[0]
	vals := url.Values{}
	for _, in := range find(f, func(n *html.Node) bool { return n.Data == "input" || n.Data == "textarea" }) {
		name := attr(in, "name")
		v := attr(in, "value")
		if in.Data == "textarea" && in.FirstChild != nil {
			v = in.FirstChild.Data
		}
		vals.Set(name, v)
	}
	for k, v := range fill {
		if !vals.Has(k) {
			b.t.Fatalf("form %q has no field %q", form, k)
		}
		vals.Set(k, v)
	}
	action, err := b.url.Parse(attr(f, "action"))
	if err != nil {
		b.t.Fatal(err)
	}
	r, err := http.NewRequest(strings.ToUpper(attr(f, "method")), action.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.navigate(r)
}

func (b *nojs) want(status int, texts ...string) {
	b.t.Helper()
	if b.status != status {
		b.t.Fatalf("%s: status %d, want %d: %s", b.url.Path, b.status, status, b.text)
	}
	for _, s := range texts {
		if !strings.Contains(b.text, s) {
			b.t.Fatalf("%s: page lacks %q: %s", b.url.Path, s, b.text)
		}
	}
}

func (b *nojs) went(path string) bool {
	for _, h := range b.hops {
		if h == path {
			return true
		}
	}
	return false
}

// TestWithoutJavaScript uses the board as a browser without JavaScript
// does: links, forms, cookies and redirects only.
func TestWithoutJavaScript(t *testing.T) {
	a := newApp(t)
	b := a.browser(t)

	// A first visit gets anonymous tokens by redirect, and comes back.
	b.open("/b/")
	b.want(200, "Anonymous", "No threads yet")
	if !b.went("/api/v1/token.obtain") || b.url.Path != "/b/" {
		t.Fatalf("first visit went %v, ended at %s", b.hops, b.url)
	}

	b.submit("post-form", map[string]string{"text": "first post"})
	b.want(200, "Anonymous", "first post")
	if b.url.Path != "/b/1" {
		t.Fatalf("after posting: at %s", b.url)
	}
	b.submit("post-form", map[string]string{"text": "a reply"})
	b.want(200, "first post", "a reply")

	// /d/ is readable by anyone, but posting there needs a user of /d/.
	b.open("/d/")
	b.want(200, "/d/")
	b.submit("post-form", map[string]string{"text": "anonymous on d"})
	b.want(403, "signed-in user")

	b.open("/d/")
	b.submit("login-form", map[string]string{"login": "dasha", "password": "dasha-password"})
	b.want(200, "Signed in as dasha", "boards d")
	if b.url.Path != "/d/" {
		t.Fatalf("login brought the browser to %s, want back to /d/", b.url)
	}
	b.submit("post-form", map[string]string{"text": "dasha on d"})
	b.want(200, "dasha", "dasha on d")
	thread := b.url.Path

	// The access token expires; the next page renews it by redirect, and
	// the visitor is still signed in.
	a.clock.Advance(16 * time.Minute)
	b.open(thread)
	b.want(200, "Signed in as dasha", "dasha on d")
	if !b.went("/api/v1/token.renew") {
		t.Fatalf("expired token not renewed by redirect: went %v", b.hops)
	}
	// A form sent with an expired token is lost (a redirect cannot carry a
	// POST on), but the login is not; sending it again works.
	a.clock.Advance(16 * time.Minute)
	b.submit("post-form", map[string]string{"text": "after expiry"})
	b.want(200, "Signed in as dasha")
	if !b.went("/api/v1/token.renew") || strings.Contains(b.text, "after expiry") {
		t.Fatalf("went %v: %s", b.hops, b.text)
	}
	b.submit("post-form", map[string]string{"text": "after expiry"})
	b.want(200, "Signed in as dasha", "after expiry")

	// dasha is no administrator: no delete buttons for her.
	if len(find(b.doc, func(n *html.Node) bool { return attr(n, "class") == "inline delete" })) != 0 {
		t.Fatal("a level-10 user is offered delete buttons")
	}
	// A form whose _token is not this session's is refused, and says why.
	b.submit("post-form", map[string]string{"text": "forged", "_token": "forged"})
	b.want(419, "page expired")

	b.open(thread)
	b.submit("logoff-form", nil)
	b.want(200, "Anonymous")
	if b.url.Path != thread {
		t.Fatalf("logoff brought the browser to %s", b.url)
	}
	b.submit("post-form", map[string]string{"text": "anonymous again"})
	b.want(403, "signed-in user")

	// An administrator deletes the first thread.
	b.open("/b/")
	b.submit("login-form", map[string]string{"login": "admin", "password": "admin-password"})
	b.want(200, "Signed in as admin", "first post")
	b.submit("delete", nil)
	b.want(200, "No threads yet")
	if b.url.Path != "/b/" {
		t.Fatalf("after deleting: at %s", b.url)
	}
}

// TestW3M reads a board with Debian's w3m, a real browser without
// JavaScript: it must follow the token redirect with cookies and show the posts.
func TestW3M(t *testing.T) {
	w3m, err := exec.LookPath("w3m")
	if err != nil {
		missing.Skip(t, "w3m not installed (apt-get install w3m)")
	}
	a := newApp(t)
	b := a.browser(t)
	b.open("/b/")
	b.submit("post-form", map[string]string{"text": "seen by w3m"})
	home := t.TempDir() // w3m keeps its cookies under $HOME/.w3m
	cmd := exec.Command(w3m, "-dump", "-cookie", "-o", "accept_cookie=1", "-o", "accept_bad_cookie=1", a.ts.URL+"/b/")
	cmd.Env = append(os.Environ(), "HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("w3m: %v: %s", err, out)
	}
	for _, s := range []string{"/b/ — Random", "seen by w3m", "Anonymous", "Log in"} {
		if !strings.Contains(string(out), s) {
			t.Fatalf("w3m shows no %q:\n%s", s, out)
		}
	}
}
