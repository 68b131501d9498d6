package token_test

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/token"
)

// TestParseJWKS reads propusk's own JWKS back, and refuses or skips what a
// relying party must not verify with.
func TestParseJWKS(t *testing.T) {
	now := time.Now()
	a1, _ := token.GenerateAccessKey(rand.Reader, now.Add(-time.Hour))
	a2, _ := token.GenerateAccessKey(rand.Reader, now)
	r1, _ := token.GenerateRefreshKey(rand.Reader, now)
	ks, err := token.NewKeyset([]token.AccessKey{a1, a2}, []token.RefreshKey{r1})
	if err != nil {
		t.Fatal(err)
	}
	x := base64.RawURLEncoding.EncodeToString(a1.Public)
	for _, tc := range []struct {
		name string
		jwks string
		kids []string // nil: an error
	}{
		{"ok/propusk", string(ks.JWKS()), []string{a1.ID, a2.ID}},
		{"ok/skips-rsa", `{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + x + `"}]}`, []string{"k"}},
		{"ok/skips-enc", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"e","use":"enc","x":"` + x + `"},{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + x + `"}]}`, []string{"k"}},
		{"ok/skips-x25519", `{"keys":[{"kty":"OKP","crv":"X25519","kid":"e","x":"` + x + `"},{"kty":"OKP","crv":"Ed25519","kid":"k","alg":"EdDSA","x":"` + x + `"}]}`, []string{"k"}},
		{"fail/empty", `{"keys":[]}`, nil},
		{"fail/only-rsa", `{"keys":[{"kty":"RSA","kid":"r"}]}`, nil},
		{"fail/short-x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"AAAA"}]}`, nil},
		{"fail/padded-x", `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + x + `="}]}`, nil},
		{"fail/no-kid", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}]}`, nil},
		{"fail/not-json", `<html>`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := token.ParseJWKS([]byte(tc.jwks))
			if tc.kids == nil {
				if err == nil {
					t.Fatalf("got %d keys, want an error", len(keys))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, k.ID)
			}
			if strings.Join(got, ",") != strings.Join(tc.kids, ",") {
				t.Fatalf("kids %v, want %v", got, tc.kids)
			}
		})
	}
}

// TestVerifyKeyset verifies with public keys only and signs nothing.
func TestVerifyKeyset(t *testing.T) {
	now := time.Now()
	a, _ := token.GenerateAccessKey(rand.Reader, now)
	r, _ := token.GenerateRefreshKey(rand.Reader, now)
	full, _ := token.NewKeyset([]token.AccessKey{a}, []token.RefreshKey{r})
	signer := token.New(full, token.Config{Rand: rand.Reader})
	access, err := signer.SignAccess(&token.AccessClaims{
		ExpiresAt: token.NewNumericDate(now.Add(time.Minute)), IssuedAt: token.NewNumericDate(now),
		SessionID: "s", UserID: 7, Level: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	refresh, _ := signer.SignRefresh(&token.RefreshClaims{ExpiresAt: token.NewNumericDate(now.Add(time.Hour)), SessionID: "s"})

	keys, err := token.ParseJWKS(full.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewVerifyKeyset(keys)
	if err != nil {
		t.Fatal(err)
	}
	verifier := token.New(ks, token.Config{Rand: rand.Reader})
	if c, err := verifier.VerifyAccess(access); err != nil || c.UserID != 7 {
		t.Fatalf("VerifyAccess = %+v, %v", c, err)
	}
	if _, err := verifier.VerifyRefresh(refresh); err == nil {
		t.Fatal("a verify-only keyset accepted a refresh token")
	}
	if _, err := verifier.SignAccess(&token.AccessClaims{SessionID: "s"}); err == nil {
		t.Fatal("a verify-only keyset signed an access token")
	}
	if _, err := verifier.SignRefresh(&token.RefreshClaims{SessionID: "s"}); err == nil {
		t.Fatal("a verify-only keyset signed a refresh token")
	}
	if _, err := token.NewVerifyKeyset(nil); err == nil {
		t.Fatal("an empty verify keyset was built")
	}
}
