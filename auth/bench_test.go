package auth_test

import (
	"context"
	"crypto/sha256"
	"runtime"
	"sync/atomic"
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

// BenchmarkVerifyPATMadeUp is the cost of refusing made-up personal access
// tokens, a valid checksum on an id above the highest, from a flood of
// distinct ones. Each is refused once a read of the store's highest id that
// began after it arrived still finds it above; reads are paced, one per
// patReadEvery (10 ms), and shared by every caller waiting. Alone (one
// caller after another), ns/op is the wait for a refusal, about
// patReadEvery plus one read, not CPU. In a flood of 1,024 concurrent
// callers, ns/op is the wall time per refusal (the wait shared out), and
// reads/op the store reads per refused token, which shrink as the flood
// grows: at most 100 reads a second, whatever its size.
//
//	go test ./auth -run xxx -bench 'PAT' -count 5
func BenchmarkVerifyPATMadeUp(b *testing.B) {
	for _, bm := range []struct {
		name    string
		callers int // per GOMAXPROCS; 0: one caller
	}{{"alone", 0}, {"flood", 1024}} {
		b.Run(bm.name, func(b *testing.B) {
			d := kinds[0].open(b)
			cs := &countingStore{Store: d.store}
			svc := newService(b, cs, newClock(), masterKey(), func(c *auth.Config) { c.Now = nil })
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
			var next atomic.Int64
			refuse := func() {
				i := next.Add(1)
				if _, err := svc.Authenticate(ctx, toks[i%int64(len(toks))], propusk.ViaAccessToken); err == nil {
					b.Error("a made-up token was accepted")
				}
			}
			reads := cs.reads.Load()
			b.ReportAllocs()
			b.ResetTimer()
			if bm.callers == 0 {
				for range b.N {
					refuse()
				}
			} else {
				b.SetParallelism(bm.callers / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						refuse()
					}
				})
			}
			b.ReportMetric(float64(cs.reads.Load()-reads)/float64(b.N), "reads/op")
		})
	}
}
