package mysql

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/propusk/propusk"
)

const sessionColumns = `s.id, s.user_id, s.generation, s.rotated_at, s.created_at, s.renewed_at, s.expires_at, s.revoked_at, s.user_agent, s.ip`

// CreateSession inserts sess. A zero CreatedAt becomes Now, and zero
// RotatedAt and RenewedAt become CreatedAt. ECONFLICT if the id exists.
func (s *Store) CreateSession(ctx context.Context, sess *propusk.Session) error {
	sess.Prepare(s.now())
	if propusk.AuditFrom(ctx) != nil {
		return s.write(ctx, "create session", func(ctx context.Context, tx *sql.Tx) error { return insertSession(ctx, tx, sess) })
	}
	return s.retry(ctx, "create session", func(ctx context.Context) error { return insertSession(ctx, s.db, sess) })
}

// insertSession inserts the prepared sess through q.
func insertSession(ctx context.Context, q execer, sess *propusk.Session) error {
	_, err := q.ExecContext(ctx, `INSERT INTO sessions
		(id, user_id, generation, rotated_at, created_at, renewed_at, expires_at, revoked_at, user_agent, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.UserID, sess.Generation, ms(sess.RotatedAt), ms(sess.CreatedAt),
		ms(sess.RenewedAt), ms(sess.ExpiresAt), nullMillis(sess.RevokedAt), sess.UserAgent, sess.IP)
	return err
}

// Session returns the session or ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string) (*propusk.Session, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	sess, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.id = ?`, id))
	if err != nil {
		return nil, wrap("session", err)
	}
	return sess, nil
}

