package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/token"
	"github.com/propusk/propusk/web"
)

// The tests below run real nginx and real Caddy, from Debian's packages,
// with the configurations of docs/EDGE.md as they are written there. The
// documented placeholders are the only thing replaced: 127.0.0.1:8000 (the
// proxy), 127.0.0.1:8080 (propusk) and 127.0.0.1:3000 (the app), each by a
// free port. Without nginx or caddy on PATH the test skips loudly, and under
// CI, which installs both, it fails.

// edgeFiles returns the files of docs/EDGE.md: the fenced blocks whose
// first line is "# file: NAME", by name, placeholders replaced.
func edgeFiles(t *testing.T, proxy, propuskAddr, app string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "EDGE.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	var name string
	var body strings.Builder
	in := false
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "```") && len(line) > 3:
			in, name = true, ""
			body.Reset()
		case in && line == "```":
			in = false
			if name != "" {
				files[name] = strings.NewReplacer("127.0.0.1:8000", proxy, "127.0.0.1:8080", propuskAddr, "127.0.0.1:3000", app).Replace(body.String())
			}
		case in && name == "" && body.Len() == 0 && strings.HasPrefix(line, "# file: "):
			name = strings.TrimPrefix(line, "# file: ")
			body.WriteString(line + "\n")
		case in:
			body.WriteString(line + "\n")
		}
	}
	return files
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lookBinary returns the path of a proxy's binary, or skips (fails under CI).
func lookBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/" + name); err == nil {
		return "/usr/sbin/" + name
	}
	msg := fmt.Sprintf("%s not found (apt-get install %s)", name, pkg)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING edge test: " + msg)
	return ""
}

