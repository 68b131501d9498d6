package web_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// openStream opens the revocation stream of base with header h and returns
// the answer and a reader of its lines.
func openStream(t *testing.T, base string, h map[string]string) (*http.Response, *bufio.Reader, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/revocations", nil)
	for k, v := range h {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	return res, bufio.NewReader(res.Body), cancel
}

// frame reads one SSE frame (up to a blank line), failing after a while.
func frame(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		for {
			line, err := br.ReadString('\n')
			b.WriteString(line)
			if err != nil || line == "\n" {
				got <- b.String()
				return
			}
		}
	}()
	select {
	case f := <-got:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
		return ""
	}
}

// waitFor polls cond until it holds, failing after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
	}
}

// TestRevocationStreamAccess: who may follow the stream, and how the
// others are refused.
func TestRevocationStreamAccess(t *testing.T) {
	e := newIntrospectEnv(t, func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s })
	star := e.createToken(withXHR(map[string]string{"X-Access-Token": e.alice.access}), `{"name":"all"}`)["token"].(string)
	cases := []struct {
		name   string
		h      map[string]string
		status int
		code   string
	}{
		{"ok/pat-revocations-read", bearer(e.service), 200, ""},
		{"ok/pat-star", bearer(star), 200, ""},
		{"ok/admin-access-token", map[string]string{"X-Access-Token": e.admin.access}, 200, ""},
		{"ok/after-query", bearer(e.service), 200, ""},
		{"fail/no-credentials", nil, 401, propusk.ETOKENREQUIRED},
		{"fail/garbage", bearer("garbage"), 401, propusk.ETOKENINVALID},
		{"fail/pat-without-ability", bearer(e.plain), 403, propusk.EFORBIDDEN},
		{"fail/user-access-token", bearer(e.alice.access), 403, propusk.EFORBIDDEN},
		{"fail/anonymous", bearer(e.anonymous.access), 403, propusk.EFORBIDDEN},
		{"fail/bad-last-event-id", map[string]string{"Authorization": "Bearer " + e.service, "Last-Event-ID": "x"}, 400, propusk.EINVALID},
		{"fail/negative-last-event-id", map[string]string{"Authorization": "Bearer " + e.service, "Last-Event-ID": "-1"}, 400, propusk.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.status == 200 {
				res, br, cancel := openStream(t, e.ts.URL, c.h)
				defer cancel()
				if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
					t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
				}
				if f := frame(t, br); f != "retry: 1000\n\n" {
					t.Fatalf("first frame %q, want retry: 1000", f)
				}
				return
			}
			wantError(t, e.do(req{method: "GET", path: "/api/v1/revocations", header: c.h}), c.status, c.code)
		})
	}
}

// TestRevocationStreamLifecycle: live events as the feed follower applies
// them, resumption by Last-Event-ID and ?after=, pings, no subscription
// left when a client goes, streams ended by CloseStreams, and the server's
// read and write timeouts not ending a stream.
func TestRevocationStreamLifecycle(t *testing.T) {
	defer web.SetStreamPing(50 * time.Millisecond)()
	e := newIntrospectEnv(t, func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s })
	// A server with short timeouts, as cmd/propusk's but shorter.
	ts := httptest.NewUnstartedServer(e.srv)
	ts.Config.ReadTimeout, ts.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	ctx := context.Background()
	if err := e.svc.SyncFeed(ctx); err != nil {
		t.Fatal(err)
	}
	res, br, cancel := openStream(t, ts.URL, bearer(e.service))
	if res.StatusCode != 200 {
		t.Fatalf("%d", res.StatusCode)
	}
	frame(t, br) // retry
	p := e.login("alice", "password-1")
	e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": p.access})})
	if err := e.svc.SyncFeed(ctx); err != nil {
		t.Fatal(err)
	}
	var last string
	for {
		f := frame(t, br)
		if strings.HasPrefix(f, ": ping") {
			continue
		}
		if !strings.Contains(f, "\nevent: ") || !strings.HasPrefix(f, "id: ") {
			t.Fatalf("frame %q", f)
		}
		last = strings.TrimPrefix(strings.SplitN(f, "\n", 2)[0], "id: ")
		if strings.Contains(f, "event: session") {
			break
		}
	}
	t.Run("ok/ping-outlives-timeouts", func(t *testing.T) {
		// Pings keep coming three times the server's timeouts later: read
		// until then (what came before is buffered), then one more.
		for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
			if f := frame(t, br); f != ": ping\n\n" {
				t.Fatalf("frame %q, want a ping", f)
			}
		}
		if f := frame(t, br); f != ": ping\n\n" {
			t.Fatalf("frame %q after the server's timeouts, want a ping", f)
		}
	})
	t.Run("ok/client-gone-no-subscription", func(t *testing.T) {
		cancel()
		waitFor(t, "subscription released", func() bool { return e.svc.Subscribers() == 0 })
	})
	t.Run("ok/resume", func(t *testing.T) {
		p := e.login("alice", "password-1")
		e.do(req{method: "POST", path: "/api/v1/user.logoff", header: withXHR(map[string]string{"X-Access-Token": p.access})})
		if err := e.svc.SyncFeed(ctx); err != nil {
			t.Fatal(err)
		}
		for _, h := range []map[string]string{
			{"Authorization": "Bearer " + e.service, "Last-Event-ID": last},
		} {
			_, br, cancel := openStream(t, ts.URL, h)
			frame(t, br)
			for {
				f := frame(t, br)
				if strings.Contains(f, "event: session") {
					break
				}
			}
			cancel()
		}
		// ?after= when a client cannot set headers.
		r, _ := http.NewRequest("GET", ts.URL+"/api/v1/revocations?after="+last, nil)
		r.Header.Set("Authorization", "Bearer "+e.service)
		c, stop := context.WithTimeout(ctx, 5*time.Second)
		defer stop()
		res, err := http.DefaultClient.Do(r.WithContext(c))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := bufio.NewReader(res.Body)
		frame(t, b)
		if f := frame(t, b); !strings.Contains(f, "event: ") || strings.HasPrefix(f, ": ping") {
			t.Fatalf("?after=%s: %q, want the entries after it", last, f)
		}
	})
	t.Run("ok/close-streams", func(t *testing.T) {
		_, br, _ := openStream(t, ts.URL, bearer(e.service))
		frame(t, br)
		e.srv.CloseStreams()
		done := make(chan error, 1)
		go func() { _, err := io.Copy(io.Discard, br); done <- err }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the stream did not end on CloseStreams")
		}
		waitFor(t, "subscriptions released", func() bool { return e.svc.Subscribers() == 0 })
		wantError(t, e.do(req{method: "GET", path: "/api/v1/revocations", header: bearer(e.service)}), 503, propusk.EUNAVAILABLE)
	})
}
