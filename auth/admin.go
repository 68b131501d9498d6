package auth

import (
	"context"
	"fmt"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

// MaxUsersPage is the most users one page of Users returns.
const MaxUsersPage = 500

var (
	errNoUser    = propusk.Errorf(propusk.ENOTFOUND, "no such user")
	errDisabled  = propusk.Errorf(propusk.EFORBIDDEN, "this account is disabled")
	errAboveSelf = propusk.Errorf(propusk.EFORBIDDEN, "an administrator cannot act on, or raise anyone to, a level above their own")
)

// Users returns a page of users for an administrator; see propusk.UserQuery.
func (s *Service) Users(ctx context.Context, q propusk.UserQuery) ([]*propusk.User, error) {
	if q.Limit <= 0 || q.Limit > MaxUsersPage {
		q.Limit = MaxUsersPage
	}
	if len(q.Login) > 4*MaxLoginLen {
		return nil, propusk.Errorf(propusk.EINVALID, "the login to search for is too long")
	}
	us, err := s.store.Users(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("auth: users: %w", err)
	}
	return us, nil
}

// adminTarget reads the actor, afresh, and the user they act on, and
// checks that the target is not above the actor's level. An actor of
// nil is the operator on the command line, who may do anything.
func (s *Service) adminTarget(ctx context.Context, actor *propusk.Principal, id int64) (self, target *propusk.User, err error) {
	if id <= 0 {
		return nil, nil, errNoUser
	}
	if actor != nil {
		if actor.Anonymous() {
			return nil, nil, propusk.Errorf(propusk.EFORBIDDEN, "administration needs a signed-in administrator")
		}
		if self, err = s.store.UserByID(ctx, actor.UserID); err != nil {
			return nil, nil, fmt.Errorf("auth: administrator: %w", err)
		}
		if self.Level < propusk.LevelAdmin || self.Disabled() {
			return nil, nil, propusk.Errorf(propusk.EFORBIDDEN, "administration needs level %d", propusk.LevelAdmin)
		}
	}
	target, err = s.store.UserByID(ctx, id)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return nil, nil, errNoUser
	}
	if err != nil {
		return nil, nil, fmt.Errorf("auth: user: %w", err)
	}
	if self != nil && target.Level > self.Level {
		return nil, nil, errAboveSelf
	}
	return self, target, nil
}

// UpdateUser changes a user's level, boards or state for actor (nil: the
// operator). No one is raised above the actor's level, nor is a user above
// it changed; the last enabled administrator is never demoted or disabled
// (ECONFLICT). Disabling ends every session and token of the user on every
// process within the feed's latency.
func (s *Service) UpdateUser(ctx context.Context, actor *propusk.Principal, id int64, ch propusk.UserChange) (*propusk.User, error) {
	self, _, err := s.adminTarget(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if ch.Level != nil {
		if *ch.Level < 0 || *ch.Level > 1000 {
			return nil, propusk.Errorf(propusk.EINVALID, "level must be between 0 and 1000")
		}
		if self != nil && *ch.Level > self.Level {
			return nil, errAboveSelf
		}
	}
	if ch.Boards != nil {
		if err := validBoards(ch.Boards); err != nil {
			return nil, err
		}
	}
	e := auditEntry(ctx, propusk.AuditUserUpdated, id)
	actorOf(e, actor)
	e.Detail = changeOf(ch)
	u, err := s.store.UpdateUser(s.audited(ctx, e), id, ch, s.cfg.TokenableType, s.cfg.Now())
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return nil, errNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("auth: update user: %w", err)
	}
	s.forgetUser(id)
	s.catchUp(ctx)
	return u, nil
}

// DeleteUser removes a user for actor (nil: the operator), with their
// sessions and tokens, on every process within the feed's latency. The last
// enabled administrator is never deleted (ECONFLICT).
func (s *Service) DeleteUser(ctx context.Context, actor *propusk.Principal, id int64) error {
	if _, _, err := s.adminTarget(ctx, actor, id); err != nil {
		return err
	}
	e := auditEntry(ctx, propusk.AuditUserDeleted, id)
	actorOf(e, actor)
	err := s.store.DeleteUser(s.audited(ctx, e), id, s.cfg.TokenableType, s.cfg.Now())
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return errNoUser
	}
	if err != nil {
		return fmt.Errorf("auth: delete user: %w", err)
	}
	s.forgetUser(id)
	s.catchUp(ctx)
	return nil
}

// SetUserPassword sets a user's password for actor (nil: the operator) and
// ends every session of the user.
func (s *Service) SetUserPassword(ctx context.Context, actor *propusk.Principal, id int64, password string) error {
	if _, _, err := s.adminTarget(ctx, actor, id); err != nil {
		return err
	}
	e := auditEntry(ctx, propusk.AuditPasswordReset, id)
	actorOf(e, actor)
	return s.setPassword(s.audited(ctx, e), id, password, "")
}

