package auth

import (
	"context"
	"fmt"

	"github.com/propusk/propusk"
)

// checkTokenCap refuses a new personal access token for a user who holds
// MaxTokensPerUser already. The api-token lifecycle is not capped: it
// replaces the user's api-token rather than adding one.
//
// The count is read before the insert, not in its transaction: requests
// racing past the check can overshoot the cap by as many as run at once,
// which bounds growth all the same.
func (s *Service) checkTokenCap(ctx context.Context, userID int64) error {
	limit := s.cfg.MaxTokensPerUser
	if limit < 0 {
		return nil
	}
	ts, err := s.store.UserTokens(ctx, s.cfg.TokenableType, userID)
	if err != nil {
		return fmt.Errorf("auth: count tokens: %w", err)
	}
	if len(ts) >= limit {
		return propusk.Errorf(propusk.ECONFLICT, "a user may hold at most %d personal access tokens: delete one before creating another", limit)
	}
	return nil
}

// checkSessionCap refuses a login for a user who has MaxSessionsPerUser
// live sessions already. Expired and ended sessions do not count. Like
// checkTokenCap, it may overshoot by the logins running at once, which
// MaxHashing bounds.
func (s *Service) checkSessionCap(ctx context.Context, userID int64) error {
	limit := s.cfg.MaxSessionsPerUser
	if limit < 0 {
		return nil
	}
	ss, err := s.store.UserSessions(ctx, userID, s.cfg.Now())
	if err != nil {
		return fmt.Errorf("auth: count sessions: %w", err)
	}
	if len(ss) >= limit {
		return propusk.Errorf(propusk.ECONFLICT, "a user may have at most %d live sessions: log off on another device (or end a session under /account) before logging in again", limit)
	}
	return nil
}
