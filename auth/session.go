package auth

import (
	"context"
	"fmt"

	"github.com/propusk/propusk"
)

// Logoff ends session sid: its refresh token and every access token of it
// stop working at once here, and on other processes as soon as they read
// the feed. Ending an anonymous or unknown session is no error.
func (s *Service) Logoff(ctx context.Context, sid string) error {
	e := auditEntry(ctx, propusk.AuditLogoff, 0)
	e.Session = sid
	err := s.store.RevokeSession(s.audited(ctx, e), sid, 0, s.cfg.Now())
	if err != nil && propusk.ErrorCode(err) != propusk.ENOTFOUND {
		return fmt.Errorf("auth: logoff: %w", err)
	}
	if err == nil {
		s.revoked.add(sid, s.cfg.Now())
	}
	return nil
}

// EndSession ends one of the user's sessions, as Logoff does. ENOTFOUND if
// it is not theirs.
func (s *Service) EndSession(ctx context.Context, userID int64, sid string) error {
	if !plausibleID(sid) {
		return propusk.Errorf(propusk.ENOTFOUND, "no such session")
	}
	e := auditEntry(ctx, propusk.AuditSessionEnded, userID)
	e.Session = sid
	if err := s.store.RevokeSession(s.audited(ctx, e), sid, userID, s.cfg.Now()); err != nil {
		if propusk.ErrorCode(err) == propusk.ENOTFOUND {
			return propusk.Errorf(propusk.ENOTFOUND, "no such session")
		}
		return fmt.Errorf("auth: end session: %w", err)
	}
	s.revoked.add(sid, s.cfg.Now())
	return nil
}

// Sessions returns the user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID int64) ([]*propusk.Session, error) {
	ss, err := s.store.UserSessions(ctx, userID, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	return ss, nil
}

// plausibleID reports whether id could be a session id (token.NewID's
// URL-safe base64), so that garbage from a URL never reaches the store.
func plausibleID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
