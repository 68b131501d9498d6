// Package transfer copies users and personal access tokens from one
// store into another, keeping their ids, for `propusk import laravel`:
// a team leaving Laravel copies the app's users and Sanctum tokens into
// propusk's own database, and nobody has to log in again or get a new
// token.
//
// # What is copied
//
// Users: id, login, password hash (as it is: propusk verifies bcrypt and
// argon2 hashes, and rehashes to its own after a login), level and boards
// (new users only) and the times. Tokens: id, hash, name, abilities,
// expiry, last use and the times, with the tokenable type rewritten to the
// destination's. A token whose owner is not a user of the source, or one
// that was not imported, is skipped and reported.
//
// # Running it again
//
// Run is idempotent: a second run writes nothing and reports no new rows.
// A row already in the destination is the same user (same id and login
// key) or token (same id, hash and owner), and is updated only when the
// source changed it later (propusk.JudgeUserImport decides); a clash (the
// id or the login taken by another) is reported and never overwritten.
// Rows are written in batches, one transaction each, so a run that stops
// part way is finished by running it again.
package transfer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

// DefaultBatch is how many rows one transaction writes: small enough that
// an import of millions of users never holds one giant transaction.
const DefaultBatch = 500

// Source is what Run reads: the app's users and every personal access
// token, in id order. A store opened in Laravel mode is one; it reads a
// Laravel database propusk never served as well as one it serves.
type Source interface {
	// AppUsers returns up to limit users with ids above after, in id order.
	AppUsers(ctx context.Context, after int64, limit int) ([]*propusk.User, error)
	propusk.TokenLister
}

// Config says what to copy where.
type Config struct {
	From Source              // required
	To   propusk.ImportStore // required; read only in a dry run
	// FromTokenableType is the tokenable_type of the source's users'
	// tokens; tokens of any other type are skipped.
	FromTokenableType string // required
	// ToTokenableType replaces it in the destination; default
	// propusk.DefaultLaravelTokenableType, what propusk serves by default.
	ToTokenableType string
	DryRun          bool             // judge and report, write nothing
	Batch           int              // rows per read and per transaction; default DefaultBatch
	Now             func() time.Time // default time.Now: the time given to rows with NULL times
}

// Counts are the outcomes of one kind of row.
type Counts struct {
	New, Updated, Unchanged, Kept, Clashes, Skipped int
}

// Report is what a run did, or in a dry run would do.
type Report struct {
	DryRun        bool
	At            time.Time // the import time, given to NULL times
	Users, Tokens Counts
	// NullTimes counts the users new in the destination whose created_at
	// or updated_at was NULL in the source.
	NullTimes int
	// Lines say, one each, which row clashed or was skipped, and why.
	Lines []string
}

// Run copies cfg.From into cfg.To and reports what it did. On an error it
// returns the report of what was done before it: the batches written
// stay, and running it again finishes the job.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ToTokenableType == "" {
		cfg.ToTokenableType = propusk.DefaultLaravelTokenableType
	}
	r := &run{cfg: cfg, rep: &Report{DryRun: cfg.DryRun, At: propusk.TruncSeconds(cfg.Now())},
		pendingKeys: map[string]*propusk.User{}, pendingHashes: map[string]*propusk.PersonalAccessToken{},
		clashed: map[int64]bool{}}
	if err := r.users(ctx); err != nil {
		return r.rep, err
	}
	return r.rep, r.tokens(ctx)
}

type run struct {
	cfg Config
	rep *Report
	// owners are the ids of the source's users that are the same user in
	// the destination, ascending: only their tokens are copied.
	owners  []int64
	clashed map[int64]bool // users not imported: a clash, or no login key
	// pendingKeys and pendingHashes are rows judged new but not in the
	// destination yet: this batch's before it is written, and in a dry
	// run every batch's, so later rows are judged against them.
	pendingKeys   map[string]*propusk.User
	pendingHashes map[string]*propusk.PersonalAccessToken
}

