package token_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/token"
)

var update = flag.Bool("update", false, "rewrite testdata/hostile.json")

// The fixtures are signed with this test-only key (its seed is in
// testdata/key.json) at this time, so they stay meaningful when committed.
var fixtureNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type fixtureKey struct {
	KID        string `json:"kid"`
	Seed       []byte `json:"seed"`
	RefreshKID string `json:"refresh_kid"`
	Refresh    []byte `json:"refresh"`
}

func fixtureTokens(t testing.TB) (*token.Tokens, fixtureKey) {
	t.Helper()
	b, err := os.ReadFile("testdata/key.json")
	if err != nil {
		t.Fatal(err)
	}
	var k fixtureKey
	if err := json.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(k.Seed)
	ks, err := token.NewKeyset(
		[]token.AccessKey{{ID: k.KID, Private: priv, Public: priv.Public().(ed25519.PublicKey), CreatedAt: fixtureNow}},
		[]token.RefreshKey{{ID: k.RefreshKID, Secret: k.Refresh, CreatedAt: fixtureNow}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return token.New(ks, token.Config{Rand: zeroReader{}, Now: func() time.Time { return fixtureNow }, CacheSize: -1}), k
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

type hostile struct {
	Name  string `json:"name"`
	Token string `json:"token"`
	// Want is the error code VerifyAccess must return; "" means valid.
	Want string `json:"want"`
	// Message is a word the error's message must contain.
	Message string `json:"message,omitempty"`
	// Refresh marks a refresh-token fixture: Want is then what VerifyRefresh
	// must return, and VerifyAccess must refuse it.
	Refresh bool `json:"refresh,omitempty"`
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// makeHostile builds the fixtures: every attack on a JWT verifier we know of.
func makeHostile(t *testing.T, tk *token.Tokens, k fixtureKey) []hostile {
	priv := ed25519.NewKeyFromSeed(k.Seed)
	claims := map[string]any{"exp": fixtureNow.Add(time.Hour).Unix(), "iat": fixtureNow.Unix(), "jti": "j1", "iss": "propusk", "sid": "s1", "level": 0, "boards": []string{"*"}}
	sign := func(h map[string]any, c map[string]any, key ed25519.PrivateKey) string {
		in := b64(h) + "." + b64(c)
		return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(in)))
	}
	good := sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, claims, priv)
	admin := map[string]any{}
	for k, v := range claims {
		admin[k] = v
	}
	admin["level"] = 30
	parts := strings.Split(good, ".")
	_, other, _ := ed25519.GenerateKey(zeroReader{})
	hs := func(h map[string]any, key []byte) string {
		in := b64(h) + "." + b64(claims)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	expired := map[string]any{}
	for k, v := range claims {
		expired[k] = v
	}
	expired["exp"] = fixtureNow.Add(-time.Minute).Unix()
	wrongIss := map[string]any{}
	for k, v := range claims {
		wrongIss[k] = v
	}
	wrongIss["iss"] = "someone-else"
	refresh, err := tk.SignRefresh(&token.RefreshClaims{ExpiresAt: token.NewNumericDate(fixtureNow.Add(time.Hour)), SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []hostile{
		{"ok/genuine", good, "", "", false},
		{"fail/alg-none", b64(map[string]any{"alg": "none", "typ": "at+jwt", "kid": k.KID}) + "." + b64(claims) + ".", propusk.ETOKENINVALID, "algorithm", false},
		{"fail/alg-none-uppercase", b64(map[string]any{"alg": "NONE", "typ": "at+jwt", "kid": k.KID}) + "." + b64(claims) + ".", propusk.ETOKENINVALID, "algorithm", false},
		{"fail/hs256-with-public-key", hs(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": k.KID}, priv.Public().(ed25519.PublicKey)), propusk.ETOKENINVALID, "", false},
		{"fail/hs256-with-refresh-key", hs(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": k.RefreshKID}, k.Refresh), propusk.ETOKENINVALID, "", false},
		{"fail/tampered-payload", parts[0] + "." + b64(admin) + "." + parts[2], propusk.ETOKENINVALID, "signature", false},
		{"fail/signed-by-another-key", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, claims, other), propusk.ETOKENINVALID, "signature", false},
		{"fail/unknown-kid", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "nope"}, claims, other), propusk.ETOKENINVALID, "unknown", false},
		{"fail/path-kid", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "../../../etc/passwd"}, claims, other), propusk.ETOKENINVALID, "unknown", false},
		{"fail/no-kid", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt"}, claims, priv), propusk.ETOKENINVALID, "unknown", false},
		{"fail/typ-jwt", sign(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": k.KID}, claims, priv), propusk.ETOKENINVALID, "access", false},
		{"fail/refresh-as-access", refresh, propusk.ETOKENINVALID, "not an access token", false},
		{"fail/wrong-issuer", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, wrongIss, priv), propusk.ETOKENINVALID, "", false},
		{"fail/expired", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, expired, priv), propusk.ETOKENEXPIRED, "expired", false},
		{"fail/truncated", good[:len(good)-10], propusk.ETOKENINVALID, "", false},
		{"fail/no-signature", parts[0] + "." + parts[1], propusk.ETOKENINVALID, "", false},
		{"fail/garbage", "garbage", propusk.ETOKENINVALID, "malformed", false},
		{"fail/dots", "...", propusk.ETOKENINVALID, "", false},
		{"fail/empty-segments", "a..c", propusk.ETOKENINVALID, "", false},
		{"fail/not-base64", "é.é.é", propusk.ETOKENINVALID, "", false},
		{"fail/json-array-header", base64.RawURLEncoding.EncodeToString([]byte("[]")) + "." + parts[1] + "." + parts[2], propusk.ETOKENINVALID, "", false},
		{"fail/huge", strings.Repeat("a", token.MaxLen+1), propusk.ETOKENINVALID, "malformed", false},
	}
	return append(cases, strictHostile(k)...)
}

// strictHostile builds the fixtures of one-spelling decoding: a genuine
// token respelled, headers that change how a token must be read, and dates
// in any form but a JSON integer, or in the future. Each is signed with the
// right key, so only the strictness of the verifier refuses it.
func strictHostile(k fixtureKey) []hostile {
	priv := ed25519.NewKeyFromSeed(k.Seed)
	now := fixtureNow.Unix()
	access := func(h, c map[string]any) string {
		head := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}
		claims := map[string]any{"exp": now + 3600, "iat": now, "jti": "j1", "iss": "propusk", "sid": "s1", "level": 0, "boards": []string{"*"}}
		maps.Copy(head, h)
		maps.Copy(claims, c)
		in := b64(head) + "." + b64(claims)
		return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(in)))
	}
	refresh := func(h, c map[string]any) string {
		head := map[string]any{"alg": "HS256", "kid": k.RefreshKID}
		claims := map[string]any{"exp": now + 3600, "jti": "j2", "sid": "s1", "typ": "refresh"}
		maps.Copy(head, h)
		maps.Copy(claims, c)
		in := b64(head) + "." + b64(claims)
		m := hmac.New(sha256.New, k.Refresh)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	good, goodRefresh := access(nil, nil), refresh(nil, nil)
	// A signature with '-' or '_' in it, to respell with '+' or '/'.
	var dashed string
	for i := 0; dashed == ""; i++ {
		if tok := access(nil, map[string]any{"jti": fmt.Sprint("j", i)}); strings.ContainsAny(tok[strings.LastIndexByte(tok, '.'):], "-_") {
			dashed = tok
		}
	}
	plus := strings.NewReplacer("-", "+", "_", "/")
	lastDot := strings.LastIndexByte(dashed, '.')
	const inv, exp = propusk.ETOKENINVALID, propusk.ETOKENEXPIRED
	cases := respellings("fail/spelling/", good, false)
	cases = append(cases, respellings("fail/refresh/", goodRefresh, true)...)
	return append(cases, []hostile{
		{"fail/spelling/plus-slash-signature", dashed[:lastDot] + plus.Replace(dashed[lastDot:]), inv, "malformed", false},
		{"ok/iat-within-leeway", access(nil, map[string]any{"iat": now + 50}), "", "", false},
		{"ok/nbf-past", access(nil, map[string]any{"nbf": now - 60}), "", "", false},
		{"ok/nbf-within-leeway", access(nil, map[string]any{"nbf": now + 50}), "", "", false},

		{"fail/crit-unknown", access(map[string]any{"crit": []string{"x-bound"}, "x-bound": true}, nil), inv, "crit", false},
		{"fail/crit-b64", access(map[string]any{"crit": []string{"b64"}, "b64": false}, nil), inv, "crit", false},
		{"fail/crit-empty", access(map[string]any{"crit": []string{}}, nil), inv, "crit", false},
		{"fail/crit-registered-name", access(map[string]any{"crit": []string{"exp"}}, nil), inv, "crit", false},

		{"fail/date/exp-string", access(nil, map[string]any{"exp": fmt.Sprint(now + 3600)}), inv, "date", false},
		{"fail/date/iat-string", access(nil, map[string]any{"iat": fmt.Sprint(now)}), inv, "date", false},
		{"fail/date/nbf-string", access(nil, map[string]any{"nbf": fmt.Sprint(now)}), inv, "date", false},
		{"fail/date/exp-fraction", access(nil, map[string]any{"exp": float64(now+3600) + 0.5}), inv, "date", false},
		{"fail/date/exp-exponent", access(nil, map[string]any{"exp": json.Number("1.8934596e9")}), inv, "date", false},
		{"fail/date/exp-point-zero", access(nil, map[string]any{"exp": json.Number(fmt.Sprint(now+3600, ".0"))}), inv, "date", false},
		{"fail/date/exp-negative", access(nil, map[string]any{"exp": -1}), inv, "date", false},
		{"fail/date/exp-huge", access(nil, map[string]any{"exp": json.Number("1e300")}), inv, "date", false},
		{"fail/date/exp-beyond-int64", access(nil, map[string]any{"exp": json.Number("99999999999999999999")}), inv, "date", false},
		{"fail/date/exp-year-10000", access(nil, map[string]any{"exp": token.MaxDate + 1}), inv, "date", false},
		{"fail/date/exp-bool", access(nil, map[string]any{"exp": true}), inv, "", false},
		{"fail/date/exp-null", access(nil, map[string]any{"exp": nil}), inv, "", false},
		{"fail/date/exp-object", access(nil, map[string]any{"exp": map[string]any{"$date": now}}), inv, "", false},
		{"fail/date/expired-by-a-second", access(nil, map[string]any{"exp": now - 1}), exp, "expired", false},

		{"fail/iat-future", access(nil, map[string]any{"iat": now + 3600}), inv, "not valid yet", false},
		{"fail/iat-just-past-leeway", access(nil, map[string]any{"iat": now + int64(token.Leeway/time.Second) + 1}), inv, "not valid yet", false},
		{"fail/nbf-future", access(nil, map[string]any{"nbf": now + 3600}), inv, "not valid yet", false},

		{"ok/refresh/genuine", goodRefresh, "", "", true},
		{"fail/refresh/crit", refresh(map[string]any{"crit": []string{"x-bound"}, "x-bound": true}, nil), inv, "crit", true},
		{"fail/refresh/exp-string", refresh(nil, map[string]any{"exp": fmt.Sprint(now + 3600)}), inv, "date", true},
		{"fail/refresh/exp-fraction", refresh(nil, map[string]any{"exp": float64(now+3600) + 0.5}), inv, "date", true},
		{"fail/refresh/exp-negative", refresh(nil, map[string]any{"exp": -1}), inv, "date", true},
		{"fail/refresh/iat-future", refresh(nil, map[string]any{"iat": now + 3600}), inv, "not valid yet", true},
		{"fail/refresh/nbf-future", refresh(nil, map[string]any{"nbf": now + 3600}), inv, "not valid yet", true},
		{"ok/refresh/iat-past", refresh(nil, map[string]any{"iat": now - 60}), "", "", true},
	}...)
}

// respellings returns tok spelled in every other way a lenient base64url
// decoder would read as the same bytes, or nearly: each must be refused as
// malformed, before its signature is checked.
func respellings(prefix, tok string, refresh bool) []hostile {
	// The last character's lowest bit is padding (an Ed25519 signature
	// leaves 4 such bits, an HMAC-SHA256 one 2): flipping it keeps the
	// signature's bytes.
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	paddingBits := tok[:len(tok)-1] + string(alpha[strings.IndexByte(alpha, tok[len(tok)-1])^1])
	sig := strings.LastIndexByte(tok, '.')
	inSignature := func(s string) string { return tok[:sig+20] + s + tok[sig+20:] }
	parts := strings.Split(tok, ".")
	for i, p := range parts {
		b, _ := base64.RawURLEncoding.DecodeString(p)
		parts[i] = base64.StdEncoding.EncodeToString(b)
	}
	h := func(name, spelled string) hostile {
		return hostile{prefix + name, spelled, propusk.ETOKENINVALID, "malformed", refresh}
	}
	return []hostile{
		h("signature-padding-bits", paddingBits),
		h("signature-padded", tok+"=="),
		h("header-padded", strings.Replace(tok, ".", "=.", 1)),
		h("payload-padded", tok[:sig]+"="+tok[sig:]),
		h("standard-base64", strings.Join(parts, ".")),
		h("newline-in-signature", inSignature("\n")),
		h("crlf-in-signature", inSignature("\r\n")),
		h("space-in-signature", inSignature(" ")),
		h("tab-in-signature", inSignature("\t")),
		h("trailing-newline", tok+"\n"),
		h("leading-space", " "+tok),
		h("nul", tok+"\x00"),
	}
}

// TestHostileTokens runs every fixture in testdata/hostile.json through
// VerifyAccess and VerifyRefresh: only the genuine access token passes, and
// each failure names its check.
func TestHostileTokens(t *testing.T) {
	tk, k := fixtureTokens(t)
	if *update {
		b, _ := json.MarshalIndent(makeHostile(t, tk, k), "", "  ")
		if err := os.WriteFile("testdata/hostile.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []hostile
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d fixtures", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Refresh {
				_, err := tk.VerifyRefresh(c.Token)
				if got := propusk.ErrorCode(err); got != c.Want {
					t.Fatalf("VerifyRefresh: code %q (%v), want %q", got, err, c.Want)
				}
				if c.Message != "" && !strings.Contains(propusk.ErrorMessage(err), c.Message) {
					t.Fatalf("message %q does not say %q", propusk.ErrorMessage(err), c.Message)
				}
				if _, err := tk.VerifyAccess(c.Token); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
					t.Fatalf("VerifyAccess accepted a refresh-token fixture: %v", err)
				}
				return
			}
			_, err := tk.VerifyAccess(c.Token)
			if got := propusk.ErrorCode(err); got != c.Want {
				t.Fatalf("VerifyAccess: code %q (%v), want %q", got, err, c.Want)
			}
			if c.Message != "" && !strings.Contains(propusk.ErrorMessage(err), c.Message) {
				t.Fatalf("message %q does not say %q", propusk.ErrorMessage(err), c.Message)
			}
			if c.Name == "fail/refresh-as-access" {
				return
			}
			if _, err := tk.VerifyRefresh(c.Token); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
				t.Fatalf("VerifyRefresh accepted an access-token fixture: %v", err)
			}
		})
	}
}

