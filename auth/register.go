package auth

import (
	"context"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/pat"
)

// Register creates a user with the default level and boards, signs them in
// and issues their first api-token. The user, the session and the
// api-token are written in one store transaction: if any write fails,
// nothing is left, and the same registration can be retried.
func (s *Service) Register(ctx context.Context, login, password string, c propusk.Client) (*Pair, error) {
	u, err := s.newUser(ctx, login, password, propusk.LevelUser, nil)
	if err != nil {
		return nil, err
	}
	sess, err := s.newSession(0, c)
	if err != nil {
		return nil, err
	}
	t, secret, err := s.newAPIToken(0)
	if err != nil {
		return nil, err
	}
	r := &propusk.Registration{
		User: u, Session: sess, Token: t,
		SealAPIToken: func(userID int64) (string, error) { return s.sealAPIToken(userID, secret) },
	}
	if err := s.store.Register(ctx, r); err != nil {
		return nil, userError(err)
	}
	p, err := s.issue(sess.ID, u, "", sess.Generation, sess.CreatedAt, sess.ExpiresAt)
	if err != nil {
		return nil, err
	}
	p.APIToken = pat.Format(t.ID, secret)
	s.log.Info("api-token reissued", "user", u.ID, "reason", "registration", "token_id", t.ID)
	return p, nil
}
