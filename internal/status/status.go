// Package status is what the middleware that log and count requests (web's
// request log, the metrics) share: the status of an answer and the name of
// its route.
package status

import "net/http"

// Writer is an http.ResponseWriter that remembers the status it answered:
// Code is 0 until the handler writes, then the status it sent (200 for a
// body without WriteHeader).
type Writer struct {
	http.ResponseWriter
	Code int
}

// WriteHeader implements http.ResponseWriter.
func (w *Writer) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Code == 0 {
		w.Code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer beneath, so that a
// stream (the revocation stream) can flush through the middleware.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Route is what a log line or a metric says of a request's path: the
// pattern that routed it ("DELETE /api/v1/tokens/{id}"), never the path
// itself, which may carry a token and has no bound. A request no route
// served is "(unrouted)".
func Route(r *http.Request) string {
	if r.Pattern == "" {
		return "(unrouted)"
	}
	return r.Pattern
}
