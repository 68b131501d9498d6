package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/propusk/propusk"
)

// propusk.ErrLastAdmin is the last administrator rule's refusal.
// Users returns the users q selects, in id order.
func (s *Store) Users(ctx context.Context, q propusk.UserQuery) ([]*propusk.User, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	return s.queryUsers(ctx, "users", `SELECT `+userColumns+` FROM users
		WHERE id > ? AND (? = '' OR instr(lower(login), lower(?)) > 0) ORDER BY id LIMIT ?`,
		q.After, q.Login, q.Login, q.Limit)
}

// queryUsers returns the users a query of userColumns selects.
func (s *Store) queryUsers(ctx context.Context, op, query string, args ...any) ([]*propusk.User, error) {
	rows, err := s.ro.QueryContext(ctx, query, args...)
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
	now = propusk.TruncMillis(now)
	var u *propusk.User
	err := s.write(ctx, "update user", func(tx *sql.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id), s.loc); err != nil {
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
		if effect.Disabled {
			if _, err := revokeUserSessions(ctx, tx, id, "", now); err != nil {
				return err
			}
		}
		if err := appendEvent(ctx, tx, propusk.EventUser, strconv.FormatInt(id, 10), now); err != nil {
			return err
		}
		if effect.StaleTokens {
			return staleTokens(ctx, tx, typ, id, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser deletes user id; see propusk.UserAdminStore.
func (s *Store) DeleteUser(ctx context.Context, id int64, typ string, now time.Time) error {
	now = propusk.TruncMillis(now)
	return s.write(ctx, "delete user", func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id), s.loc)
		if err != nil {
			return err
		}
		if u.Level >= propusk.LevelAdmin && !u.Disabled() {
			if err := s.lastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := revokeUserSessions(ctx, tx, id, "", now); err != nil {
			return err
		}
		if err := staleTokens(ctx, tx, typ, id, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM personal_access_tokens WHERE tokenable_type = ? AND tokenable_id = ?`, typ, id); err != nil {
			return err
		}
		if err := s.deleteUserRow(ctx, tx, id); err != nil {
			return err
		}
		return appendEvent(ctx, tx, propusk.EventUser, strconv.FormatInt(id, 10), now)
	})
}

// SetPassword stores a new password hash; see propusk.UserAdminStore.
func (s *Store) SetPassword(ctx context.Context, id int64, hash, keep string, now time.Time) error {
	now = propusk.TruncMillis(now)
	return s.write(ctx, "set password", func(tx *sql.Tx) error {
		if n, err := s.setHash(ctx, tx, id, hash, now, nil); err != nil {
			return err
		} else if n == 0 {
			return notFound("set password")
		}
		if _, err := revokeUserSessions(ctx, tx, id, keep, now); err != nil {
			return err
		}
		return appendEvent(ctx, tx, propusk.EventUser, strconv.FormatInt(id, 10), now)
	})
}

// EndUserSessions revokes the user's live sessions but keep.
func (s *Store) EndUserSessions(ctx context.Context, userID int64, keep string, now time.Time) ([]string, error) {
	now = propusk.TruncMillis(now)
	var ids []string
	err := s.write(ctx, "end user sessions", func(tx *sql.Tx) error {
		var err error
		ids, err = revokeUserSessions(ctx, tx, userID, keep, now)
		return err
	})
	return ids, err
}

// revokeUserSessions revokes the user's sessions but keep that are not
// revoked yet (expired ones too: their access tokens may still be live),
// with a feed entry each.
func revokeUserSessions(ctx context.Context, tx *sql.Tx, userID int64, keep string, now time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE sessions SET revoked_at = ?
		WHERE user_id = ? AND id <> ? AND revoked_at IS NULL RETURNING id`, millis(now), userID, keep)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := appendEvent(ctx, tx, propusk.EventSession, id, now); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// staleTokens appends an EventPAT for each token of the user, so every
// process drops its cached row (and the user's level, boards or state in it).
func staleTokens(ctx context.Context, tx *sql.Tx, typ string, userID int64, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM personal_access_tokens WHERE tokenable_type = ? AND tokenable_id = ?`, typ, userID)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := appendEvent(ctx, tx, propusk.EventPAT, strconv.FormatInt(id, 10), now); err != nil {
			return err
		}
	}
	return nil
}

// lastAdmin refuses a change that leaves no enabled administrator but user id.
// The write connection serialises transactions, so the count holds until
// commit. In Laravel mode the levels are in propusk_users, whose index of
// administrators it reads, not the app's whole table.
func (s *Store) lastAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	q := `SELECT count(*) FROM users WHERE level >= ? AND disabled_at IS NULL AND id <> ?`
	if s.lv != nil {
		q = `SELECT count(*) FROM propusk_users p JOIN "users" u ON u.id = p.user_id
			WHERE p.level >= ? AND p.disabled_at IS NULL AND p.user_id <> ?`
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
