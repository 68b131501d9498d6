package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/propusk/propusk"
)

// auditFlags are the audit command's filters, as GET /api/v1/admin/audit's.
type auditFlags struct {
	user, cursor int64
	limit        int
	kind         string
	since, until string
	q            propusk.AuditQuery
}

func (a *auditFlags) declare(fs *flag.FlagSet) {
	fs.Int64Var(&a.user, "user", 0, "only entries whose subject or actor is this user id")
	fs.StringVar(&a.kind, "kind", "", "only entries of this kind, such as login.failed")
	fs.StringVar(&a.since, "since", "", "only entries at or after this RFC 3339 time, such as 2025-03-01T00:00:00Z")
	fs.StringVar(&a.until, "until", "", "only entries before this RFC 3339 time")
	fs.IntVar(&a.limit, "limit", 100, "at most this many entries, 1 to 10000")
	fs.Int64Var(&a.cursor, "cursor", 0, "only entries with an id below this one: the last id printed, for the next page")
}

// parse checks the flags and makes the query.
func (a *auditFlags) parse() error {
	if a.user < 0 || a.cursor < 0 {
		return errors.New("--user and --cursor must be ids, 1 or more")
	}
	if a.limit < 1 || a.limit > 10000 {
		return fmt.Errorf("--limit must be 1 to 10000, e.g. 100, not %d", a.limit)
	}
	a.q = propusk.AuditQuery{UserID: a.user, Kind: a.kind, Before: a.cursor, Limit: a.limit}
	for _, f := range []struct {
		name, v string
		to      *time.Time
	}{{"since", a.since, &a.q.Since}, {"until", a.until, &a.q.Until}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.v)
		if err != nil {
			return fmt.Errorf("--%s must be an RFC 3339 time, e.g. 2025-03-01T00:00:00Z, not %q", f.name, f.v)
		}
		*f.to = t
	}
	return nil
}

// auditLine is one entry as propusk audit prints it: the fields of
// GET /api/v1/admin/audit's entries.
type auditLine struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Actor     any       `json:"actor"`
	User      int64     `json:"user"`
	Session   string    `json:"session"`
	Token     int64     `json:"token"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"userAgent"`
	Outcome   string    `json:"outcome"`
	Detail    string    `json:"detail"`
}

// printAudit prints the entries the flags select, newest first, one JSON
// object a line.
func (m *Main) printAudit(ctx context.Context) error {
	es, err := m.store.Audit(ctx, m.audit.q)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(m.stdout)
	for _, e := range es {
		line := auditLine{
			ID: e.ID, At: e.At.UTC(), Kind: e.Kind,
			Actor: map[string]any{"id": e.ActorID, "pat": e.ActorPAT, "auth": e.ActorAuth},
			User:  e.UserID, Session: e.Session, Token: e.TokenID, IP: e.IP, UserAgent: e.UserAgent, Outcome: e.Outcome, Detail: e.Detail,
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}
