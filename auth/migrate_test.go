package auth_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/postgres"
	"github.com/propusk/propusk/postgres/pgtest"
	"github.com/propusk/propusk/sqlite"
)

// TestNewOnUnmigratedStore: a service opened before Migrate says so, in the
// words a library user can act on, on both stores.
func TestNewOnUnmigratedStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (propusk.Store, error)
	}{
		{"sqlite", func(t *testing.T) (propusk.Store, error) {
			return sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
		}},
		{"postgres", func(t *testing.T) (propusk.Store, error) {
			return postgres.Open(t.Context(), pgtest.DSN(t))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := tc.open(t)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			key := make([]byte, 32)
			rand.Read(key)
			_, err = auth.New(context.Background(), auth.Config{Store: store, MasterKey: key})
			if err == nil || !strings.Contains(err.Error(), "call Migrate first") {
				t.Fatalf("auth.New on an unmigrated store: %v, want \"call Migrate first\"", err)
			}
			if propusk.ErrorCode(err) != propusk.EUNAVAILABLE {
				t.Fatalf("code %q, want %q", propusk.ErrorCode(err), propusk.EUNAVAILABLE)
			}
		})
	}
}
