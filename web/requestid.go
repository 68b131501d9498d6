package web

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk/internal/status"
)

// requestIDKey is the context key of the request id.
type requestIDKey struct{}

// RequestIDFrom returns the request id RequestIDs gave ctx's request, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestIDs gives every request an id: the X-Request-Id it came with when
// that is 1 to 64 letters, digits, '.', '_' or '-' (a proxy's, such as
// nginx's $request_id, so one id follows the request through both logs),
// else a new random one. The answer carries it in X-Request-Id, and
// handlers find it with RequestIDFrom; a logger whose handler is
// LogHandler adds it to every line logged with the request's context.
//
// An id the client chose is only a label for logs: it names no record and
// grants nothing, and its alphabet keeps it from forging log lines.
func RequestIDs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !plain(64, id) {
			id = newRequestID()
		}
		w.Header()["X-Request-Id"] = []string{id} // canonical already: Set would canonicalise it again

		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// newRequestID returns a random id of 26 characters, as crypto/rand.Text
// spells its 128 bits. A request id is a label, never a secret: it comes
// from math/rand/v2's generator, which needs no system call and no lock,
// rather than from the operating system's, which every request would pay.
func newRequestID() string {
	const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [26]byte
	hi, lo := mrand.Uint64(), mrand.Uint64()
	for i := range b {
		// Five bits a character, 13 from each half: the 13th of each
		// half has only the last four.
		if i < 13 {
			b[i] = base32[hi&31]
			hi >>= 5
		} else {
			b[i] = base32[lo&31]
			lo >>= 5
		}
	}
	return string(b[:])
}

// LogHandler returns h adding request_id to every record logged with a
// context that has one (the ...Context methods of slog.Logger, LogAttrs).
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// AccessLog says which requests the request log writes a line for; the
// zero AccessLog logs every one.
type AccessLog struct {
	Off bool // no request log at all
	// Sample is the share (0 to 1) of answers below 400 that are logged;
	// every answer of 400 or above is. Ignored when Off; 0 means 1 when
	// ErrorsOnly is false.
	Sample     float64
	ErrorsOnly bool // only answers of 400 and above
}

// ParseAccessLog reads --access-log: "all", "errors" (answers of 400 and
// above), "off", or a share from 0 to 1 of the other answers to log
// besides every error ("0.1": one in ten).
func ParseAccessLog(s string) (AccessLog, error) {
	switch s {
	case "", "all":
		return AccessLog{}, nil
	case "errors":
		return AccessLog{ErrorsOnly: true}, nil
	case "off":
		return AccessLog{Off: true}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0 && f <= 1) || strings.ContainsAny(s, "eEnN") {
		return AccessLog{}, fmt.Errorf("want all, errors, off, or a share from 0 to 1 such as 0.1, not %q", s)
	}
	if f == 0 {
		return AccessLog{ErrorsOnly: true}, nil
	}
	return AccessLog{Sample: f}, nil
}

// keep reports whether a request answered with status is logged.
func (a AccessLog) keep(status int) bool {
	switch {
	case a.Off:
		return false
	case status >= 400:
		return true
	case a.ErrorsOnly:
		return false
	case a.Sample == 0 || a.Sample >= 1:
		return true
	}
	return mrand.Float64() < a.Sample
}

// LogRequestsAs is LogRequests under the policy a: it logs only the
// requests a keeps.
func LogRequestsAs(log *slog.Logger, a AccessLog, h http.Handler) http.Handler {
	if a.Off {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &status.Writer{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if !a.keep(sw.Code) {
			return
		}
		// One reading of the clock for the line's time and its duration:
		// on some virtual machines a reading costs as much as a hash.
		end := time.Now()
		logRequest(log, r, sw.Code, end, end.Sub(start))
	})
}