// TestCacheOneSpelling checks that the verification cache, keyed by the
// exact string, never lets a respelled token through: neither after the
// canonical one was cached, nor before it, in either order.
func TestCacheOneSpelling(t *testing.T) {
	_, k := fixtureTokens(t)
	var canonical string
	for _, c := range strictHostile(k) {
		if c.Name == "ok/nbf-past" {
			canonical = c.Token
		}
	}
	respelled := respellings("", canonical, false)
	newTokens := func() *token.Tokens {
		tk, _ := fixtureTokens(t)
		return token.New(tk.Keyset(), token.Config{Rand: zeroReader{}, Now: func() time.Time { return fixtureNow }})
	}
	for _, r := range respelled {
		t.Run(r.Name, func(t *testing.T) {
			for _, canonicalFirst := range []bool{true, false} {
				tk := newTokens()
				if canonicalFirst {
					if _, err := tk.VerifyAccess(canonical); err != nil {
						t.Fatal(err)
					}
				}
				for range 2 {
					if _, err := tk.VerifyAccess(r.Token); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
						t.Fatalf("canonical first %v: respelled token verified: %v", canonicalFirst, err)
					}
				}
				if _, err := tk.VerifyAccess(canonical); err != nil {
					t.Fatalf("canonical first %v: the canonical token after a respelled one: %v", canonicalFirst, err)
				}
			}
		})
	}
}
