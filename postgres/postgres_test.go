package postgres

import (
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/postgres/pgtest"
	"github.com/propusk/propusk/storetest"
)

// openTest opens a migrated store on a fresh schema.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) propusk.Store { return openTest(t) })
}
