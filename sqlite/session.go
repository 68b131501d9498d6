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
	return s.write(ctx, "create session", func(tx *sql.Tx) error { return insertSession(ctx, tx, sess) })
}

// insertSession inserts the prepared sess inside tx.
func insertSession(ctx context.Context, tx *sql.Tx, sess *propusk.Session) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.UserID, sess.Generation, millis(sess.RotatedAt), millis(sess.CreatedAt),
		millis(sess.RenewedAt), millis(sess.ExpiresAt), nullMillis(sess.RevokedAt), sess.UserAgent, sess.IP)
	return err
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

// RenewSession spends the refresh token sp names: see propusk.Store. One
// write transaction holds the compare-and-swap on the chain, the session's
// renewal and, for a race loser, the fork, so the writers of this process
// and of others sharing the file take turns. propusk.Judge decides; this
// reads what it needs and carries out its verdict.
//
// The renewals that arrive while one commits share the next transaction
// (s.renewals, renewBatch), each carried out as if alone, one after the
// other: SQLite writes one transaction at a time, and each commit waits
// for the disk (synchronous=FULL), so the renewals of a busy server
// would otherwise queue for a disk write each.
func (s *Store) RenewSession(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, c propusk.Client) (*propusk.Renewal, error) {
	return s.renewals.Do(ctx, renewal{sp, propusk.TruncMillis(now), grace, ttl, c})
}

// renewBatchMax is the most renewals one transaction carries out.
const renewBatchMax = 64

// renewal is one RenewSession call: its arguments.
type renewal struct {
	sp         propusk.Spend
	now        time.Time
	grace, ttl time.Duration
	c          propusk.Client
}

// renewBatch carries out renewals in one write transaction, in their
// order, each seeing what those before it wrote. An error of one fails
// them all: none is committed.
func (s *Store) renewBatch(ctx context.Context, rs []renewal) ([]*propusk.Renewal, error) {
	out := make([]*propusk.Renewal, len(rs))
	err := s.write(ctx, "renew session", func(tx *sql.Tx) error {
		for i, r := range rs {
			var err error
			if out[i], err = s.renewIn(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// renewIn carries out renewal r inside tx.
func (s *Store) renewIn(ctx context.Context, tx *sql.Tx, r renewal) (*propusk.Renewal, error) {
	sp, now, c := r.sp, r.now, r.c
	var chain propusk.Chain
	sess, err := rotate(ctx, tx, sp, now, r.ttl, c)
	switch {
	case err == nil:
		chain.Swapped = true
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	default:
		// Not the chain's current generation: read what the spend is judged by.
		if chain, err = readChain(ctx, tx, sp); err != nil {
			return nil, err
		}
		sess = chain.Session
	}
	v := propusk.Judge(sp, chain, now, r.grace)
	var u *propusk.User
	switch v.Act {
	case propusk.ActFork:
		// No other writer can enter this transaction, so the count
		// readChain took still holds.
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_forks (session_id, fork, generation, rotated_at) VALUES (?, ?, ?, ?)`,
			sp.Session, v.Fork, v.Generation, millis(now)); err != nil {
			return nil, err
		}
	case propusk.ActRevoke:
		if err := revoke(ctx, tx, sp.Session, now); err != nil {
			return nil, err
		}
		if _, err := insertAudit(ctx, tx, propusk.ReuseAudit(sp.Session, sess.UserID, c).Prepared(now)); err != nil {
			return nil, err
		}
	}
	if v.Outcome() == propusk.RenewRotated || v.Outcome() == propusk.RenewGrace {
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, sess.UserID), s.loc); err != nil {
			return nil, err
		}
	}
	return v.Renewal(sess, u, now), nil
}

// readChain reads, inside tx, what propusk.Judge needs about a spend whose
// compare-and-swap matched nothing.
func readChain(ctx context.Context, tx *sql.Tx, sp propusk.Spend) (propusk.Chain, error) {
	var c propusk.Chain
	sess, err := scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, sp.Session))
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	c.Session = sess
	if sp.Fork != "" {
		var (
			f       propusk.ForkChain
			rotated int64
		)
		err := tx.QueryRowContext(ctx, `SELECT generation, rotated_at FROM session_forks WHERE session_id = ? AND fork = ?`,
			sp.Session, sp.Fork).Scan(&f.Generation, &rotated)
		switch {
		case err == nil:
			f.RotatedAt = fromMillis(rotated)
			c.Fork = &f
		case !errors.Is(err, sql.ErrNoRows):
			return c, err
		}
	}
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM session_forks WHERE session_id = ?`, sp.Session).Scan(&c.Forks)
	return c, err
}

// rotate is the compare-and-swap: it moves sp's chain from sp.Generation
// on and renews the live session, or returns sql.ErrNoRows.
func rotate(ctx context.Context, tx *sql.Tx, sp propusk.Spend, now time.Time, ttl time.Duration, c propusk.Client) (*propusk.Session, error) {
	if sp.Fork == "" {
		return scanSession(tx.QueryRowContext(ctx, `UPDATE sessions
			SET generation = generation + 1, rotated_at = ?, renewed_at = ?, expires_at = ?, user_agent = ?, ip = ?
			WHERE id = ? AND generation = ? AND revoked_at IS NULL AND expires_at > ?
			RETURNING `+sessionColumns,
			millis(now), millis(now), millis(now.Add(ttl)), c.UserAgent, c.IP, sp.Session, sp.Generation, millis(now)))
	}
	res, err := tx.ExecContext(ctx, `UPDATE session_forks SET generation = generation + 1, rotated_at = ?
		WHERE session_id = ? AND fork = ? AND generation = ?
		AND EXISTS (SELECT 1 FROM sessions WHERE id = ? AND revoked_at IS NULL AND expires_at > ?)`,
		millis(now), sp.Session, sp.Fork, sp.Generation, sp.Session, millis(now))
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err == nil {
			err = sql.ErrNoRows
		}
		return nil, err
	}
	return scanSession(tx.QueryRowContext(ctx, `UPDATE sessions SET renewed_at = ?, expires_at = ?, user_agent = ?, ip = ?
		WHERE id = ? RETURNING `+sessionColumns,
		millis(now), millis(now.Add(ttl)), c.UserAgent, c.IP, sp.Session))
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
	// The audit entry is recorded only when the session is revoked now, as
	// the other stores do: not by write, which records it on any success.
	e := propusk.AuditFrom(ctx)
	return s.write(propusk.WithAudit(ctx, nil), "revoke session", func(tx *sql.Tx) error {
		var (
			owner int64
			live  bool
		)
		if err := tx.QueryRowContext(ctx, `SELECT user_id, revoked_at IS NULL FROM sessions WHERE id = ?`, id).Scan(&owner, &live); err != nil {
			return err
		}
		if userID != 0 && owner != userID {
			return notFound("revoke session")
		}
		if err := revoke(ctx, tx, id, now); err != nil || !live || e == nil {
			return err
		}
		_, err := insertAudit(ctx, tx, e.Prepared(now))
		return err
	})
}

// RevokedSince returns the ids of sessions revoked at or after t, with
// those of the feed whose rows are gone (their user was deleted).
func (s *Store) RevokedSince(ctx context.Context, t time.Time) ([]string, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT id FROM sessions WHERE revoked_at >= ?
		UNION SELECT e.ref FROM events e WHERE e.kind = ? AND e.at >= ?
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.ref)`,
		millis(t), propusk.EventSession, millis(t))
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
