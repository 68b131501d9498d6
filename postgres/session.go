package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/propusk/propusk"
)

const sessionColumns = `s.id, s.user_id, s.generation, s.rotated_at, s.created_at, s.renewed_at, s.expires_at, s.revoked_at, s.user_agent, s.ip`

// CreateSession inserts sess. A zero CreatedAt becomes Now, and zero
// RotatedAt and RenewedAt become CreatedAt. ECONFLICT if the id exists.
func (s *Store) CreateSession(ctx context.Context, sess *propusk.Session) error {
	sess.Prepare(s.now())
	return s.audited(ctx, "create session", func(ctx context.Context, q pgxQ) error { return insertSession(ctx, q, sess) })
}

// insertSession inserts the prepared sess through q.
func insertSession(ctx context.Context, q execer, sess *propusk.Session) error {
	_, err := q.Exec(ctx, `INSERT INTO sessions
		(id, user_id, generation, rotated_at, created_at, renewed_at, expires_at, revoked_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		sess.ID, sess.UserID, sess.Generation, sess.RotatedAt, sess.CreatedAt,
		sess.RenewedAt, sess.ExpiresAt, nullMillis(sess.RevokedAt), sess.UserAgent, sess.IP)
	return err
}

// Session returns the session or ENOTFOUND.
func (s *Store) Session(ctx context.Context, id string) (*propusk.Session, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.id = $1`, id))
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
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
		ORDER BY s.created_at DESC, s.id DESC`, userID, now)
	if err != nil {
		return nil, wrap("user sessions", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.Session, error) { return scanSession(row) })
	if err != nil {
		return nil, wrap("user sessions", err)
	}
	return list, nil
}

// rotateSQL is the compare-and-swap that spends generation $2 of session $1
// at $3: one statement, so of many concurrent spends exactly one matches.
// Under READ COMMITTED the others wait for the winner's row lock, re-check
// the WHERE against the row it left, and match nothing.
const rotateSQL = `WITH s AS (
	UPDATE sessions
	SET generation = generation + 1, rotated_at = $3, renewed_at = $3, expires_at = $4, user_agent = $5, ip = $6
	WHERE id = $1 AND generation = $2 AND revoked_at IS NULL AND expires_at > $3
	RETURNING *
)
SELECT ` + sessionColumns + `, ` + userColumns + ` FROM s JOIN users u ON u.id = s.user_id`

// revokeSQL revokes live session $1 at $2 if it belongs to user $3 (any user
// when $3 is 0), and appends its feed entry and notification in the same
// statement. It returns the entry's seq, or no row when it revoked nothing.
const revokeSQL = `WITH r AS (
	UPDATE sessions SET revoked_at = $2
	WHERE id = $1 AND ($3::bigint = 0 OR user_id = $3) AND revoked_at IS NULL
	RETURNING id
), c AS (
	UPDATE event_seq SET seq = seq + 1 WHERE EXISTS (SELECT 1 FROM r) RETURNING seq
), e AS (
	INSERT INTO events (seq, kind, ref, at)
	SELECT c.seq, '` + propusk.EventSession + `', r.id, $2 FROM c, r
	RETURNING seq
)
SELECT e.seq FROM e, pg_notify(` + channelExpr + `, e.seq::text)`

// rotateForkSQL is rotateSQL for a forked chain: the compare-and-swap on the
// fork, and the renewal of its live session, in one statement.
const rotateForkSQL = `WITH f AS (
	UPDATE session_forks SET generation = generation + 1, rotated_at = $4
	WHERE session_id = $1 AND fork = $2 AND generation = $3
	AND EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $4)
	RETURNING session_id
), s AS (
	UPDATE sessions SET renewed_at = $4, expires_at = $5, user_agent = $6, ip = $7
	WHERE id = (SELECT session_id FROM f)
	RETURNING *
)
SELECT ` + sessionColumns + `, ` + userColumns + ` FROM s JOIN users u ON u.id = s.user_id`

// judgeSQL reads what a spend that did not rotate is judged by: the session,
// its user, the forked chain it named (NULLs for the first chain or a fork
// that does not exist) and how many forks the session has.
const judgeSQL = `SELECT ` + sessionColumns + `, ` + userColumns + `, f.generation, f.rotated_at,
	(SELECT count(*) FROM session_forks WHERE session_id = $1)
