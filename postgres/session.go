package postgres

import (
	"context"
	"errors"
	"fmt"
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

// rotateBatchSQL is rotateSQL for many spends at once: $1 to $6 are
// arrays of rotateSQL's arguments, a spend's at the same index in each.
// It returns a row for each spend that rotated, led by the spend's index
// counted from 1. Two spends of one session in a batch match one row, and
// the database updates it for one of them: the other rotated nothing,
// as if it had come a moment later.
const rotateBatchSQL = `WITH b AS (
	SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[])
	WITH ORDINALITY AS b(id, gen, at, expires, ua, ip, i)
), s AS (
	UPDATE sessions AS t
	SET generation = t.generation + 1, rotated_at = b.at, renewed_at = b.at, expires_at = b.expires, user_agent = b.ua, ip = b.ip
	FROM b
	WHERE t.id = b.id AND t.generation = b.gen AND t.revoked_at IS NULL AND t.expires_at > b.at
	RETURNING b.i, t.*
)
SELECT s.i, ` + sessionColumns + `, ` + userColumns + ` FROM s JOIN users u ON u.id = s.user_id`

// Batches of rotations (rotateBatchSQL): at most rotateBatchMax spends in
// one, and one batch at a time. A commit costs PostgreSQL about as much
// CPU as the rows it changes, so the spends that arrive while a batch runs
// go into the next together, and a spend that finds none running goes at
// once. One at a time, because two batches could lock the same sessions'
// rows in opposite orders and deadlock, and because one measured best:
// with 16 clients renewing, server and database CPU per renewal was 135 µs
// with one batch at a time (6,973 renewals a second), 160 with two (6,957)
// and 196 with four (6,174), against 237 to 266 µs for one statement per
// renewal measured beside each (go run ./internal/loadtest -stores
// postgres -scenarios token.renew -rounds 8 -before ...).
const (
	rotateBatchMax = 64
	rotateInFlight = 1
)

// rotation is the compare-and-swap of one spend of a session's main chain
// at, extending the session to expires: rotateSQL's arguments.
type rotation struct {
	session       string
	generation    int64
	at, expires   time.Time
	userAgent, ip string
}

// rotated is a rotation's outcome: the session and its user as the
// rotation left them, or nils when it did not rotate.
type rotated struct {
	sess *propusk.Session
	user *propusk.User
}

// rotateBatch runs rotations in one statement, which commits before it
// returns: rotateSQL for one, whose plan is the simpler, rotateBatchSQL
// for more.
func (s *Store) rotateBatch(ctx context.Context, rs []rotation) ([]rotated, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if len(rs) == 1 {
		r := rs[0]
		sess, user, err := scanSessionUser(s.pool.QueryRow(ctx, rotateSQL, r.session, r.generation, r.at, r.expires, r.userAgent, r.ip), s.loc)
		if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
		return []rotated{{sess, user}}, err
	}
	var (
		ids       = make([]string, len(rs))
		gens      = make([]int64, len(rs))
		ats, exps = make([]time.Time, len(rs)), make([]time.Time, len(rs))
		uas, ips  = make([]string, len(rs)), make([]string, len(rs))
	)
	for i, r := range rs {
		ids[i], gens[i], ats[i], exps[i], uas[i], ips[i] = r.session, r.generation, r.at, r.expires, r.userAgent, r.ip
	}
	rows, err := s.pool.Query(ctx, rotateBatchSQL, ids, gens, ats, exps, uas, ips)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]rotated, len(rs))
	for rows.Next() {
		var (
			i    int64
			sess propusk.Session
			u    propusk.User
		)
		dest, finish := sessionUserDest(&sess, &u, s.loc)
		if err := rows.Scan(append([]any{&i}, dest...)...); err != nil {
			return nil, err
		}
		if i < 1 || int(i) > len(rs) {
			return nil, fmt.Errorf("rotation %d of a batch of %d", i, len(rs))
		}
		finish()
		out[i-1] = rotated{&sess, &u}
	}
	return out, rows.Err()
}

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
// common path, a rotation, is one statement (rotateForkSQL on a forked
// chain; on the main chain rotateSQL, or rotateBatchSQL with the spends of
// other renewals that came at the same moment: s.rotations).
// Otherwise a second reads what propusk.Judge decides by (judgeSQL), and a
// third carries out its verdict: forks the chain (forkSQL, which checks the
// fork cap itself) or revokes the session and records it (revokeSQL).
func (s *Store) RenewSession(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, c propusk.Client) (*propusk.Renewal, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now = propusk.TruncMillis(now)
	var (
		chain      propusk.Chain
		sess       *propusk.Session
		user       *propusk.User
		err        error
		notRotated bool
	)
	if sp.Fork == "" {
		var r rotated
		r, err = s.rotations.Do(ctx, rotation{sp.Session, sp.Generation, now, now.Add(ttl), c.UserAgent, c.IP})
		sess, user, notRotated = r.sess, r.user, err == nil && r.sess == nil
	} else {
		sess, user, err = scanSessionUser(s.pool.QueryRow(ctx, rotateForkSQL, sp.Session, sp.Fork, sp.Generation, now, now.Add(ttl), c.UserAgent, c.IP), s.loc)
		notRotated = errors.Is(err, pgx.ErrNoRows)
	}
	switch {
	case notRotated:
		// Not the chain's current generation: read what the spend is judged by.
		if chain, user, err = s.readChain(ctx, sp); err != nil {
			return nil, wrap("renew session", err)
		}
		sess = chain.Session
	case err != nil:
		return nil, wrap("renew session", err)
	default:
		chain.Swapped = true
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
		sv, uv       = propusk.Session{}, propusk.User{}
		forkGen      *int64
		forkRotated  *time.Time
		c            propusk.Chain
		dest, finish = sessionUserDest(&sv, &uv, s.loc)
	)
	err := s.pool.QueryRow(ctx, judgeSQL, sp.Session, sp.Fork).Scan(append(dest, &forkGen, &forkRotated, &c.Forks)...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return c, nil, nil
	case err != nil:
		return c, nil, err
	}
	finish()
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
	dest, finish := sessionUserDest(&sess, &u, loc)
	if err := row.Scan(dest...); err != nil {
		return nil, nil, err
	}
	finish()
	return &sess, &u, nil
}

// sessionUserDest is sessionDest and userDest together: the destinations of
// sessionColumns followed by userColumns.
func sessionUserDest(sess *propusk.Session, u *propusk.User, loc *time.Location) ([]any, func()) {
	sdest, sfinish := sessionDest(sess)
	udest, ufinish := userDest(u, loc)
	return append(sdest, udest...), func() {
		sfinish()
		ufinish()
	}
}
