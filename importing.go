package propusk

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// ImportOutcome is what importing one row from another database did, or
// in a dry run would do.
type ImportOutcome int

// The outcomes of importing a row.
const (
	// ImportNew: the destination had no such row; it is inserted with its id.
	ImportNew ImportOutcome = iota + 1
	// ImportUpdated: the same user or token, changed in the source since
	// the destination's copy: the copy is updated.
	ImportUpdated
	// ImportUnchanged: the same, with nothing to update.
	ImportUnchanged
	// ImportKept: the same user or token, but changed in the destination
	// and not since in the source (a password changed or rehashed in
	// propusk): the destination's is kept.
	ImportKept
	// ImportClash: the id, or the login (a token's hash), belongs to
	// another user or token in the destination: nothing is written.
	ImportClash
)

// ImportStore is what an import needs of the store it writes to. The
// decisions are the Judge functions'; the store only reads and writes.
type ImportStore interface {
	// UsersForImport returns the users whose id is one of ids, or whose
	// login's canonical key (package logins) is one of keys.
	UsersForImport(ctx context.Context, ids []int64, keys []string) ([]*User, error)
	// TokensForImport returns the personal access tokens whose id is one
	// of ids, or whose hash is one of hashes.
	TokensForImport(ctx context.Context, ids []int64, hashes []string) ([]*PersonalAccessToken, error)
	// ImportUsers writes the batch in one transaction. A write with Old
	// nil inserts New with New.ID; any other updates the row with Old's id
	// to New's login, password hash and times, and appends an EventUser,
	// if the row is still as Old (else ECONFLICT, and nothing is written).
	// Ids handed out later (CreateUser) are above every id inserted.
	ImportUsers(ctx context.Context, batch []UserImport) error
	// ImportTokens is ImportUsers for personal access tokens: an update
	// sets New's name, abilities and times, appending an EventPAT.
	ImportTokens(ctx context.Context, batch []TokenImport) error
}

// TokenLister lists every personal access token, whatever its owner, for
// an import to read.
type TokenLister interface {
	// TokensAfter returns the tokens with an id above after, in id order,
	// at most limit.
	TokensAfter(ctx context.Context, after int64, limit int) ([]*PersonalAccessToken, error)
}

// UserImport is one write of ImportStore.ImportUsers: New inserted when
// Old is nil, else the row as read (Old) updated to New.
type UserImport struct{ New, Old *User }

// TokenImport is one write of ImportStore.ImportTokens.
type TokenImport struct{ New, Old *PersonalAccessToken }

// JudgeUserImport decides what importing u does. byID is the destination's
// user with u's id, byKey the one whose login has u's canonical key (nil
// when there is none). A zero CreatedAt or UpdatedAt of u (NULL in the
// source) is unknown: a new row gets now instead, and an existing row
// keeps its own. A new user without a level or boards gets the defaults,
// LevelUser and every board. It returns the outcome, the user to write for ImportNew
// and ImportUpdated, and for ImportClash the reason.
//
// The same user is the same id with the same login key. Its copy is
// updated only when the source changed it later than the copy changed
// (UpdatedAt), and then only what the source owns: the login, the
// password hash and the times. Level, boards and the disabled state are
// the destination's once the user is there.
func JudgeUserImport(u, byID, byKey *User, now time.Time) (ImportOutcome, *User, string) {
	switch {
	case byID == nil && byKey == nil:
		n := *u
		n.CreatedAt, n.UpdatedAt = orNow(u.CreatedAt, now), orNow(u.UpdatedAt, now)
		if u.UpdatedAt.IsZero() && !u.CreatedAt.IsZero() {
			n.UpdatedAt = n.CreatedAt
		}
		n.CreatedAt, n.UpdatedAt = TruncMillis(n.CreatedAt), TruncMillis(n.UpdatedAt)
		n.APIToken = ""
		// A zero level and nil boards are unset, as in CreateUser: a
		// Laravel app has neither.
		if n.Level == 0 {
			n.Level = LevelUser
		}
		if n.Boards == nil {
			n.Boards = []string{AllBoards}
		}
		return ImportNew, &n, ""
	case byID == nil:
		return ImportClash, nil, "its login is taken by user " + strconv.FormatInt(byKey.ID, 10) + " " + strconv.Quote(byKey.Login)
	case (byKey == nil || byKey.ID != byID.ID) && byID.Login != u.Login:
		return ImportClash, nil, "its id is taken by another login, " + strconv.Quote(byID.Login)
	}
	n := *byID
	if !u.UpdatedAt.IsZero() && TruncMillis(u.UpdatedAt).After(byID.UpdatedAt) {
		n.Login, n.PasswordHash, n.UpdatedAt = u.Login, u.PasswordHash, TruncMillis(u.UpdatedAt)
		if !u.CreatedAt.IsZero() {
			n.CreatedAt = TruncMillis(u.CreatedAt)
		}
	}
	switch {
	case n.Login == byID.Login && n.PasswordHash == byID.PasswordHash && n.CreatedAt.Equal(byID.CreatedAt) && n.UpdatedAt.Equal(byID.UpdatedAt):
		if u.Login != byID.Login || u.PasswordHash != byID.PasswordHash {
			return ImportKept, nil, ""
		}
		return ImportUnchanged, nil, ""
	}
	return ImportUpdated, &n, ""
}

