package web

import (
	"net/http"
	"strings"
)

// pageCSP is the Content-Security-Policy of every HTML answer: scripts and
// everything else from this origin only, forms posted only here (an
// injected form cannot send a password elsewhere), no <base> to re-point
// relative URLs, and no framing (clickjacking).
const pageCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// hardened is the ResponseWriter of every answer the Server gives. It adds
// the hardening headers as the status line goes out, when it can see what
// the handler set, so no handler sets them by hand and none can forget:
//
//   - X-Content-Type-Options: nosniff on every answer, so a JSON error that
//     echoes input is never sniffed into HTML or a script;
//   - Cache-Control: no-store on every answer that sets a token cookie, so
//     no cache (a proxy's, the browser's back button) keeps one to replay,
//     and on every answer whose handler chose no caching of its own (JSON,
//     pages, redirects): only the public key set and the assets may be kept;
//   - the page policy (CSP, X-Frame-Options, Referrer-Policy) on HTML.
//
// It also records whether the answer has begun, so that an error a handler
// returns afterwards is logged, not answered a second time (Server.handle).
type hardened struct {
	http.ResponseWriter
	wrote bool
}

// harden returns w behind the hardening headers, or w itself when it is
// hardened already. Server wraps every answer; the exported Error and
// DenyDefault wrap theirs, as they may answer on a library user's mux.
func harden(w http.ResponseWriter) *hardened {
	if h, ok := w.(*hardened); ok {
		return h
	}
	return &hardened{ResponseWriter: w}
}

func (w *hardened) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		hardenHeaders(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *hardened) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *hardened) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// The values hardenHeaders sets, allocated once: every answer carries
// them. Each slice has length and capacity 1, so a later Add to the same
// header copies it rather than writing into it.
var (
	nosniff = []string{"nosniff"}
	noStore = []string{"no-store"}
)

func hardenHeaders(h http.Header) {
	// The keys are canonical already: assigning skips canonicalising them.
	h["X-Content-Type-Options"] = nosniff
	if cc := h["Cache-Control"]; len(cc) == 0 || cc[0] == "" || setsTokenCookie(h) {
		h["Cache-Control"] = noStore
	}
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
	}
}

// setsTokenCookie reports whether an answer sets or clears one of propusk's
// cookies, under either naming (see Config.HostCookies).
func setsTokenCookie(h http.Header) bool {
	for _, c := range h.Values("Set-Cookie") {
		name, _, _ := strings.Cut(c, "=")
		switch strings.TrimPrefix(name, hostPrefix) {
		case CookieAccess, CookieRefresh, CookieXSRF:
			return true
		}
	}
	return false
}
