package auth

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/propusk/propusk"
)

// MaxAuditPage is the most entries one page of Audit returns.
const MaxAuditPage = 1000

// auditEntry is an entry of kind about user (0: none) made by the caller
// ctx carries (propusk.FromContext; none: the operator), from the client
// it carries (propusk.WithClient).
func auditEntry(ctx context.Context, kind string, user int64) *propusk.AuditEntry {
	c, inRequest := propusk.ClientFrom(ctx)
	c = clean(c)
	e := &propusk.AuditEntry{Kind: kind, UserID: user, IP: c.IP, UserAgent: c.UserAgent, Outcome: "ok", ActorAuth: propusk.AuthOperator}
	if inRequest {
		e.ActorAuth = propusk.AuthToken // a public route: refined below when the caller is known
	}
	if p := propusk.FromContext(ctx); p != nil {
		actorOf(e, p)
	}
	return e
}

// actorOf sets e's actor to p.
func actorOf(e *propusk.AuditEntry, p *propusk.Principal) {
	if p == nil {
		return
	}
	e.ActorID = p.UserID
	switch p.Via {
	case propusk.ViaAPIToken:
		e.ActorAuth = propusk.AuthPAT
		e.ActorPAT, _ = strconv.ParseInt(p.TokenID, 10, 64)
	default:
		e.ActorAuth = propusk.AuthAccess
	}
}

// audited returns ctx carrying e, at the service's now, for the one store
// write that records it.
func (s *Service) audited(ctx context.Context, e *propusk.AuditEntry) context.Context {
	e.At = s.cfg.Now()
	return propusk.WithAudit(ctx, e)
}

// record inserts e on its own, for events that change nothing in the
// store. A failure is logged: the request it records has been answered.
func (s *Service) record(ctx context.Context, e *propusk.AuditEntry) {
	e.At = s.cfg.Now()
	if err := s.store.AddAudit(ctx, e); err != nil {
		s.log.WarnContext(ctx, "audit log: record", "kind", e.Kind, "err", err)
	}
}

// Audit returns a page of the audit log, newest first; see propusk.AuditQuery.
func (s *Service) Audit(ctx context.Context, q propusk.AuditQuery) ([]*propusk.AuditEntry, error) {
	if q.Limit <= 0 || q.Limit > MaxAuditPage {
		q.Limit = MaxAuditPage
	}
	if len(q.Kind) > 64 {
		return nil, propusk.Errorf(propusk.EINVALID, "the event kind is too long")
	}
	es, err := s.store.Audit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("auth: audit: %w", err)
	}
	return es, nil
}

// recordFailure records a refused attempt (a failed login, a rate limit)
// by the client c, about user (0: unknown).
func (s *Service) recordFailure(ctx context.Context, kind string, user int64, c propusk.Client, detail string) {
	e := auditEntry(ctx, kind, user)
	e.ActorAuth, e.IP, e.UserAgent, e.Outcome, e.Detail = propusk.AuthPassword, c.IP, c.UserAgent, "refused", detail
	s.record(ctx, e)
}

// changeOf describes an administrator's change for the audit log.
func changeOf(ch propusk.UserChange) string {
	var parts []string
	if ch.Level != nil {
		parts = append(parts, "level="+strconv.Itoa(*ch.Level))
	}
	if ch.Boards != nil {
		parts = append(parts, "boards="+strings.Join(ch.Boards, ","))
	}
	if ch.Disabled != nil {
		parts = append(parts, "disabled="+strconv.FormatBool(*ch.Disabled))
	}
	return strings.Join(parts, " ")
}

// PruneAudit deletes the audit entries older than Config.AuditRetention;
// Run calls it hourly.
func (s *Service) PruneAudit(ctx context.Context) error {
	n, err := s.store.PruneAudit(ctx, s.cfg.Now().Add(-s.cfg.AuditRetention))
	if err != nil {
		return fmt.Errorf("auth: prune audit: %w", err)
	}
	if n > 0 {
		s.log.Info("pruned audit log entries", "count", n)
	}
	return nil
}
