package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/propusk/propusk/internal/status"
)

// RedactQuery returns the query with every value replaced, so a request
// log never carries a token. Values are dropped rather than picked out by
// name: a list of "sensitive" names misses the next one (a jwt=, a key=, a
// token in a redirect target's own query, or one encoded twice), and any
// value can be a secret. Only the names stay, and only when they look like
// names: a bare ?eyJ… is redacted whole.
func RedactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	if out, ok := redactPlain(raw); ok {
		return out
	}
	return redactParsed(raw)
}

// redactPlain is RedactQuery without url.Values, for the common query whose
// names are all plain and whose values are well escaped (every request is
// logged): ok is false for any other, which redactParsed then reads. It
// spells the answer as url.Values.Encode does: names sorted, one
// name=REDACTED per value.
func redactPlain(raw string) (string, bool) {
	var keys [8]string
	names := keys[:0]
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if !plain(32, k) || !wellEscaped(v) {
			return "", false
		}
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	b.Grow(len(names) * (len("=REDACTED&") + 8))
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteString("=REDACTED")
	}
	return b.String(), true
}

// wellEscaped reports whether url.ParseQuery takes v as a value: no ';'
// and every '%' followed by two hexadecimal digits.
func wellEscaped(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ';':
			return false
		case '%':
			if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// redactParsed is RedactQuery through url.ParseQuery, for any query.
func redactParsed(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "(unparsable query)"
	}
	out := url.Values{}
	for k, vs := range q {
		if !plain(32, k) {
			k = "REDACTED"
		}
		for range vs {
			out.Add(k, "REDACTED")
		}
	}
	return out.Encode()
}

// plain reports whether s looks like a name and not like a value: 1 to max
// bytes of letters, digits, "_", "-" and ".". Query parameter names and
// request ids are logged only when they are plain.
func plain(max int, s string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// route is what a log line says of a request's path; see status.Route.
func route(r *http.Request) string { return status.Route(r) }

// LogRequests logs one line per request: method, the route pattern that
// served it, the query's parameter names, status and duration. It never logs
// the path, query values, headers or cookies, where tokens live.
func LogRequests(log *slog.Logger, h http.Handler) http.Handler {
	return LogRequestsAs(log, AccessLog{}, h) // the zero policy logs every request
}
