package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
)

// AddMissingKeys inserts each key whose use has none stored and returns
// every stored key, oldest first. The table lock, taken first, queues every
// other AddMissingKeys (and AddKeys) behind this transaction, so of several
// processes starting at once on an empty database one inserts and the
// others find its keys.
func (s *Store) AddMissingKeys(ctx context.Context, keys ...*propusk.Key) ([]*propusk.Key, error) {
	now := s.now()
	var stored []*propusk.Key
	err := s.write(ctx, "add missing keys", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		added := false
		for _, k := range keys {
			if k.CreatedAt.IsZero() {
				k.CreatedAt = now
			}
			k.CreatedAt = propusk.TruncMillis(k.CreatedAt)
			tag, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, use, sealed, public, created_at)
				SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE use = $2)`,
				k.ID, k.Use, nonNil(k.Sealed), nilIfEmpty(k.Public), k.CreatedAt)
			if err != nil {
				return err
			}
			added = added || tag.RowsAffected() > 0
		}
		rows, err := tx.Query(ctx, `SELECT kid, use, sealed, public, created_at FROM signing_keys ORDER BY created_at, kid`)
		if err != nil {
			return err
		}
		stored, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.Key, error) {
			var k propusk.Key
			if err := row.Scan(&k.ID, &k.Use, &k.Sealed, &k.Public, &k.CreatedAt); err != nil {
				return nil, err
			}
			k.CreatedAt = k.CreatedAt.UTC()
			return &k, nil
		})
		if err != nil || !added {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventKeys, []string{""}, now)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}
