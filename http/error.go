package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

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

// serverMessages are what clients read for the errors that are the server's,
// not theirs. The detail of those (a missing schema and the command that
// fixes it, a busy database) is for the operator and goes to the log only.
var serverMessages = map[string]string{
	propusk.EINTERNAL:    "internal error",
	propusk.EUNAVAILABLE: "the service is temporarily unavailable; try again shortly",
}

// Error writes err as a JSON error answer. Internal and unavailable errors
// are logged with their detail and answered with a generic message; client
// errors are not logged, so a flood of bad tokens cannot flood the log. The
// log names the route pattern, never the path, which may carry a token.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := propusk.ErrorCode(err)
	status := Status(err)
	msg, serverSide := serverMessages[code]
	if serverSide && !errors.Is(err, context.Canceled) {
		if log != nil {
			log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", route(r), "err", err)
		}
	}
	if !serverSide {
		msg = propusk.ErrorMessage(err)
	}
	writeJSON(w, status, ErrorBody{Error: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
