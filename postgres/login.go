package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/logins"
)

// afterMigration holds the Go steps of migrations, run right after the
// named file in its transaction, for what SQL cannot compute.
var afterMigration = map[string]func(ctx context.Context, tx pgx.Tx) error{
	"migrations/0005_login_key.sql": fillLoginKeys,
}

// fillLoginKeys sets the canonical key of every login. When logins collide,
// it fails naming them (logins.Keys), so the migration is rolled back and
// no account is merged into another.
func fillLoginKeys(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT id, login FROM users WHERE login_key IS NULL ORDER BY id`)
	if err != nil {
		return err
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (logins.Row, error) {
		var r logins.Row
		err := row.Scan(&r.ID, &r.Login)
		return r, err
	})
	if err != nil {
		return err
	}
	keys, err := logins.Keys(rs)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(keys))
	ks := make([]string, 0, len(keys))
	for id, k := range keys {
		ids, ks = append(ids, id), append(ks, k)
	}
	_, err = tx.Exec(ctx, `UPDATE users SET login_key = k.key
		FROM unnest($1::bigint[], $2::text[]) AS k (id, key) WHERE users.id = k.id`, ids, ks)
	return err
}
