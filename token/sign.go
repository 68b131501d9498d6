package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk/internal/hmacpool"
	"github.com/propusk/propusk/internal/jsonstr"
)

// Tokens are signed here without golang-jwt, and the tokens propusk issued
// itself are verified here first, because these run on every token.obtain,
// token.renew and uncached request and golang-jwt spends a good share of
// their CPU on generic JSON: it marshals the header from a map (sorting
// its keys) and the claims by reflection, and decodes every header into a
// map. What is done here instead:
//
//   - The header of each key is marshalled once, when the Keyset is built,
//     exactly as golang-jwt would (json.Marshal of the same map), and kept
//     base64url-encoded.
//   - The claims are appended field by field in their struct's order, each
//     value spelled as encoding/json spells it (package jsonstr), so the
//     bytes are those of json.Marshal; TestSignMatchesJWT holds the result to golang-jwt's
//     token, byte for byte. Ed25519 and HMAC-SHA256 are deterministic, so
//     the tokens are the same as before.
//   - A token whose header segment is byte for byte one of those headers
//     says exactly what golang-jwt would read from it (alg, kid, typ, no
//     crit), so its header needs no decoding: verify decodes the claims as
//     golang-jwt does (strict base64url, then json.Unmarshal into the
//     claims) and checks the signature. Anything else, or any failure
//     before the signature check, goes to golang-jwt, which then decides
//     and names the error; a bad signature answers errSignature, as
//     golang-jwt's path does. So the fast path only ever accepts what
//     golang-jwt accepts.

// strict is the decoding golang-jwt's parsers use (jwt.WithStrictDecoding).
var strict = base64.RawURLEncoding.Strict()

// headerSegment is the base64url header segment golang-jwt writes for a
// token of alg, kid and typ.
func headerSegment(alg, kid, typ string) string {
	b, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": typ}) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// signEdDSA returns the token of header segment head and claims, signed
// with key.
func signEdDSA(head string, claims []byte, key ed25519.PrivateKey) string {
	b := signingInput(head, claims, ed25519.SignatureSize)
	sig := ed25519.Sign(key, b)
	return string(appendSignature(b, sig))
}

// signHS256 returns the token of header segment head and claims, signed
// with secret.
func signHS256(head string, claims []byte, key *hmacpool.Key) string {
	b := signingInput(head, claims, sha256.Size)
	var sum [sha256.Size]byte
	return string(appendSignature(b, key.Sum(sum[:0], b)))
}

// signingInput returns head.claims (claims base64url-encoded), in a buffer
// with room for a signature of n bytes.
func signingInput(head string, claims []byte, n int) []byte {
	enc := base64.RawURLEncoding
	b := make([]byte, 0, len(head)+1+enc.EncodedLen(len(claims))+1+enc.EncodedLen(n))
	b = append(b, head...)
	b = append(b, '.')
	return enc.AppendEncode(b, claims)
}

func appendSignature(b, sig []byte) []byte {
	b = append(b, '.')
	return base64.RawURLEncoding.AppendEncode(b, sig)
}

// segments splits a token into its three segments.
func segments(s string) (head, claims, sig string, ok bool) {
	head, rest, ok1 := strings.Cut(s, ".")
	claims, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return "", "", "", false
	}
	return head, claims, sig, true
}

// verdict is what the fast path decided.
type verdict int

const (
	undecided verdict = iota // golang-jwt must decide
	verified                 // the signature is good and the claims decoded
	forged                   // the signature is bad: errSignature
)

// verifyOwn is the fast path for a token whose header segment is one of
// heads: it decodes the claims into c and checks the signature with check.
func verifyOwn[K any](s string, heads map[string]K, c any, check func(key K, input string, sig []byte) bool) verdict {
	head, claims, sig, ok := segments(s)
	if !ok {
		return undecided
	}
	key, ok := heads[head]
	if !ok {
		return undecided
	}
	cb, err := strict.DecodeString(claims)
	if err != nil || decodeClaims(cb, c) != nil {
		return undecided
	}
	sb, err := strict.DecodeString(sig)
	if err != nil {
		return undecided
	}
	if !check(key, s[:len(head)+1+len(claims)], sb) {
		return forged
	}
	return verified
}

func checkEdDSA(key ed25519.PublicKey, input string, sig []byte) bool {
	return ed25519.Verify(key, []byte(input), sig)
}

func checkHS256(key *hmacpool.Key, input string, sig []byte) bool {
	var sum [sha256.Size]byte
	return hmac.Equal(sig, key.Sum(sum[:0], []byte(input)))
}

// appendAccessClaims appends c as json.Marshal spells it.
func appendAccessClaims(b []byte, c *AccessClaims) []byte {
	b = append(b, `{"iss":`...)
	b = jsonstr.Append(b, c.Issuer)
	if c.Subject != "" {
		b = append(b, `,"sub":`...)
		b = jsonstr.Append(b, c.Subject)
	}
	b = append(b, `,"exp":`...)
	b = appendDate(b, c.ExpiresAt)
	b = append(b, `,"iat":`...)
	b = appendDate(b, c.IssuedAt)
	if c.NotBefore != nil {
		b = append(b, `,"nbf":`...)
		b = appendDate(b, c.NotBefore)
	}
	b = append(b, `,"jti":`...)
	b = jsonstr.Append(b, c.ID)
	b = append(b, `,"sid":`...)
	b = jsonstr.Append(b, c.SessionID)
	if c.UserID != 0 {
		b = append(b, `,"_id":`...)
		b = strconv.AppendInt(b, c.UserID, 10)
	}
	b = append(b, `,"level":`...)
	b = strconv.AppendInt(b, int64(c.Level), 10)
	b = append(b, `,"boards":`...)
	b = jsonstr.AppendList(b, c.Boards)
	return append(b, '}')
}

// appendRefreshClaims appends c as json.Marshal spells it.
func appendRefreshClaims(b []byte, c *RefreshClaims) []byte {
	b = append(b, `{"exp":`...)
	b = appendDate(b, c.ExpiresAt)
	if c.IssuedAt != nil {
		b = append(b, `,"iat":`...)
		b = appendDate(b, c.IssuedAt)
	}
	if c.NotBefore != nil {
		b = append(b, `,"nbf":`...)
		b = appendDate(b, c.NotBefore)
	}
	b = append(b, `,"jti":`...)
	b = jsonstr.Append(b, c.ID)
	b = append(b, `,"sid":`...)
	b = jsonstr.Append(b, c.SessionID)
	b = append(b, `,"typ":`...)
	b = jsonstr.Append(b, c.Type)
	if c.UserID != 0 {
		b = append(b, `,"_id":`...)
		b = strconv.AppendInt(b, c.UserID, 10)
	}
	if c.Fork != "" {
		b = append(b, `,"fork":`...)
		b = jsonstr.Append(b, c.Fork)
	}
	if c.Generation != 0 {
		b = append(b, `,"gen":`...)
		b = strconv.AppendInt(b, c.Generation, 10)
	}
	return append(b, '}')
}

// appendDate appends d as jwt.NumericDate marshals it at golang-jwt's
// default precision (whole seconds), or null.
func appendDate(b []byte, d *NumericDate) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, d.Truncate(time.Second).Unix(), 10)
}
