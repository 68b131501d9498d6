package remote_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/remote"
	"github.com/propusk/propusk/web"
)

// TestAuthenticate runs every kind of token through a ready Verifier.
func TestAuthenticate(t *testing.T) {
	f := newFake(t)
	v, _ := f.start(remote.Config{})
	now := time.Now()
	claims := func(typ string) jwt.MapClaims {
		return jwt.MapClaims{"iss": "propusk", "sub": "7", "_id": 7, "sid": "s1", "jti": "j", "level": 10, "boards": []string{"*"},
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "typ": typ}
	}
	for _, tc := range []struct {
		name string
		tok  string
		code string // "" when accepted
	}{
		{"ok/user", f.access(7, propusk.LevelUser, []string{"b"}, "s1", now, time.Minute), ""},
		{"ok/anonymous", f.access(0, 0, []string{"*"}, "anon", now, time.Minute), ""},
		{"fail/garbage", "garbage.garbage.garbage", propusk.ETOKENINVALID},
		{"fail/expired", f.access(7, 10, nil, "s1", now.Add(-time.Hour), time.Minute), propusk.ETOKENEXPIRED},
		{"fail/before-horizon", f.access(7, 10, nil, "s1", now.Add(-10*time.Second), time.Hour), propusk.ETOKENEXPIRED},
		{"fail/assertion-typ", f.signRaw("assertion+jwt", "", claims("")), propusk.ETOKENINVALID},
		{"fail/no-typ", f.signRaw("", "", claims("")), propusk.ETOKENINVALID},
		{"fail/refresh-claims", f.signRaw("JWT", "", claims("refresh")), propusk.ETOKENINVALID},
		{"fail/other-issuer", func() string { c := claims(""); c["iss"] = "evil"; return f.signRaw("at+jwt", "", c) }(), propusk.ETOKENINVALID},
		{"fail/personal-access-token", "12|abcdefabcdefabcdefabcdefabcdefabcdefabcd", propusk.ETOKENINVALID},
		{"fail/alg-none", "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzaWQiOiJzMSJ9.", propusk.ETOKENINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Authenticate(context.Background(), tc.tok, propusk.ViaAccessToken)
			if got := propusk.ErrorCode(err); got != tc.code {
				t.Fatalf("error %v (%s), want %q", err, got, tc.code)
			}
			if tc.code == "" && (p.SessionID == "" || p.Abilities != nil || p.Via != propusk.ViaAccessToken) {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

// TestNotReady: until the stream has connected, nothing is accepted, since
// a revocation could not have been seen.
func TestNotReady(t *testing.T) {
	f := newFake(t)
	v, err := remote.New(context.Background(), remote.Config{URL: f.srv.URL, Token: fakePAT})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Authenticate(context.Background(), f.access(7, 10, nil, "s", time.Now(), time.Minute), propusk.ViaAccessToken)
	if propusk.ErrorCode(err) != propusk.EUNAVAILABLE {
		t.Fatalf("before Run: %v, want %s", err, propusk.EUNAVAILABLE)
	}
}

// TestNewRefuses bad configuration and an unreachable or hanging JWKS,
// within the timeout.
func TestNewRefuses(t *testing.T) {
	f := newFake(t)
	hung := newFake(t)
	hung.hang.Store(true)
	for _, tc := range []struct {
		name string
		cfg  remote.Config
	}{
		{"fail/no-url", remote.Config{Token: fakePAT}},
		{"fail/ftp-url", remote.Config{URL: "ftp://x", Token: fakePAT}},
		{"fail/no-token", remote.Config{URL: f.srv.URL}},
		{"fail/not-found", remote.Config{URL: f.srv.URL + "/nowhere", Token: fakePAT}},
		{"fail/hanging-jwks", remote.Config{URL: hung.srv.URL, Token: fakePAT, Timeout: 100 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := remote.New(context.Background(), tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

// TestRevocationAndResume: a session event refuses that session's tokens
// and no other; a dropped stream reconnects with Last-Event-ID and the
// events after it still apply.
func TestRevocationAndResume(t *testing.T) {
	f := newFake(t)
	v, c := f.start(remote.Config{})
	if c.after != "0" || c.lastEventID != "" {
		t.Fatalf("first connection: after=%q Last-Event-ID=%q, want after=0 and none", c.after, c.lastEventID)
	}
	now := time.Now()
	a := f.access(7, 10, nil, "sess-a", now, time.Minute)
	b := f.access(8, 10, nil, "sess-b", now, time.Minute)
	auth := func(tok string) string {
		_, err := v.Authenticate(context.Background(), tok, propusk.ViaAccessToken)
		return propusk.ErrorCode(err)
	}
	if auth(a) != "" || auth(b) != "" {
		t.Fatal("fresh tokens refused")
	}
	c.send <- "id: 41\nevent: session\ndata: {\"seq\":41,\"kind\":\"session\",\"ref\":\"sess-a\",\"at\":" + unix() + "}\n\n"
	if !eventually(time.Second, func() bool { return auth(a) == propusk.ETOKENINVALID }) {
		t.Fatalf("revoked session still accepted: %q", auth(a))
	}
	if auth(b) != "" {
		t.Fatal("another session refused")
	}

	close(c.drop)
	c2 := f.nextConn()
	if c2.lastEventID != "41" || c2.after != "41" {
		t.Fatalf("reconnection: Last-Event-ID=%q after=%q, want 41", c2.lastEventID, c2.after)
	}
	c2.send <- "id: 42\nevent: pat\ndata: {\"seq\":42,\"kind\":\"pat\",\"ref\":\"5\",\"at\":1}\n\nid: 43\nevent: session\ndata: {\"seq\":43,\"kind\":\"session\",\"ref\":\"sess-b\",\"at\":" + unix() + "}\n\n"
	if !eventually(time.Second, func() bool { return auth(b) == propusk.ETOKENINVALID }) {
		t.Fatal("a revocation after the reconnection was not applied")
	}
	if auth(a) != propusk.ETOKENINVALID {
		t.Fatal("a revocation was forgotten across the reconnection")
	}
	close(c2.drop)
	if c3 := f.nextConn(); c3.lastEventID != "43" {
		t.Fatalf("second reconnection: Last-Event-ID=%q, want 43", c3.lastEventID)
	}
}

// TestReset: told it is too far behind, the Verifier drops what it knew,
// refuses tokens issued before as expired (the client renews at propusk,
// which knows every revocation), fetches the keys again and resumes from
// the seq the reset names.
func TestReset(t *testing.T) {
	f := newFake(t)
	v, c := f.start(remote.Config{})
	old := f.access(7, 10, nil, "s-old", time.Now().Add(-2*time.Second), time.Minute)
	time.Sleep(2 * time.Second) // the reset must fall in a later second than the connection
	if _, err := v.Authenticate(context.Background(), old, propusk.ViaAccessToken); err == nil {
		// issued before the connection: already refused by the start horizon
		t.Fatal("a token issued before the stream connected was accepted")
	}
	pre := f.access(7, 10, nil, "s-pre", time.Now().Add(-time.Second), time.Minute)
	if _, err := v.Authenticate(context.Background(), pre, propusk.ViaAccessToken); err != nil {
		t.Fatalf("before the reset: %v", err)
	}
	hits := f.jwksHits.Load()
	c.send <- "event: reset\ndata: {\"reason\":\"too far behind\",\"seq\":900}\n\n"
	if !eventually(time.Second, func() bool {
		_, err := v.Authenticate(context.Background(), pre, propusk.ViaAccessToken)
		return propusk.ErrorCode(err) == propusk.ETOKENEXPIRED
	}) {
		t.Fatal("a token issued before the reset is still accepted")
	}
	if !eventually(time.Second, func() bool { return f.jwksHits.Load() > hits }) {
		t.Fatal("the keys were not fetched again after the reset")
	}
	fresh := f.access(7, 10, nil, "s-new", time.Now(), time.Minute)
	if _, err := v.Authenticate(context.Background(), fresh, propusk.ViaAccessToken); err != nil {
		t.Fatalf("a token issued after the reset: %v", err)
	}
	close(c.drop)
	if c2 := f.nextConn(); c2.lastEventID != "900" {
		t.Fatalf("after a reset: Last-Event-ID=%q, want the reset's seq 900", c2.lastEventID)
	}
}

// TestKeys: a keys event fetches the JWKS at once, so a deleted key stops;
// a token with a new kid fetches it by itself; made-up kids fetch it at
// most once per RefetchInterval.
func TestKeys(t *testing.T) {
	f := newFake(t)
	v, c := f.start(remote.Config{RefetchInterval: 200 * time.Millisecond})
	auth := func(tok string) string {
		_, err := v.Authenticate(context.Background(), tok, propusk.ViaAccessToken)
		return propusk.ErrorCode(err)
	}
	first := f.access(7, 10, nil, "s", time.Now(), time.Minute)
	if auth(first) != "" {
		t.Fatal("refused")
	}

	t.Run("ok/new-kid-fetches", func(t *testing.T) {
		f.rotate(true)
		second := f.access(7, 10, nil, "s", time.Now(), time.Minute)
		if got := auth(second); got != "" {
			t.Fatalf("a token of a rotated key: %q", got)
		}
		if auth(first) != "" {
			t.Fatal("the old key stopped though it is still published")
		}
	})
	t.Run("fail/deleted-key-stops", func(t *testing.T) {
		old := f.access(7, 10, nil, "s", time.Now(), time.Minute)
		if auth(old) != "" {
			t.Fatal("refused")
		}
		f.rotate(false)
		c.send <- "id: 5\nevent: keys\ndata: {\"seq\":5,\"kind\":\"keys\",\"ref\":\"\",\"at\":1}\n\n"
		if !eventually(time.Second, func() bool { return auth(old) == propusk.ETOKENINVALID }) {
			t.Fatalf("a cached token of a deleted key is still accepted: %q", auth(old))
		}
	})
	t.Run("fail/made-up-kids-rate-limited", func(t *testing.T) {
		before := f.jwksHits.Load()
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				tok := f.signRaw("at+jwt", "made-up-"+string(rune('a'+i)), jwt.MapClaims{"sid": "s", "jti": "j", "iss": "propusk", "boards": []string{}, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()})
				if auth(tok) != propusk.ETOKENINVALID {
					t.Error("a made-up kid was not refused")
				}
			})
		}
		wg.Wait()
		fetches := int(f.jwksHits.Load() - before)
		bound := 2 + int(time.Since(start)/(200*time.Millisecond))
		t.Logf("40 made-up kids in %v: %d JWKS fetches", time.Since(start).Round(time.Millisecond), fetches)
		if fetches > bound {
			t.Fatalf("%d JWKS fetches, want at most %d (one per RefetchInterval)", fetches, bound)
		}
	})
}

// TestStreamTimeouts: a stream that goes silent (no pings) is dropped and
// reopened after IdleTimeout, and one that never answers after Timeout.
func TestStreamTimeouts(t *testing.T) {
	f := newFake(t)
	_, c := f.start(remote.Config{IdleTimeout: 300 * time.Millisecond, Timeout: 300 * time.Millisecond})
	_ = c
	f.silent.Store(true)
	c2 := f.nextConn() // the silent one was dropped
	f.hang.Store(true)
	close(c2.drop)
	time.Sleep(time.Second) // hanging connections time out
	f.hang.Store(false)
	f.silent.Store(false)
	f.nextConn()
}

// TestStreamRefused: a stream credential propusk refuses leaves the
// Verifier unready (503), retrying with back-off.
func TestStreamRefused(t *testing.T) {
	f := newFake(t)
	v, err := remote.New(context.Background(), remote.Config{URL: f.srv.URL, Token: "1|wrong", MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	_, err = v.Authenticate(context.Background(), f.access(7, 10, nil, "s", time.Now(), time.Minute), propusk.ViaAccessToken)
	cancel()
	<-done
	if propusk.ErrorCode(err) != propusk.EUNAVAILABLE {
		t.Fatalf("with the stream refused: %v, want %s", err, propusk.EUNAVAILABLE)
	}
}

// TestMiddleware: the embedded library's guards, and the cookie guarded
// against cross-origin writes.
func TestMiddleware(t *testing.T) {
	f := newFake(t)
	v, _ := f.start(remote.Config{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := propusk.FromContext(r.Context())
		w.Write([]byte(p.Via))
	})
	board := func(r *http.Request) string { return r.PathValue("board") }
	mux := http.NewServeMux()
	mux.Handle("POST /boards/{board}/posts", v.Protect(ok, web.RequireBoard(board), web.RequireLevel(propusk.LevelUser)))
	mux.Handle("GET /admin", v.Protect(ok, web.RequireLevel(propusk.LevelAdmin)))
	mux.Handle("GET /reports", v.Protect(ok, web.RequireUser(), web.RequireAbility("reports:read")))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	now := time.Now()
	user := f.access(7, propusk.LevelUser, []string{"b"}, "s", now, time.Minute)
	anon := f.access(0, 0, []string{"*"}, "a", now, time.Minute)
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		status             int
	}{
		{"ok/header", "POST", "/boards/b/posts", map[string]string{"X-Access-Token": user}, 200},
		{"ok/bearer", "POST", "/boards/b/posts", map[string]string{"Authorization": "Bearer " + user}, 200},
		{"ok/jwt-has-every-ability", "GET", "/reports", map[string]string{"X-Access-Token": user}, 200},
		{"ok/cookie-same-origin", "POST", "/boards/b/posts", map[string]string{"Cookie": "accessToken=" + user, "Sec-Fetch-Site": "same-origin"}, 200},
		{"fail/no-token", "POST", "/boards/b/posts", nil, 403},
		{"fail/other-board", "POST", "/boards/c/posts", map[string]string{"X-Access-Token": user}, 403},
		{"fail/anonymous-level", "POST", "/boards/b/posts", map[string]string{"X-Access-Token": anon}, 403},
		{"fail/level", "GET", "/admin", map[string]string{"X-Access-Token": user}, 403},
		{"fail/anonymous-user", "GET", "/reports", map[string]string{"X-Access-Token": anon}, 403},
		{"fail/cookie-cross-site", "POST", "/boards/b/posts", map[string]string{"Cookie": "accessToken=" + user, "Sec-Fetch-Site": "cross-site"}, 403},
		{"fail/garbage", "GET", "/admin", map[string]string{"X-Access-Token": "x.y.z"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			for k, val := range tc.header {
				r.Header.Set(k, val)
			}
			res, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.status != 200 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("a refusal of Content-Type %q, want the JSON error", res.Header.Get("Content-Type"))
			}
		})
	}
}

// unix is the time now in unix seconds, as the feed's "at".
func unix() string { return strconv.FormatInt(time.Now().Unix(), 10) }

// TestNoStores: the package a relying service imports pulls in no database.
func TestNoStores(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/propusk/propusk/remote").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/propusk/propusk/sqlite", "github.com/propusk/propusk/postgres", "modernc.org/sqlite", "github.com/jackc/pgx"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("remote depends on %s", dep)
			}
		}
	}
}
