package token

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func signTokens(t *testing.T) *Tokens {
	t.Helper()
	now := time.Unix(1_800_000_000, 0)
	ak, _ := GenerateAccessKey(rand.Reader, now)
	rk, _ := GenerateRefreshKey(rand.Reader, now)
	ks, err := NewKeyset([]AccessKey{ak}, []RefreshKey{rk})
	if err != nil {
		t.Fatal(err)
	}
	return New(ks, Config{Rand: rand.Reader, Now: func() time.Time { return now }, CacheSize: -1})
}

// hostileStrings are strings that encoding/json escapes, each in its own way.
var hostileStrings = []string{
	`quote"d`, `back\slash`, "<script>&amp;", "line\nbreak", "tab\t", "\x00nul", "\x7fdel",
	"кириллица", "emoji 🙂", "\u2028sep\u2029", "bad utf-8 \xff\xfe", "", "*",
}

// TestSignMatchesJWT: the tokens signed without golang-jwt are, byte for
// byte, those golang-jwt signs for the same claims and keys, whatever the
// strings in them; and they verify.
func TestSignMatchesJWT(t *testing.T) {
	tk := signTokens(t)
	ks := tk.Keyset()
	now := time.Unix(1_800_000_000, 0)
	date := NewNumericDate
	access := []*AccessClaims{
		{ExpiresAt: date(now.Add(15 * time.Minute)), IssuedAt: date(now), SessionID: "sid", Boards: []string{"*"}},
		{ExpiresAt: date(now.Add(time.Minute)), IssuedAt: date(now), SessionID: "sid", UserID: 42, Level: 30, Boards: []string{"b", "c"}},
		{ExpiresAt: date(now.Add(time.Minute)), SessionID: "no iat", Boards: nil},
		{ExpiresAt: date(now.Add(time.Minute)), IssuedAt: date(now), NotBefore: date(now), SessionID: "nbf", Level: -1, Boards: []string{}},
		{ExpiresAt: date(now.Add(time.Minute).Add(999 * time.Millisecond)), IssuedAt: date(now), SessionID: "millis", Boards: []string{}},
		{ExpiresAt: date(now.Add(time.Minute)), IssuedAt: date(now), SessionID: "hostile", UserID: -7, Boards: hostileStrings},
	}
	for _, s := range hostileStrings {
		access = append(access, &AccessClaims{ExpiresAt: date(now), IssuedAt: date(now), ID: s, SessionID: s, Boards: []string{s}})
	}
	for i, c := range access {
		want := *c
		got, err := tk.SignAccess(c)
		if err != nil {
			t.Fatal(err)
		}
		want.Issuer, want.ID, want.Boards, want.Subject = c.Issuer, c.ID, c.Boards, c.Subject
		ref := jwt.NewWithClaims(jwt.SigningMethodEdDSA, &want)
		ref.Header["kid"], ref.Header["typ"] = ks.signer.ID, AccessType
		wantTok, err := ref.SignedString(ks.signer.Private)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantTok {
			t.Errorf("access %d: signed\n%s\nwant\n%s", i, got, wantTok)
		}
		if b, _ := json.Marshal(c); string(appendAccessClaims(nil, c)) != string(b) {
			t.Errorf("access %d: claims %s, json.Marshal %s", i, appendAccessClaims(nil, c), b)
		}
	}
	refresh := []*RefreshClaims{
		{ExpiresAt: date(now.Add(time.Hour)), SessionID: "anon"},
		{ExpiresAt: date(now.Add(time.Hour)), SessionID: "user", UserID: 9, Fork: "fork", Generation: 12},
		{ExpiresAt: date(now.Add(time.Hour)), IssuedAt: date(now), NotBefore: date(now), SessionID: `"<&>"`, Fork: "\u2028"},
		{SessionID: "no exp"},
	}
	for i, c := range refresh {
		got, err := tk.SignRefresh(c)
		if err != nil {
			t.Fatal(err)
		}
		ref := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
		ref.Header["kid"] = ks.refreshKey.ID
		wantTok, err := ref.SignedString(ks.refreshKey.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantTok {
			t.Errorf("refresh %d: signed\n%s\nwant\n%s", i, got, wantTok)
		}
	}
	a := &AssertionClaims{Audience: "app <&>", UserID: 3, Boards: hostileStrings, Abilities: []string{"*"}, SessionID: "s", Via: "cookie",
		ExpiresAt: date(now.Add(time.Minute)), IssuedAt: date(now)}
	got, err := tk.SignAssertion(a)
	if err != nil {
		t.Fatal(err)
	}
	ref := jwt.NewWithClaims(jwt.SigningMethodEdDSA, a)
	ref.Header["kid"], ref.Header["typ"] = ks.signer.ID, AssertionType
	if wantTok, _ := ref.SignedString(ks.signer.Private); got != wantTok {
		t.Errorf("assertion: signed\n%s\nwant\n%s", got, wantTok)
	}
	if _, err := tk.VerifyAccess(mustSign(t, tk)); err != nil {
		t.Errorf("a signed access token does not verify: %v", err)
	}
}

func mustSign(t *testing.T, tk *Tokens) string {
	t.Helper()
	now := tk.cfg.Now()
	s, err := tk.SignAccess(&AccessClaims{ExpiresAt: NewNumericDate(now.Add(time.Minute)), IssuedAt: NewNumericDate(now), SessionID: "s", UserID: 1, Level: 10, Boards: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFastPathAgreesWithJWT: a token with one of propusk's own headers,
// spoiled in every way the fast path of verification could see, gets the
// answer golang-jwt's path gives it: the same claims, or the same error.
func TestFastPathAgreesWithJWT(t *testing.T) {
	tk := signTokens(t)
	ks := tk.Keyset()
	now := tk.cfg.Now()
	good := mustSign(t, tk)
	head, claims, sig, _ := segments(good)
	enc := base64.RawURLEncoding
	ed := func(c string) string {
		in := head + "." + enc.EncodeToString([]byte(c))
		return in + "." + enc.EncodeToString(ed25519.Sign(ks.signer.Private, []byte(in)))
	}
	rt, _ := tk.SignRefresh(&RefreshClaims{ExpiresAt: NewNumericDate(now.Add(time.Hour)), SessionID: "s", UserID: 1})
	rhead, rclaims, rsig, _ := segments(rt)
	hs := func(c string) string {
		in := rhead + "." + enc.EncodeToString([]byte(c))
		m := hmac.New(sha256.New, ks.refreshKey.Secret)
		m.Write([]byte(in))
		return in + "." + enc.EncodeToString(m.Sum(nil))
	}
	access := map[string]string{
		"ok/genuine":                 good,
		"fail/flipped-signature":     head + "." + claims + "." + flip(sig, 3),
		"fail/short-signature":       head + "." + claims + "." + sig[:20],
		"fail/padded-signature":      head + "." + claims + "." + sig + "==",
		"fail/signature-not-base64":  head + "." + claims + "." + strings.Repeat("*", len(sig)),
		"fail/non-zero-padding-bits": head + "." + claims + "." + sig[:len(sig)-1] + "x",
		"fail/claims-not-base64":     head + ".!!!." + sig,
		"fail/claims-not-json":       ed("not json"),
		"fail/claims-array":          ed(`[]`),
		"fail/string-date":           ed(`{"iss":"propusk","exp":"1900000000","jti":"j","sid":"s","level":0,"boards":[]}`),
		"fail/float-date":            ed(`{"iss":"propusk","exp":1.9e9,"jti":"j","sid":"s","level":0,"boards":[]}`),
		"fail/no-boards":             ed(`{"iss":"propusk","exp":1900000000,"jti":"j","sid":"s","level":0}`),
		"fail/expired":               ed(`{"iss":"propusk","exp":1700000000,"jti":"j","sid":"s","level":0,"boards":[]}`),
		"fail/four-segments":         good + ".x",
		"fail/two-segments":          head + "." + claims,
		"fail/refresh-as-access":     rt,
		"ok/odd-but-valid":           ed(`{"iss":"propusk","exp":1900000000,"jti":"j","sid":"s","level":0,"boards":[],"extra":{"a":[1]}}`),
	}
	for name, s := range access {
		t.Run("access/"+name, func(t *testing.T) {
			got, err := tk.VerifyAccess(s)
			want, werr := slowAccess(tk, s)
			if !sameError(err, werr) || (err == nil && !sameJSON(got, want)) {
				t.Errorf("fast path: %+v, %v; golang-jwt: %+v, %v", got, err, want, werr)
			}
			if strings.HasPrefix(name, "ok/") != (err == nil) {
				t.Errorf("err = %v", err)
			}
		})
	}
	refresh := map[string]string{
		"ok/genuine":             rt,
		"fail/flipped-signature": rhead + "." + rclaims + "." + flip(rsig, 5),
		"fail/claims-not-json":   hs("{"),
		"fail/not-refresh":       hs(`{"exp":1900000000,"jti":"j","sid":"s","typ":"access"}`),
		"fail/access-as-refresh": good,
	}
	for name, s := range refresh {
		t.Run("refresh/"+name, func(t *testing.T) {
			got, err := tk.VerifyRefresh(s)
			want, werr := slowRefresh(tk, s)
			if !sameError(err, werr) || (err == nil && !sameJSON(got, want)) {
				t.Errorf("fast path: %+v, %v; golang-jwt: %+v, %v", got, err, want, werr)
			}
			if strings.HasPrefix(name, "ok/") != (err == nil) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// flip changes the base64url character at i of s.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == c {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// slowAccess is VerifyAccess through golang-jwt alone.
func slowAccess(tk *Tokens, s string) (*AccessClaims, error) {
	c := new(AccessClaims)
	if _, err := tk.access.ParseWithClaims(s, c, tk.accessKey); err != nil {
		return nil, classify(err, errExpired, s, "EdDSA", errNotAccess)
	}
	if c.SessionID == "" || c.ID == "" || c.Boards == nil || c.Issuer != tk.cfg.Issuer {
		return nil, errBadClaims
	}
	if err := checkDates(tk.cfg.Now(), errExpired, c.ExpiresAt, c.IssuedAt, c.NotBefore); err != nil {
		return nil, err
	}
	return c, nil
}

// slowRefresh is VerifyRefresh through golang-jwt alone.
func slowRefresh(tk *Tokens, s string) (*RefreshClaims, error) {
	c := new(RefreshClaims)
	if _, err := tk.refresh.ParseWithClaims(s, c, tk.refreshKey); err != nil {
		return nil, classify(err, errRefreshGone, s, "HS256", errNotRefresh)
	}
	if c.Type != RefreshType || c.SessionID == "" {
		return nil, errNotRefresh
	}
	if err := checkDates(tk.cfg.Now(), errRefreshGone, c.ExpiresAt, c.IssuedAt, c.NotBefore); err != nil {
		return nil, err
	}
	return c, nil
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
