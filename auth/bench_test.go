package auth_test

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// BenchmarkVerifyPATCached is the cost of verifying a personal access token
// that is in the cache: parse and checksum, one SHA-256, a map lookup, a
// constant-time compare and the in-memory last_used_at note. Compare it
// with BenchmarkSHA256Secret, the floor any hashed-token scheme pays; the
// goal is at most twice that.
//
//	go test ./auth -run xxx -bench 'PAT|SHA256' -count 5
func BenchmarkVerifyPATCached(b *testing.B) {
	d := kinds[0].open(b) // SQLite: the store is read once, on the first call
	// The default clock, as in production, and Run, as a server runs it.
	svc := newService(b, d.store, newClock(), masterKey(), func(c *auth.Config) { c.Now = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	reg, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{})
	if err != nil {
		b.Fatal(err)
	}
	tok := reg.APIToken
	if _, err := svc.Authenticate(ctx, tok, propusk.ViaAccessToken); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, tok, propusk.ViaAccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

var sink [32]byte

// BenchmarkSHA256Secret is one bare SHA-256 of a secret of the same length.
func BenchmarkSHA256Secret(b *testing.B) {
	secret := []byte("pk_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn0123abcd"[3:])
	b.ReportAllocs()
	for b.Loop() {
		sink = sha256.Sum256(secret)
	}
}

// BenchmarkVerifyPATMadeUp is the cost of refusing a made-up personal access
// token, a valid checksum on an id that does not exist, from a flood of
// distinct ones: it reads no database (the negative cache), so it should
// cost about what BenchmarkVerifyPATCached does, not a query.
//
//	go test ./auth -run xxx -bench 'PAT' -count 5
func BenchmarkVerifyPATMadeUp(b *testing.B) {
	d := kinds[0].open(b)
	svc := newService(b, d.store, newClock(), masterKey(), func(c *auth.Config) { c.Now = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	if _, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{}); err != nil {
		b.Fatal(err)
	}
	toks := make([]string, 4096)
	for i := range toks {
		toks[i] = madeUp(b, 1_000_000+int64(i))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := svc.Authenticate(ctx, toks[i%len(toks)], propusk.ViaAccessToken); err == nil {
			b.Fatal("a made-up token was accepted")
		}
		i++
	}
}
