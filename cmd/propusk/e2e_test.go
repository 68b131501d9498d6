package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/testenv"
)

// TestCrashKeepsTokens: a pair handed to a client survives SIGKILL of the
// server. The pair comes from token.renew, the write most likely to be lost.
func TestCrashKeepsTokens(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, dir, nil)
	var reg tokenPair
	if s := p.call("POST", "/api/v1/user.register", nil, `{"login":"kate","password":"password1"}`, &reg); s != 201 {
		t.Fatalf("register: %d %+v", s, reg)
	}
	var pair tokenPair
	if s := p.call("POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+reg.RefreshToken+`"}`, &pair); s != 200 {
		t.Fatalf("renew: %d %+v", s, pair)
	}
	p.Kill()

	p = startServer(t, dir, nil)
	var me map[string]any
	if s := p.call("GET", "/api/v1/user.me", map[string]string{"X-Access-Token": pair.AccessToken}, "", &me); s != 200 || me["login"] != "kate" {
		t.Fatalf("access token after restart: %d %v", s, me)
	}
	if s := p.call("GET", "/api/v1/user.me", map[string]string{"Authorization": "Bearer " + reg.APIToken}, "", &me); s != 200 {
		t.Fatalf("api-token after restart: %d %v", s, me)
	}
	var again tokenPair
	if s := p.call("POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+pair.RefreshToken+`"}`, &again); s != 200 {
		t.Fatalf("refresh token after restart: %d %+v", s, again)
	}
	// The renewal before the crash was recorded: the spent token is a reuse.
	var reused tokenPair
	if s := p.call("POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+reg.RefreshToken+`"}`, &reused); s != 403 {
		t.Fatalf("a token spent before the crash renewed again: %d %+v", s, reused)
	}
}

// TestFirstStart: with no configuration, serve creates the database and a
// private master key, and its log never carries a token or a password.
func TestFirstStart(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, dir, nil)
	var reg tokenPair
	p.call("POST", "/api/v1/user.register", nil, `{"login":"leo","password":"secret-password-1"}`, &reg)
	var renewed tokenPair
	// A refresh token in a query string, where request logs usually leak it.
	p.call("GET", "/api/v1/token.renew?refreshToken="+reg.RefreshToken, map[string]string{"Cookie": "accessToken=" + reg.AccessToken}, "", &renewed)
	p.call("GET", "/api/v1/user.me", map[string]string{"Authorization": "Bearer " + reg.APIToken, "X-Access-Token": renewed.AccessToken}, "", nil)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"propusk.db", "propusk.db.key"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s not created: %v", name, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "propusk.db.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file mode %v, want 0600", fi.Mode().Perm())
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "REDACTED") {
		t.Fatalf("the query's refreshToken was not logged redacted:\n%s", logs)
	}
	secret, _, _ := strings.Cut(strings.SplitN(reg.APIToken, "|", 2)[1], "\n")
	for name, s := range map[string]string{
		"access token": reg.AccessToken, "refresh token": reg.RefreshToken, "api token": secret,
		"renewed access": renewed.AccessToken, "password": "secret-password-1",
	} {
		if s == "" {
			t.Fatalf("%s is empty: the flow failed", name)
		}
		if strings.Contains(logs, s) || strings.Contains(logs, s[:min(20, len(s))]) {
			t.Fatalf("the log carries the %s:\n%s", name, logs)
		}
	}
	key, _ := os.ReadFile(filepath.Join(dir, "propusk.db.key"))
	if strings.Contains(logs, strings.TrimSpace(string(key))) {
		t.Fatal("the log carries the master key")
	}
}

// TestGracefulShutdown: SIGTERM lets a request already in flight finish.
func TestGracefulShutdown(t *testing.T) {
	p := startServer(t, t.TempDir(), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"login":"mia","password":"password1"}`
	fmt.Fprintf(conn, "POST /api/v1/user.register HTTP/1.1\r\nHost: x\r\nX-Requested-With: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // let the server start reading the request
	p.cmd.Process.Signal(os.Interrupt)
	time.Sleep(200 * time.Millisecond)
	io.WriteString(conn, body[10:])
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request dropped: %v\n%s", err, p.logs)
	}
	if res.StatusCode != 201 {
		t.Fatalf("in-flight request: %d", res.StatusCode)
	}
	<-p.done
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGINT:\n%s", code, p.logs)
	}
}

