package token

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/propusk/propusk"
)

// A token has exactly one accepted spelling. golang-jwt, by default, decodes
// base64url leniently (non-zero padding bits; and Go's decoder skips '\r' and
// '\n' anywhere), so a signature could be respelled and still verify. Such a
// twin would be a second cache key, a second string for a deny list, and
// the tell-tale of a verifier that parses what it should refuse. So:
//
//   - wellFormed refuses line breaks, which Go's base64 decoders skip;
//   - the parsers decode with jwt.WithStrictDecoding and unpadded
//     base64url, which refuse every other byte outside the alphabet ('=',
//     '+', '/', whitespace) and non-zero padding bits;
//   - a "crit" header is refused (RFC 7515 §4.1.11: we understand no
//     extension, so none may be critical);
//   - dates are NumericDate: JSON integers only.
//
// With every spelling but one refused before the signature check, the
// verification cache, keyed by the exact string, can only ever hold and hit
// canonical tokens.

// Leeway is how far in the future a token's iat or nbf may lie: the clock
// skew tolerated between the processes that issue and verify a token. exp
// gets none: a token expires when it says.
const Leeway = time.Minute

// MaxDate is the latest date a token may carry: the last second of year
// 9999. Later ones are hostile, and would overflow time arithmetic.
const MaxDate = 253402300799

var (
	errCrit   = propusk.Errorf(propusk.ETOKENINVALID, "the token has a critical header extension (crit), which is not supported")
	errNotYet = propusk.Errorf(propusk.ETOKENINVALID, "the token is not valid yet: its iat or nbf is in the future")
)

// wellFormed reports whether s is short enough to read and free of line
// breaks. The strict base64url decoder refuses every other byte outside its
// alphabet ('=', '+', '/', spaces, NUL), but Go's decoders skip '\r' and
// '\n' wherever they are, so those are looked for here, with IndexByte's
// vectorised scan rather than a byte loop: this runs on every request.
func wellFormed(s string) bool {
	return len(s) <= MaxLen && strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, '\r') < 0
}

// newParser returns a parser for tokens signed with alg, decoding strictly.
func newParser(alg string, opts ...jwt.ParserOption) *jwt.Parser {
	return jwt.NewParser(append([]jwt.ParserOption{
		jwt.WithValidMethods([]string{alg}),
		jwt.WithStrictDecoding(),
	}, opts...)...)
}

// checkHeader refuses header parameters that would change how the token
// must be read. It runs from the key functions, before the signature check.
func checkHeader(tok *jwt.Token) error {
	if _, ok := tok.Header["crit"]; ok {
		return errCrit
	}
	return nil
}

// errNoExpiry is a token without exp: propusk issues none, and accepts none.
var errNoExpiry = propusk.Errorf(propusk.ETOKENINVALID, "the token has no expiry (exp)")

// checkDates refuses a token without exp or past it (answering expired),
// and one issued or valid from later than now plus Leeway. The parsers leave
// claims to it rather than to golang-jwt's validator: it is one pass over
// three dates, on the path every request takes.
func checkDates(now time.Time, expired error, exp, iat, nbf *NumericDate) error {
	if exp == nil {
		return errNoExpiry
	}
	if !now.Before(exp.Time) {
		return expired
	}
	return checkNotYet(now, iat, nbf)
}

// checkNotYet refuses a token issued, or valid from, later than now plus
// Leeway. golang-jwt's own check (WithIssuedAt, WithLeeway) would apply the
// leeway to exp too, extending every token's life and disagreeing with the
// cache, which checks exp exactly.
func checkNotYet(now time.Time, dates ...*NumericDate) error {
	limit := now.Add(Leeway)
	for _, d := range dates {
		if d != nil && d.After(limit) {
			return errNotYet
		}
	}
	return nil
}

// NumericDate is a JWT date (RFC 7519 §2) in whole seconds since the epoch.
// Unlike jwt.NumericDate, which also takes strings ("exp": "1893459600"),
// fractions and exponents, it decodes only a JSON integer from 0 to MaxDate:
// the only form propusk writes.
type NumericDate struct{ jwt.NumericDate }

// NewNumericDate returns t, truncated to the second, as a NumericDate.
func NewNumericDate(t time.Time) *NumericDate {
	return &NumericDate{jwt.NumericDate{Time: t.Truncate(time.Second)}}
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	// encoding/json has already checked b is one valid JSON value, so
	// digits alone mean a non-negative integer without leading zeros.
	if len(b) == 0 || len(b) > 12 {
		return errDate
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return errDate
		}
		n = n*10 + int64(c-'0')
	}
	if n > MaxDate {
		return errDate
	}
	d.Time = time.Unix(n, 0)
	return nil
}

var errDate = propusk.Errorf(propusk.ETOKENINVALID, "the token's claims are invalid: a date must be an integer number of seconds")

// jwtDate adapts d for golang-jwt's validator.
func (d *NumericDate) jwtDate() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}
