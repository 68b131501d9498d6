package auth

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
	"github.com/propusk/propusk/token"
)

// errCredentials answers every failed login alike.
var errCredentials = propusk.Errorf(propusk.ECREDENTIALS, "the login or the password is wrong")

// Login checks the password and starts a new session for the user, with a
// new api-token. An unknown login and a wrong password answer alike, and
// cost alike. Repeated failures for one login or from one address answer
// ETOOMANY for a while, whatever the password.
func (s *Service) Login(ctx context.Context, login, password string, c propusk.Client) (_ *Pair, err error) {
	defer func() { s.cfg.Observer.LoggedIn(resultOf(err)) }()
	if login == "" || password == "" || len(login) > 4*MaxLoginLen || len(password) > MaxPasswordLen {
		return nil, propusk.Errorf(propusk.EINVALID, "login and password are required")
	}
	key, err := logins.Canonical(login)
	if err != nil || !utf8.ValidString(password) {
		// No such user can exist; the store need not be asked (PostgreSQL
		// would refuse a NUL byte or invalid UTF-8 with an error).
		return nil, errCredentials
	}
	// Failures count per canonical login: "Admin" and "ADMIN" are guesses
	// at the same account.
	c = clean(c)
	if err := s.limiter.attempt(ctx, key, c.IP, s.cfg.Now()); err != nil {
		if propusk.ErrorCode(err) == propusk.ETOOMANY {
			s.recordFailure(ctx, propusk.AuditRateLimited, 0, c, "login")
		}
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	u, err := s.store.UserByLogin(ctx, login)
	hash := s.dummy
	switch {
	case err == nil:
		hash = u.PasswordHash
	case propusk.ErrorCode(err) != propusk.ENOTFOUND:
		s.releaseBudget("login", s.limiter.release(ctx, key, c.IP, s.cfg.Now()))
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	ok, began, err := s.verify(ctx, hash, password)
	if err != nil {
		s.releaseBudget("login", s.limiter.release(ctx, key, c.IP, s.cfg.Now()))
		return nil, err
	}
	if !ok || u == nil {
		var uid int64
		if u != nil {
			uid = u.ID
		}
		s.recordFailure(ctx, propusk.AuditLoginFailed, uid, c, "wrong login or password")
		s.failCost.pad(ctx, began)
		return nil, errCredentials // the try stays counted
	}
	if !s.cfg.KeepHashes && s.needsRehash(hash) {
		s.rehash(ctx, u, password)
	}
	s.releaseBudget("login", s.limiter.succeed(ctx, key, c.IP, s.cfg.Now()))
	if u.Disabled() {
		s.recordFailure(ctx, propusk.AuditLoginFailed, u.ID, c, "disabled")
		return nil, errDisabled
	}
	if err := s.checkSessionCap(ctx, u.ID); err != nil {
		return nil, err
	}
	return s.startSession(ctx, u, c, "login")
}

func (s *Service) startSession(ctx context.Context, u *propusk.User, c propusk.Client, reason string) (*Pair, error) {
	sess, err := s.newSession(u.ID, c)
	if err != nil {
		return nil, err
	}
	e := auditEntry(ctx, propusk.AuditLogin, u.ID)
	e.ActorID, e.ActorAuth, e.Session, e.IP, e.UserAgent, e.Detail = u.ID, propusk.AuthPassword, sess.ID, sess.IP, sess.UserAgent, reason
	if err := s.store.CreateSession(s.audited(ctx, e), sess); err != nil {
		return nil, fmt.Errorf("auth: create session: %w", err)
	}
	p, err := s.issue(sess.ID, u, "", sess.Generation, sess.CreatedAt, sess.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if p.APIToken, err = s.ReissueAPIToken(ctx, u.ID, reason); err != nil {
		return nil, err
	}
	return p, nil
}

// newSession is a new signed-in session of the user, not yet stored.
func (s *Service) newSession(userID int64, c propusk.Client) (*propusk.Session, error) {
	sid, err := token.NewID(s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	c = clean(c)
	return &propusk.Session{
		ID: sid, UserID: userID, Generation: 1, RotatedAt: now, CreatedAt: now, RenewedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL), UserAgent: c.UserAgent, IP: c.IP,
	}, nil
}

// releaseBudget logs a failure to give attempts back. The request goes on:
// the attempts stay counted until their window ends, which errs on the safe side.
func (s *Service) releaseBudget(what string, err error) {
	if err != nil {
		s.log.Warn("give back "+what+" attempt", "err", err)
	}
}