// TestCommands runs migrate, user add and keys rotate in-process, as an
// operator would, and shows a rotation keeps old tokens valid.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "p.db")
	run := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		m := NewMain(strings.NewReader(stdin), &out, &errb)
		if err := m.ParseFlags(args); err != nil {
			return "", err
		}
		err := m.Run(context.Background())
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		return out.String(), err
	}
	if out, err := run("", "migrate", "--db", db); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, err := run("password-one\n", "user", "add", "--db", db, "--login", "root", "--level", "30", "--boards", "b,d", "--password-stdin")
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("user add: %q %v", out, err)
	}
	if _, err := run("password-one\n", "user", "add", "--db", db, "--login", "root", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("user add of a taken login: %v", err)
	}
	if _, err := run("", "user", "add", "--db", db, "--login", "x"); err == nil {
		t.Fatal("user add without --password-stdin must refuse")
	}
	if _, err := run("", "frobnicate"); err == nil {
		t.Fatal("an unknown command must fail")
	}

	m := NewMain(nil, io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := &proc{t: t, URL: "http://" + m.Addr()}
	var before tokenPair
	if s := p.call("POST", "/api/v1/user.login", nil, `{"login":"root","password":"password-one"}`, &before); s != 200 {
		t.Fatalf("login: %d %+v", s, before)
	}
	if c := testenv.JWTClaims(t, before.AccessToken); c["level"] != 30.0 || fmt.Sprint(c["boards"]) != "[b d]" {
		t.Fatalf("user add's level and boards: %v", c)
	}
	out, err = run("", "keys", "rotate", "--db", db)
	if err != nil || !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate: %q %v", out, err)
	}
	newKid := strings.TrimSpace(strings.TrimPrefix(out, "new signing key:"))
	if err := m.svc.SyncFeed(context.Background()); err != nil {
		t.Fatal(err)
	}
	var after tokenPair
	if s := p.call("POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+before.RefreshToken+`"}`, &after); s != 200 {
		t.Fatalf("renew with a pre-rotation refresh token: %d", s)
	}
	if kid := testenv.JWTHeader(t, after.AccessToken)["kid"]; kid != newKid {
		t.Fatalf("new tokens signed with %v, want the rotated key %s", kid, newKid)
	}
	if s := p.call("GET", "/api/v1/user.me", map[string]string{"X-Access-Token": before.AccessToken}, "", nil); s != 200 {
		t.Fatalf("a pre-rotation access token: %d", s)
	}
	var jwks struct{ Keys []map[string]string }
	p.call("GET", "/.well-known/jwks.json", nil, "", &jwks)
	if len(jwks.Keys) != 2 {
		t.Fatalf("JWKS after one rotation has %d keys, want 2", len(jwks.Keys))
	}
}

// TestEnvironment: every flag can come from PROPUSK_<NAME>, and a flag on
// the command line wins over it.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PROPUSK_DB", "sqlite:"+filepath.Join(dir, "env.db"))
	t.Setenv("PROPUSK_ACCESS_TTL", "5m")
	t.Setenv("PROPUSK_ISSUER", "from-env")
	t.Setenv("PROPUSK_ADDR", "127.0.0.1:1") // overridden below
	m := NewMain(nil, io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"serve", "--addr", "127.0.0.1:0", "--issuer", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p := &proc{t: t, URL: "http://" + m.Addr()}
	var pair tokenPair
	if s := p.call("GET", "/api/v1/token.obtain", nil, "", &pair); s != 200 {
		t.Fatalf("obtain: %d", s)
	}
	c := testenv.JWTClaims(t, pair.AccessToken)
	if c["exp"].(float64)-c["iat"].(float64) != 300 || c["iss"] != "from-flag" {
		t.Fatalf("claims %v: want a 5-minute token from PROPUSK_ACCESS_TTL and iss from the flag", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "env.db")); err != nil {
		t.Fatalf("PROPUSK_DB was not used: %v", err)
	}
	if err := NewMain(nil, io.Discard, io.Discard).ParseFlags([]string{"serve", "--access-ttl", "soon"}); err == nil {
		t.Fatal("a bad duration must be refused")
	}
}

// TestUnopenableDatabase: a DSN that cannot be opened is an error that says
// why, not a crash.
func TestUnopenableDatabase(t *testing.T) {
	for _, dsn := range []string{
		"postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		"sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"),
		"sqlite:",
		"mysql://x",
	} {
		for _, cmd := range [][]string{{"migrate"}, {"keys", "rotate"}, {"serve", "--addr", "127.0.0.1:0"}} {
			m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
			if err := m.ParseFlags(append(cmd, "--db", dsn)); err != nil {
				t.Fatal(err)
			}
			err := m.Run(context.Background())
			if cerr := m.Close(); cerr != nil {
				t.Fatalf("%v %s: Close: %v", cmd, dsn, cerr)
			}
			if err == nil {
				t.Fatalf("%v %s: no error", cmd, dsn)
			}
		}
	}
}
