package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/propusk/propusk"
)

// statuses maps every propusk error code to its HTTP status: the one place
// where domain errors meet HTTP.
var statuses = map[string]int{
	propusk.EINVALID:       http.StatusBadRequest,
	propusk.ENOTFOUND:      http.StatusNotFound,
	propusk.ECONFLICT:      http.StatusConflict,
	propusk.EUNAVAILABLE:   http.StatusServiceUnavailable,
	propusk.EINTERNAL:      http.StatusInternalServerError,
	propusk.ELOGINTAKEN:    http.StatusConflict,
	propusk.ECREDENTIALS:   http.StatusUnauthorized,
	propusk.ETOOMANY:       http.StatusTooManyRequests,
	propusk.ETOKENREQUIRED: http.StatusForbidden,
	propusk.ETOKENEXPIRED:  http.StatusForbidden,
	propusk.ETOKENINVALID:  http.StatusForbidden,
	propusk.ETOKENREUSED:   http.StatusForbidden,
	propusk.EFORBIDDEN:     http.StatusForbidden,
	propusk.ECSRF:          419, // Laravel's "page expired"; net/http has no name for it
	propusk.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	propusk.EMEDIATYPE:     http.StatusUnsupportedMediaType,
	propusk.EMETHOD:        http.StatusMethodNotAllowed,
}

// Status returns the HTTP status for err's code.
func Status(err error) int {
	if s, ok := statuses[propusk.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Error writes err as a JSON error answer. Internal and unavailable errors
// are logged with their detail and answered with a generic message; client
// errors are not logged, so a flood of bad tokens cannot flood the log. The
// log names the route pattern, never the path, which may carry a token. A
// Server's own answers also bound the rate of the lines (Server.record).
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if log != nil && logged(err) {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", route(r), "err", err)
	}
	writeError(w, err)
}

// fail is Error for the Server's own answers, logged at a bounded rate.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if logged(err) {
		s.record(r, "request failed", err)
	}
	writeError(w, err)
}

// lateError logs an error a handler returned after it had begun its
// answer. There is nothing left to tell the client (a second answer would
// be appended to the first), but the operator should know; a client that
// went away is not news.
func (s *Server) lateError(r *http.Request, err error) {
	if !errors.Is(err, context.Canceled) {
		s.record(r, "request failed after its answer was sent", err)
	}
}

// logged reports whether a failed request's error goes to the log: the
// server's failures, not the client's, and not a client that went away.
func logged(err error) bool {
	code := propusk.ErrorCode(err)
	return (code == propusk.EINTERNAL || code == propusk.EUNAVAILABLE) && !errors.Is(err, context.Canceled)
}

// serverMessages are what clients read for the errors that are the server's,
// not theirs. The detail of those (a missing schema and the command that
// fixes it, a busy database) is for the operator and goes to the log only.
var serverMessages = map[string]string{
	propusk.EINTERNAL:    "internal error",
	propusk.EUNAVAILABLE: "the service is temporarily unavailable; try again shortly",
}

// writeError answers err as JSON: the client's own errors with their
// message, the server's with a generic one.
func writeError(w http.ResponseWriter, err error) {
	w = harden(w) // it answers on a library user's mux too
	code := propusk.ErrorCode(err)
	msg, serverSide := serverMessages[code]
	if !serverSide {
		msg = propusk.ErrorMessage(err)
	}
	setRetryAfter(w, err)
	writeJSON(w, Status(err), ErrorBody{Error: code, Message: msg})
}

// errorLogEvery is how often a class of failed request (code and client
// message: "store_unavailable: the database cannot write") is logged after
// its first occurrence. A full disk fails every request, and one line per
// request would bury the first, useful one and fill the disk the logs share.
const errorLogEvery = 10 * time.Second

// record logs a failed request's error under msg, unless its class was logged less
// than errorLogEvery ago; the next line of the class counts those left out.
func (s *Server) record(r *http.Request, msg string, err error) {
	ok, suppressed := s.errs.admit(msg + ": " + propusk.ErrorCode(err) + ": " + propusk.ErrorMessage(err))
	if !ok {
		return
	}
	args := []any{"method", r.Method, "route", route(r), "err", err}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	s.log.ErrorContext(r.Context(), msg, args...)
}

// setRetryAfter sets Retry-After when err says how long the client should
// wait (a 429's budget window). It is whole seconds, rounded up, so a client
// that waits that long is not refused again.
func setRetryAfter(w http.ResponseWriter, err error) {
	var e *propusk.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
}

// jsonType is the Content-Type of every JSON answer.
const jsonType = "application/json; charset=utf-8"

func writeJSON(w http.ResponseWriter, status int, v any) {
	// No Cache-Control: the hardened writer makes every answer no-store
	// unless its handler chose caching.
	w.Header()["Content-Type"] = jsonContentValue
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// edgeStatus is the status auth.verify answers for err. Proxies act on 401
// and 403 only: every credential failure is 401 (no usable credential, the
// proxy sends a browser to get one) and every unmet requirement, CSRF
// included, 403.
func edgeStatus(err error) int {
	switch propusk.ErrorCode(err) {
	case propusk.ETOKENREQUIRED, propusk.ETOKENEXPIRED, propusk.ETOKENINVALID, propusk.ETOKENREUSED:
		return http.StatusUnauthorized
	case propusk.EFORBIDDEN, propusk.ECSRF:
		return http.StatusForbidden
	}
	return Status(err)
}
