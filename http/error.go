package http

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

// Error writes err as a JSON error answer. Internal errors are logged with
// their detail and answered with a generic message; client errors are not
// logged, so a flood of bad tokens cannot flood the log.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := propusk.ErrorCode(err)
	status := Status(err)
	if (code == propusk.EINTERNAL || code == propusk.EUNAVAILABLE) && !errors.Is(err, context.Canceled) {
		if log != nil {
			log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	setRetryAfter(w, err)
	writeJSON(w, status, ErrorBody{Error: code, Message: propusk.ErrorMessage(err)})
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
