package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/propusk/propusk"
)

// The writes of a user row, each in its one place: propusk's own users
// table takes them as below; in Laravel mode the app's users table takes
// what is Laravel's (password, updated_at) and propusk_users the rest.

// setHash sets the password hash of user id, and its updated_at to at, if
// the stored hash is *old (any hash when old is nil). It returns how many
// rows it changed.
func (s *Store) setHash(ctx context.Context, tx *sql.Tx, id int64, hash string, at time.Time, old *string) (int64, error) {
	var (
		res sql.Result
		err error
	)
	switch {
	case s.lv != nil:
		return s.laravelSetHash(ctx, tx, id, hash, at, old)
	case old != nil:
		res, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`,
			hash, millis(at), id, *old)
	default:
		res, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, millis(at), id)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// setAPIToken sets users.api_token of user id to sealed ("" clears it), and
// updated_at to at unless at is zero. It returns how many rows it changed:
// 0 when there is no such user.
func (s *Store) setAPIToken(ctx context.Context, tx *sql.Tx, id int64, sealed string, at time.Time) (int64, error) {
	if s.lv != nil {
		return s.laravelSetAPIToken(ctx, tx, id, sealed)
	}
	var (
		res sql.Result
		err error
	)
	if at.IsZero() {
		res, err = tx.ExecContext(ctx, `UPDATE users SET api_token = ? WHERE id = ?`, nullString(sealed), id)
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE users SET api_token = ?, updated_at = ? WHERE id = ?`, nullString(sealed), millis(at), id)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// setAdminFields stores u's level, boards and disabled_at, and sets its
// updated_at to now (in propusk's own table: Laravel's users.updated_at is
// the app's, and none of these is a column of it).
func (s *Store) setAdminFields(ctx context.Context, tx *sql.Tx, u *propusk.User, now time.Time) error {
	boards, err := json.Marshal(u.Boards)
	if err != nil {
		return fmt.Errorf("boards: %w", err)
	}
	if s.lv != nil {
		return s.laravelSetAdminFields(ctx, tx, u, string(boards))
	}
	u.UpdatedAt = now
	_, err = tx.ExecContext(ctx, `UPDATE users SET level = ?, boards = ?, disabled_at = ?, updated_at = ? WHERE id = ?`,
		u.Level, string(boards), nullMillis(u.DisabledAt), millis(now), u.ID)
	return err
}

// deleteUserRow deletes user id's row; its sessions go with it.
func (s *Store) deleteUserRow(ctx context.Context, tx *sql.Tx, id int64) error {
	q := `DELETE FROM users WHERE id = ?`
	if s.lv != nil {
		// The app's table; the trigger on it drops propusk's rows of the user.
		q = `DELETE FROM "users" WHERE id = ?`
	}
	_, err := tx.ExecContext(ctx, q, id)
	return err
}
