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
	n, err := s.setHash(ctx, s.pool, id, hash, at, &old)
	if err != nil {
		return wrap("set password hash", err)
	}
	if n == 0 {
		return notFound("set password hash")
	}
	return nil
}
