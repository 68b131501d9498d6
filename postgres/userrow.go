package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/propusk/propusk"
)

// The writes of a user row, each in its one place: propusk's own users
// table takes them as below; in Laravel mode the app's users table takes
// what is Laravel's (password, updated_at) and propusk_users the rest.

// setHash sets the password hash of user id, and its updated_at to at, if
// the stored hash is *old (any hash when old is nil). It returns how many
// rows it changed.
func (s *Store) setHash(ctx context.Context, q execer, id int64, hash string, at time.Time, old *string) (int64, error) {
	if s.lv != nil {
		return s.laravelSetHash(ctx, q, id, hash, at, old)
	}
	var (
		tag pgconn.CommandTag
		err error
	)
	if old != nil {
		tag, err = q.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4`, hash, at, id, *old)
	} else {
		tag, err = q.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, at, id)
	}
	return tag.RowsAffected(), err
}

// setAPIToken sets users.api_token of user id to sealed ("" clears it), and
// updated_at to at unless at is zero. It returns how many rows it changed:
// 0 when there is no such user. The row's lock orders concurrent writers
// of one user's api-token.
func (s *Store) setAPIToken(ctx context.Context, tx pgx.Tx, id int64, sealed string, at time.Time) (int64, error) {
	if s.lv != nil {
		return s.laravelSetAPIToken(ctx, tx, id, sealed)
	}
	var (
		tag pgconn.CommandTag
		err error
	)
	if at.IsZero() {
		tag, err = tx.Exec(ctx, `UPDATE users SET api_token = $1 WHERE id = $2`, nullString(sealed), id)
	} else {
		tag, err = tx.Exec(ctx, `UPDATE users SET api_token = $1, updated_at = $2 WHERE id = $3`, nullString(sealed), at, id)
	}
	return tag.RowsAffected(), err
}

// lockUser reads user id and locks its row until tx ends.
func (s *Store) lockUser(ctx context.Context, tx pgx.Tx, id int64) (*propusk.User, error) {
	if s.lv != nil {
		// The view joins propusk_users, which may have no row of the user:
		// the app's row is the one to lock.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM "users" WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
			return nil, err
		}
		return scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id), s.loc)
	}
	return scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR UPDATE`, id), s.loc)
}

// setAdminFields stores u's level, boards and disabled_at, and sets its
// updated_at to now (in propusk's own table: Laravel's users.updated_at is
// the app's, and none of these is a column of it).
func (s *Store) setAdminFields(ctx context.Context, tx pgx.Tx, u *propusk.User, now time.Time) error {
	if s.lv != nil {
		return s.laravelSetAdminFields(ctx, tx, u)
	}
	u.UpdatedAt = now
	_, err := tx.Exec(ctx, `UPDATE users SET level = $1, boards = $2, disabled_at = $3, updated_at = $4 WHERE id = $5`,
		u.Level, u.Boards, nullMillis(u.DisabledAt), now, u.ID)
	return err
}

// deleteUserRow deletes user id's row; its sessions go with it.
func (s *Store) deleteUserRow(ctx context.Context, tx pgx.Tx, id int64) error {
	q := `DELETE FROM users WHERE id = $1`
	if s.lv != nil {
		// The app's table; the trigger on it drops propusk's rows of the user.
		q = `DELETE FROM "users" WHERE id = $1`
	}
	_, err := tx.Exec(ctx, q, id)
	return err
}
