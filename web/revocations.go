package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// The revocation stream: GET /api/v1/revocations, Server-Sent Events of
// the revocation feed, so that a service verifying access tokens itself
// (through the JWKS) honours a logoff within a second.

// streamPing is how often an idle stream sends a comment, so proxies
// (nginx's proxy_read_timeout is 60 s) do not close it. A variable for tests.
var streamPing = 15 * time.Second

// streamWriteWait bounds one write to a stream's client: a client that
// stops reading is dropped rather than holding a goroutine for ever.
const streamWriteWait = 10 * time.Second

// streamRetry is the reconnection delay, in milliseconds, a new subscriber
// is given (the SSE retry field).
const streamRetry = 1000

// streams tracks the Server's open streams, so that CloseStreams can end
// them. Its zero value is ready.
type streams struct {
	mu      sync.Mutex
	closing chan struct{} // closed by CloseStreams
	closed  bool
}

// done returns the channel CloseStreams closes, and false once it has.
func (ss *streams) done() (<-chan struct{}, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closing == nil {
		ss.closing = make(chan struct{})
	}
	return ss.closing, !ss.closed
}

// CloseStreams ends every open revocation stream and answers new ones 503.
// http.Server.Shutdown waits for the answers in flight, and a stream never
// ends by itself: register this with the server's RegisterOnShutdown. The
// clients reconnect (to another process, or this one restarted) and resume
// where they were.
func (s *Server) CloseStreams() {
	s.streams.done()
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	if !s.streams.closed {
		s.streams.closed = true
		close(s.streams.closing)
	}
}

var (
	errStreamAbility = propusk.Errorf(propusk.EFORBIDDEN,
		"the revocation stream needs a personal access token with the ability %q, or an administrator's access token", propusk.AbilityRevocationsRead)
	errStreamPosition = propusk.Errorf(propusk.EINVALID, "Last-Event-ID and after must be a revocation's sequence number, a whole number from 0")
	errShuttingDown   = propusk.Errorf(propusk.EUNAVAILABLE, "the server is shutting down; reconnect")
)

// mayFollow reports whether the caller may read the revocation stream: a
// personal access token with the ability (or "*"), or an administrator's
// access token.
func mayFollow(p *propusk.Principal) bool {
	if p.Via == propusk.ViaAPIToken {
		return p.Can(propusk.AbilityRevocationsRead)
	}
	return p.Level >= propusk.LevelAdmin
}

// streamPosition returns where a subscriber resumes: the Last-Event-ID
// header, else the after query parameter; resume is false with neither.
func streamPosition(r *http.Request) (after int64, resume bool, err error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false, errStreamPosition
	}
	return n, true, nil
}

// streamEvent is the data of one event of the stream.
type streamEvent struct {
	Seq  int64  `json:"seq"`
	Kind string `json:"kind"`
	Ref  string `json:"ref"`
	At   int64  `json:"at"`
}

func writeEvent(buf *bytes.Buffer, e propusk.Event) {
	data, _ := json.Marshal(streamEvent{Seq: e.Seq, Kind: e.Kind, Ref: e.Ref, At: e.At.Unix()})
	seq := strconv.FormatInt(e.Seq, 10)
	buf.WriteString("id: " + seq + "\nevent: " + e.Kind + "\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// writeReset tells the subscriber its position cannot be resumed. The id
// moves an EventSource's Last-Event-ID to the new position, so its next
// reconnection resumes from there rather than being reset again.
func writeReset(buf *bytes.Buffer, seq int64) {
	n := strconv.FormatInt(seq, 10)
	buf.WriteString("id: " + n + "\nevent: reset\ndata: {\"reason\":\"too far behind\",\"seq\":" + n + "}\n\n")
}

// revocations serves the stream. Each subscriber reads this process's feed
// follower through a bounded buffer (auth.Subscription): no database read
// per subscriber after the replay, and a subscriber that falls behind is
// cut off and resumes with Last-Event-ID.
func (s *Server) revocations(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mw.Identify(r)
	if err != nil {
		if logged(err) {
			return err
		}
		unauthorized(w, err, "invalid_token")
		return nil
	}
	if !mayFollow(p) {
		return errStreamAbility
	}
	after, resume, err := streamPosition(r)
	if err != nil {
		return err
	}
	closing, open := s.streams.done()
	if !open {
		return errShuttingDown
	}
	ctx := r.Context()
	sub, err := s.svc.Subscribe(ctx, after, resume)
	if err != nil {
		return err
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString("retry: " + strconv.Itoa(streamRetry) + "\n\n")
	if sub.Reset {
		writeReset(&buf, sub.Position())
	}
	// Each write gets its own deadline: the server's WriteTimeout, counted
	// from the request, would otherwise end the stream.
	send := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteWait))
		_, err := w.Write(buf.Bytes())
		if err == nil {
			err = rc.Flush()
		}
		buf.Reset()
		return err == nil
	}
	if !send() {
		return nil
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		events, err := sub.Replay(ctx)
		if err != nil {
			if !errors.Is(err, auth.ErrTooFarBehind) && ctx.Err() == nil {
				s.record(r, "revocation stream failed", err)
			}
			return nil // the client resumes, and is reset if it must
		}
		if len(events) > 0 {
			for _, e := range events {
				writeEvent(&buf, e)
			}
			if !send() {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-closing:
			return nil
		case <-sub.Gone():
			return nil
		case e := <-sub.Live():
			if sub.Take(e) {
				writeEvent(&buf, e)
			}
		drain:
			for {
				select {
				case e := <-sub.Live():
					if sub.Take(e) {
						writeEvent(&buf, e)
					}
				default:
					break drain
				}
			}
		case <-ping.C:
			buf.WriteString(": ping\n\n")
		}
		if buf.Len() > 0 && !send() {
			return nil
		}
	}
}
