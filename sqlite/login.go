package sqlite

import (
	"context"
	"database/sql"

	"github.com/propusk/propusk/logins"
)

// afterMigration holds the Go steps of migrations, run right after the
// named file in its transaction, for what SQL cannot compute.
var afterMigration = map[string]func(ctx context.Context, tx *sql.Tx) error{
	"migrations/0004_login_key.sql": fillLoginKeys,
}

// fillLoginKeys sets the canonical key of every login. When logins collide,
// it fails naming them (logins.Keys), so the migration is rolled back and
// no account is merged into another.
func fillLoginKeys(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, login FROM users WHERE login_key IS NULL ORDER BY id`)
	if err != nil {
		return err
	}
	var rs []logins.Row
	for rows.Next() {
		var r logins.Row
		if err := rows.Scan(&r.ID, &r.Login); err != nil {
			rows.Close()
			return err
		}
		rs = append(rs, r)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	keys, err := logins.Keys(rs)
	if err != nil {
		return err
	}
	for id, k := range keys {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET login_key = ? WHERE id = ?`, k, id); err != nil {
			return err
		}
	}
	return nil
}