func (r *run) users(ctx context.Context) error {
	var after int64
	for {
		us, err := r.cfg.From.AppUsers(ctx, after, r.cfg.Batch)
		if err != nil {
			return fmt.Errorf("read the source's users after id %d: %w", after, err)
		}
		if len(us) == 0 {
			return nil
		}
		after = us[len(us)-1].ID
		if err := r.userBatch(ctx, us); err != nil {
			return err
		}
		if len(us) < r.cfg.Batch {
			return nil
		}
	}
}

func (r *run) userBatch(ctx context.Context, us []*propusk.User) error {
	keys := make([]string, len(us))
	var ids []int64
	var wantKeys []string
	for i, u := range us {
		key, err := logins.Canonical(u.Login)
		if err != nil {
			r.rep.Users.Skipped++
			r.clashed[u.ID] = true
			r.line("user %d %q: skipped: propusk cannot take this login (%s)", u.ID, u.Login, propusk.ErrorMessage(err))
			continue
		}
		keys[i] = key
		ids, wantKeys = append(ids, u.ID), append(wantKeys, key)
	}
	existing, err := r.cfg.To.UsersForImport(ctx, ids, wantKeys)
	if err != nil {
		return fmt.Errorf("read the destination's users: %w", err)
	}
	byID, byKey := map[int64]*propusk.User{}, map[string]*propusk.User{}
	for _, e := range existing {
		byID[e.ID] = e
		if k, err := logins.Canonical(e.Login); err == nil {
			byKey[k] = e
		}
	}
	var writes []propusk.UserImport
	for i, u := range us {
		if keys[i] == "" {
			continue
		}
		old, same := byID[u.ID], byKey[keys[i]]
		if p := r.pendingKeys[keys[i]]; p != nil {
			same = p
		}
		outcome, n, why := propusk.JudgeUserImport(u, old, same, r.rep.At)
		switch outcome {
		case propusk.ImportNew:
			r.rep.Users.New++
			if u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() {
				r.rep.NullTimes++
			}
			writes = append(writes, propusk.UserImport{New: n})
			r.pendingKeys[keys[i]] = n
		case propusk.ImportUpdated:
			r.rep.Users.Updated++
			writes = append(writes, propusk.UserImport{New: n, Old: old})
		case propusk.ImportUnchanged:
			r.rep.Users.Unchanged++
		case propusk.ImportKept:
			r.rep.Users.Kept++
		case propusk.ImportClash:
			r.rep.Users.Clashes++
			r.clashed[u.ID] = true
			r.line("user %d %q: clash, not written: %s", u.ID, u.Login, why)
			continue
		}
		r.owners = append(r.owners, u.ID)
	}
	if r.cfg.DryRun || len(writes) == 0 {
		return nil
	}
	if err := r.cfg.To.ImportUsers(ctx, writes); err != nil {
		return fmt.Errorf("write users %d to %d: %w", us[0].ID, us[len(us)-1].ID, err)
	}
	clear(r.pendingKeys)
	return nil
}

func (r *run) tokens(ctx context.Context) error {
	var after int64
	for {
		ts, err := r.cfg.From.TokensAfter(ctx, after, r.cfg.Batch)
		if err != nil {
			return fmt.Errorf("read the source's tokens after id %d: %w", after, err)
		}
		if len(ts) == 0 {
			return nil
		}
		after = ts[len(ts)-1].ID
		if err := r.tokenBatch(ctx, ts); err != nil {
			return err
		}
		if len(ts) < r.cfg.Batch {
			return nil
		}
	}
}

