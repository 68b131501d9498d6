package sqlite

import (
	"context"
	"testing"

	"github.com/propusk/propusk/storetest"
)

func insertKeyless(s *Store) func(ctx context.Context, login string) (int64, error) {
	return func(ctx context.Context, login string) (int64, error) {
		var id int64
		err := s.db.QueryRowContext(ctx, `INSERT INTO users (login, created_at, updated_at) VALUES (?, 0, 0) RETURNING id`, login).Scan(&id)
		return id, err
	}
}

func TestLoginKeyMigration(t *testing.T) {
	s := openTest(t)
	storetest.LoginKeyMigration(t, s,
		func(ctx context.Context) error {
			_, err := s.db.ExecContext(ctx, `DROP INDEX users_login_key_unique;
				ALTER TABLE users DROP COLUMN login_key;
				DELETE FROM schema_migrations WHERE name = 'migrations/0004_login_key.sql'`)
			return err
		},
		insertKeyless(s),
		func(ctx context.Context, id int64, login string) error {
			_, err := s.db.ExecContext(ctx, `UPDATE users SET login = ? WHERE id = ?`, login, id)
			return err
		})
}

func TestKeylessRows(t *testing.T) {
	s := openTest(t)
	storetest.KeylessRows(t, s, insertKeyless(s))
}
