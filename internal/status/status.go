// Package status records the status of an HTTP answer for the middleware
// that log and count requests (web's request log, the metrics).
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
