package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/propusk/propusk"
)

const tokenColumns = `id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at`

// patTable is how the store reads and writes personal_access_tokens: the
// zone of its wall-clock times, and whether it lacks expires_at (Sanctum 2).
type patTable struct {
	loc      *time.Location
	noExpiry bool
}

// pat returns the store's patTable.
func (s *Store) pat() patTable { return patTable{s.loc, s.lv != nil && !s.lv.expires} }

// columns is tokenColumns as this table can give them.
func (p patTable) columns() string {
	if p.noExpiry {
		return `id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, NULL::timestamp AS expires_at, created_at, updated_at`
	}
	return tokenColumns
}

// CreateToken inserts t and sets its ID. Times are stored as Laravel does,
// to the second: t's times are truncated to match. A zero CreatedAt becomes
// Now, a zero UpdatedAt CreatedAt, nil Abilities ["*"]. ECONFLICT if the hash
// exists.
func (s *Store) CreateToken(ctx context.Context, t *propusk.PersonalAccessToken) error {
	t.Prepare(s.now())
	return s.audited(ctx, "create token", func(ctx context.Context, q pgxQ) error { return insertToken(ctx, q, t, s.pat()) })
}

// querier is what a pool and a transaction have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// insertToken inserts t into p through q and sets t.ID. EINVALID when t
// expires and p has no expires_at: the expiry would be dropped.
func insertToken(ctx context.Context, q querier, t *propusk.PersonalAccessToken, p patTable) error {
	abilities, err := json.Marshal(t.Abilities)
	if err != nil {
		return err
	}
	cols := []string{"tokenable_type", "tokenable_id", "name", "token", "abilities", "last_used_at", "created_at", "updated_at"}
	args := []any{t.TokenableType, t.TokenableID, t.Name, t.Hash, string(abilities),
		laravelTime(t.LastUsedAt, p.loc), laravelTime(t.CreatedAt, p.loc), laravelTime(t.UpdatedAt, p.loc)}
	switch {
	case !p.noExpiry:
		cols, args = append(cols, "expires_at"), append(args, laravelTime(t.ExpiresAt, p.loc))
	case !t.ExpiresAt.IsZero():
		return errNoExpiry
	}
	if t.ID != 0 { // the sequence hands out the id, unless an import gives it
		cols, args = append(cols, "id"), append(args, t.ID)
	}
	vals := make([]string, len(cols))
	for i := range vals {
		vals[i] = "$" + strconv.Itoa(i+1)
	}
	return q.QueryRow(ctx, `INSERT INTO personal_access_tokens (`+strings.Join(cols, ", ")+`)
		VALUES (`+strings.Join(vals, ", ")+`) RETURNING id`, args...).Scan(&t.ID)
}

// errNoExpiry refuses a token with an expiry on a Sanctum 2 table, which
// has no column to keep it.
var errNoExpiry = propusk.Errorf(propusk.EINVALID, "this personal_access_tokens table has no expires_at column (Laravel Sanctum 2): a token cannot expire")

// Token returns the token with this id, or ENOTFOUND.
func (s *Store) Token(ctx context.Context, id int64) (*propusk.PersonalAccessToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := s.pat()
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens WHERE id = $1`, id), p)
	if err != nil {
		return nil, wrap("token", err)
	}
	return t, nil
}

// TokenByHash returns the token with this hex SHA-256, or ENOTFOUND.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*propusk.PersonalAccessToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := s.pat()
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens WHERE token = $1`, hash), p)
	if err != nil {
		return nil, wrap("token by hash", err)
	}
	return t, nil
}

// UserTokens returns the tokens of the user (tokenable_type typ), in the
// order they were created.
func (s *Store) UserTokens(ctx context.Context, typ string, userID int64) ([]*propusk.PersonalAccessToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := s.pat()
	rows, err := s.pool.Query(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens
		WHERE tokenable_type = $1 AND tokenable_id = $2 ORDER BY id`, typ, userID)
	if err != nil {
		return nil, wrap("user tokens", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.PersonalAccessToken, error) { return scanToken(row, p) })
	if err != nil {
		return nil, wrap("user tokens", err)
	}
	return list, nil
}

// DeleteToken deletes the user's token and appends an EventPAT, in one
// transaction. ENOTFOUND if there is no such token of that user.
func (s *Store) DeleteToken(ctx context.Context, typ string, userID, id int64) error {
	now := s.now()
	return s.write(ctx, "delete token", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM personal_access_tokens
			WHERE id = $1 AND tokenable_type = $2 AND tokenable_id = $3`, id, typ, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("delete token")
		}
		return appendEvents(ctx, tx, propusk.EventPAT, []string{strconv.FormatInt(id, 10)}, now)
	})
}

