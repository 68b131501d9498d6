package sqlite

import "context"

// LastTokenID returns the highest personal access token id, 0 when there is
// none. The table is AUTOINCREMENT, so ids are never reused; MAX on the
// primary key reads one b-tree page.
func (s *Store) LastTokenID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.ro.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM personal_access_tokens`).Scan(&id); err != nil {
		return 0, wrap("last token id", err)
	}
	return id, nil
}
