package mysql

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/propusk/propusk"
)

const auditColumns = `id, at, kind, actor_id, actor_pat, actor_auth, user_id, session_id, token_id, ip, user_agent, outcome, detail`

// writeAudit inserts the entry ctx carries (propusk.WithAudit), if any,
// inside tx: Store.write and Store.inTx call it before they commit.
func (s *Store) writeAudit(ctx context.Context, tx *sql.Tx) error {
	if e := propusk.AuditFrom(ctx); e != nil {
		_, err := insertAudit(ctx, tx, e.Prepared(s.now()))
		return err
	}
	return nil
}

func insertAudit(ctx context.Context, q execer, e *propusk.AuditEntry) (int64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns[4:]+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ms(e.At), e.Kind, e.ActorID, e.ActorPAT, e.ActorAuth, e.UserID, e.Session, e.TokenID, e.IP, e.UserAgent, e.Outcome, e.Detail)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AddAudit implements propusk.AuditStore.
func (s *Store) AddAudit(ctx context.Context, e *propusk.AuditEntry) error {
	p := e.Prepared(s.now())
	return s.retry(ctx, "add audit", func(ctx context.Context) error {
		id, err := insertAudit(ctx, s.db, p)
		e.ID, e.At = id, p.At
		return err
	})
}

// Audit implements propusk.AuditStore.
func (s *Store) Audit(ctx context.Context, q propusk.AuditQuery) ([]*propusk.AuditEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var (
		where []string
		args  []any
	)
	if q.UserID != 0 {
		where, args = append(where, `(user_id = ? OR actor_id = ?)`), append(args, q.UserID, q.UserID)
	}
	if q.Kind != "" {
		where, args = append(where, `kind = ?`), append(args, q.Kind)
	}
	if !q.Since.IsZero() {
		where, args = append(where, `at >= ?`), append(args, ms(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, `at < ?`), append(args, ms(q.Until))
	}
	if q.Before > 0 {
		where, args = append(where, `id < ?`), append(args, q.Before)
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	query := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY id DESC LIMIT ?`, append(args, q.Limit)...)
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
	var n int64
	err := s.retry(ctx, "prune audit", func(ctx context.Context) error {
		res, err := s.db.ExecContext(ctx, `DELETE FROM audit_log WHERE at < ?`, ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
