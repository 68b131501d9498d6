package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/propusk/propusk"
)

const auditColumns = `id, at, kind, actor_id, actor_pat, actor_auth, user_id, session_id, token_id, ip, user_agent, outcome, detail`

// writeAudit inserts the entry ctx carries (propusk.WithAudit), if any,
// inside tx: Store.write calls it before it commits.
func (s *Store) writeAudit(ctx context.Context, tx *sql.Tx) error {
	if e := propusk.AuditFrom(ctx); e != nil {
		_, err := insertAudit(ctx, tx, e.Prepared(s.now()))
		return err
	}
	return nil
}

func insertAudit(ctx context.Context, tx *sql.Tx, e *propusk.AuditEntry) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO audit_log (`+auditColumns[4:]+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		millis(e.At), e.Kind, e.ActorID, e.ActorPAT, e.ActorAuth, e.UserID, e.Session, e.TokenID, e.IP, e.UserAgent, e.Outcome, e.Detail)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AddAudit implements propusk.AuditStore.
func (s *Store) AddAudit(ctx context.Context, e *propusk.AuditEntry) error {
	p := e.Prepared(s.now())
	return s.write(ctx, "add audit", func(tx *sql.Tx) error {
		id, err := insertAudit(ctx, tx, p)
		e.ID, e.At = id, p.At
		return err
	})
}

// Audit implements propusk.AuditStore.
func (s *Store) Audit(ctx context.Context, q propusk.AuditQuery) ([]*propusk.AuditEntry, error) {
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
		where, args = append(where, `at >= ?`), append(args, millis(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, `at < ?`), append(args, millis(q.Until))
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
		var (
			e  propusk.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.ActorID, &e.ActorPAT, &e.ActorAuth, &e.UserID, &e.Session, &e.TokenID, &e.IP, &e.UserAgent, &e.Outcome, &e.Detail); err != nil {
			return nil, wrap("audit", err)
		}
		e.At = fromMillis(at)
		es = append(es, &e)
	}
	return es, wrap("audit", rows.Err())
}

// PruneAudit implements propusk.AuditStore.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, "prune audit", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE at < ?`, millis(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