// EndUserSessions ends a user's sessions for actor (nil: the operator):
// one, or every one when sid is "".
func (s *Service) EndUserSessions(ctx context.Context, actor *propusk.Principal, id int64, sid string) error {
	if _, _, err := s.adminTarget(ctx, actor, id); err != nil {
		return err
	}
	if sid != "" {
		return s.EndSession(ctx, id, sid)
	}
	e := auditEntry(ctx, propusk.AuditSessionsEnded, id)
	actorOf(e, actor)
	ids, err := s.store.EndUserSessions(s.audited(ctx, e), id, "", s.cfg.Now())
	if err != nil {
		return fmt.Errorf("auth: end sessions: %w", err)
	}
	s.revokeHere(ids)
	return nil
}

// ChangePassword is the caller's own password change: it needs the current
// password, whatever the token (a stolen token alone cannot take over the
// account), counts a wrong one as a failed login, and ends every other
// session of the caller.
func (s *Service) ChangePassword(ctx context.Context, p *propusk.Principal, current, next string, c propusk.Client) error {
	if err := validPassword(next); err != nil {
		return err
	}
	if _, err := s.reauthenticate(ctx, p, current, c); err != nil {
		return err
	}
	e := auditEntry(ctx, propusk.AuditPasswordChanged, p.UserID)
	actorOf(e, p)
	e.IP, e.UserAgent = clean(c).IP, clean(c).UserAgent
	return s.setPassword(s.audited(ctx, e), p.UserID, next, p.SessionID)
}

// EndOtherSessions ends every session of the caller but the current one
// ("sign out other devices"). It needs the current password, as
// ChangePassword does. Through a personal access token, which has no
// session, it ends every session.
func (s *Service) EndOtherSessions(ctx context.Context, p *propusk.Principal, password string, c propusk.Client) (int, error) {
	if _, err := s.reauthenticate(ctx, p, password, c); err != nil {
		return 0, err
	}
	e := auditEntry(ctx, propusk.AuditSessionEnded, p.UserID)
	actorOf(e, p)
	e.Detail = "other sessions"
	ids, err := s.store.EndUserSessions(s.audited(ctx, e), p.UserID, p.SessionID, s.cfg.Now())
	if err != nil {
		return 0, fmt.Errorf("auth: end other sessions: %w", err)
	}
	s.revokeHere(ids)
	return len(ids), nil
}

// reauthenticate checks the caller's current password, under the login
// limits: a thief with a token guesses no faster than at the login form.
func (s *Service) reauthenticate(ctx context.Context, p *propusk.Principal, password string, c propusk.Client) (*propusk.User, error) {
	if p.Anonymous() {
		return nil, propusk.Errorf(propusk.EFORBIDDEN, "this needs a signed-in user")
	}
	if password == "" || len(password) > MaxPasswordLen {
		return nil, propusk.Errorf(propusk.EINVALID, "the current password is required")
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("auth: reauthenticate: %w", err)
	}
	key, err := logins.Canonical(u.Login)
	if err != nil {
		key = u.Login
	}
	c = clean(c)
	if err := s.limiter.attempt(ctx, key, c.IP, s.cfg.Now()); err != nil {
		return nil, fmt.Errorf("auth: reauthenticate: %w", err)
	}
	ok, err := s.check(ctx, u.PasswordHash, password)
	if err != nil {
		s.releaseBudget("login", s.limiter.release(ctx, key, c.IP, s.cfg.Now()))
		return nil, err
	}
	if !ok {
		return nil, propusk.Errorf(propusk.EFORBIDDEN, "the current password is wrong")
	}
	s.releaseBudget("login", s.limiter.succeed(ctx, key, c.IP, s.cfg.Now()))
	return u, nil
}

// setPassword hashes and stores a user's password, ending their sessions but keep.
func (s *Service) setPassword(ctx context.Context, id int64, password, keep string) error {
	if err := validPassword(password); err != nil {
		return err
	}
	hash, err := s.hash(ctx, s.hashing, password)
	if err != nil {
		return err
	}
	err = s.store.SetPassword(ctx, id, hash, keep, s.cfg.Now())
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return errNoUser
	}
	if err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	s.forgetUser(id)
	s.catchUp(ctx)
	return nil
}

// revokeHere applies revocations to this process at once; others read them
// from the feed.
func (s *Service) revokeHere(ids []string) {
	now := s.cfg.Now()
	for _, id := range ids {
		s.revoked.add(id, now)
	}
}

// catchUp applies the feed entries an administrative write appended, so
// that this process refuses what it ended before the write's answer.
func (s *Service) catchUp(ctx context.Context) {
	if err := s.SyncFeed(ctx); err != nil {
		s.log.Warn("revocation feed: catching up after an administrative write", "err", err)
	}
}
