package testenv

import (
	"context"
	"testing"

	"github.com/propusk/propusk/mysql"
	"github.com/propusk/propusk/mysql/mytest"
)

// MySQL returns a migrated MySQL/MariaDB store on a fresh database (see
// mytest.DSN: it skips loudly when the server is absent, and fails under
// CI), closed at the test's end, and its DSN.
func MySQL(t testing.TB) (*mysql.Store, string) {
	t.Helper()
	dsn := mytest.DSN(t)
	s, err := mysql.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dsn
}
