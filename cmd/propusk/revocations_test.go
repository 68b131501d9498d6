package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sse is one event of a Server-Sent Events stream.
type sse struct{ id, event, data string }

// stream is a subscription to GET /api/v1/revocations, read as it comes.
type stream struct {
	events chan sse
	cancel context.CancelFunc
}

// subscribe opens the revocation stream of p with the credential tok,
// resuming after lastID when it is not empty.
func subscribe(t *testing.T, p *proc, tok, lastID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", p.URL+"/api/v1/revocations", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("subscribe: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &stream{events: make(chan sse, 1000), cancel: cancel}
	t.Cleanup(cancel)
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var e sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.event != "" || e.data != "" {
					s.events <- e
				}
				e = sse{}
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
	}()
	return s
}

// next returns the next event, failing the test after wait.
func (s *stream) next(t *testing.T, wait time.Duration) sse {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
	}
	return sse{}
}

// feedEntry is the data of a stream event.
type feedEntry struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
	At   int64  `json:"at"`
}

func entryOf(t *testing.T, e sse) feedEntry {
	t.Helper()
	var f feedEntry
	if err := json.Unmarshal([]byte(e.data), &f); err != nil {
		t.Fatalf("event data %q: %v", e.data, err)
	}
	if e.id != strconv.FormatInt(f.Seq, 10) || e.event != f.Kind {
		t.Fatalf("event id %q / event %q do not match its data %s", e.id, e.event, e.data)
	}
	return f
}

