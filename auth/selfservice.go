package auth

import (
	"context"
	"fmt"
)

// EndOtherSessions ends every live session of the user but sid, the one the
// caller is signed in with ("sign out other devices"), and returns how many
// it ended. Ending a session another request ended meanwhile is no error.
func (s *Service) EndOtherSessions(ctx context.Context, userID int64, sid string) (int, error) {
	ss, err := s.Sessions(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range ss {
		if x.ID == sid {
			continue
		}
		if err := s.store.RevokeSession(ctx, x.ID, userID, s.cfg.Now()); err != nil {
			return n, fmt.Errorf("auth: end other sessions: %w", err)
		}
		s.revoked.add(x.ID, s.cfg.Now())
		n++
	}
	return n, nil
}