// UserSessions returns the user's sessions that are neither revoked nor
// expired at now, the most recently created first.
func (s *Store) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*propusk.Session, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
		ORDER BY s.created_at DESC, s.id DESC`, userID, ms(now))
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

// rotateSQL is the compare-and-swap that spends generation ? of a session:
// one statement, so of many concurrent spends exactly one matches. InnoDB
// evaluates an UPDATE's WHERE on the newest committed row under its lock
// (whatever the isolation level): the others wait for the winner's lock,
// re-check against the row it left, and match nothing.
const rotateSQL = `UPDATE sessions
SET generation = generation + 1, rotated_at = ?, renewed_at = ?, expires_at = ?, user_agent = ?, ip = ?
WHERE id = ? AND generation = ? AND revoked_at IS NULL AND expires_at > ?`

// rotateForkSQL is rotateSQL for a forked chain: the compare-and-swap on the
// fork, and the renewal of its live session, in one multi-table UPDATE.
const rotateForkSQL = `UPDATE session_forks f JOIN sessions s ON s.id = f.session_id
SET f.generation = f.generation + 1, f.rotated_at = ?, s.renewed_at = ?, s.expires_at = ?, s.user_agent = ?, s.ip = ?
WHERE f.session_id = ? AND f.fork = ? AND f.generation = ? AND s.revoked_at IS NULL AND s.expires_at > ?`

// sessionUserSQL reads a session and its user after a swap.
const sessionUserSQL = `SELECT ` + sessionColumns + `, ` + userColumns + `
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`

// judgeSQL reads what a spend that did not rotate is judged by: the session,
// its user, the forked chain it named (NULLs for the first chain or a fork
// that does not exist) and how many forks the session has.
const judgeSQL = `SELECT ` + sessionColumns + `, ` + userColumns + `, f.generation, f.rotated_at, s.forks
FROM sessions s JOIN users u ON u.id = s.user_id
LEFT JOIN session_forks f ON f.session_id = s.id AND f.fork = ?
WHERE s.id = ?`

// RenewSession spends the refresh token sp names: see propusk.Store. The
// common path, a rotation, is two statements: the compare-and-swap
// (rotateSQL or rotateForkSQL), which decides, and a read of the session
// and its user for the new tokens (MySQL has no UPDATE … RETURNING).
// Otherwise the read is what propusk.Judge decides by (judgeSQL), and a
// transaction carries out its verdict: forks the chain, checking the fork
// cap on the session row it locks, or revokes the session and records it.
// A deadlock or lock wait timeout is retried (see Store.Retries).
func (s *Store) RenewSession(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, c propusk.Client) (*propusk.Renewal, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	r, err := s.renew(ctx, sp, ms(now), grace, ttl, c)
	if err != nil {
		return nil, wrap("renew session", err)
	}
	return r, nil
}

func (s *Store) renew(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, c propusk.Client) (*propusk.Renewal, error) {
	var (
		res sql.Result
		err error
	)
	// Each step is retried on its own: once the swap has committed, running
	// it again would judge the spend a second time.
	err = s.again(ctx, func(ctx context.Context) error {
		if sp.Fork == "" {
			res, err = s.db.ExecContext(ctx, rotateSQL, now, now, now.Add(ttl), c.UserAgent, c.IP, sp.Session, sp.Generation, now)
		} else {
			res, err = s.db.ExecContext(ctx, rotateForkSQL, now, now, now.Add(ttl), c.UserAgent, c.IP, sp.Session, sp.Fork, sp.Generation, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	var (
		chain propusk.Chain
		sess  *propusk.Session
		user  *propusk.User
	)
	if n > 0 {
		chain.Swapped = true
		if sess, user, err = scanSessionUser(s.db.QueryRowContext(ctx, sessionUserSQL, sp.Session), s.loc); err != nil {
			// Swapped, then deleted (pruned, or its user deleted) before the read.
			if errors.Is(err, sql.ErrNoRows) {
				return (propusk.Verdict{Act: propusk.ActRefuse}).Renewal(nil, nil, now), nil
			}
			return nil, err
		}
	} else {
		// Not the chain's current generation: read what the spend is judged by.
		if chain, user, err = s.readChain(ctx, sp); err != nil {
			return nil, err
		}
		sess = chain.Session
	}
	v := propusk.Judge(sp, chain, now, grace)
	switch v.Act {
	case propusk.ActFork:
		forked := false
		err := s.again(ctx, func(ctx context.Context) error {
			forked = false
			return s.inTx(ctx, func(tx *sql.Tx) error {
				// The cap is checked by the UPDATE that takes the session row's
				// lock: a racing fork waits for it and re-checks the newest count.
				res, err := tx.ExecContext(ctx, `UPDATE sessions SET forks = forks + 1 WHERE id = ? AND forks < ?`, sp.Session, propusk.MaxForks)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil || n == 0 {
					return err // concurrent losers took the last forks
				}
				forked = true
				_, err = tx.ExecContext(ctx, `INSERT INTO session_forks (session_id, fork, generation, rotated_at) VALUES (?, ?, ?, ?)`,
					sp.Session, v.Fork, v.Generation, now)
				return err
			})
		})
		if err != nil {
			return nil, err
		}
		if !forked {
			v = v.Shared()
		}
	case propusk.ActRevoke:
		actx := propusk.WithAudit(ctx, propusk.ReuseAudit(sp.Session, sess.UserID, c))
		err := s.again(actx, func(ctx context.Context) error { _, err := s.revoke(ctx, sp.Session, 0, now); return err })
		if err != nil {
			return nil, err
		}
		// Nothing revoked: a concurrent spend revoked it first, and recorded it.
	}
	return v.Renewal(sess, user, now), nil
}

// inTx runs fn in a transaction and commits it when fn returns nil; the
// caller retries.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// revoke revokes live session id at now if it belongs to userID (any user
// when 0) and appends its feed entry, in one transaction. It reports
// whether it revoked the session.
func (s *Store) revoke(ctx context.Context, id string, userID int64, now time.Time) (bool, error) {
	revoked := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?
			WHERE id = ? AND (? = 0 OR user_id = ?) AND revoked_at IS NULL`, ms(now), id, userID, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		revoked = true
		if err := s.writeAudit(ctx, tx); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventSession, []string{id}, now)
	})
	return revoked, err
}

