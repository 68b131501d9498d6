package token_test

import (
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/token"
)

// TestAssertionIsNoAccessToken: an assertion is signed by the access key,
// so every JWKS verifier checks its signature, and is refused wherever an
// access or refresh token is expected.
func TestAssertionIsNoAccessToken(t *testing.T) {
	tk, k := fixtureTokens(t)
	a, err := tk.SignAssertion(&token.AssertionClaims{
		Audience: "https://api.example", UserID: 42, Level: 10, Boards: []string{"a"}, Abilities: []string{"*"},
		SessionID: "s", Via: propusk.ViaAccessToken,
		IssuedAt: token.NewNumericDate(fixtureNow), ExpiresAt: token.NewNumericDate(fixtureNow.Add(time.Minute)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h, c := testenv.JWTHeader(t, a), testenv.JWTClaims(t, a)
	if h["typ"] != token.AssertionType || h["alg"] != "EdDSA" || h["kid"] != k.KID {
		t.Errorf("header %v", h)
	}
	if c["iss"] != "propusk" || c["aud"] != "https://api.example" || c["sub"] != "42" || c["_id"] != 42.0 || c["jti"] == "" {
		t.Errorf("claims %v", c)
	}
	for name, verify := range map[string]func(string) error{
		"access":  func(s string) error { _, err := tk.VerifyAccess(s); return err },
		"refresh": func(s string) error { _, err := tk.VerifyRefresh(s); return err },
	} {
		if err := verify(a); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
			t.Errorf("%s: an assertion gets %v, want token_invalid", name, err)
		}
	}
}
