package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/postgres"
	"github.com/propusk/propusk/postgres/pgtest"
)

// These tests run real propusk processes on one PostgreSQL schema and show
// how signing keys reach all of them: at a first start together, during
// "keys rotate" under load, and when a key is deleted while reloads fail.

// keyDeletionBound is how soon every process must stop a deleted key once
// it can read the keys again (DESIGN.md, "Keys"), with room for a loaded
// machine: the retry runs at most half a second apart.
const keyDeletionBound = 3 * time.Second

// startTogether starts n servers at once on one empty database.
func startTogether(t *testing.T, n int, extra ...string) (dsn string, env []string, procs []*proc) {
	t.Helper()
	dsn = pgtest.DSN(t)
	key := make([]byte, 32)
	rand.Read(key)
	env = []string{"PROPUSK_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	procs = make([]*proc, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { procs[i] = startServer(t, t.TempDir(), env, append([]string{"--db", dsn}, extra...)...) })
	}
	wg.Wait()
	for _, p := range procs {
		if p == nil {
			t.FailNow()
		}
	}
	return dsn, env, procs
}

func dbConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestStartTogether starts four processes at once on one empty database:
// there is one key set, and each process accepts the access tokens and the
// CSRF tokens of every other from the first request on.
func TestStartTogether(t *testing.T) {
	const n = 4
	dsn, _, procs := startTogether(t, n)
	var count int
	if err := dbConn(t, dsn).QueryRow(context.Background(), `SELECT count(*) FROM signing_keys`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 3 {
		t.Fatalf("%d signing keys stored after %d processes started at once, want 3 (access, refresh, seal)", count, n)
	}
	registerUser(t, procs[0], "zoya")
	for i, from := range procs {
		pair := loginUser(t, from, "zoya")
		for j, to := range procs {
			if r := userMe(to, accessHeader(pair.AccessToken)); r.status != 200 {
				t.Errorf("process %d refuses an access token of process %d: %s", j, i, r)
			}
			// SPA login: the CSRF cookie from one process, the login on another.
			jar, _ := cookiejar.New(nil) // cookies are not per port: one jar for every process
			client := &http.Client{Jar: jar}
			if r := send(client, from.URL, "GET", "/sanctum/csrf-cookie", nil, ""); r.status != 204 {
				t.Fatalf("csrf-cookie on %d: %s", i, r)
			}
			xsrf := ""
			u, _ := url.Parse(from.URL)
			for _, c := range jar.Cookies(u) {
				if c.Name == "XSRF-TOKEN" {
					xsrf = c.Value
				}
			}
			if r := send(client, to.URL, "POST", "/login", map[string]string{"X-XSRF-TOKEN": xsrf}, `{"login":"zoya","password":"password-1"}`); r.status != 200 {
				t.Errorf("process %d refuses a CSRF token of process %d: %s", j, i, r)
			}
		}
	}
}

// TestKeysRotateUnderLoad runs "keys rotate" while clients renew on one
// process and use the new tokens on the other at once, and counts the
// refusals: there must be none, though the second process may see a token
// signed with the new key before its own feed tells it of the key.
func TestKeysRotateUnderLoad(t *testing.T) {
	dsn, env, procs := startTogether(t, 2)
	a, b := procs[0], procs[1]
	const workers, rotations = 24, 6
	pairs := make([]tokenPair, workers)
	for i := range workers {
		login := "load-" + string(rune('a'+i))
		registerUser(t, a, login)
		pairs[i] = loginUser(t, a, login)
	}
	var stop atomic.Bool
	var requests, refusals atomic.Int64
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			pair := pairs[i]
			for n := 0; !stop.Load(); n++ {
				// Renew on one process, use the new tokens on the other.
				from, to := a, b
				if n%2 == 1 {
					from, to = b, a
				}
				r := send(client, from.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+pair.RefreshToken+`"}`)
				requests.Add(1)
				if r.status != 200 {
					refusals.Add(1)
					t.Errorf("renew on %s: %s", map[*proc]string{a: "A", b: "B"}[from], r)
					return
				}
				if err := json.Unmarshal(r.body, &pair); err != nil {
					t.Error(err)
					return
				}
				r = userMe(to, accessHeader(pair.AccessToken))
				requests.Add(1)
				if r.status != 200 {
					refusals.Add(1)
					t.Errorf("a fresh access token on %s: %s", map[*proc]string{a: "A", b: "B"}[to], r)
				}
			}
		})
	}
	for range rotations {
		time.Sleep(300 * time.Millisecond)
		cmd := exec.Command(binarytest.Binary(t), "keys", "rotate", "--db", dsn)
		cmd.Env = append(cmd.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("keys rotate: %v\n%s", err, out)
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d keys rotate runs while %d clients renewed on one process and used the tokens on the other: %d requests, %d refused",
		rotations, workers, requests.Load(), refusals.Load())
	if refusals.Load() != 0 {
		t.Fatalf("%d refusals of genuine tokens during rotations", refusals.Load())
	}
}

// TestKeyDeletionWhileReloadsFail deletes a signing key at a moment when
// no process can load the keys (a key row that does not open stands in for
// a database blip, so the feed itself keeps working), then mends the keys
// without any feed event. Every process must still stop the deleted key,
// on its own, as soon as it can read the keys again.
func TestKeyDeletionWhileReloadsFail(t *testing.T) {
	dsn, env, procs := startTogether(t, 2)
	ctx := context.Background()
	conn := dbConn(t, dsn)
	doomed := registerUser(t, procs[0], "yana")
	var h struct{ Kid string }
	testenv.DecodeJWT(t, doomed.AccessToken, 0, &h)
	cmd := exec.Command(binarytest.Binary(t), "keys", "rotate", "--db", dsn)
	cmd.Env = append(cmd.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	for _, p := range procs {
		if r := userMe(p, accessHeader(doomed.AccessToken)); r.status != 200 {
			t.Fatalf("before the deletion: %s", r)
		}
	}

	// Break key loading with no feed event, then delete the key the way
	// the prune does: with a keys event.
	if _, err := conn.Exec(ctx, `INSERT INTO signing_keys (kid, use, sealed, created_at) VALUES ('broken', 'refresh', 'v1.broken', now())`); err != nil {
		t.Fatal(err)
	}
	store, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.DeleteKeys(ctx, h.Kid); err != nil {
		t.Fatal(err)
	}
	// Let every process read the event (LISTEN/NOTIFY, milliseconds) and
	// fail its reload a few times.
	time.Sleep(time.Second)

	// Mend it, without an event: the processes must notice by themselves.
	if _, err := conn.Exec(ctx, `DELETE FROM signing_keys WHERE kid = 'broken'`); err != nil {
		t.Fatal(err)
	}
	mended := time.Now()
	for i, p := range procs {
		name := []string{"A", "B"}[i]
		waitRefused(t, "deleted key's token on "+name, mended, keyDeletionBound, func() reply { return userMe(p, accessHeader(doomed.AccessToken)) })
		if r := send(http.DefaultClient, p.URL, "GET", "/.well-known/jwks.json", nil, ""); strings.Contains(string(r.body), h.Kid) {
			t.Fatalf("%s still publishes the deleted key: %s", name, r.body)
		}
	}
}