// readChain reads (judgeSQL) what propusk.Judge needs about a spend whose
// compare-and-swap matched nothing, and the session's user.
func (s *Store) readChain(ctx context.Context, sp propusk.Spend) (propusk.Chain, *propusk.User, error) {
	var (
		sv, uv         = propusk.Session{}, propusk.User{}
		forkGen        sql.NullInt64
		forkRotated    sql.NullTime
		c              propusk.Chain
		sdest, sfinish = sessionDest(&sv)
		udest, ufinish = userDest(&uv, s.loc)
	)
	err := s.db.QueryRowContext(ctx, judgeSQL, sp.Fork, sp.Session).Scan(append(append(sdest, udest...), &forkGen, &forkRotated, &c.Forks)...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, nil, nil
	case err != nil:
		return c, nil, err
	}
	sfinish()
	if err := ufinish(); err != nil {
		return c, nil, err
	}
	c.Session = &sv
	if sp.Fork != "" && forkGen.Valid {
		c.Fork = &propusk.ForkChain{Generation: forkGen.Int64, RotatedAt: fromNull(forkRotated)}
	}
	return c, &uv, nil
}

// RevokeSession revokes the session at now and appends an EventSession, in
// one transaction. Revoking a revoked session changes nothing and is no error.
// ENOTFOUND if it does not exist or userID is not 0 and not its owner.
func (s *Store) RevokeSession(ctx context.Context, id string, userID int64, now time.Time) error {
	return s.retry(ctx, "revoke session", func(ctx context.Context) error {
		ok, err := s.revoke(ctx, id, userID, now)
		if err != nil || ok {
			return err
		}
		// Nothing revoked: tell an already revoked session of the caller's
		// from one that is missing or another user's.
		var owner int64
		if err := s.db.QueryRowContext(ctx, `SELECT user_id FROM sessions WHERE id = ?`, id).Scan(&owner); err != nil {
			return err
		}
		if userID != 0 && owner != userID {
			return notFound("revoke session")
		}
		return nil
	})
}

// RevokedSince returns the ids of sessions revoked at or after t, with
// those of the feed whose rows are gone (their user was deleted).
func (s *Store) RevokedSince(ctx context.Context, t time.Time) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions WHERE revoked_at >= ?
		UNION SELECT e.ref FROM events e WHERE e.kind = ? AND e.at >= ?
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.ref)`,
		ms(t), propusk.EventSession, ms(t))
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

// sessionDest returns the scan destinations of sessionColumns into sess, and
// a function to call after the scan.
func sessionDest(sess *propusk.Session) ([]any, func()) {
	var rotated, created, renewed, expires, revoked sql.NullTime
	dest := []any{&sess.ID, &sess.UserID, &sess.Generation, &rotated, &created, &renewed, &expires, &revoked, &sess.UserAgent, &sess.IP}
	return dest, func() {
		sess.RotatedAt = fromNull(rotated)
		sess.CreatedAt = fromNull(created)
		sess.RenewedAt = fromNull(renewed)
		sess.ExpiresAt = fromNull(expires)
		sess.RevokedAt = fromNull(revoked)
	}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanSession(row scanner) (*propusk.Session, error) {
	var sess propusk.Session
	dest, finish := sessionDest(&sess)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &sess, nil
}

func scanSessionUser(row scanner, loc *time.Location) (*propusk.Session, *propusk.User, error) {
	var (
		sess propusk.Session
		u    propusk.User
	)
	sdest, sfinish := sessionDest(&sess)
	udest, ufinish := userDest(&u, loc)
	if err := row.Scan(append(sdest, udest...)...); err != nil {
		return nil, nil, err
	}
	sfinish()
	return &sess, &u, ufinish()
}