// TestRevocationStream runs two processes on one PostgreSQL database: a
// logoff (or a token.revoke) on one reaches a subscriber of the other within a second; a
// subscriber that reconnects with Last-Event-ID gets every entry it missed,
// exactly as the database holds them; one whose position was pruned is
// told to start over.
func TestRevocationStream(t *testing.T) {
	c := startCluster(t)
	a, b := c.a, c.b
	reg := registerUser(t, a, "vera")
	var created struct {
		Token string `json:"token"`
	}
	if s := a.call("POST", "/api/v1/tokens", accessHeader(reg.AccessToken), `{"name":"relying","abilities":["revocations:read"]}`, &created); s != 201 {
		t.Fatalf("create token: %d", s)
	}
	feed := created.Token

	t.Run("logoff on A reaches a subscriber of B", func(t *testing.T) {
		sub := subscribe(t, b, feed, "")
		defer sub.cancel()
		for i := range 3 {
			p := loginUser(t, a, "vera")
			sid := sidOf(t, p.AccessToken)
			start := time.Now()
			// The last one through RFC 7009 revocation of the refresh token.
			if i < 2 {
				if s := a.call("POST", "/api/v1/user.logoff", accessHeader(p.AccessToken), "", nil); s != 200 {
					t.Fatalf("logoff: %d", s)
				}
			} else if s := a.call("POST", "/api/v1/token.revoke", nil, `{"token":"`+p.RefreshToken+`"}`, nil); s != 200 {
				t.Fatalf("token.revoke: %d", s)
			}
			for {
				e := entryOf(t, sub.next(t, revocationBound))
				if e.Kind == "session" && e.Ref == sid {
					took := time.Since(start)
					t.Logf("logoff %d: on B's stream after %v (bound %v)", i, took.Round(100*time.Microsecond), revocationBound)
					if took > revocationBound {
						t.Fatalf("the logoff took %v to reach B's stream", took)
					}
					break
				}
			}
		}
	})

	t.Run("reconnecting with Last-Event-ID misses nothing", func(t *testing.T) {
		sub := subscribe(t, b, feed, "")
		p := loginUser(t, a, "vera")
		a.call("POST", "/api/v1/user.logoff", accessHeader(p.AccessToken), "", nil)
		last := sub.next(t, 5*time.Second)
		sub.cancel()
		// While away: logoffs on both processes, a token deleted.
		for i := range 5 {
			p := loginUser(t, a, "vera")
			on := a
			if i%2 == 1 {
				on = b
			}
			on.call("POST", "/api/v1/user.logoff", accessHeader(p.AccessToken), "", nil)
		}
		var doomed struct {
			ID    int64  `json:"id"`
			Token string `json:"token"`
		}
		a.call("POST", "/api/v1/tokens", accessHeader(reg.AccessToken), `{"name":"doomed"}`, &doomed)
		if s := b.call("DELETE", "/api/v1/tokens/"+strconv.FormatInt(doomed.ID, 10), accessHeader(reg.AccessToken), "", nil); s >= 300 {
			t.Fatalf("delete token: %d", s)
		}
		lastSeq, _ := strconv.ParseInt(last.id, 10, 64)
		rows, err := dbConn(t, c.dsn).Query(context.Background(), `SELECT seq, kind, ref FROM events WHERE seq > $1 ORDER BY seq`, lastSeq)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var f feedEntry
			if err := rows.Scan(&f.Seq, &f.Kind, &f.Ref); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%d %s %s", f.Seq, f.Kind, f.Ref))
		}
		rows.Close()
		if len(want) < 6 {
			t.Fatalf("only %d entries recorded while away: %q", len(want), want)
		}
		for _, to := range []*proc{a, b} {
			again := subscribe(t, to, feed, last.id)
			var got []string
			for range want {
				e := entryOf(t, again.next(t, 5*time.Second))
				got = append(got, fmt.Sprintf("%d %s %s", e.Seq, e.Kind, e.Ref))
			}
			again.cancel()
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("resumed on %s after %s:\n%s\nwant (the events table):\n%s", to.URL, last.id, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})

	t.Run("a pruned position is told to start over", func(t *testing.T) {
		var lastSeq int64
		db := dbConn(t, c.dsn)
		if err := db.QueryRow(context.Background(), `SELECT max(seq) FROM events`).Scan(&lastSeq); err != nil {
			t.Fatal(err)
		}
		// What Prune does to entries older than the retention.
		if _, err := db.Exec(context.Background(), `DELETE FROM events WHERE seq <= $1`, lastSeq-2); err != nil {
			t.Fatal(err)
		}
		for _, pos := range []string{"1", strconv.FormatInt(lastSeq+100, 10)} {
			sub := subscribe(t, b, feed, pos)
			e := sub.next(t, 5*time.Second)
			var reset struct {
				Reason string `json:"reason"`
				Seq    int64  `json:"seq"`
			}
			json.Unmarshal([]byte(e.data), &reset)
			if e.event != "reset" || reset.Reason != "too far behind" || reset.Seq != lastSeq || e.id != strconv.FormatInt(lastSeq, 10) {
				t.Fatalf("Last-Event-ID %s: %+v, want a reset to %d", pos, e, lastSeq)
			}
			// It then follows live from there (a login's new api-token
			// deletes the old one: a pat entry comes first).
			p := loginUser(t, a, "vera")
			a.call("POST", "/api/v1/user.logoff", accessHeader(p.AccessToken), "", nil)
			for {
				f := entryOf(t, sub.next(t, 5*time.Second))
				if f.Seq <= lastSeq {
					t.Fatalf("after the reset to %d: %+v", lastSeq, f)
				}
				if f.Kind == "session" && f.Ref == sidOf(t, p.AccessToken) {
					lastSeq = f.Seq
					break
				}
			}
			sub.cancel()
		}
	})

	t.Run("SIGTERM ends open streams and exits", func(t *testing.T) {
		sub := subscribe(t, b, feed, "")
		start := time.Now()
		b.Stop()
		// Without ending the streams, Shutdown would wait its whole 20 s
		// drain for an answer that never ends.
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("exit took %v with a stream open", took)
		}
		for range sub.events {
		}
		if strings.Contains(b.logs.String(), "level=ERROR") {
			t.Fatalf("errors on shutdown:\n%s", b.logs)
		}
	})
}
