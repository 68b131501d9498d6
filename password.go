package propusk

import (
	"context"
	"time"
)

// PasswordStore replaces password hashes: a user who logged in with a
// hash another app wrote (bcrypt from Laravel) gets propusk's own.
type PasswordStore interface {
	// SetPasswordHash sets the password hash of user id to hash, and its
	// updated_at to at, if the stored hash is still old: a password
	// changed meanwhile is never overwritten. ENOTFOUND when no user has
	// id and old. It appends no feed entry: the password is the same, in
	// another encoding, and what processes cache of a user holds no hash,
	// so a login that rehashes costs no process a reread.
	SetPasswordHash(ctx context.Context, id int64, old, hash string, at time.Time) error
}
