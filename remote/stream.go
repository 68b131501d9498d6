package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The stream's event kinds (docs/API.md, GET /api/v1/revocations).
const (
	eventSession = "session" // a session was revoked: ref is its id
	eventPAT     = "pat"     // a personal access token was deleted: nothing to do here
	eventKeys    = "keys"    // signing keys were added or deleted
	eventReset   = "reset"   // the position asked for is gone: start over
)

// maxLine bounds one line of the stream; propusk's are under 200 bytes.
const maxLine = 64 << 10

// stream is where the Verifier stands in the revocation stream.
type stream struct {
	seq       int64         // the last event applied; 0 before any
	retry     time.Duration // the server's reconnection delay (retry:), default 1s
	connected bool          // the stream has connected once
}

// Run follows propusk's revocation stream until ctx ends, and keeps the
// keys current. It reconnects by itself, resuming with Last-Event-ID, after
// the server's retry delay doubled for each failure in a row (with jitter)
// up to Config.MaxBackoff. It returns ctx's error.
func (v *Verifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { v.followKeys(ctx) })
	defer wg.Wait()
	st := &stream{retry: time.Second}
	failures := 0
	for {
		ok, err := v.follow(ctx, st)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if ok {
			failures = 0
		}
		delay := min(st.retry<<min(failures, 16), v.cfg.MaxBackoff)
		delay = delay*4/5 + rand.N(delay*2/5+1) // ±20%: replicas do not reconnect in step
		failures++
		v.cfg.Logger.Warn("propusk revocation stream", "err", err, "seq", st.seq, "retry_in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// follow reads one connection of the stream until it ends; ok reports
// whether it connected. Config.Timeout bounds the wait for its headers and
// Config.IdleTimeout any silence after that.
func (v *Verifier) follow(ctx context.Context, st *stream) (ok bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(v.cfg.Timeout, cancel)
	defer timer.Stop()

	// The first connection asks for everything after 0: propusk replays
	// what it retains, or says reset; either way the Verifier learns where
	// the stream stands, so a reconnection before any event misses nothing.
	u := v.base.String() + "/api/v1/revocations?after=" + strconv.FormatInt(st.seq, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Authorization", "Bearer "+v.cfg.Token)
	if st.seq > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(st.seq, 10))
	}
	res, err := v.cfg.Client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return false, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, fmt.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	timer.Reset(v.cfg.IdleTimeout)
	if !st.connected {
		// Revocations before this moment were never seen: every token
		// issued before it is renewed once at propusk.
		st.connected = true
		v.revoked.reset(v.cfg.Now().Unix())
		v.readyOnce.Do(func() { close(v.ready) })
	}

	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var ev sse
	for sc.Scan() {
		timer.Reset(v.cfg.IdleTimeout)
		line := sc.Text()
		if line == "" {
			v.dispatch(st, &ev)
			ev = sse{}
			continue
		}
		if line[0] == ':' { // a comment: ": ping"
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id, ev.hasID = value, true
		case "event":
			ev.name = value
		case "data":
			ev.data = append(ev.data, value)
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 {
				st.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := sc.Err(); err != nil {
		if !timer.Stop() && ctx.Err() != nil {
			return true, fmt.Errorf("no data for %s", v.cfg.IdleTimeout)
		}
		return true, err
	}
	return true, io.ErrUnexpectedEOF
}

// sse is one Server-Sent Event being read.
type sse struct {
	id    string
	hasID bool
	name  string
	data  []string
}

// entry is the data of a feed event.
type entry struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
	At   int64  `json:"at"`
}

// dispatch applies one event, then records its id as the position to
// resume from.
func (v *Verifier) dispatch(st *stream, ev *sse) {
	if ev.name == "" && len(ev.data) == 0 {
		return
	}
	now := v.cfg.Now().Unix()
	var e entry
	bad := json.Unmarshal([]byte(strings.Join(ev.data, "\n")), &e) != nil
	switch {
	case ev.name == eventSession && !bad && e.Ref != "":
		v.revoked.revoke(e.Ref, e.At, now)
	case ev.name == eventKeys:
		v.keysChanged()
	case ev.name == eventReset, ev.name == eventSession:
		// A reset, or a revocation this process cannot read: it may have
		// missed a revocation, so it starts over.
		v.cfg.Logger.Warn("propusk revocation stream: starting over", "event", ev.name, "seq", e.Seq)
		v.revoked.reset(now)
		v.keysChanged()
		if ev.name == eventReset && !bad {
			st.seq = e.Seq
		}
	}
	if ev.hasID {
		if n, err := strconv.ParseInt(ev.id, 10, 64); err == nil && n > st.seq {
			st.seq = n
		}
	}
}
