package sqlite

import (
	"testing"

	"github.com/propusk/propusk"
)

// BenchmarkReads is what authenticating a request by personal access token
// reads from a store in propusk's own schema: the token by its hash and
// its user by id (go test ./sqlite -run '^$' -bench 'Reads').
func BenchmarkReads(b *testing.B) {
	s, err := Open(b.Context(), b.TempDir()+"/propusk.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	benchReads(b, s)
}

// benchReads measures TokenByHash and UserByID on s.
func benchReads(b *testing.B, s propusk.Store) {
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
