package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// SetPasswordHash sets the user's password hash to hash if it is still
// old. ENOTFOUND when no user has id and old.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, old, hash string, at time.Time) error {
	return s.write(ctx, "set password hash", func(tx *sql.Tx) error {
		n, err := s.setHash(ctx, tx, id, hash, at, &old)
		if err != nil {
			return err
		}
		if n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}