// ReplaceNamedToken, in one transaction: deletes the user's tokens named
// t.Name (appending an EventPAT for each), inserts t (setting t.ID), and sets
// users.api_token to sealed ("" clears it). It returns the ids it deleted,
// in ascending order. The feed entries are dated t.CreatedAt.
// ENOTFOUND if the user does not exist.
func (s *Store) ReplaceNamedToken(ctx context.Context, t *propusk.PersonalAccessToken, sealed string) ([]int64, error) {
	t.Prepare(s.now())
	var deleted []int64
	err := s.write(ctx, "replace named token", func(ctx context.Context, tx pgx.Tx) error {
		// The user row first: its lock orders concurrent replaces of one
		// user, so each deletes what the one before it inserted.
		if n, err := s.setAPIToken(ctx, tx, t.TokenableID, sealed, t.CreatedAt); err != nil {
			return err
		} else if n == 0 {
			return notFound("replace named token")
		}
		rows, err := tx.Query(ctx, `DELETE FROM personal_access_tokens
			WHERE tokenable_type = $1 AND tokenable_id = $2 AND name = $3 RETURNING id`,
			t.TokenableType, t.TokenableID, t.Name)
		if err != nil {
			return err
		}
		deleted, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		slices.Sort(deleted)
		if err := insertToken(ctx, tx, t, s.pat()); err != nil {
			return err
		}
		refs := make([]string, len(deleted))
		for i, id := range deleted {
			refs[i] = strconv.FormatInt(id, 10)
		}
		return appendEvents(ctx, tx, propusk.EventPAT, refs, t.CreatedAt)
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// TouchTokens sets last_used_at for many tokens in one statement; tokens
// that no longer exist are skipped. Times are stored to the second, as
// Laravel stores them.
func (s *Store) TouchTokens(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	// In id order, so that two batches touching the same tokens lock them
	// in the same order and cannot deadlock.
	slices.Sort(ids)
	times := make([]time.Time, len(ids))
	for i, id := range ids {
		times[i] = propusk.TruncSeconds(used[id]).In(s.loc)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE personal_access_tokens p SET last_used_at = u.at
		FROM unnest($1::bigint[], $2::timestamp[]) AS u (id, at)
		WHERE p.id = u.id`, ids, times)
	return wrap("touch tokens", err)
}

// scanToken reads a row of p's columns: every read of
// personal_access_tokens goes through it.
func scanToken(row pgx.Row, p patTable) (*propusk.PersonalAccessToken, error) {
	var (
		t                                   propusk.PersonalAccessToken
		abilities                           *string
		lastUsed, expires, created, updated = &wallTime{loc: p.loc}, &wallTime{loc: p.loc}, &wallTime{loc: p.loc}, &wallTime{loc: p.loc}
	)
	if err := row.Scan(&t.ID, &t.TokenableType, &t.TokenableID, &t.Name, &t.Hash, &abilities,
		lastUsed, expires, created, updated); err != nil {
		return nil, err
	}
	t.Abilities = []string{propusk.AllAbilities}
	if abilities != nil {
		if err := json.Unmarshal([]byte(*abilities), &t.Abilities); err != nil {
			return nil, fmt.Errorf("token %d: abilities: %w", t.ID, err)
		}
		if t.Abilities == nil {
			t.Abilities = []string{}
		}
	}
	t.LastUsedAt = lastUsed.t
	t.ExpiresAt = expires.t
	t.CreatedAt = created.t
	t.UpdatedAt = updated.t
	return &t, nil
}

// laravelTime is t for a timestamp(0) without time zone column, as Laravel
// writes it: the wall clock in loc (pgx writes a time's own wall clock to
// such a column), to the second (PostgreSQL would round a fraction, not
// truncate it), or NULL for the zero time.
func laravelTime(t time.Time, loc *time.Location) any {
	if t.IsZero() {
		return nil
	}
	return propusk.TruncSeconds(t).In(loc)
}

// wallTime scans a timestamp without time zone as Laravel writes it, the
// wall clock in loc, and a timestamptz (propusk's own times) as the
// instant it is; NULL is the zero time.
type wallTime struct {
	t   time.Time
	loc *time.Location
}

// ScanTimestamp implements pgtype.TimestampScanner.
func (w *wallTime) ScanTimestamp(v pgtype.Timestamp) error {
	switch {
	case !v.Valid:
		w.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return fmt.Errorf("timestamp: %v is not a time", v.InfinityModifier)
	default:
		t := v.Time
		w.t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), w.loc).UTC()
	}
	return nil
}

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (w *wallTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		w.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return fmt.Errorf("timestamptz: %v is not a time", v.InfinityModifier)
	default:
		w.t = v.Time.UTC()
	}
	return nil
}