// startProcess runs cmd until the test ends and waits for addr to accept
// connections.
func startProcess(t *testing.T, cmd *exec.Cmd, addr string, logs *strings.Builder) {
	t.Helper()
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), logs.String())
			mu.Unlock()
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s exited: %s", cmd.Path, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s", cmd.Path, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// startNginx runs nginx with docs/EDGE.md's files in a temporary prefix,
// in the foreground, inside a minimal nginx.conf of the test's own (pid,
// temporary paths, logs: what a distribution's nginx.conf provides).
func startNginx(t *testing.T, proxy, propuskAddr, app string) {
	bin := lookBinary(t, "nginx", "nginx")
	dir := t.TempDir()
	files := edgeFiles(t, proxy, propuskAddr, app)
	for _, n := range []string{"propusk.conf", "propusk-gate.conf", "propusk-verify.conf"} {
		if files[n] == "" {
			t.Fatalf("docs/EDGE.md has no %s", n)
		}
		if err := os.WriteFile(filepath.Join(dir, n), []byte(files[n]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include propusk.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	startProcess(t, exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr"), proxy, &logs)
}

// startCaddy runs caddy with docs/EDGE.md's Caddyfile, its state in a
// temporary home.
func startCaddy(t *testing.T, proxy, propuskAddr, app string) {
	bin := lookBinary(t, "caddy", "caddy")
	dir := t.TempDir()
	f := edgeFiles(t, proxy, propuskAddr, app)["Caddyfile"]
	if f == "" {
		t.Fatal("docs/EDGE.md has no Caddyfile")
	}
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(f), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config")
	var logs strings.Builder
	startProcess(t, cmd, proxy, &logs)
}

// upstream is the gated app: it records what it got, and verifies the
// assertion it is given through propusk's JWKS, as a back end in any
// language would.
type upstream struct {
	jwks string // the JWKS URL
	mu   sync.Mutex
	last *http.Request
	// claims of the last assertion that verified, or the error.
	claims jwt.MapClaims
	err    error
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var claims jwt.MapClaims
	var err error
	if a := r.Header.Get(web.HeaderAssertion); a != "" {
		claims, err = verifyThroughJWKS(u.jwks, a, "app")
	}
	u.mu.Lock()
	u.last, u.claims, u.err = r, claims, err
	u.mu.Unlock()
	fmt.Fprintf(w, "app: %s", r.URL.Path)
}

func (u *upstream) got() (*http.Request, jwt.MapClaims, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r, c, err := u.last, u.claims, u.err
	u.last, u.claims, u.err = nil, nil, nil
	return r, c, err
}

// verifyThroughJWKS verifies an assertion for audience with the keys
// published at jwksURL.
func verifyThroughJWKS(jwksURL, a, audience string) (jwt.MapClaims, error) {
	res, err := http.Get(jwksURL)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(a, claims, func(tok *jwt.Token) (any, error) {
		if tok.Header["typ"] != token.AssertionType {
			return nil, fmt.Errorf("typ %v", tok.Header["typ"])
		}
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return k, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience(audience), jwt.WithIssuer("propusk"), jwt.WithExpirationRequired(),
		// the test's propusk runs on a fake clock that starts now
		jwt.WithLeeway(time.Hour))
	return claims, err
}

func TestEdgeNginx(t *testing.T) { testEdge(t, startNginx) }

func TestEdgeCaddy(t *testing.T) { testEdge(t, startCaddy) }

func testEdge(t *testing.T, start func(t *testing.T, proxy, propuskAddr, app string)) {
	e := newVerifyEnv(t, func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s })
	proxy := freeAddr(t)
	base := "http://" + proxy
	up := &upstream{jwks: base + "/.well-known/jwks.json"}
	app := httptest.NewServer(up)
	t.Cleanup(app.Close)
	start(t, proxy, e.ts.Listener.Addr().String(), app.Listener.Addr().String())

	ctx := context.Background()
	aliceID := strconv.FormatInt(userID(t, e.env, e.alice.access), 10)
	loggedOff := e.login("Алиса", "correct horse")
	if r := e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": loggedOff.access})}); r.StatusCode >= 300 {
		t.Fatalf("logoff: %d %s", r.StatusCode, r.body)
	}
	r := e.do(req{method: "POST", path: "/api/v1/tokens", body: `{"name":"reader","abilities":["posts:read"]}`, header: withXHR(map[string]string{"X-Access-Token": e.alice.access})})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", r.StatusCode, r.body)
	}
	reader := r.json(t)["token"].(string)
	// An access token issued 20 minutes ago, by the service's own clock:
	// it expired 5 minutes ago (the access TTL is 15 minutes).
	e.clock.Advance(-20 * time.Minute)
	expired := e.obtain().access
	e.clock.Advance(20 * time.Minute)
	_ = ctx

	access := func(tok string) map[string]string {
		return map[string]string{"X-Access-Token": tok, "X-Requested-With": "XMLHttpRequest"}
	}
	bearer := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "X-Requested-With": "XMLHttpRequest"}
	}
	cases := []struct {
		name    string
		path    string
		header  map[string]string
		cookie  string // an accessToken cookie
		status  int
		code    string            // the error code of a refusal
		want    map[string]string // headers the app must get; "" means absent
		asserts bool              // the app must get an assertion that verifies
		refused bool              // any refusal will do: proxies differ
	}{
		{name: "ok/access-token", path: "/page", header: access(e.alice.access), status: 200, asserts: true,
			want: map[string]string{web.HeaderUser: aliceID, web.HeaderLogin: "%D0%90%D0%BB%D0%B8%D1%81%D0%B0", web.HeaderLevel: "10", web.HeaderBoards: "a,b%20c", web.HeaderAbilities: "*", web.HeaderVia: "access-token", "X-Access-Token": ""}},
		{name: "ok/pat", path: "/api/posts", header: bearer(e.pat), status: 200,
			want: map[string]string{web.HeaderUser: aliceID, web.HeaderVia: "api-token", web.HeaderAbilities: "posts:write", web.HeaderSession: "", "Authorization": ""}},
		{name: "ok/cookie", path: "/page", cookie: e.alice.access, status: 200, asserts: true,
			want: map[string]string{web.HeaderUser: aliceID, web.HeaderVia: "cookie"}},
		{name: "ok/forged-identity-replaced", path: "/page", header: map[string]string{"X-Access-Token": e.alice.access, web.HeaderLevel: "99", web.HeaderUser: "1234", web.HeaderAssertion: "forged"}, status: 200, asserts: true,
			want: map[string]string{web.HeaderLevel: "10", web.HeaderUser: aliceID}},
		{name: "ok/forged-absent-headers-removed", path: "/boards/a/", header: map[string]string{"X-Access-Token": e.anonymous.access, web.HeaderLogin: "root", web.HeaderAssertion: "forged", web.HeaderSession: "forged"}, status: 200,
			want: map[string]string{web.HeaderUser: "0", web.HeaderLogin: ""}},
		{name: "ok/admin", path: "/admin/users", header: access(e.admin.access), status: 200, want: map[string]string{web.HeaderLevel: "30"}},
		{name: "ok/board", path: "/boards/a/posts", header: access(e.alice.access), status: 200},
		{name: "ok/board-escaped", path: "/boards/b%20c/", header: access(e.alice.access), status: 200},

		{name: "fail/none", path: "/page", header: map[string]string{"X-Requested-With": "XMLHttpRequest"}, status: 401, code: "token_required"},
		{name: "fail/garbage", path: "/page", header: access("garbage"), status: 401, code: "token_invalid"},
		{name: "fail/garbage-pat", path: "/api/posts", header: bearer("7|garbagegarbagegarbagegarbagegarbagegarbage12345678"), status: 401, code: "token_invalid"},
		{name: "fail/expired", path: "/page", header: access(expired), status: 401, code: "token_expired"},
		{name: "fail/after-logoff", path: "/page", header: access(loggedOff.access), status: 401, code: "token_invalid"},
		{name: "fail/level", path: "/admin/users", header: access(e.alice.access), status: 403, code: "forbidden"},
		{name: "fail/anonymous", path: "/page", header: access(e.anonymous.access), status: 403, code: "forbidden"},
		{name: "fail/board", path: "/boards/z/posts", header: access(e.alice.access), status: 403, code: "forbidden"},
		{name: "fail/ability", path: "/api/posts", header: bearer(reader), status: 403, code: "forbidden"},
		{name: "fail/cookie-post-without-csrf", path: "/page", cookie: e.alice.access, status: 403, code: "csrf_mismatch"},                                                                 // sent as POST below
		{name: "fail/cookie-post-forged-method", path: "/page", cookie: e.alice.access, header: map[string]string{"X-Original-Method": "GET", "X-Forwarded-Method": "GET"}, refused: true}, // sent as POST below
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodGet
			if strings.HasPrefix(c.name, "fail/cookie-post") {
				method = http.MethodPost
			}
			q, err := http.NewRequest(method, base+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				q.Header.Set(k, v)
			}
			if c.cookie != "" {
				q.AddCookie(&http.Cookie{Name: "accessToken", Value: c.cookie})
			}
			res, err := client.Do(q)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			got, claims, aerr := up.got()
			if c.refused {
				if res.StatusCode < 400 || got != nil {
					t.Fatalf("status %d, the app got %v: %s", res.StatusCode, got, body)
				}
				return
			}
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, body)
			}
			if c.code != "" {
				wantError(t, &resp{Response: res, body: body}, c.status, c.code)
				if got != nil {
					t.Fatalf("a refused request reached the app")
				}
				return
			}
			if got == nil {
				t.Fatal("the app got nothing")
			}
			for k, v := range c.want {
				if g := got.Header.Get(k); g != v {
					t.Errorf("the app got %s: %q, want %q", k, g, v)
				}
			}
			if c.asserts {
				if aerr != nil || claims == nil {
					t.Fatalf("the app's assertion does not verify through the JWKS: %v (%q)", aerr, got.Header.Get(web.HeaderAssertion))
				}
				if claims["sub"] != got.Header.Get(web.HeaderUser) || claims["aud"] != "app" || claims["via"] != got.Header.Get(web.HeaderVia) {
					t.Errorf("assertion claims %v", claims)
				}
			} else if got.Header.Get(web.HeaderAssertion) != "" {
				t.Errorf("the app got an assertion it did not ask for")
			}
		})
	}

	// A browser without JavaScript: a cookie jar that follows redirects,
	// as curl -L -b jar -c jar or w3m. With no token it is sent to
	// token.obtain and back; anonymous clients may see every board.
	t.Run("browser/obtain-and-back", func(t *testing.T) {
		b := newJarClient(t)
		res, hops := b.get(t, base+"/boards/a/posts?page=2")
		if res.StatusCode != 200 || res.Request.URL.RequestURI() != "/boards/a/posts?page=2" {
			t.Fatalf("landed on %s with %d after %v", res.Request.URL, res.StatusCode, hops)
		}
		if len(hops) != 2 || !strings.HasPrefix(hops[1], "/api/v1/token.obtain?redirect=") {
			t.Fatalf("hops %v, want the page, token.obtain, the page", hops)
		}
		got, _, _ := up.got()
		if got == nil || got.Header.Get(web.HeaderUser) != "0" || got.Header.Get(web.HeaderVia) != "cookie" {
			t.Fatalf("the app got %v", got)
		}
	})
	// A signed-in browser whose access cookie expired is sent to
	// token.renew and back, still signed in. This moves the clock, so it
	// runs last.
	t.Run("browser/renew-and-back", func(t *testing.T) {
		b := newJarClient(t)
		p := e.login("root", "correct horse")
		b.set(t, base, &http.Cookie{Name: "accessToken", Value: p.access, Path: "/"}, &http.Cookie{Name: "refreshToken", Value: p.refresh, Path: "/"})
		e.clock.Advance(16 * time.Minute)
		res, hops := b.get(t, base+"/admin/panel")
		if res.StatusCode != 200 || res.Request.URL.Path != "/admin/panel" {
			t.Fatalf("landed on %s with %d after %v", res.Request.URL, res.StatusCode, hops)
		}
		if len(hops) != 2 || !strings.HasPrefix(hops[1], "/api/v1/token.renew?redirect=") {
			t.Fatalf("hops %v, want the page, token.renew, the page", hops)
		}
		got, _, _ := up.got()
		if got == nil || got.Header.Get(web.HeaderLevel) != "30" || got.Header.Get(web.HeaderVia) != "cookie" {
			t.Fatalf("the app got %v", got)
		}
	})
}

// jarClient is a browser without JavaScript.
type jarClient struct {
	c    *http.Client
	hops []string
}

func newJarClient(t *testing.T) *jarClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &jarClient{}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return fmt.Errorf("redirect loop: %v", b.hops)
		}
		b.hops = append(b.hops, via[len(via)-1].URL.RequestURI())
		return nil
	}}
	return b
}

func (b *jarClient) set(t *testing.T, base string, cs ...*http.Cookie) {
	u, err := http.NewRequest("GET", base, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.c.Jar.SetCookies(u.URL, cs)
}

// get follows redirects from url and returns the last answer and the
// URIs it went through before it.
func (b *jarClient) get(t *testing.T, url string) (*http.Response, []string) {
	t.Helper()
	b.hops = nil
	res, err := b.c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, b.hops
}
