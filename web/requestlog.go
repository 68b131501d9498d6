package web

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// RequestLogHandler returns the slog.Handler of a request log written to
// w: slog's text format, or its JSON format when json is set, with request
// ids added as LogHandler adds them. Give it to LogRequests (or
// LogRequestsAs) in an slog.Logger.
//
// The request log writes a line for every request, and slog's general
// machinery (a Record, its attributes, the handler's quoting of each) costs
// a cached request a tenth of its CPU. So LogRequests appends its own lines
// through this handler directly, byte for byte as slog.TextHandler or
// slog.JSONHandler would write them; a line with a value those would escape
// (never one of propusk's own), and every other record, goes through slog
// itself. Each line is one Write to w, as with slog's own handlers, and
// writes to w are serialised.
func RequestLogHandler(w io.Writer, json bool) slog.Handler {
	lw := &lockedWriter{w: w}
	var h slog.Handler = slog.NewTextHandler(lw, nil)
	if json {
		h = slog.NewJSONHandler(lw, nil)
	}
	return &requestLogHandler{requestIDHandler: requestIDHandler{h}, w: lw, json: json}
}

// requestLogHandler is RequestLogHandler's handler. Derived handlers
// (WithAttrs, WithGroup) are requestIDHandlers: their lines carry more
// than a request line, so they go through slog.
type requestLogHandler struct {
	requestIDHandler
	w    *lockedWriter
	json bool
}

// lockedWriter serialises the writes of the fast path and of slog's own
// handler, which cannot share slog's lock.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lineBuffers hold request lines while they are written: a line is about
// 200 bytes, and every request writes one.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logRequest writes the request log's line of r, answered at now after d.
func logRequest(log *slog.Logger, r *http.Request, status int, now time.Time, d time.Duration) {
	ctx := r.Context()
	query := RedactQuery(r.URL.RawQuery)
	if h, ok := log.Handler().(*requestLogHandler); ok && h.Enabled(ctx, slog.LevelInfo) {
		bp := lineBuffers.Get().(*[]byte)
		b, ok := appendRequestLine((*bp)[:0], h.json, now, r.Method, route(r), query, status, d, r.RemoteAddr, RequestIDFrom(ctx))
		if ok {
			h.w.Write(b) // as slog's handlers, a line that cannot be written is lost
		}
		*bp = b
		lineBuffers.Put(bp)
		if ok {
			return
		}
	}
	log.LogAttrs(ctx, slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("route", route(r)),
		slog.String("query", query),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("remote", r.RemoteAddr),
	)
}

// appendRequestLine appends the request line slog's text (or JSON) handler
// writes for a record of time now, message "request" and these attributes,
// request_id last when id is not empty. It reports false, leaving the line
// to slog, when a value holds a byte either format escapes or quotes other
// than plainly: a control character, a quote, a backslash, or any byte
// outside ASCII.
func appendRequestLine(b []byte, json bool, now time.Time, method, route, query string, status int, d time.Duration, remote, id string) ([]byte, bool) {
	if !plainASCII(method) || !plainASCII(route) || !plainASCII(query) || !plainASCII(remote) || !plainASCII(id) {
		return b, false
	}
	if y := now.Year(); y < 0 || y >= 10000 {
		return b, false // slog writes an error in its place
	}
	now = now.Round(0) // as slog strips the monotonic reading
	if json {
		b = append(b, `{"time":"`...)
		b = appendTime(b, now, false)
		b = append(b, `","level":"INFO","msg":"request","method":"`...)
		b = append(b, method...)
		b = append(b, `","route":"`...)
		b = append(b, route...)
		b = append(b, `","query":"`...)
		b = append(b, query...)
		b = append(b, `","status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
		b = append(b, `,"duration":`...)
		b = strconv.AppendInt(b, int64(d), 10)
		b = append(b, `,"remote":"`...)
		b = append(b, remote...)
		if id != "" {
			b = append(b, `","request_id":"`...)
			b = append(b, id...)
		}
		return append(b, "\"}\n"...), true
	}
	b = append(b, "time="...)
	b = appendTime(b, now, true)
	b = append(b, " level=INFO msg=request method="...)
	b = appendText(b, method)
	b = append(b, " route="...)
	b = appendText(b, route)
	b = append(b, " query="...)
	b = appendText(b, query)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, " duration="...)
	b = append(b, d.String()...) // digits, '.', units: never quoted
	b = append(b, " remote="...)
	b = appendText(b, remote)
	if id != "" {
		b = append(b, " request_id="...)
		b = appendText(b, id)
	}
	return append(b, '\n'), true
}

// plainASCII reports whether s is printable ASCII without '"' or '\\':
// what both of slog's formats write as it is, or quote by wrapping in
// double quotes alone.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendText appends a plainASCII s as slog's text handler does: quoted
// when empty or holding a space or '='.
func appendText(b []byte, s string) []byte {
	quote := s == ""
	for i := 0; i < len(s) && !quote; i++ {
		quote = s[i] == ' ' || s[i] == '='
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as slog writes a record's time: RFC 3339 with
// exactly three digits of milliseconds in its text format (millis), and
// with as many digits of nanoseconds as are not trailing zeros in its JSON
// format (time.RFC3339Nano). t is of a year from 0 to 9999.
func appendTime(b []byte, t time.Time, millis bool) []byte {
	st := stampOf(t)
	b = append(b, st.date...)
	ns := t.Nanosecond()
	switch {
	case millis:
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	case ns != 0:
		var frac [10]byte
		frac[0] = '.'
		for i, n := 9, ns; i > 0; i, n = i-1, n/10 {
			frac[i] = byte('0' + n%10)
		}
		end := len(frac)
		for frac[end-1] == '0' {
			end--
		}
		b = append(b, frac[:end]...)
	}
	return append(b, st.zone...)
}

// secondStamp is what a line's time spells the same for a whole second:
// the date and time up to the seconds ("2026-11-29T12:34:56") and the
// zone ("Z", "+03:00"), of one second in one location. Formatting a time
// costs more than the rest of a request line, where a busy server writes
// thousands of lines a second: the second's stamp is formatted once
// (lastStamp) and the fraction appended to it.
type secondStamp struct {
	sec        int64 // unix seconds
	loc        *time.Location
	date, zone string
}

// lastStamp is the stamp of the second of the line last written.
var lastStamp atomic.Pointer[secondStamp]

// stampOf returns the stamp of t's second in t's location.
func stampOf(t time.Time) *secondStamp {
	sec, loc := t.Unix(), t.Location()
	if st := lastStamp.Load(); st != nil && st.sec == sec && st.loc == loc {
		return st
	}
	f := t.Truncate(time.Second).Format(time.RFC3339) // a four-digit year: len("2006-01-02T15:04:05") is 19
	st := &secondStamp{sec: sec, loc: loc, date: f[:19], zone: f[19:]}
	lastStamp.Store(st)
	return st
}
