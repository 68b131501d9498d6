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
		n, err := s.setHash(ctx, s.db, id, hash, at, &old)
		if err != nil {
			return err
		}
		if n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}
