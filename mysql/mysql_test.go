package mysql

import (
	"context"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/mysql/mytest"
	"github.com/propusk/propusk/storetest"
)

// openTest opens a migrated store on a fresh database.
func openTest(t *testing.T) *Store { t.Helper(); return openBench(t) }

// openBench is openTest for tests and benchmarks.
func openBench(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.Context(), mytest.DSN(t))
	return storetest.Migrated(t, s, err)
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) propusk.Store { return openTest(t) })
}

func TestMigrateConcurrently(t *testing.T) {
	dsn := mytest.DSN(t)
	storetest.MigrateConcurrently(t, func(ctx context.Context) (storetest.Migrator, error) { return Open(ctx, dsn) })
}

func TestKeylessRows(t *testing.T) {
	s := openTest(t)
	storetest.KeylessRows(t, s, func(ctx context.Context, login string) (int64, error) {
		res, err := s.db.ExecContext(ctx, `INSERT INTO users (login, created_at, updated_at) VALUES (?, NOW(3), NOW(3))`, login)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	})
}
