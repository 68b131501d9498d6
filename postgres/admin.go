package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/propusk/propusk"
)

// propusk.ErrLastAdmin is the last administrator rule's refusal.
// adminLockSQL serialises the writes that may remove an administrator, so
// that the count of the others that each reads holds until it commits.
const adminLockSQL = `SELECT pg_advisory_xact_lock(hashtext('propusk.users.admins'))`

// Users returns the users q selects, in id order.
func (s *Store) Users(ctx context.Context, q propusk.UserQuery) ([]*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if q.Limit <= 0 {
		q.Limit = 100
	}
	return s.queryUsers(ctx, "users", `SELECT `+userColumns+` FROM users u
		WHERE u.id > $1 AND ($2 = '' OR strpos(lower(u.login), lower($2)) > 0) ORDER BY u.id LIMIT $3`,
		q.After, q.Login, q.Limit)
}

// queryUsers returns the users a query of userColumns selects.
func (s *Store) queryUsers(ctx context.Context, op, query string, args ...any) ([]*propusk.User, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.User, error) { return scanUser(row, s.loc) })
	if err != nil {
		return nil, wrap(op, err)
	}
	return us, nil
}

// UpdateUser applies ch to user id; see propusk.UserAdminStore.
func (s *Store) UpdateUser(ctx context.Context, id int64, ch propusk.UserChange, typ string, now time.Time) (*propusk.User, error) {
	now = propusk.TruncMillis(now)
	var u *propusk.User
	err := s.write(ctx, "update user", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, adminLockSQL); err != nil {
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
			if tokens, err = userTokenIDs(ctx, tx, typ, id); err != nil {
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

// DeleteUser deletes user id; see propusk.UserAdminStore.
func (s *Store) DeleteUser(ctx context.Context, id int64, typ string, now time.Time) error {
	now = propusk.TruncMillis(now)
	return s.write(ctx, "delete user", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, adminLockSQL); err != nil {
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
		rows, err := tx.Query(ctx, `DELETE FROM personal_access_tokens WHERE tokenable_type = $1 AND tokenable_id = $2 RETURNING id::text`, typ, id)
		if err != nil {
			return err
		}
		tokens, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
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
	now = propusk.TruncMillis(now)
	return s.write(ctx, "set password", func(ctx context.Context, tx pgx.Tx) error {
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
	now = propusk.TruncMillis(now)
	var ids []string
	err := s.write(ctx, "end user sessions", func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if ids, err = revokeUserSessions(ctx, tx, userID, keep, now); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventSession, ids, now)
	})
	return ids, err
}

// revokeUserSessions revokes the user's sessions but keep that are not
// revoked yet (expired ones too: their access tokens may still be live). The
// caller appends their feed entries, last in its transaction.
func revokeUserSessions(ctx context.Context, tx pgx.Tx, userID int64, keep string, now time.Time) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE sessions SET revoked_at = $1
		WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL RETURNING id`, now, userID, keep)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// userTokenIDs returns the ids of the user's tokens, as feed refs.
func userTokenIDs(ctx context.Context, tx pgx.Tx, typ string, userID int64) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM personal_access_tokens WHERE tokenable_type = $1 AND tokenable_id = $2`, typ, userID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	refs := make([]string, len(ids))
	for i, id := range ids {
		refs[i] = strconv.FormatInt(id, 10)
	}
	return refs, nil
}

// lastAdmin refuses a change that leaves no enabled administrator but user
// id. The caller holds adminLockSQL's lock. In Laravel mode the levels are
// in propusk_users, whose index of administrators it reads, not the app's
// whole table.
func (s *Store) lastAdmin(ctx context.Context, tx pgx.Tx, id int64) error {
	q := `SELECT count(*) FROM users WHERE level >= $1 AND disabled_at IS NULL AND id <> $2`
	if s.lv != nil {
		q = `SELECT count(*) FROM propusk_users p JOIN "users" u ON u.id = p.user_id
			WHERE p.level >= $1 AND p.disabled_at IS NULL AND p.user_id <> $2`
	}
	var n int
	if err := tx.QueryRow(ctx, q, propusk.LevelAdmin, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return propusk.ErrLastAdmin
	}
	return nil
}
