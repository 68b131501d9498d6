package postgres

import "context"

// LastTokenID returns the highest personal access token id, 0 when there is
// none. The id is a bigserial, whose sequence never hands out an id twice;
// MAX on the primary key is one index probe.
func (s *Store) LastTokenID(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var id int64
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM personal_access_tokens`).Scan(&id); err != nil {
		return 0, wrap("last token id", err)
	}
	return id, nil
}