FROM sessions s JOIN users u ON u.id = s.user_id
LEFT JOIN session_forks f ON f.session_id = s.id AND f.fork = $2
WHERE s.id = $1`

// forkSQL forks a session's chain unless it has MaxForks ($5) forks, in one
// statement. The cap is checked on the session row's counter by the UPDATE
// that takes the row's lock: a racing fork waits for it and then re-checks
// the newest count, so of any number of concurrent losers at most the
// remaining few fork. judgeSQL's count only spares a full session the write.
const forkSQL = `WITH c AS (
	UPDATE sessions SET forks = forks + 1 WHERE id = $1 AND forks < $5 RETURNING id
)
INSERT INTO session_forks (session_id, fork, generation, rotated_at)
SELECT id, $2, $3, $4 FROM c`

// RenewSession spends the refresh token sp names: see propusk.Store. The
// common path, a rotation, is one statement (rotateSQL or rotateForkSQL).
// Otherwise a second reads what propusk.Judge decides by (judgeSQL), and a
// third carries out its verdict: forks the chain (forkSQL, which checks the
// fork cap itself) or revokes the session and records it (revokeSQL).
func (s *Store) RenewSession(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, c propusk.Client) (*propusk.Renewal, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now = propusk.TruncMillis(now)
	var row pgx.Row
	if sp.Fork == "" {
		row = s.pool.QueryRow(ctx, rotateSQL, sp.Session, sp.Generation, now, now.Add(ttl), c.UserAgent, c.IP)
	} else {
		row = s.pool.QueryRow(ctx, rotateForkSQL, sp.Session, sp.Fork, sp.Generation, now, now.Add(ttl), c.UserAgent, c.IP)
	}
	var chain propusk.Chain
	sess, user, err := scanSessionUser(row, s.loc)
	switch {
	case err == nil:
		chain.Swapped = true
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, wrap("renew session", err)
	default:
		// Not the chain's current generation: read what the spend is judged by.
		if chain, user, err = s.readChain(ctx, sp); err != nil {
			return nil, wrap("renew session", err)
		}
		sess = chain.Session
	}
	v := propusk.Judge(sp, chain, now, grace)
	switch v.Act {
	case propusk.ActFork:
		tag, err := s.pool.Exec(ctx, forkSQL, sp.Session, v.Fork, v.Generation, now, propusk.MaxForks)
		if err != nil {
			return nil, wrap("renew session: fork", err)
		}
		if tag.RowsAffected() == 0 { // concurrent losers took the last forks
			v = v.Shared()
		}
	case propusk.ActRevoke:
		var seq int64
		actx := propusk.WithAudit(ctx, propusk.ReuseAudit(sp.Session, sess.UserID, c))
		err := s.audited(actx, "renew session", func(ctx context.Context, q pgxQ) error {
			return revokedNow(q.QueryRow(ctx, revokeSQL, sp.Session, now, int64(0)).Scan(&seq))
		})
		if err != nil && !errors.Is(err, errNotRevoked) {
			return nil, wrap("renew session", err)
		}
		// No row: a concurrent spend revoked it first, and recorded it.
	}
	return v.Renewal(sess, user, now), nil
}

// readChain reads (judgeSQL) what propusk.Judge needs about a spend whose
// compare-and-swap matched nothing, and the session's user.
func (s *Store) readChain(ctx context.Context, sp propusk.Spend) (propusk.Chain, *propusk.User, error) {
	var (
		sv, uv         = propusk.Session{}, propusk.User{}
		forkGen        *int64
		forkRotated    *time.Time
		c              propusk.Chain
		sdest, sfinish = sessionDest(&sv)
		udest, ufinish = userDest(&uv, s.loc)
	)
	err := s.pool.QueryRow(ctx, judgeSQL, sp.Session, sp.Fork).Scan(append(append(sdest, udest...), &forkGen, &forkRotated, &c.Forks)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return c, nil, nil
	case err != nil:
		return c, nil, err
	}
	sfinish()
	ufinish()
	c.Session = &sv
	if sp.Fork != "" && forkGen != nil {
		c.Fork = &propusk.ForkChain{Generation: *forkGen, RotatedAt: forkRotated.UTC()}
	}
	return c, &uv, nil
}

// RevokeSession revokes the session at now and appends an EventSession, in
// one transaction. Revoking a revoked session changes nothing and is no error.
// ENOTFOUND if it does not exist or userID is not 0 and not its owner.
func (s *Store) RevokeSession(ctx context.Context, id string, userID int64, now time.Time) error {
	var seq int64
	err := s.audited(ctx, "revoke session", func(ctx context.Context, q pgxQ) error {
		return revokedNow(q.QueryRow(ctx, revokeSQL, id, propusk.TruncMillis(now), userID).Scan(&seq))
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, errNotRevoked) {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// Nothing revoked: tell an already revoked session of the caller's
	// from one that is missing or another user's.
	var owner int64
	if err := s.pool.QueryRow(ctx, `SELECT user_id FROM sessions WHERE id = $1`, id).Scan(&owner); err != nil {
		return wrap("revoke session", err)
	}
	if userID != 0 && owner != userID {
		return notFound("revoke session")
	}
	return nil
}

// RevokedSince returns the ids of sessions revoked at or after t, with
// those of the feed whose rows are gone (their user was deleted). NOT
// EXISTS, not NOT IN: PostgreSQL cannot turn NOT IN into an anti-join, and
// once the sessions' ids outgrow work_mem it compares each event with
// every session: the likely cause of a process, starting beside a million
// sessions on a busy machine, running past its timeout here.
func (s *Store) RevokedSince(ctx context.Context, t time.Time) ([]string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id FROM sessions WHERE revoked_at >= $1
		UNION SELECT e.ref FROM events e WHERE e.kind = $2 AND e.at >= $1
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.ref)`, t, propusk.EventSession)
	if err != nil {
		return nil, wrap("revoked since", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap("revoked since", err)
	}
	return ids, nil
}

// sessionDest returns the scan destinations of sessionColumns into sess, and
// a function to call after the scan.
func sessionDest(sess *propusk.Session) ([]any, func()) {
	var (
		rotated, created, renewed, expires time.Time
		revoked                            *time.Time
	)
	dest := []any{&sess.ID, &sess.UserID, &sess.Generation, &rotated, &created, &renewed, &expires, &revoked, &sess.UserAgent, &sess.IP}
	return dest, func() {
		sess.RotatedAt = rotated.UTC()
		sess.CreatedAt = created.UTC()
		sess.RenewedAt = renewed.UTC()
		sess.ExpiresAt = expires.UTC()
		sess.RevokedAt = utc(revoked)
	}
}

func scanSession(row pgx.Row) (*propusk.Session, error) {
	var sess propusk.Session
	dest, finish := sessionDest(&sess)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &sess, nil
}

func scanSessionUser(row pgx.Row, loc *time.Location) (*propusk.Session, *propusk.User, error) {
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
	ufinish()
	return &sess, &u, nil
}
