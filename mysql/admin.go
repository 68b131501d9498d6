package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/propusk/propusk"
)

// propusk.ErrLastAdmin is the last administrator rule's refusal.
// adminLockSQL serialises the writes that may remove an administrator, so
// that the count of the others that each reads holds until it commits: the
// lock on store_locks' 'admins' row (see the migration) is the transaction's
// until it commits or rolls back, as PostgreSQL's pg_advisory_xact_lock is.
// Not GET_LOCK: a named lock belongs to the connection, not the
// transaction, and would outlive a rollback on a pooled connection. Under
// READ COMMITTED each statement after it reads what the previous holder
// committed.
const adminLockSQL = `SELECT name FROM store_locks WHERE name = 'admins' FOR UPDATE`

// lockAdmins takes adminLockSQL's lock inside tx.
func lockAdmins(ctx context.Context, tx *sql.Tx) error {
	var name string
	if err := tx.QueryRowContext(ctx, adminLockSQL).Scan(&name); err != nil {
		return fmt.Errorf("the admins lock row: %w", err)
	}
	return nil
}

// Users returns the users q selects, in id order. The search is a plain
// substring match (LOCATE, no LIKE wildcards) of the lowered login.
func (s *Store) Users(ctx context.Context, q propusk.UserQuery) ([]*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if q.Limit <= 0 {
		q.Limit = 100
	}
	return s.queryUsers(ctx, "users", `SELECT `+userColumns+` FROM users u
		WHERE u.id > ? AND (? = '' OR LOCATE(LOWER(?), LOWER(u.login)) > 0) ORDER BY u.id LIMIT ?`,
		q.After, q.Login, q.Login, q.Limit)
}

// queryUsers returns the users a query of userColumns selects.
func (s *Store) queryUsers(ctx context.Context, op, query string, args ...any) ([]*propusk.User, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var us []*propusk.User
	for rows.Next() {
		u, err := scanUser(rows, s.loc)
		if err != nil {
			return nil, wrap(op, err)
		}
		us = append(us, u)
	}
	return us, wrap(op, rows.Err())
}

