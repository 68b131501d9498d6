package http

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sensitive names query parameters whose values are credentials.
var sensitive = map[string]bool{
	"refreshtoken": true, "accesstoken": true, "token": true, "_token": true,
	"apitoken": true, "api_token": true, "password": true, "access_token": true, "refresh_token": true,
}

// RedactQuery returns the query with the value of every credential-bearing
// parameter replaced, so a request log never carries a token.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "(unparsable query)"
	}
	for k, vs := range q {
		for i, v := range vs {
			switch {
			case sensitive[strings.ToLower(k)]:
				vs[i] = "REDACTED"
			case strings.Contains(v, "?"):
				// A redirect target carries a query of its own, which may
				// carry a token: ?redirect=/x?refreshToken=…
				path, query, _ := strings.Cut(v, "?")
				vs[i] = path + "?" + RedactQuery(query)
			}
		}
	}
	return q.Encode()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LogRequests logs one line per request: method, path, redacted query,
// status and duration. It never logs headers or cookies, where tokens live.
func LogRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("query", RedactQuery(r.URL.RawQuery)),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		)
	})
}