// JudgeTokenImport decides what importing t, whose TokenableType is
// already the destination's, does; byID and byHash as for
// JudgeUserImport. The same token is the same id, hash and owner. Its
// copy takes the source's name, abilities, expiry and times when the
// source changed it later (UpdatedAt), and the later last_used_at of the
// two always.
func JudgeTokenImport(t, byID, byHash *PersonalAccessToken, now time.Time) (ImportOutcome, *PersonalAccessToken, string) {
	switch {
	case byID == nil && byHash == nil:
		n := *t
		n.CreatedAt, n.UpdatedAt = orNow(t.CreatedAt, now), orNow(t.UpdatedAt, now)
		if t.UpdatedAt.IsZero() && !t.CreatedAt.IsZero() {
			n.UpdatedAt = n.CreatedAt
		}
		n.LastUsedAt, n.ExpiresAt = TruncSeconds(n.LastUsedAt), TruncSeconds(n.ExpiresAt)
		n.CreatedAt, n.UpdatedAt = TruncSeconds(n.CreatedAt), TruncSeconds(n.UpdatedAt)
		if n.Abilities == nil {
			n.Abilities = []string{AllAbilities}
		}
		return ImportNew, &n, ""
	case byID == nil:
		return ImportClash, nil, "its hash is held by token " + strconv.FormatInt(byHash.ID, 10)
	case byID.Hash != t.Hash:
		return ImportClash, nil, "its id is taken by another token"
	case byID.TokenableType != t.TokenableType || byID.TokenableID != t.TokenableID:
		return ImportClash, nil, "the destination's token with this id belongs to user " + strconv.FormatInt(byID.TokenableID, 10)
	}
	n := *byID
	if !t.UpdatedAt.IsZero() && TruncSeconds(t.UpdatedAt).After(byID.UpdatedAt) {
		n.Name, n.Abilities, n.ExpiresAt, n.UpdatedAt = t.Name, t.Abilities, TruncSeconds(t.ExpiresAt), TruncSeconds(t.UpdatedAt)
		if n.Abilities == nil {
			n.Abilities = []string{AllAbilities}
		}
		if !t.CreatedAt.IsZero() {
			n.CreatedAt = TruncSeconds(t.CreatedAt)
		}
	}
	if last := TruncSeconds(t.LastUsedAt); last.After(n.LastUsedAt) {
		n.LastUsedAt = last
	}
	if n.Name == byID.Name && slices.Equal(n.Abilities, byID.Abilities) && n.ExpiresAt.Equal(byID.ExpiresAt) &&
		n.LastUsedAt.Equal(byID.LastUsedAt) && n.CreatedAt.Equal(byID.CreatedAt) && n.UpdatedAt.Equal(byID.UpdatedAt) {
		if t.Name != byID.Name || !slices.Equal(t.Abilities, byID.Abilities) || !TruncSeconds(t.ExpiresAt).Equal(byID.ExpiresAt) {
			return ImportKept, nil, ""
		}
		return ImportUnchanged, nil, ""
	}
	return ImportUpdated, &n, ""
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}