// UpdateUser applies ch to user id; see propusk.UserAdminStore.
func (s *Store) UpdateUser(ctx context.Context, id int64, ch propusk.UserChange, typ string, now time.Time) (*propusk.User, error) {
	now = ms(now)
	var u *propusk.User
	err := s.write(ctx, "update user", func(ctx context.Context, tx *sql.Tx) error {
		if err := lockAdmins(ctx, tx); err != nil {
			return err
		}
		var err error
		if u, err = s.lockUser(ctx, tx, id); err != nil {
			return err
		}
		effect := ch.Apply(u, now)
		if effect.LeftAdmins {
			if err := s.lastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := s.setAdminFields(ctx, tx, u, now); err != nil {
			return err
		}
		var sessions, tokens []string
		if effect.Disabled {
			if sessions, err = revokeUserSessions(ctx, tx, id, "", now); err != nil {
				return err
			}
		}
		if effect.StaleTokens {
			if tokens, err = userTokenIDs(ctx, tx, typ, id, false); err != nil {
				return err
			}
		}
		if err := appendEvents(ctx, tx, propusk.EventSession, sessions, now); err != nil {
			return err
		}
		if err := appendEvents(ctx, tx, propusk.EventPAT, tokens, now); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventUser, []string{strconv.FormatInt(id, 10)}, now)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser deletes user id; see propusk.UserAdminStore. The user's
// sessions and their forks go with the user row (ON DELETE CASCADE); their
// feed entries stay, which is how RevokedSince still finds them.
func (s *Store) DeleteUser(ctx context.Context, id int64, typ string, now time.Time) error {
	now = ms(now)
	return s.write(ctx, "delete user", func(ctx context.Context, tx *sql.Tx) error {
		if err := lockAdmins(ctx, tx); err != nil {
			return err
		}
		u, err := s.lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Level >= propusk.LevelAdmin && !u.Disabled() {
			if err := s.lastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		sessions, err := revokeUserSessions(ctx, tx, id, "", now)
		if err != nil {
			return err
		}
		// MySQL has no DELETE … RETURNING: the rows are locked, then deleted
		// by id, so that the feed names exactly the tokens deleted.
		tokens, err := userTokenIDs(ctx, tx, typ, id, true)
		if err != nil {
			return err
		}
		if len(tokens) > 0 {
			args := make([]any, len(tokens))
			for i, t := range tokens {
				args[i] = t
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM personal_access_tokens WHERE id IN (`+placeholders(len(tokens))+`)`, args...); err != nil {
				return err
			}
		}
		if err := s.deleteUserRow(ctx, tx, id); err != nil {
			return err
		}
		if err := appendEvents(ctx, tx, propusk.EventSession, sessions, now); err != nil {
			return err
		}
		if err := appendEvents(ctx, tx, propusk.EventPAT, tokens, now); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventUser, []string{strconv.FormatInt(id, 10)}, now)
	})
}

// SetPassword stores a new password hash; see propusk.UserAdminStore.
func (s *Store) SetPassword(ctx context.Context, id int64, hash, keep string, now time.Time) error {
	now = ms(now)
	return s.write(ctx, "set password", func(ctx context.Context, tx *sql.Tx) error {
		// ClientFoundRows: a match counts even when the hash is the same.
		if n, err := s.setHash(ctx, tx, id, hash, now, nil); err != nil {
			return err
		} else if n == 0 {
			return notFound("set password")
		}
		sessions, err := revokeUserSessions(ctx, tx, id, keep, now)
		if err != nil {
			return err
		}
		if err := appendEvents(ctx, tx, propusk.EventSession, sessions, now); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventUser, []string{strconv.FormatInt(id, 10)}, now)
	})
}

// EndUserSessions revokes the user's live sessions but keep.
func (s *Store) EndUserSessions(ctx context.Context, userID int64, keep string, now time.Time) ([]string, error) {
	now = ms(now)
	var ids []string
	err := s.write(ctx, "end user sessions", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if ids, err = revokeUserSessions(ctx, tx, userID, keep, now); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventSession, ids, now)
	})
	return ids, err
}

// revokeUserSessions revokes the user's sessions but keep that are not
// revoked yet (expired ones too: their access tokens may still be live), and
// returns their ids. MySQL has no UPDATE … RETURNING: the rows are locked
// (SELECT … FOR UPDATE, which reads the newest committed rows), then
// updated by id, so the ids returned are exactly the sessions revoked. The
// caller appends their feed entries, last in its transaction.
func revokeUserSessions(ctx context.Context, tx *sql.Tx, userID int64, keep string, now time.Time) ([]string, error) {
	ids, err := queryStrings(ctx, tx, `SELECT id FROM sessions
		WHERE user_id = ? AND id <> ? AND revoked_at IS NULL ORDER BY id FOR UPDATE`, userID, keep)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	args := []any{now}
	for _, id := range ids {
		args = append(args, id)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
		return nil, err
	}
	return ids, nil
}

// userTokenIDs returns the ids of the user's tokens, as feed refs, locked
// for deletion when lock is set.
func userTokenIDs(ctx context.Context, tx *sql.Tx, typ string, userID int64, lock bool) ([]string, error) {
	q := `SELECT CAST(id AS CHAR) FROM personal_access_tokens WHERE tokenable_type = ? AND tokenable_id = ? ORDER BY id`
	if lock {
		q += ` FOR UPDATE`
	}
	return queryStrings(ctx, tx, q, typ, userID)
}

// queryStrings runs a query of one string column inside tx.
func queryStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// lastAdmin refuses a change that leaves no enabled administrator but user
// id. The caller holds adminLockSQL's lock, and every write that may make
// an administrator stop being one takes it first, so under READ COMMITTED
// this count (a new read view, with every earlier holder's commit in it)
// holds until the caller commits.
//
// In Laravel mode the levels are in propusk_users, whose index of
// administrators it reads, not the app's whole table.
func (s *Store) lastAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	q := `SELECT COUNT(*) FROM users WHERE disabled_at IS NULL AND level >= ? AND id <> ?`
	if s.lv != nil {
		q = "SELECT COUNT(*) FROM propusk_users p JOIN `users` u ON u.id = p.user_id " +
			"WHERE p.disabled_at IS NULL AND p.level >= ? AND p.user_id <> ?"
	}
	var n int
	if err := tx.QueryRowContext(ctx, q, propusk.LevelAdmin, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return propusk.ErrLastAdmin
	}
	return nil
}
