package remote_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/remote"
	"github.com/propusk/propusk/web"
)

// These tests run the real propusk binary and a relying service in front
// of which stands a Verifier, as a team deploys them. They need propusk's
// revocation stream (GET /api/v1/revocations).

// revocationBound is how soon a logoff must be refused by a relying
// service: the "within a second", with room for a loaded machine.
const revocationBound = 2 * time.Second

// call sends a request to base and decodes a JSON answer into out.
func call(t *testing.T, method, u string, header map[string]string, body string, out any) int {
	t.Helper()
	r, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	} else {
		io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode
}

type pair struct {
	AccessToken string `json:"accessToken"`
	Token       string `json:"token"` // a created personal access token
}

// testWriter sends the Verifier's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// countingProxy stands between the Verifier and propusk and counts the
// requests by path, so a test sees exactly what reaches propusk.
type countingProxy struct {
	URL  string
	mu   sync.Mutex
	hits map[string]int
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // Server-Sent Events go through at once
	cp := &countingProxy{hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cp.mu.Lock()
		cp.hits[r.URL.Path]++
		cp.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cp.URL = srv.URL
	return cp
}

func (cp *countingProxy) count(path string) int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.hits[path]
}

// others counts requests to any path but the JWKS and the stream.
func (cp *countingProxy) others() int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	n := 0
	for p, c := range cp.hits {
		if p != "/.well-known/jwks.json" && p != "/api/v1/revocations" {
			n += c
		}
	}
	return n
}

// TestAgainstPropusk runs a relying service with a Verifier against the
// real binary: tokens verify with no request to propusk, a key rotation
// ("propusk keys rotate") is picked up, and a logoff is refused within a
// second, still with no request per call.
func TestAgainstPropusk(t *testing.T) {
	p := binarytest.Start(t)
	var reg pair
	if s := call(t, "POST", p.URL+"/api/v1/user.register", nil, `{"login":"relying-alice","password":"correct horse battery"}`, &reg); s != 201 {
		t.Fatalf("register: %d", s)
	}
	var streamPAT pair
	if s := call(t, "POST", p.URL+"/api/v1/tokens", map[string]string{"X-Access-Token": reg.AccessToken}, `{"name":"relying service","abilities":["revocations:read"]}`, &streamPAT); s != 201 {
		t.Fatalf("create the stream's token: %d", s)
	}
	probe, err := http.Get(p.URL + "/api/v1/revocations") // no credential: 401 when served
	if err != nil {
		t.Fatal(err)
	}
	probe.Body.Close()
	if probe.StatusCode == http.StatusNotFound {
		// The stream's server side is another engineer's part of issue 10.
		if os.Getenv("CI") != "" {
			t.Fatal("propusk serves no revocation stream (GET /api/v1/revocations is 404)")
		}
		t.Skip("SKIPPED: propusk serves no revocation stream yet (GET /api/v1/revocations is 404); this test fails under CI")
	}

	proxy := newCountingProxy(t, p.URL)
	v, err := remote.New(context.Background(), remote.Config{URL: proxy.URL, Token: streamPAT.Token, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-v.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the Verifier did not connect to propusk's stream")
	}

	app := httptest.NewServer(v.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(propusk.FromContext(r.Context()).SessionID))
	}), web.RequireUser()))
	defer app.Close()
	get := func(tok string) int {
		return call(t, "GET", app.URL+"/orders", map[string]string{"X-Access-Token": tok}, "", nil)
	}
	login := func() string {
		var lp pair
		if s := call(t, "POST", p.URL+"/api/v1/user.login", nil, `{"login":"relying-alice","password":"correct horse battery"}`, &lp); s != 200 {
			t.Fatalf("login: %d", s)
		}
		return lp.AccessToken
	}

	// Verification: many calls, nothing asked of propusk.
	tok := login()
	for range 50 {
		if s := get(tok); s != 200 {
			t.Fatalf("a fresh token: %d", s)
		}
	}
	if n := proxy.others(); n != 0 {
		t.Fatalf("%d requests reached propusk for 50 calls", n)
	}
	if s := get(streamPAT.Token); s != 403 {
		t.Fatalf("a personal access token: %d, want 403", s)
	}

	// Key rotation: a token signed with the new key verifies.
	kidOf := func(tok string) string {
		head, _, _ := strings.Cut(tok, ".")
		b, _ := base64.RawURLEncoding.DecodeString(head)
		var h struct{ Kid string }
		json.Unmarshal(b, &h)
		return h.Kid
	}
	oldKid := kidOf(tok)
	p.Command(t, "keys", "rotate")
	var rotated string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if rotated = login(); kidOf(rotated) != oldKid {
			break
		}
	}
	if kidOf(rotated) == oldKid {
		t.Fatal("propusk did not sign with the rotated key")
	}
	if s := get(rotated); s != 200 {
		t.Fatalf("a token of the rotated key: %d", s)
	}
	if s := get(tok); s != 200 {
		t.Fatalf("a token of the old key, still published: %d", s)
	}
	t.Logf("rotation: %d JWKS fetches in all", proxy.count("/.well-known/jwks.json"))

	// Logoff: refused within the bound, and still no request per call.
	before := proxy.others()
	if s := call(t, "POST", p.URL+"/api/v1/user.logoff", map[string]string{"X-Access-Token": rotated}, "", nil); s/100 != 2 {
		t.Fatalf("logoff: %d", s)
	}
	start := time.Now()
	for get(rotated) == 200 {
		if time.Since(start) > revocationBound {
			t.Fatalf("a token of a logged-off session still accepted %v after the logoff", revocationBound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("logoff refused by the relying service %v after propusk answered", time.Since(start).Round(time.Millisecond))
	if s := get(tok); s != 200 {
		t.Fatalf("another session's token after the logoff: %d", s)
	}
	if n := proxy.others() - before; n != 0 {
		t.Fatalf("%d requests reached propusk while the logoff was awaited", n)
	}
}
