package propusk

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each is the value of the "error" field of a JSON error answer,
// and the web package maps each to one status in one table. Messages that go
// with them are safe to show a client.
const (
	// EINVALID is bad input: a malformed body, a missing field, a value out of range.
	EINVALID = "invalid_input"
	// ENOTFOUND is a thing that does not exist, or that the caller may not see.
	ENOTFOUND = "not_found"
	// ECONFLICT is a write that collides with existing data (a unique key).
	ECONFLICT = "conflict"
	// EUNAVAILABLE is a store that cannot be reached right now.
	EUNAVAILABLE = "store_unavailable"
	// EINTERNAL is everything else; its details are logged, never sent.
	EINTERNAL = "internal"

	// ELOGINTAKEN is a registration whose login already exists.
	ELOGINTAKEN = "login_taken"
	// ECREDENTIALS is a failed login; the answer never says which half was wrong.
	ECREDENTIALS = "invalid_credentials"
	// ETOOMANY is a login refused because of repeated failures.
	ETOOMANY = "too_many_attempts"

	// ETOKENREQUIRED is a protected route called without any token.
	ETOKENREQUIRED = "token_required"
	// ETOKENEXPIRED is an access token past its exp, or a browser whose
	// access-token cookie is gone while its refresh-token cookie remains.
	ETOKENEXPIRED = "token_expired"
	// ETOKENINVALID is a malformed, forged, revoked or otherwise unusable token.
	ETOKENINVALID = "token_invalid"
	// ETOKENREUSED is a refresh token used again after the grace period: the
	// session it belongs to has been revoked.
	ETOKENREUSED = "token_reused"
	// EFORBIDDEN is a valid caller without the level, board or ability needed.
	EFORBIDDEN = "forbidden"
	// ECSRF is a cookie-authenticated state change without a valid CSRF token,
	// or from an origin that is not first-party. Answered with 419, as Laravel does.
	ECSRF = "csrf_mismatch"

	// ETOOLARGE is a request body over the limit.
	ETOOLARGE = "body_too_large"
	// EMEDIATYPE is a request body of a content type the endpoint does not read.
	EMEDIATYPE = "unsupported_media_type"
	// EMETHOD is a path called with a method it does not serve.
	EMETHOD = "method_not_allowed"
)

// Error is propusk's one error type. Code is one of the E* constants; Message
// is written for the client and never carries a secret or internal detail.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when positive, is how long the client should wait before
	// trying again (an ETOOMANY answer's Retry-After header).
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("propusk: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic text for any other error so internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// NoSchemaMessage is the message of the error a store without propusk's
// tables answers: the service was opened before Migrate ran.
const NoSchemaMessage = "the database has no propusk schema: call Migrate first (propusk migrate does)"
