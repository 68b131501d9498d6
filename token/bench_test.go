package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func benchTokens(b *testing.B, cacheSize int) (*Tokens, string) {
	b.Helper()
	now := time.Unix(1_800_000_000, 0)
	ak, _ := GenerateAccessKey(rand.Reader, now)
	rk, _ := GenerateRefreshKey(rand.Reader, now)
	ks, err := NewKeyset([]AccessKey{ak}, []RefreshKey{rk})
	if err != nil {
		b.Fatal(err)
	}
	tk := New(ks, Config{Rand: rand.Reader, Now: func() time.Time { return now }, CacheSize: cacheSize})
	s, err := tk.SignAccess(&AccessClaims{
		ExpiresAt: NewNumericDate(now.Add(15 * time.Minute)),
		IssuedAt:  NewNumericDate(now),
		SessionID: "c2Vzc2lvbi1pZC0xMjM0NQ", UserID: 100, Level: 10, Boards: []string{"*"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return tk, s
}

// BenchmarkVerifyAccess measures a full verification (no cache); compare it
// with BenchmarkVerifyEd25519Raw, a bare ed25519.Verify of the same bytes.
func BenchmarkVerifyAccess(b *testing.B) {
	tk, s := benchTokens(b, -1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.VerifyAccess(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessCached measures a token already verified once.
func BenchmarkVerifyAccessCached(b *testing.B) {
	tk, s := benchTokens(b, 0)
	if _, err := tk.VerifyAccess(s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.VerifyAccess(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyEd25519Raw is the floor: the signature check alone.
func BenchmarkVerifyEd25519Raw(b *testing.B) {
	tk, s := benchTokens(b, -1)
	i := strings.LastIndexByte(s, '.')
	msg := []byte(s[:i])
	sig, _ := base64.RawURLEncoding.DecodeString(s[i+1:])
	pub := tk.Keyset().access[tk.Keyset().SigningKeyID()]
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad")
		}
	}
}

// BenchmarkVerifyRatio alternates a full verification and a bare
// ed25519.Verify of the same bytes in one loop and reports their ratio, so
// noise from a shared machine hits both alike. The goal is at most 1.15.
func BenchmarkVerifyRatio(b *testing.B) {
	tk, s := benchTokens(b, -1)
	i := strings.LastIndexByte(s, '.')
	msg := []byte(s[:i])
	sig, _ := base64.RawURLEncoding.DecodeString(s[i+1:])
	pub := tk.Keyset().access[tk.Keyset().SigningKeyID()]
	var full, raw time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := tk.VerifyAccess(s); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad")
		}
		t2 := time.Now()
		full += t1.Sub(t0)
		raw += t2.Sub(t1)
	}
	b.ReportMetric(float64(full)/float64(raw), "full/raw")
}
