package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/token"
)

// Pair is a freshly issued access and refresh token.
type Pair struct {
	AccessToken      string
	RefreshToken     string
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	SessionID        string
	UserID           int64 // 0 for an anonymous client
	// APIToken is the new "<id>|<secret>" api-token; set by Register and Login only.
	APIToken string
}

var (
	errSessionEnded = propusk.Errorf(propusk.ETOKENINVALID, "the refresh token's session has ended")
	errReused       = propusk.Errorf(propusk.ETOKENREUSED, "the refresh token was used before; its session has been revoked")
)

// Obtain issues an anonymous pair. It writes nothing: anonymous sessions
// live only in their tokens.
func (s *Service) Obtain(ctx context.Context) (*Pair, error) {
	sid, err := token.NewID(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("auth: obtain: %w", err)
	}
	now := s.cfg.Now()
	return s.issue(sid, nil, "", 0, now, now.Add(s.cfg.RefreshTTL))
}

// issue signs a pair for session sid: anonymous when u is nil; the refresh
// token may spend generation gen of chain fork.
func (s *Service) issue(sid string, u *propusk.User, fork string, gen int64, now, refreshExp time.Time) (*Pair, error) {
	ac := &token.AccessClaims{
		ExpiresAt: token.NewNumericDate(now.Add(s.cfg.AccessTTL)),
		IssuedAt:  token.NewNumericDate(now),
		SessionID: sid,
		Level:     propusk.LevelAnonymous,
		Boards:    []string{propusk.AllBoards},
	}
	rc := &token.RefreshClaims{ExpiresAt: token.NewNumericDate(refreshExp), SessionID: sid, Fork: fork, Generation: gen}
	if u != nil {
		ac.UserID, ac.Level, ac.Boards = u.ID, u.Level, u.Boards
		rc.UserID = u.ID
	}
	at, err := s.tokens.SignAccess(ac)
	if err != nil {
		return nil, fmt.Errorf("auth: sign access token: %w", err)
	}
	rt, err := s.tokens.SignRefresh(rc)
	if err != nil {
		return nil, fmt.Errorf("auth: sign refresh token: %w", err)
	}
	return &Pair{
		AccessToken: at, RefreshToken: rt,
		AccessExpiresAt: ac.ExpiresAt.Time, RefreshExpiresAt: rc.ExpiresAt.Time,
		SessionID: sid, UserID: ac.UserID,
	}, nil
}

// Renew spends a refresh token and returns a fresh pair; both tokens are new.
// A user's refresh token works once. Spent again within the grace period
// (two tabs racing) it returns tokens of the same session on a chain of
// their own, so the refresh token each racer received keeps working; spent
// again after it, the session is revoked and the answer is ETOKENREUSED. An
// anonymous refresh token is stateless: it yields a new anonymous pair with
// the same sid.
func (s *Service) Renew(ctx context.Context, refresh string, c propusk.Client) (_ *Pair, err error) {
	outcome := ""
	defer func() {
		if outcome == "" {
			outcome = codeOutcome(err)
		}
		s.cfg.Observer.Renewed(outcome)
	}()
	rc, err := s.tokens.VerifyRefresh(refresh)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if rc.UserID == 0 {
		outcome = "anonymous"
		return s.issue(rc.SessionID, nil, "", 0, now, now.Add(s.cfg.RefreshTTL))
	}
	fork, err := token.NewID(s.cfg.Rand)
	if err != nil {
		return nil, fmt.Errorf("auth: renew: %w", err)
	}
	sp := propusk.Spend{Session: rc.SessionID, Fork: rc.Fork, Generation: rc.Generation, NewFork: fork}
	r, err := s.store.RenewSession(ctx, sp, now, s.cfg.RenewGrace, s.cfg.RefreshTTL, clean(c))
	if err != nil {
		return nil, fmt.Errorf("auth: renew: %w", err)
	}
	outcome = renewOutcome(r, sp)
	switch r.Outcome {
	case propusk.RenewRotated, propusk.RenewGrace:
		if r.User == nil || r.User.ID != rc.UserID {
			outcome = "session_ended"
			return nil, errSessionEnded
		}
		return s.issue(r.Session.ID, r.User, r.Fork, r.Generation, now, r.Session.ExpiresAt)
	case propusk.RenewReused:
		s.revoked.add(rc.SessionID, now)
		s.log.WarnContext(ctx, "refresh token reuse: session revoked", "sid", rc.SessionID, "user", rc.UserID)
		return nil, errReused
	default:
		return nil, errSessionEnded
	}
}

// SignedIn reports whether refresh is a genuine refresh token of a user whose
// session is still live (not revoked, not expired). Anonymous tokens are
// never signed in.
func (s *Service) SignedIn(ctx context.Context, refresh string) (bool, error) {
	rc, err := s.tokens.VerifyRefresh(refresh)
	if err != nil || rc.UserID == 0 {
		return false, nil
	}
	sess, err := s.store.Session(ctx, rc.SessionID)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("auth: signed in: %w", err)
	}
	return !sess.Revoked() && s.cfg.Now().Before(sess.ExpiresAt), nil
}

// SessionOf returns the session id of a genuine access or refresh token, even
// an expired one, so a client whose access token lapsed can still log off.
func (s *Service) SessionOf(tok string) (string, bool) {
	if c, err := s.tokens.ParseExpiredAccess(tok); err == nil {
		return c.SessionID, true
	}
	if c, err := s.tokens.VerifyRefresh(tok); err == nil {
		return c.SessionID, true
	}
	return "", false
}
