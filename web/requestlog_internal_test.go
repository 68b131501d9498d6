package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slogLine is the line slog's own handler (through LogHandler, as a
// request log was written before RequestLogHandler) writes for a request
// record of time now.
func slogLine(json bool, now time.Time, method, route, query string, status int, d time.Duration, remote, id string) string {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if json {
		h = slog.NewJSONHandler(&buf, nil)
	}
	ctx := context.Background()
	if id != "" {
		ctx = context.WithValue(ctx, requestIDKey{}, id)
	}
	r := slog.NewRecord(now, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("method", method),
		slog.String("route", route),
		slog.String("query", query),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("remote", remote),
	)
	LogHandler(h).Handle(ctx, r)
	return buf.String()
}

// checkRequestLine: whenever appendRequestLine writes a line, it is the
// line slog writes, byte for byte, in both formats.
func checkRequestLine(t *testing.T, now time.Time, method, route, query string, status int, d time.Duration, remote, id string) (fast bool) {
	t.Helper()
	for _, json := range []bool{false, true} {
		got, ok := appendRequestLine([]byte("kept:"), json, now, method, route, query, status, d, remote, id)
		if !ok {
			continue
		}
		fast = true
		want := "kept:" + slogLine(json, now, method, route, query, status, d, remote, id)
		if string(got) != want {
			t.Errorf("json=%v, %q %q %q %d %v %q %q:\n got %q\nwant %q", json, method, route, query, status, d, remote, id, got, want)
		}
	}
	return fast
}

func TestRequestLineIsSlogs(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	cases := []struct {
		now                  time.Time
		method, route, query string
		status               int
		d                    time.Duration
		remote, id           string
		fast                 bool
	}{
		{time.Date(2026, 11, 29, 8, 31, 29, 901_000_000, time.UTC), "GET", "GET /api/v1/auth.verify", "level=REDACTED", 200, 52100 * time.Nanosecond, "127.0.0.1:5555", "3AEZ6RXZY6IDNQTX6TVVT2BSPH", true},
		// The milliseconds' trailing zeros are kept in text; RFC3339Nano drops them in JSON.
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "POST", "POST /api/v1/token.renew", "", 401, time.Millisecond, "[::1]:80", "", true},
		{time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, moscow), "DELETE", "DELETE /api/v1/tokens/{id}", "a=REDACTED&b=REDACTED", 204, 3 * time.Second, "10.0.0.1:1", "req-1.2_3", true},
		{time.Date(2026, 6, 1, 0, 0, 0, 123_456_789, time.Local), "GET", "(unrouted)", "REDACTED=REDACTED", 404, 0, "", "a", true},
		// Values slog would escape go through slog itself.
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "GET", "GET /é", "", 200, 1, "x", "", false},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "GET", `GET /"q"`, "", 200, 1, "x", "", false},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "GET", "GET /", "", 200, 1, "x\ny", "", false},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "GET", "GET /", `a\b`, 200, 1, "x", "", false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "GET", "GET /", "", 200, 1, "x", "", false},
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "GET", "GET /", "", 200, -time.Hour - 2*time.Minute, "x", "", true},
	}
	for _, c := range cases {
		if fast := checkRequestLine(t, c.now, c.method, c.route, c.query, c.status, c.d, c.remote, c.id); fast != c.fast {
			t.Errorf("%q %q %q: fast path %v, want %v", c.method, c.route, c.remote, fast, c.fast)
		}
	}
}

func FuzzRequestLine(f *testing.F) {
	f.Add(int64(1795941089901000000), "GET", "GET /api/v1/auth.verify", "level=REDACTED", 200, int64(52100), "127.0.0.1:5555", "3AEZ6RXZY6IDNQTX6TVVT2BSPH")
	f.Add(int64(0), "", "", "", 0, int64(0), "", "")
	f.Add(int64(-1), "P O", "a=b", `"`, -1, int64(-1), "\x7f", "é")
	f.Fuzz(func(t *testing.T, unix int64, method, route, query string, status int, d int64, remote, id string) {
		checkRequestLine(t, time.Unix(0, unix), method, route, query, status, time.Duration(d), remote, id)
	})
}

// TestRequestLogHandler: through RequestLogHandler, LogRequests writes the
// line slog writes, other records go through slog with their request id,
// and a derived logger is still slog's.
func TestRequestLogHandler(t *testing.T) {
	for _, json := range []bool{false, true} {
		var buf bytes.Buffer
		log := slog.New(RequestLogHandler(&buf, json))
		r := httptest.NewRequest("GET", "/api/v1/user.me?x=1", nil)
		r.Pattern = "GET /api/v1/user.me"
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "rid"))
		now := time.Date(2026, 11, 29, 12, 34, 56, 789012345, time.Local)
		logRequest(log, r, 200, now, 5*time.Millisecond)
		log.InfoContext(r.Context(), "other", "k", "v")
		log.With("w", 1).Info("derived")
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("json=%v: %d lines: %q", json, len(lines), buf.String())
		}
		if want := slogLine(json, now, "GET", "GET /api/v1/user.me", "x=REDACTED", 200, 5*time.Millisecond, r.RemoteAddr, "rid"); lines[0]+"\n" != want {
			t.Errorf("json=%v: request line\n%s\nis not slog's\n%s", json, lines[0], want)
		}
		if !strings.Contains(lines[1], "other") || !strings.Contains(lines[1], "rid") || !strings.Contains(lines[2], "derived") {
			t.Errorf("json=%v: other lines %q", json, lines[1:])
		}
	}
}

// TestRequestLineTimeOfEachSecond: a line's time is slog's whatever came
// before it: the same instant in another zone, the next nanosecond across
// a second, a second of the past.
func TestRequestLineTimeOfEachSecond(t *testing.T) {
	moscow := time.FixedZone("MSK", 3*3600)
	t0 := time.Date(2026, 11, 29, 12, 34, 56, 999_999_999, time.UTC)
	for _, now := range []time.Time{
		t0, t0.In(moscow), t0, t0.Add(1), t0.Add(1).In(moscow), t0.Add(-time.Hour), t0.Add(1),
		time.Unix(-1, 0), time.Unix(0, -1), time.Unix(0, 0).In(time.Local), time.Unix(0, 0).UTC(),
	} {
		checkRequestLine(t, now, "GET", "GET /", "", 200, time.Millisecond, "127.0.0.1:1", "id")
	}
}
