package postgres

import (
	"testing"

	"github.com/propusk/propusk/postgres/pgtest"
	"github.com/propusk/propusk/storetest"
)

// BenchmarkReads is what authenticating a request by personal access token
// reads from a store in propusk's own schema: the token by its hash and
// its user by id (go test ./postgres -run '^$' -bench 'Reads').
func BenchmarkReads(b *testing.B) {
	s, err := Open(b.Context(), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	storetest.BenchReads(b, s)
}
