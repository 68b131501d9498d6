package sqlite

import (
	"context"
	"database/sql"

	"github.com/propusk/propusk"
)

// AddMissingKeys inserts each key whose use has none stored and returns
// every stored key, oldest first. Write transactions start IMMEDIATE, so
// they exclude each other across processes sharing the file: of several
// processes starting at once, one inserts and the others find its keys.
func (s *Store) AddMissingKeys(ctx context.Context, keys ...*propusk.Key) ([]*propusk.Key, error) {
	now := s.now()
	var stored []*propusk.Key
	err := s.write(ctx, "add missing keys", func(tx *sql.Tx) error {
		added := false
		for _, k := range keys {
			if k.CreatedAt.IsZero() {
				k.CreatedAt = now
			}
			k.CreatedAt = propusk.TruncMillis(k.CreatedAt)
			res, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, use, sealed, public, created_at)
				SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE use = ?)`,
				k.ID, k.Use, nonNil(k.Sealed), k.Public, millis(k.CreatedAt), k.Use)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added = added || n > 0
		}
		rows, err := tx.QueryContext(ctx, `SELECT kid, use, sealed, public, created_at FROM signing_keys ORDER BY created_at, kid`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k       propusk.Key
				created int64
			)
			if err := rows.Scan(&k.ID, &k.Use, &k.Sealed, &k.Public, &created); err != nil {
				return err
			}
			k.CreatedAt = fromMillis(created)
			stored = append(stored, &k)
		}
		if err := rows.Err(); err != nil || !added {
			return err
		}
		return appendEvent(ctx, tx, propusk.EventKeys, "", now)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}
