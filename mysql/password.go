package mysql

import (
	"context"
	"database/sql"
	"time"
)

// SetPasswordHash sets the user's password hash to hash if it is still
// old. ENOTFOUND when no user has id and old. A new hash always differs
// from the old one (a fresh salt), so MySQL's count of changed rows is the
// count of matched ones here.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, old, hash string, at time.Time) error {
	return s.retry(ctx, "set password hash", func(ctx context.Context) error {
		res, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`,
			hash, ms(at), id, old)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}
