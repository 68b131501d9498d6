package token_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

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
	refresh, err := tk.SignRefresh(&token.RefreshClaims{ExpiresAt: jwt.NewNumericDate(fixtureNow.Add(time.Hour)), SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	return []hostile{
		{"ok/genuine", good, "", ""},
		{"fail/alg-none", b64(map[string]any{"alg": "none", "typ": "at+jwt", "kid": k.KID}) + "." + b64(claims) + ".", propusk.ETOKENINVALID, "algorithm"},
		{"fail/alg-none-uppercase", b64(map[string]any{"alg": "NONE", "typ": "at+jwt", "kid": k.KID}) + "." + b64(claims) + ".", propusk.ETOKENINVALID, "algorithm"},
		{"fail/hs256-with-public-key", hs(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": k.KID}, priv.Public().(ed25519.PublicKey)), propusk.ETOKENINVALID, ""},
		{"fail/hs256-with-refresh-key", hs(map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": k.RefreshKID}, k.Refresh), propusk.ETOKENINVALID, ""},
		{"fail/tampered-payload", parts[0] + "." + b64(admin) + "." + parts[2], propusk.ETOKENINVALID, "signature"},
		{"fail/signed-by-another-key", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, claims, other), propusk.ETOKENINVALID, "signature"},
		{"fail/unknown-kid", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "nope"}, claims, other), propusk.ETOKENINVALID, "unknown"},
		{"fail/path-kid", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "../../../etc/passwd"}, claims, other), propusk.ETOKENINVALID, "unknown"},
		{"fail/no-kid", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt"}, claims, priv), propusk.ETOKENINVALID, "unknown"},
		{"fail/typ-jwt", sign(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": k.KID}, claims, priv), propusk.ETOKENINVALID, "access"},
		{"fail/refresh-as-access", refresh, propusk.ETOKENINVALID, "not an access token"},
		{"fail/wrong-issuer", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, wrongIss, priv), propusk.ETOKENINVALID, ""},
		{"fail/expired", sign(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": k.KID}, expired, priv), propusk.ETOKENEXPIRED, "expired"},
		{"fail/truncated", good[:len(good)-10], propusk.ETOKENINVALID, ""},
		{"fail/no-signature", parts[0] + "." + parts[1], propusk.ETOKENINVALID, ""},
		{"fail/garbage", "garbage", propusk.ETOKENINVALID, "malformed"},
		{"fail/dots", "...", propusk.ETOKENINVALID, ""},
		{"fail/empty-segments", "a..c", propusk.ETOKENINVALID, ""},
		{"fail/not-base64", "é.é.é", propusk.ETOKENINVALID, ""},
		{"fail/json-array-header", base64.RawURLEncoding.EncodeToString([]byte("[]")) + "." + parts[1] + "." + parts[2], propusk.ETOKENINVALID, ""},
		{"fail/huge", strings.Repeat("a", token.MaxLen+1), propusk.ETOKENINVALID, "malformed"},
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
