package storetest

import (
	"testing"

	"github.com/propusk/propusk"
)

// BenchReads measures what authenticating a request by personal access
// token reads from s, a migrated and empty store: the token by its hash
// (TokenByHash) and its user by id (UserByID). Every store's BenchmarkReads
// and BenchmarkLaravelReads call it, so their figures compare.
func BenchReads(b *testing.B, s propusk.Store) {
	ctx := b.Context()
	u := &propusk.User{Login: "bench@example.com", PasswordHash: "$2y$10$x"}
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	tok := &propusk.PersonalAccessToken{TokenableType: propusk.DefaultLaravelTokenableType, TokenableID: u.ID, Name: "t",
		Hash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	if err := s.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.TokenByHash(ctx, tok.Hash)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.UserByID(ctx, got.TokenableID); err != nil {
			b.Fatal(err)
		}
	}
}
