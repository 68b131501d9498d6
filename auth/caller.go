package auth

import (
	"context"
	"fmt"

	"github.com/propusk/propusk"
)

var (
	errUserGone     = propusk.Errorf(propusk.ETOKENINVALID, "the token's user no longer exists")
	errUserDisabled = propusk.Errorf(propusk.ETOKENINVALID, "the token's user is disabled")
)

// Caller returns the user p is signed in as, for handlers that show or
// act on the caller's own account (user.me, the login header of
// auth.verify, the account page). It is read from the user cache
// (Config.UserCacheSize), so a repeated caller costs no database read, and
// it is never older than the revocation feed: a change to the user on any
// process drops it within the feed's latency, and on this process before
// the change returns.
//
// The User is shared and read-only, and holds no PasswordHash, APIToken
// or UpdatedAt: use User for those. Errors: EFORBIDDEN for an anonymous
// caller; ETOKENINVALID when the user was deleted or is disabled, so a
// token that outlives its user is refused here even before its
// revocation arrives.
func (s *Service) Caller(ctx context.Context, p *propusk.Principal) (*propusk.User, error) {
	if p.Anonymous() {
		return nil, propusk.Errorf(propusk.EFORBIDDEN, "only a signed-in user has an account")
	}
	u := s.users.get(p.UserID)
	if u == nil {
		var err error
		if _, u, err = s.readUser(ctx, p.UserID); err != nil {
			if propusk.ErrorCode(err) == propusk.ENOTFOUND {
				return nil, errUserGone
			}
			return nil, fmt.Errorf("auth: caller: %w", err)
		}
	}
	if u.Disabled() {
		return nil, errUserDisabled
	}
	return u, nil
}

// readUser reads user id from the store and caches what the request path
// shows of it: it returns the store's row and the cached view of it.
func (s *Service) readUser(ctx context.Context, id int64) (row, view *propusk.User, err error) {
	st := s.users.stamp(id)
	if row, err = s.store.UserByID(ctx, id); err != nil {
		return nil, nil, err
	}
	view = shown(row)
	s.users.put(view, st)
	return row, view, nil
}

// forgetUser drops user id from this process's cache at once, after a
// write of this process; other processes drop it when they read the
// write's EventUser from the feed.
func (s *Service) forgetUser(id int64) { s.users.drop(id) }
