package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
	"github.com/propusk/propusk/pat"
)

// Register creates a user with the default level and boards, signs them in
// and issues their first api-token. The user, the session and the
// api-token are written in one store transaction: if any write fails,
// nothing is left, and the same registration can be retried.
//
// Each client address may try RegisterLimit.PerIP registrations per window,
// those that find the login taken included, so ELOGINTAKEN is no unlimited
// oracle of which logins exist; past that it answers ETOOMANY.
// Registrations hash passwords in slots of their own, so they never take
// those logins need.
func (s *Service) Register(ctx context.Context, login, password string, c propusk.Client) (*Pair, error) {
	return s.RegisterNamed(ctx, login, password, "", c)
}

// MaxNameLen is the most characters a Laravel user's name may have: the
// VARCHAR(255) of a stock Laravel users table.
const MaxNameLen = 255

// RegisterNamed is Register with the user's name, which Laravel mode
// stores in users.name: "" takes the login. Outside Laravel mode propusk
// keeps no name, and name is ignored. A name must be 1 to MaxNameLen
// characters of valid UTF-8 with no control characters (EINVALID).
func (s *Service) RegisterNamed(ctx context.Context, login, password, name string, c propusk.Client) (_ *Pair, err error) {
	defer func() { s.cfg.Observer.Registered(resultOf(err)) }()
	// Bad input is refused before it costs the address a registration.
	if _, err := logins.Canonical(login); err != nil {
		return nil, err
	}
	if s.cfg.Laravel == nil {
		name = ""
	}
	if name != "" && (!utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen || strings.ContainsFunc(name, unicode.IsControl)) {
		return nil, propusk.Errorf(propusk.EINVALID, "the name must be 1 to %d characters, with no control characters", MaxNameLen)
	}
	if err := validPassword(password); err != nil {
		return nil, err
	}
	c = clean(c)
	if err := s.limiter.attemptRegister(ctx, c.IP, s.cfg.Now()); err != nil {
		if propusk.ErrorCode(err) == propusk.ETOOMANY {
			s.recordFailure(ctx, propusk.AuditRateLimited, 0, c, "registration")
		}
		return nil, fmt.Errorf("auth: register: %w", err)
	}
	p, err := s.register(ctx, login, password, name, c)
	if err != nil && propusk.ErrorCode(err) != propusk.ELOGINTAKEN {
		s.releaseBudget("registration", s.limiter.releaseRegister(ctx, c.IP, s.cfg.Now()))
	}
	return p, err
}

// register is Register once the address's budget has admitted it.
func (s *Service) register(ctx context.Context, login, password, name string, c propusk.Client) (*Pair, error) {
	u, err := s.newUser(ctx, s.registering, login, password, propusk.LevelUser, nil)
	if err != nil {
		return nil, err
	}
	u.Name = name
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
	e := auditEntry(ctx, propusk.AuditRegister, 0)
	e.UserIDOf, e.ActorAuth, e.IP, e.UserAgent = &u.ID, propusk.AuthPassword, c.IP, c.UserAgent
	if err := s.store.Register(s.audited(ctx, e), r); err != nil {
		return nil, userError(err)
	}
	p, err := s.issue(sess.ID, u, "", sess.Generation, sess.CreatedAt, sess.ExpiresAt)
	if err != nil {
		return nil, err
	}
	s.patMiss.created(t.ID, sha256.Sum256([]byte(secret)))
	p.APIToken = pat.Format(t.ID, secret)
	s.log.InfoContext(ctx, "api-token reissued", "user", u.ID, "reason", "registration", "token_id", t.ID)
	return p, nil
}
