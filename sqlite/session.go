package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/propusk/propusk"
)

const sessionColumns = `id, user_id, generation, rotated_at, created_at, renewed_at, expires_at, revoked_at, user_agent, ip`

// CreateSession inserts sess. A zero CreatedAt becomes Now, and zero
// RotatedAt and RenewedAt become CreatedAt. ECONFLICT if the id exists.
func (s *Store) CreateSession(ctx context.Context, sess *propusk.Session) error {
	sess.Prepare(s.now())
	return s.write(ctx, "create session", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sess.ID, sess.UserID, sess.Generation, millis(sess.RotatedAt), millis(sess.CreatedAt),
			millis(sess.RenewedAt), millis(sess.ExpiresAt), nullMillis(sess.RevokedAt), sess.UserAgent, sess.IP)
		return err
	})
}

// Session returns the session or ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string) (*propusk.Session, error) {
	sess, err := scanSession(s.ro.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("session", err)
	}
	return sess, nil
}

// UserSessions returns the user's sessions that are neither revoked nor
// expired at now, the most recently created first.
func (s *Store) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*propusk.Session, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, userID, millis(now))
	if err != nil {
		return nil, wrap("user sessions", err)
	}
	defer rows.Close()
	var list []*propusk.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, wrap("user sessions", err)
		}
		list = append(list, sess)
	}
	return list, wrap("user sessions", rows.Err())
}

// RenewSession spends generation gen of session id at now. The spend is one
// UPDATE whose WHERE names the generation (a compare-and-swap); only when it
// matches no row does a second read decide between grace, reuse and invalid.
// The whole runs in one BEGIN IMMEDIATE transaction, so it is atomic across
// processes too.
//
// It returns the session afterwards for RenewRotated, RenewGrace and
// RenewReused (revoked), nil for RenewInvalid; the user for RenewRotated and
// RenewGrace only. Grace applies to the previous generation only, while
// now-RotatedAt < grace.
func (s *Store) RenewSession(ctx context.Context, id string, gen int64, now time.Time, grace, ttl time.Duration, c propusk.Client) (propusk.RenewOutcome, *propusk.Session, *propusk.User, error) {
	now = propusk.TruncMillis(now)
	var (
		outcome propusk.RenewOutcome
		sess    *propusk.Session
		user    *propusk.User
	)
	err := s.write(ctx, "renew session", func(tx *sql.Tx) error {
		outcome, sess, user = 0, nil, nil
		var err error
		sess, err = scanSession(tx.QueryRowContext(ctx, `UPDATE sessions
			SET generation = generation + 1, rotated_at = ?, renewed_at = ?, expires_at = ?, user_agent = ?, ip = ?
			WHERE id = ? AND generation = ? AND revoked_at IS NULL AND expires_at > ?
			RETURNING `+sessionColumns,
			millis(now), millis(now), millis(now.Add(ttl)), c.UserAgent, c.IP, id, gen, millis(now)))
		switch {
		case err == nil:
			outcome = propusk.RenewRotated
			user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, sess.UserID))
			return err
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		sess, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			outcome, sess = propusk.RenewInvalid, nil
			return nil
		}
		if err != nil {
			return err
		}
		outcome = sess.JudgeSpend(gen, now, grace)
		switch outcome {
		case propusk.RenewGrace:
			user, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, sess.UserID))
			return err
		case propusk.RenewReused:
			sess.RevokedAt = now
			return revoke(ctx, tx, id, now)
		default:
			sess = nil
			return nil
		}
	})
	if err != nil {
		return 0, nil, nil, err
	}
	return outcome, sess, user, nil
}

// revoke ends a live session and records it in the feed, inside tx.
func revoke(ctx context.Context, tx *sql.Tx, id string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, millis(now), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	return appendEvent(ctx, tx, propusk.EventSession, id, now)
}

// RevokeSession revokes the session at now and appends an EventSession, in
// one transaction. Revoking a revoked session changes nothing and is no error.
// ENOTFOUND if it does not exist or userID is not 0 and not its owner.
func (s *Store) RevokeSession(ctx context.Context, id string, userID int64, now time.Time) error {
	now = propusk.TruncMillis(now)
	return s.write(ctx, "revoke session", func(tx *sql.Tx) error {
		var owner int64
		if err := tx.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id = ?`, id).Scan(&owner); err != nil {
			return err
		}
		if userID != 0 && owner != userID {
			return notFound("revoke session")
		}
		return revoke(ctx, tx, id, now)
	})
}

// RevokedSince returns the ids of sessions revoked at or after t, in the
// order they were revoked.
func (s *Store) RevokedSince(ctx context.Context, t time.Time) ([]string, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id FROM sessions WHERE revoked_at >= ? ORDER BY revoked_at, id`, millis(t))
	if err != nil {
		return nil, wrap("revoked since", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("revoked since", err)
		}
		ids = append(ids, id)
	}
	return ids, wrap("revoked since", rows.Err())
}

func scanSession(row scanner) (*propusk.Session, error) {
	var (
		sess                               propusk.Session
		rotated, created, renewed, expires int64
		revoked                            sql.NullInt64
	)
	if err := row.Scan(&sess.ID, &sess.UserID, &sess.Generation, &rotated, &created, &renewed, &expires, &revoked, &sess.UserAgent, &sess.IP); err != nil {
		return nil, err
	}
	sess.RotatedAt = fromMillis(rotated)
	sess.CreatedAt = fromMillis(created)
	sess.RenewedAt = fromMillis(renewed)
	sess.ExpiresAt = fromMillis(expires)
	sess.RevokedAt = fromNullMillis(revoked)
	return &sess, nil
}
