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
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`,
			hash, millis(at), id, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}
