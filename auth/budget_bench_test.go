package auth

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
)

// BenchmarkLoginBudget is what the login budget costs a login, counted in
// this process's memory and in PostgreSQL (where every process sharing the
// database sees it), measured in one run: "failed" reserves a try (one
// statement), "succeeded" also gives the address its try back and forgets
// the login's failures (a second). A login's argon2id check is tens of
// milliseconds next to either.
//
//	go test ./auth -run '^$' -bench LoginBudget -count 5
func BenchmarkLoginBudget(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) propusk.Store
	}{
		{"memory", func(*testing.B) propusk.Store { return nil }},
		{"postgres", func(b *testing.B) propusk.Store { s, _ := testenv.Postgres(b); return s }},
	}
	// What it is weighed against: the password check every login makes.
	var p Argon2Params
	p.fill()
	hash, err := hashPassword(rand.Reader, p, "correct horse")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("argon2id-check", func(b *testing.B) {
		for b.Loop() {
			if _, err := checkPassword(hash, "correct horse"); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, st := range stores {
		l := newLimiter(LimitConfig{PerLogin: 1 << 30, PerIP: 1 << 30, Window: time.Hour}, RegisterLimitConfig{}, st.open(b))
		now := time.Now()
		ctx := b.Context()
		b.Run(st.name+"/failed", func(b *testing.B) {
			for b.Loop() {
				if err := l.attempt(ctx, "alice", "192.0.2.1", now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(st.name+"/succeeded", func(b *testing.B) {
			for b.Loop() {
				if err := l.attempt(ctx, "bob", "192.0.2.2", now); err != nil {
					b.Fatal(err)
				}
				if err := l.succeed(ctx, "bob", "192.0.2.2", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
