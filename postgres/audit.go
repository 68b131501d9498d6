package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/propusk/propusk"
)

const auditColumns = `id, at, kind, actor_id, actor_pat, actor_auth, user_id, session_id, token_id, ip, user_agent, outcome, detail`

// writeAudit inserts the entry ctx carries (propusk.WithAudit), if any,
// inside tx: Store.write calls it before it commits.
func (s *Store) writeAudit(ctx context.Context, tx pgx.Tx) error {
	if e := propusk.AuditFrom(ctx); e != nil {
		_, err := insertAudit(ctx, tx, e.Prepared(s.now()))
		return err
	}
	return nil
}

func insertAudit(ctx context.Context, q querier, e *propusk.AuditEntry) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO audit_log (`+auditColumns[4:]+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		e.At, e.Kind, e.ActorID, e.ActorPAT, e.ActorAuth, e.UserID, e.Session, e.TokenID, e.IP, e.UserAgent, e.Outcome, e.Detail).Scan(&id)
	return id, err
}

// pgxQ is what a pool and a transaction have in common, for both kinds of statement.
type pgxQ interface {
	querier
	execer
}

// audited runs fn through the pool, or, when ctx carries an audit entry,
// in a transaction that records it: the store's one-statement writes
// (CreateSession, RevokeSession) stay one statement when nothing is audited.
func (s *Store) audited(ctx context.Context, op string, fn func(ctx context.Context, q pgxQ) error) error {
	if propusk.AuditFrom(ctx) == nil {
		ctx, cancel := s.bound(ctx)
		defer cancel()
		return wrap(op, fn(ctx, s.pool))
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error { return fn(ctx, tx) })
}

// AddAudit implements propusk.AuditStore.
func (s *Store) AddAudit(ctx context.Context, e *propusk.AuditEntry) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := e.Prepared(s.now())
	id, err := insertAudit(ctx, s.pool, p)
	if err != nil {
		return wrap("add audit", err)
	}
	e.ID, e.At = id, p.At
	return nil
}

// Audit implements propusk.AuditStore.
func (s *Store) Audit(ctx context.Context, q propusk.AuditQuery) ([]*propusk.AuditEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.UserID != 0 {
		n := arg(q.UserID)
		where = append(where, `(user_id = `+n+` OR actor_id = `+n+`)`)
	}
	if q.Kind != "" {
		where = append(where, `kind = `+arg(q.Kind))
	}
	if !q.Since.IsZero() {
		where = append(where, `at >= `+arg(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, `at < `+arg(q.Until))
	}
	if q.Before > 0 {
		where = append(where, `id < `+arg(q.Before))
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := s.pool.Query(ctx, query+` ORDER BY id DESC LIMIT `+arg(q.Limit), args...)
	if err != nil {
		return nil, wrap("audit", err)
	}
	defer rows.Close()
	var es []*propusk.AuditEntry
	for rows.Next() {
		var e propusk.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Kind, &e.ActorID, &e.ActorPAT, &e.ActorAuth, &e.UserID, &e.Session, &e.TokenID, &e.IP, &e.UserAgent, &e.Outcome, &e.Detail); err != nil {
			return nil, wrap("audit", err)
		}
		e.At = e.At.UTC()
		es = append(es, &e)
	}
	return es, wrap("audit", rows.Err())
}

// PruneAudit implements propusk.AuditStore.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_log WHERE at < $1`, before)
	if err != nil {
		return 0, wrap("prune audit", err)
	}
	return tag.RowsAffected(), nil
}

// errNotRevoked is revokeSQL's "no row": the session was not revoked now
// (missing, another user's, or revoked already). It rolls back the
// transaction of an audited revoke, so that its entry is not recorded.
var errNotRevoked = errors.New("postgres: no session revoked")

// revokedNow turns revokeSQL's pgx.ErrNoRows into errNotRevoked, which
// wrap keeps as it is.
func revokedNow(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotRevoked
	}
	return err
}
