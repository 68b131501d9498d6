package propusk

import (
	"context"
	"time"
)

// AbilityUsersManage is the ability a personal access token needs for the
// user administration routes (an access token has every ability).
const AbilityUsersManage = "users:manage"

// UserChange is an administrator's change to a user; a nil field is left
// as it is.
type UserChange struct {
	Level    *int
	Boards   []string // nil: unchanged
	Disabled *bool
}

// ChangeEffect is what applying a UserChange did that a store must act on
// in the same transaction.
type ChangeEffect struct {
	// Disabled: the user was enabled and is now disabled; end their sessions.
	Disabled bool
	// LeftAdmins: the user was an enabled administrator and no longer is;
	// check the last administrator rule.
	LeftAdmins bool
	// StaleTokens: what a cached token of the user shows may have changed;
	// drop the user's tokens from every cache.
	StaleTokens bool
}

// Apply applies ch to u at now and says what the store must do about it:
// the one place that decides what an administrator's change means.
func (ch UserChange) Apply(u *User, now time.Time) ChangeEffect {
	wasAdmin := u.Level >= LevelAdmin && !u.Disabled()
	if ch.Level != nil {
		u.Level = *ch.Level
	}
	if ch.Boards != nil {
		u.Boards = ch.Boards
	}
	var e ChangeEffect
	switch {
	case ch.Disabled != nil && *ch.Disabled && !u.Disabled():
		u.DisabledAt, e.Disabled = now, true
	case ch.Disabled != nil && !*ch.Disabled:
		u.DisabledAt = time.Time{}
	}
	e.LeftAdmins = wasAdmin && (u.Level < LevelAdmin || u.Disabled())
	e.StaleTokens = e.Disabled || ch.Level != nil || ch.Boards != nil
	return e
}

// UserQuery selects users for a list, in id order.
type UserQuery struct {
	Login string // a part of the login, case-insensitively; "" for every user
	After int64  // the cursor: only users with a higher id
	Limit int    // at most this many; 0 or less means 100
}

// UserAdminStore is what user administration needs from a store. Each write
// is one transaction, and ends access on every process through the feed:
// an EventSession for each session it revokes and an EventPAT for each
// personal access token it deletes or whose cached row it makes stale.
// UpdateUser, DeleteUser and SetPassword also append one EventUser for the
// user, so processes drop what they cached of the row; EndUserSessions
// changes no user row and appends none.
//
// The last administrator rule is kept by the store, inside the
// transaction, so that two administrators demoting each other at once
// cannot both succeed: a write that would leave no enabled user of level
// LevelAdmin or above fails with ECONFLICT and changes nothing.
type UserAdminStore interface {
	// Users returns the users q selects, in id order.
	Users(ctx context.Context, q UserQuery) ([]*User, error)
	// UpdateUser applies ch to user id at now and returns the user as
	// stored. Disabling revokes every live session of the user; disabling
	// or changing the level or boards appends an EventPAT for each of the
	// user's tokens (tokenable_type typ), so caches drop them. ENOTFOUND if
	// there is no such user; ECONFLICT under the last administrator rule.
	UpdateUser(ctx context.Context, id int64, ch UserChange, typ string, now time.Time) (*User, error)
	// DeleteUser revokes the user's live sessions (their EventSession
	// entries stay in the feed after the rows go), deletes the user's
	// tokens (tokenable_type typ, an EventPAT each) and the user. ENOTFOUND
	// if there is no such user; ECONFLICT under the last administrator rule.
	DeleteUser(ctx context.Context, id int64, typ string, now time.Time) error
	// SetPassword stores the password hash of user id and revokes every
	// live session of the user but keep ("" for none). ENOTFOUND if there
	// is no such user.
	SetPassword(ctx context.Context, id int64, hash, keep string, now time.Time) error
	// EndUserSessions revokes every live session of the user but keep (""
	// for none) and returns the ids it revoked.
	EndUserSessions(ctx context.Context, userID int64, keep string, now time.Time) ([]string, error)
}

// Disabled reports whether an administrator has disabled the user: they
// cannot sign in, and their tokens are refused.
func (u *User) Disabled() bool { return !u.DisabledAt.IsZero() }

// ErrLastAdmin is every store's answer to a change that would leave no
// enabled level-30 account: demoting, disabling or deleting the last one.
var ErrLastAdmin = Errorf(ECONFLICT, "the last administrator cannot be demoted, disabled or deleted")
