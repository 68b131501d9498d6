package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/pgproxy"
	"github.com/propusk/propusk/postgres/pgtest"
)

// outageBound is how long a request may take to fail while the database is
// unreachable: a guard against a hang, far above the store's 3 s timeout.
const outageBound = 10 * time.Second

// TestDatabaseOutage cuts a server off its database through a proxy, without
// touching the PostgreSQL server, and shows with the times observed: what
// needs the database answers 503 store_unavailable quickly; what needs none
// (verifying an access token, anonymous tokens, the JWKS) keeps working; and
// when the database is back the server recovers by itself, including a
// revocation another process made while this one was cut off.
func TestDatabaseOutage(t *testing.T) { testDatabaseOutage(t, pgtest.DSN(t)) }

// testDatabaseOutage is TestDatabaseOutage on the database of dsn, a URL.
func testDatabaseOutage(t *testing.T, dsn string) {
	proxy, proxied, err := pgproxy.For(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })

	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"PROPUSK_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	a := startServer(t, t.TempDir(), env, "--db", proxied) // through the proxy
	b := startServer(t, t.TempDir(), env, "--db", dsn)     // straight to the database

	reg := registerUser(t, a, "vera")
	other := loginUser(t, b, "vera")        // revoked on B during the outage
	stranger := registerUser(t, b, "wanda") // never seen by A
	var anon tokenPair
	if s := a.call("GET", "/api/v1/token.obtain", nil, "", &anon); s != 200 {
		t.Fatalf("obtain: %d", s)
	}
	for _, tok := range []string{reg.AccessToken, other.AccessToken} {
		if r := userMe(a, accessHeader(tok)); r.status != 200 {
			t.Fatalf("before the outage: %s", r)
		}
	}

	// timed sends a request to A and checks the status, and for an error
	// its code; it logs how long the answer took.
	timed := func(what, method, path string, header map[string]string, body string, status int, code string) reply {
		t.Helper()
		start := time.Now()
		r := send(http.DefaultClient, a.URL, method, path, header, body)
		took := time.Since(start)
		t.Logf("%s: %d %s in %v", what, r.status, r.code(), took.Round(100*time.Microsecond))
		if r.err != nil || r.status != status || r.code() != code {
			t.Fatalf("%s: %s; want %d %s", what, r, status, code)
		}
		if took > outageBound {
			t.Fatalf("%s took %v, over %v", what, took, outageBound)
		}
		return r
	}
	loginBody := `{"login":"vera","password":"password-1"}`
	renewBody := func(rt string) string { return `{"refreshToken":"` + rt + `"}` }

	proxy.Down()
	t.Log("database cut off: connections refused")
	downAt := time.Now()
	// What needs the database fails fast.
	timed("login", "POST", "/api/v1/user.login", nil, loginBody, 503, "store_unavailable")
	timed("user renew", "POST", "/api/v1/token.renew", nil, renewBody(reg.RefreshToken), 503, "store_unavailable")
	timed("user.me of a user A has not seen (reads the user row)", "GET", "/api/v1/user.me", accessHeader(stranger.AccessToken), "", 503, "store_unavailable")
	// What needs none works.
	r := timed("token.check of a user's access token", "GET", "/api/v1/token.check", accessHeader(reg.AccessToken), "", 200, "")
	var check struct{ IsActive bool }
	json.Unmarshal(r.body, &check)
	if !check.IsActive {
		t.Fatalf("an issued access token does not verify during the outage: %s", r)
	}
	timed("anonymous token.obtain", "GET", "/api/v1/token.obtain", nil, "", 200, "")
	timed("anonymous renew", "POST", "/api/v1/token.renew", nil, renewBody(anon.RefreshToken), 200, "")
	timed("user.me of an anonymous client (protected, no database)", "GET", "/api/v1/user.me", accessHeader(anon.AccessToken), "", 200, "")
	timed("user.me of a user A has seen (from its user cache)", "GET", "/api/v1/user.me", accessHeader(reg.AccessToken), "", 200, "")
	timed("JWKS", "GET", "/.well-known/jwks.json", nil, "", 200, "")

	// Meanwhile another process, which still reaches the database, ends a
	// session. A cannot hear of it yet.
	if r := send(http.DefaultClient, b.URL, "POST", "/api/v1/user.logoff", accessHeader(other.AccessToken), ""); r.status != 200 {
		t.Fatalf("logoff on B during the outage: %s", r)
	}
	if r := timed("token.check of the session B ended (A cannot know yet)", "GET", "/api/v1/token.check", accessHeader(other.AccessToken), "", 200, ""); !json.Valid(r.body) {
		t.Fatal(r)
	}

	// A database that swallows packets instead of refusing them: only the
	// store's own timeout ends the wait.
	if err := proxy.Hang(); err != nil {
		t.Fatal(err)
	}
	t.Log("database cut off: connections hang")
	timed("login while the database hangs", "POST", "/api/v1/user.login", nil, loginBody, 503, "store_unavailable")
	timed("token.check while the database hangs", "GET", "/api/v1/token.check", accessHeader(reg.AccessToken), "", 200, "")

	if err := proxy.Up(); err != nil {
		t.Fatal(err)
	}
	upAt := time.Now()
	t.Logf("database back after %v", upAt.Sub(downAt).Round(time.Millisecond))

	// The server recovers by itself.
	for {
		r := send(http.DefaultClient, a.URL, "POST", "/api/v1/user.login", nil, loginBody)
		if r.status == 200 {
			t.Logf("login works again %v after the database came back", time.Since(upAt).Round(time.Millisecond))
			break
		}
		if r.status != 503 || time.Since(upAt) > outageBound {
			t.Fatalf("login after the database came back: %s (%v)", r, time.Since(upAt))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := send(http.DefaultClient, a.URL, "POST", "/api/v1/token.renew", nil, renewBody(reg.RefreshToken)); r.status != 200 {
		t.Fatalf("renew after the outage: %s", r)
	}
	// And catches up with the feed: the session ended on B during the
	// outage is refused on A.
	waitRefused(t, "session ended on B during the outage, on A after reconnecting", upAt, outageBound,
		func() reply { return userMe(a, accessHeader(other.AccessToken)) })
}
