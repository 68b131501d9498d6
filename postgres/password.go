package postgres

import (
	"context"
	"time"
)

// SetPasswordHash sets the user's password hash to hash if it is still
// old. ENOTFOUND when no user has id and old.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, old, hash string, at time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4`,
		hash, at, id, old)
	if err != nil {
		return wrap("set password hash", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("set password hash")
	}
	return nil
}
