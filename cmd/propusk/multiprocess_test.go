package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/postgres/pgtest"
)

// These tests run two real propusk processes on one PostgreSQL schema, as
// behind a load balancer, and log the times they observe.

// revocationBound is how soon every process must enforce a revocation made
// on another (docs/DEPLOY.md).
const revocationBound = time.Second

// raceGrace is --renew-grace of the process pair: short, because the test
// must wait it out to show what a reuse after it does.
const raceGrace = time.Second

// cluster is two servers on one database.
type cluster struct {
	dsn  string
	env  []string
	a, b *proc
}

func startCluster(t *testing.T) *cluster { t.Helper(); return startClusterOn(t, pgtest.DSN(t)) }

// startClusterOn starts the two servers on the database dsn names.
func startClusterOn(t *testing.T, dsn string) *cluster {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"PROPUSK_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	c := &cluster{dsn: dsn, env: env}
	args := []string{"--db", dsn, "--renew-grace", raceGrace.String(), "--client-ip-header", "X-Real-IP"}
	// Both start at once: migrations and first-start key generation must
	// be safe when processes race for them.
	var wg sync.WaitGroup
	wg.Go(func() { c.a = startServer(t, t.TempDir(), env, args...) })
	wg.Go(func() { c.b = startServer(t, t.TempDir(), env, args...) })
	wg.Wait()
	if c.a == nil || c.b == nil {
		t.FailNow()
	}
	return c
}

// reply is an answer of a server, read in full.
type reply struct {
	status int
	body   []byte
	err    error
}

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(string(r.body)))
}

// code returns the "error" field of a JSON error answer.
func (r reply) code() string {
	var e struct{ Error string }
	json.Unmarshal(r.body, &e)
	return e.Error
}

// send sends a request as a script does (X-Requested-With) and reads the
// answer. Unlike proc.call it is safe from any goroutine.
func send(client *http.Client, base, method, path string, header map[string]string, body string) reply {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return reply{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, body: b, err: err}
}

type claims struct {
	SessionID  string `json:"sid"`
	Generation int64  `json:"gen"`
	UserID     int64  `json:"_id"`
}

func sidOf(t testing.TB, tok string) string {
	var c claims
	testenv.DecodeJWT(t, tok, 1, &c)
	return c.SessionID
}