func (r *run) tokenBatch(ctx context.Context, ts []*propusk.PersonalAccessToken) error {
	var keep []*propusk.PersonalAccessToken
	var ids []int64
	var hashes []string
	for _, t := range ts {
		switch _, owned := slices.BinarySearch(r.owners, t.TokenableID); {
		case t.TokenableType != r.cfg.FromTokenableType:
			r.rep.Tokens.Skipped++
			r.line("token %d: skipped: its owner is a %q, not a user (%q)", t.ID, t.TokenableType, r.cfg.FromTokenableType)
		case r.clashed[t.TokenableID]:
			r.rep.Tokens.Skipped++
			r.line("token %d: skipped: its owner, user %d, was not imported", t.ID, t.TokenableID)
		case !owned:
			r.rep.Tokens.Skipped++
			r.line("token %d: skipped: its owner, user %d, is not a user of the source", t.ID, t.TokenableID)
		default:
			c := *t
			c.TokenableType = r.cfg.ToTokenableType
			keep = append(keep, &c)
			ids, hashes = append(ids, t.ID), append(hashes, t.Hash)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	existing, err := r.cfg.To.TokensForImport(ctx, ids, hashes)
	if err != nil {
		return fmt.Errorf("read the destination's tokens: %w", err)
	}
	byID, byHash := map[int64]*propusk.PersonalAccessToken{}, map[string]*propusk.PersonalAccessToken{}
	for _, e := range existing {
		byID[e.ID], byHash[e.Hash] = e, e
	}
	var writes []propusk.TokenImport
	for _, t := range keep {
		old, same := byID[t.ID], byHash[t.Hash]
		if p := r.pendingHashes[t.Hash]; p != nil {
			same = p
		}
		outcome, n, why := propusk.JudgeTokenImport(t, old, same, r.rep.At)
		switch outcome {
		case propusk.ImportNew:
			r.rep.Tokens.New++
			writes = append(writes, propusk.TokenImport{New: n})
			r.pendingHashes[t.Hash] = n
		case propusk.ImportUpdated:
			r.rep.Tokens.Updated++
			writes = append(writes, propusk.TokenImport{New: n, Old: old})
		case propusk.ImportUnchanged:
			r.rep.Tokens.Unchanged++
		case propusk.ImportKept:
			r.rep.Tokens.Kept++
		case propusk.ImportClash:
			r.rep.Tokens.Clashes++
			r.line("token %d: clash, not written: %s", t.ID, why)
		}
	}
	if r.cfg.DryRun || len(writes) == 0 {
		return nil
	}
	if err := r.cfg.To.ImportTokens(ctx, writes); err != nil {
		return fmt.Errorf("write tokens %d to %d: %w", ts[0].ID, ts[len(ts)-1].ID, err)
	}
	clear(r.pendingHashes)
	return nil
}

func (r *run) line(format string, args ...any) {
	r.rep.Lines = append(r.rep.Lines, fmt.Sprintf(format, args...))
}

// Clashes is how many users and tokens clashed.
func (rep *Report) Clashes() int { return rep.Users.Clashes + rep.Tokens.Clashes }

// WriteTo writes the report for a person: a line per clash or skip, then
// one summary line per kind.
func (rep *Report) WriteTo(w io.Writer) (int64, error) {
	var n int64
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			var k int
			k, err = fmt.Fprintf(w, format+"\n", args...)
			n += int64(k)
		}
	}
	for _, l := range rep.Lines {
		p("%s", l)
	}
	if rep.NullTimes > 0 {
		p("note: %d new users had no created_at or updated_at in the source: given the import time, %s UTC",
			rep.NullTimes, rep.At.UTC().Format(time.DateTime))
	}
	c := rep.Users
	p("users: %d new, %d updated, %d unchanged, %d kept, %d clashes, %d skipped", c.New, c.Updated, c.Unchanged, c.Kept, c.Clashes, c.Skipped)
	c = rep.Tokens
	p("tokens: %d new, %d updated, %d unchanged, %d kept, %d clashes, %d skipped", c.New, c.Updated, c.Unchanged, c.Kept, c.Clashes, c.Skipped)
	if rep.DryRun {
		p("dry run: nothing was written")
	}
	return n, err
}