// waitRefused polls check every 10 ms until it returns 403, and returns how
// long that took from start. It fails the test when that takes longer than
// bound, or when check answers anything but 200 or 403.
func waitRefused(t *testing.T, what string, start time.Time, bound time.Duration, check func() reply) time.Duration {
	t.Helper()
	deadline := start.Add(bound)
	for {
		r := check()
		switch {
		case r.err != nil || (r.status != 200 && r.status != 403):
			t.Fatalf("%s: unexpected answer %s", what, r)
		case r.status == 403:
			took := time.Since(start)
			t.Logf("%s: refused after %v (bound %v)", what, took.Round(100*time.Microsecond), bound)
			return took
		case time.Now().After(deadline):
			t.Fatalf("%s: still accepted %v after the revocation (bound %v)", what, time.Since(start), bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func registerUser(t *testing.T, p *proc, login string) tokenPair {
	t.Helper()
	return signIn(t, p, "/api/v1/user.register", 201, login)
}

func loginUser(t *testing.T, p *proc, login string) tokenPair {
	t.Helper()
	return signIn(t, p, "/api/v1/user.login", 200, login)
}

// signIn posts login with the password "password-1" to path, wants status,
// and returns the pair it is given.
func signIn(t *testing.T, p *proc, path string, status int, login string) tokenPair {
	t.Helper()
	var pair tokenPair
	if s := p.call("POST", path, nil, `{"login":"`+login+`","password":"password-1"}`, &pair); s != status {
		t.Fatalf("%s %s: %d %+v", path, login, s, pair)
	}
	return pair
}

func userMe(p *proc, header map[string]string) reply {
	return send(http.DefaultClient, p.URL, "GET", "/api/v1/user.me", header, "")
}

func accessHeader(tok string) map[string]string { return map[string]string{"X-Access-Token": tok} }

// TestTwoProcesses runs two servers on one database and shows, with the
// times observed: a revocation on one is enforced by the other within a
// second; a hundred concurrent renewals of one refresh token, spread over
// both, land in one live session; and a key added by "keys rotate" is used
// by both without a restart.
func TestTwoProcesses(t *testing.T) { testTwoProcesses(t, startCluster) }

// testTwoProcesses is TestTwoProcesses on the cluster start returns.
func testTwoProcesses(t *testing.T, start func(t *testing.T) *cluster) {
	started := time.Now()
	c := start(t)
	t.Logf("two servers up on one schema in %v", time.Since(started).Round(time.Millisecond))
	t.Run("revocation", func(t *testing.T) { testRevocation(t, c) })
	t.Run("renew race", func(t *testing.T) { testRenewRace(t, c) })
	t.Run("keys rotate", func(t *testing.T) { testKeysRotate(t, c) })
}

func testRevocation(t *testing.T, c *cluster) {
	a, b := c.a, c.b
	reg := registerUser(t, a, "olga")
	if r := userMe(b, accessHeader(reg.AccessToken)); r.status != 200 {
		t.Fatalf("B refuses A's access token: %s", r)
	}

	// Logoff on A: the access token dies on B.
	start := time.Now()
	if r := send(http.DefaultClient, a.URL, "POST", "/api/v1/user.logoff", accessHeader(reg.AccessToken), ""); r.status != 200 {
		t.Fatalf("logoff on A: %s", r)
	}
	t.Logf("logoff on A answered in %v", time.Since(start).Round(100*time.Microsecond))
	waitRefused(t, "logoff on A, access token on B", start, revocationBound, func() reply { return userMe(b, accessHeader(reg.AccessToken)) })
	if r := send(http.DefaultClient, b.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+reg.RefreshToken+`"}`); r.status != 403 || r.code() != "token_invalid" {
		t.Fatalf("B renews the refresh token of a session ended on A: %s", r)
	}

	// DELETE /api/v1/sessions/{id} on A, from another session of the user.
	one, two := loginUser(t, a, "olga"), loginUser(t, b, "olga")
	if r := userMe(b, accessHeader(two.AccessToken)); r.status != 200 {
		t.Fatalf("second session on B: %s", r)
	}
	start = time.Now()
	if r := send(http.DefaultClient, a.URL, "DELETE", "/api/v1/sessions/"+sidOf(t, two.AccessToken), accessHeader(one.AccessToken), ""); r.status/100 != 2 {
		t.Fatalf("delete session on A: %s", r)
	}
	waitRefused(t, "session deleted on A, its access token on B", start, revocationBound, func() reply { return userMe(b, accessHeader(two.AccessToken)) })
	if r := userMe(b, accessHeader(one.AccessToken)); r.status != 200 {
		t.Fatalf("the deleting session died too: %s", r)
	}

	// Behind a proxy (--client-ip-header X-Real-IP), a session records the
	// client's address, not the proxy's, and every process shows it.
	var three tokenPair
	if s := a.call("POST", "/api/v1/user.login", map[string]string{"X-Real-IP": "203.0.113.7"}, `{"login":"olga","password":"password-1"}`, &three); s != 200 {
		t.Fatalf("login with X-Real-IP: %d", s)
	}
	var list []struct {
		ID string `json:"id"`
		IP string `json:"ip"`
	}
	if s := b.call("GET", "/api/v1/sessions", accessHeader(one.AccessToken), "", &list); s != 200 {
		t.Fatalf("sessions on B: %d", s)
	}
	ip := ""
	for _, e := range list {
		if e.ID == sidOf(t, three.AccessToken) {
			ip = e.IP
		}
	}
	if ip != "203.0.113.7" {
		t.Fatalf("the session records address %q, want X-Real-IP's 203.0.113.7: %+v", ip, list)
	}

	// DELETE /api/v1/tokens/{id} on A: the personal access token dies on B,
	// which had it cached from a request before.
	var made struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	if s := a.call("POST", "/api/v1/tokens", accessHeader(one.AccessToken), `{"name":"deploy"}`, &made); s != 201 || made.Token == "" {
		t.Fatalf("create token on A: %d %+v", s, made)
	}
	bearer := map[string]string{"Authorization": "Bearer " + made.Token}
	for range 2 { // the second request is served from B's cache
		if r := userMe(b, bearer); r.status != 200 {
			t.Fatalf("B refuses the new personal access token: %s", r)
		}
	}
	start = time.Now()
	if r := send(http.DefaultClient, a.URL, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", made.ID), accessHeader(one.AccessToken), ""); r.status != 204 {
		t.Fatalf("delete token on A: %s", r)
	}
	waitRefused(t, "token deleted on A, on B", start, revocationBound, func() reply { return userMe(b, bearer) })
}

func testRenewRace(t *testing.T, c *cluster) {
	warmUp(t, c)
	reg, pairs := race(t, c, "pavel")
	sid := sidOf(t, reg.RefreshToken)
	var before claims
	testenv.DecodeJWT(t, reg.RefreshToken, 1, &before)
	body := `{"refreshToken":"` + reg.RefreshToken + `"}`

	// Exactly one rotation happened, in the database itself.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := openStore(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sess, err := store.Session(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	gen, revoked := sess.Generation, sess.Revoked()
	if gen != before.Generation+1 || revoked {
		t.Fatalf("session after the race: generation %d revoked %v; want generation %d, live", gen, revoked, before.Generation+1)
	}
	// 99 race losers over two processes fork the session, but never past
	// the cap: the cap is part of the statement that inserts a fork.
	forks, err := countForks(ctx, c.dsn, sid)
	if err != nil {
		t.Fatal(err)
	}
	if forks > propusk.MaxForks {
		t.Fatalf("%d forks after the race, over the cap of %d", forks, propusk.MaxForks)
	}
	t.Logf("race losers forked the session %d times (cap %d)", forks, propusk.MaxForks)
	// The session works on both processes.
	for _, p := range []*proc{c.a, c.b} {
		if r := userMe(p, accessHeader(pairs[len(pairs)-1].AccessToken)); r.status != 200 {
			t.Fatalf("the raced session does not work: %s", r)
		}
	}

	// After the grace period, using the spent token again is theft: 403
	// token_reused, and the session is revoked on both processes.
	rotatedAt := sess.RotatedAt
	time.Sleep(time.Until(rotatedAt.Add(raceGrace + 50*time.Millisecond)))
	reuse := time.Now()
	if r := send(http.DefaultClient, c.b.URL, "POST", "/api/v1/token.renew", nil, body); r.status != 403 || r.code() != "token_reused" {
		t.Fatalf("reuse after grace on B: %s", r)
	}
	for _, p := range []*proc{c.b, c.a} {
		name := map[*proc]string{c.a: "A", c.b: "B"}[p]
		waitRefused(t, "reuse on B, raced access token on "+name, reuse, revocationBound, func() reply { return userMe(p, accessHeader(pairs[0].AccessToken)) })
		if r := send(http.DefaultClient, p.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+pairs[1].RefreshToken+`"}`); r.status != 403 {
			t.Fatalf("a raced refresh token still renews on %s after the reuse: %s", name, r)
		}
	}
}

// warmUp has each server open the database connections a burst needs, as
// a server in production has: a fresh pool opens them on demand, and 40
// connection starts at once on a small machine would take most of the
// grace period, making the race a race against the clock.
func warmUp(t *testing.T, c *cluster) {
	t.Helper()
	reg := registerUser(t, c.a, "warm-up")
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 100 {
		p := []*proc{c.a, c.b}[i%2]
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			if r := send(client, p.URL, "GET", "/api/v1/sessions", accessHeader(reg.AccessToken), ""); r.status != 200 {
				t.Errorf("warm-up: %s", r)
			}
		})
	}
	wg.Wait()
	t.Logf("warm-up: 100 concurrent reads over 2 processes with fresh pools took %v", time.Since(start).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
}

// race registers user login, renews its refresh token renewals times at
// once, half on each process, and checks that every answer is 200 with
// tokens of the one session at the one generation that followed. It returns
// the registration and the pairs.
func race(t *testing.T, c *cluster, login string) (tokenPair, []tokenPair) {
	t.Helper()
	const n = 100
	reg := registerUser(t, c.a, login)
	sid := sidOf(t, reg.RefreshToken)
	var before claims
	testenv.DecodeJWT(t, reg.RefreshToken, 1, &before)

	// A client of its own per request, so that each has its own
	// connection and nothing queues in the client: the requests reach the
	// servers together, half on each.
	results := make([]reply, n)
	took := make([]time.Duration, n)
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	body := `{"refreshToken":"` + reg.RefreshToken + `"}`
	for i := range n {
		p := c.a
		if i%2 == 1 {
			p = c.b
		}
		client := &http.Client{Transport: &http.Transport{}}
		t.Cleanup(client.CloseIdleConnections)
		// Dial first, so the race is between renewals, not dials.
		if r := send(client, p.URL, "GET", "/healthz", nil, ""); r.status != 200 {
			t.Fatalf("healthz: %s", r)
		}
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			t0 := time.Now()
			results[i] = send(client, p.URL, "POST", "/api/v1/token.renew", nil, body)
			took[i] = time.Since(t0)
		}()
	}
	ready.Wait()
	start := time.Now()
	close(gate)
	done.Wait()
	spread := time.Since(start)

	var slowest time.Duration
	pairs := make([]tokenPair, n)
	for i, r := range results {
		if r.err != nil || r.status != 200 {
			t.Fatalf("renew %d of %d (on %s): %s", i, n, []string{"A", "B"}[i%2], r)
		}
		if err := json.Unmarshal(r.body, &pairs[i]); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, took[i])
	}
	t.Logf("%d concurrent renewals of one refresh token over 2 processes: all 200 in %v (slowest %v; grace %v)",
		n, spread.Round(time.Millisecond), slowest.Round(time.Millisecond), raceGrace)
	for i, p := range pairs {
		var ac, rc claims
		testenv.DecodeJWT(t, p.AccessToken, 1, &ac)
		testenv.DecodeJWT(t, p.RefreshToken, 1, &rc)
		if ac.SessionID != sid || rc.SessionID != sid {
			t.Fatalf("renew %d landed in session %q/%q, want %q", i, ac.SessionID, rc.SessionID, sid)
		}
		if rc.Generation != before.Generation+1 {
			t.Fatalf("renew %d got generation %d, want %d", i, rc.Generation, before.Generation+1)
		}
	}
	return reg, pairs
}

func testKeysRotate(t *testing.T, c *cluster) {
	a, b := c.a, c.b
	old := registerUser(t, a, "rita")
	var oldHeader struct{ Kid string }
	testenv.DecodeJWT(t, old.AccessToken, 0, &oldHeader)

	start := time.Now()
	cmd := exec.Command(binarytest.Binary(t), "keys", "rotate", "--db", c.dsn)
	cmd.Env = append(cmd.Environ(), c.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	kid := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "new signing key:"))
	if kid == "" || strings.ContainsAny(kid, " \n") || kid == oldHeader.Kid {
		t.Fatalf("keys rotate printed %q", out)
	}
	rotated := time.Now()
	t.Logf("keys rotate (a third process) took %v; new kid %s", rotated.Sub(start).Round(time.Millisecond), kid)

	// Both publish the new key, without a restart.
	for _, p := range []*proc{a, b} {
		name := map[*proc]string{a: "A", b: "B"}[p]
		for {
			r := send(http.DefaultClient, p.URL, "GET", "/.well-known/jwks.json", nil, "")
			if r.status == 200 && strings.Contains(string(r.body), `"kid":"`+kid+`"`) {
				if !strings.Contains(string(r.body), `"kid":"`+oldHeader.Kid+`"`) {
					t.Fatalf("%s's JWKS dropped the old key: %s", name, r.body)
				}
				t.Logf("JWKS of %s lists the new key %v after the rotation", name, time.Since(rotated).Round(100*time.Microsecond))
				break
			}
			if time.Since(rotated) > revocationBound {
				t.Fatalf("JWKS of %s lacks the new key %v after the rotation: %s", name, time.Since(rotated), r)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// A signs with it, and B accepts what A signed.
	fresh := loginUser(t, a, "rita")
	var h struct{ Kid string }
	testenv.DecodeJWT(t, fresh.AccessToken, 0, &h)
	if h.Kid != kid {
		t.Fatalf("A signs with kid %q, want the new %q", h.Kid, kid)
	}
	if r := userMe(b, accessHeader(fresh.AccessToken)); r.status != 200 {
		t.Fatalf("B refuses a token A signed with the new key: %s", r)
	}
	if r := send(http.DefaultClient, b.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+fresh.RefreshToken+`"}`); r.status != 200 {
		t.Fatalf("B refuses a refresh token A signed with the new key: %s", r)
	}
	// Tokens signed before the rotation keep verifying on both.
	for _, p := range []*proc{a, b} {
		if r := userMe(p, accessHeader(old.AccessToken)); r.status != 200 {
			t.Fatalf("an access token signed with the old key is refused: %s", r)
		}
	}
	if r := send(http.DefaultClient, a.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+old.RefreshToken+`"}`); r.status != 200 {
		t.Fatalf("a refresh token signed with the old key is refused: %s", r)
	}
}
