package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

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
		return `id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, NULL AS expires_at, created_at, updated_at`
	}
	return tokenColumns
}

// CreateToken inserts t and sets its ID. Times are stored as Laravel does,
// to the second: t's times are truncated to match. A zero CreatedAt becomes
// Now, a zero UpdatedAt CreatedAt, nil Abilities ["*"]. ECONFLICT if the hash
// exists.
func (s *Store) CreateToken(ctx context.Context, t *propusk.PersonalAccessToken) error {
	t.Prepare(s.now())
	return s.write(ctx, "create token", func(tx *sql.Tx) error {
		return insertToken(ctx, tx, t, s.pat())
	})
}

// insertToken inserts t into p inside tx and sets t.ID. EINVALID when t
// expires and p has no expires_at: the expiry would be dropped.
func insertToken(ctx context.Context, tx *sql.Tx, t *propusk.PersonalAccessToken, p patTable) error {
	abilities, err := json.Marshal(t.Abilities)
	if err != nil {
		return err
	}
	// An id of 0 is NULL, which AUTOINCREMENT replaces; an import gives its own.
	if p.noExpiry {
		if !t.ExpiresAt.IsZero() {
			return errNoExpiry
		}
		return tx.QueryRowContext(ctx, `INSERT INTO personal_access_tokens
			(id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, created_at, updated_at)
			VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.ID, t.TokenableType, t.TokenableID, t.Name, t.Hash, string(abilities),
			laravelTime(t.LastUsedAt, p.loc), laravelTime(t.CreatedAt, p.loc), laravelTime(t.UpdatedAt, p.loc),
		).Scan(&t.ID)
	}
	return tx.QueryRowContext(ctx, `INSERT INTO personal_access_tokens
		(id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at)
		VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.ID, t.TokenableType, t.TokenableID, t.Name, t.Hash, string(abilities),
		laravelTime(t.LastUsedAt, p.loc), laravelTime(t.ExpiresAt, p.loc), laravelTime(t.CreatedAt, p.loc), laravelTime(t.UpdatedAt, p.loc),
	).Scan(&t.ID)
}

// errNoExpiry refuses a token with an expiry on a Sanctum 2 table, which
// has no column to keep it.
var errNoExpiry = propusk.Errorf(propusk.EINVALID, "this personal_access_tokens table has no expires_at column (Laravel Sanctum 2): a token cannot expire")

// Token returns the token with this id, or ENOTFOUND.
func (s *Store) Token(ctx context.Context, id int64) (*propusk.PersonalAccessToken, error) {
	p := s.pat()
	t, err := scanToken(s.ro.QueryRowContext(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens WHERE id = ?`, id), p)
	if err != nil {
		return nil, wrap("token", err)
	}
	return t, nil
}

// TokenByHash returns the token with this hex SHA-256, or ENOTFOUND.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*propusk.PersonalAccessToken, error) {
	p := s.pat()
	t, err := scanToken(s.ro.QueryRowContext(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens WHERE token = ?`, hash), p)
	if err != nil {
		return nil, wrap("token by hash", err)
	}
	return t, nil
}

// UserTokens returns the tokens of the user (tokenable_type typ), in the
// order they were created.
func (s *Store) UserTokens(ctx context.Context, typ string, userID int64) ([]*propusk.PersonalAccessToken, error) {
	p := s.pat()
	rows, err := s.ro.QueryContext(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens
		WHERE tokenable_type = ? AND tokenable_id = ? ORDER BY id`, typ, userID)
	if err != nil {
		return nil, wrap("user tokens", err)
	}
	defer rows.Close()
	var list []*propusk.PersonalAccessToken
	for rows.Next() {
		t, err := scanToken(rows, p)
		if err != nil {
			return nil, wrap("user tokens", err)
		}
		list = append(list, t)
	}
	return list, wrap("user tokens", rows.Err())
}

// DeleteToken deletes the user's token and appends an EventPAT, in one
// transaction. ENOTFOUND if there is no such token of that user.
func (s *Store) DeleteToken(ctx context.Context, typ string, userID, id int64) error {
	now := s.now()
	return s.write(ctx, "delete token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM personal_access_tokens
			WHERE id = ? AND tokenable_type = ? AND tokenable_id = ?`, id, typ, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound("delete token")
		}
		return appendEvent(ctx, tx, propusk.EventPAT, strconv.FormatInt(id, 10), now)
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
	err := s.write(ctx, "replace named token", func(tx *sql.Tx) error {
		deleted = nil
		if n, err := s.setAPIToken(ctx, tx, t.TokenableID, sealed, t.CreatedAt); err != nil {
			return err
		} else if n == 0 {
			return notFound("replace named token")
		}
		rows, err := tx.QueryContext(ctx, `DELETE FROM personal_access_tokens
			WHERE tokenable_type = ? AND tokenable_id = ? AND name = ? RETURNING id`,
			t.TokenableType, t.TokenableID, t.Name)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			deleted = append(deleted, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		slices.Sort(deleted)
		for _, id := range deleted {
			if err := appendEvent(ctx, tx, propusk.EventPAT, strconv.FormatInt(id, 10), t.CreatedAt); err != nil {
				return err
			}
		}
		return insertToken(ctx, tx, t, s.pat())
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}

// TouchTokens sets last_used_at for many tokens in one transaction; tokens
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
	slices.Sort(ids)
	return s.write(ctx, "touch tokens", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE personal_access_tokens SET last_used_at = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, laravelTime(used[id], s.loc), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// scanToken reads a row of p's columns: every read of
// personal_access_tokens goes through it.
func scanToken(row scanner, p patTable) (*propusk.PersonalAccessToken, error) {
	var (
		t                                   propusk.PersonalAccessToken
		abilities                           sql.NullString
		lastUsed, expires, created, updated = laravelTimeScanner{loc: p.loc}, laravelTimeScanner{loc: p.loc}, laravelTimeScanner{loc: p.loc}, laravelTimeScanner{loc: p.loc}
	)
	if err := row.Scan(&t.ID, &t.TokenableType, &t.TokenableID, &t.Name, &t.Hash, &abilities,
		&lastUsed, &expires, &created, &updated); err != nil {
		return nil, err
	}
	t.Abilities = []string{propusk.AllAbilities}
	if abilities.Valid {
		if err := json.Unmarshal([]byte(abilities.String), &t.Abilities); err != nil {
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

// laravelLayout is how Laravel's SQLite grammar writes a timestamp: the
// wall clock of the app's time zone (UTC outside Laravel mode).
const laravelLayout = "2006-01-02 15:04:05"

// laravelTime is t as Laravel writes it in loc, or NULL for the zero time.
func laravelTime(t time.Time, loc *time.Location) any {
	if t.IsZero() {
		return nil
	}
	return t.In(loc).Format(laravelLayout)
}

// laravelTimeScanner reads a timestamp as Laravel or another writer may
// have left it: TEXT in Laravel's layout, the wall clock in loc, or in
// RFC 3339; a time the driver already parsed from such TEXT; an integer,
// unix seconds, or milliseconds when ms is set (users.created_at of
// propusk's own schema); or NULL, the zero time.
type laravelTimeScanner struct {
	t   time.Time
	loc *time.Location
	ms  bool
}

// Scan implements sql.Scanner.
func (l *laravelTimeScanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		l.t = time.Time{}
	case time.Time:
		// The driver reads Laravel's zoneless TEXT as UTC: its wall clock
		// is the app's.
		l.t = wallClock(v, l.loc)
	case string:
		return l.parse(v)
	case []byte:
		return l.parse(string(v))
	case int64:
		if l.ms {
			l.t = fromMillis(v)
		} else {
			l.t = time.Unix(v, 0).UTC()
		}
	default:
		return fmt.Errorf("timestamp: unsupported type %T", v)
	}
	return nil
}

func (l *laravelTimeScanner) parse(s string) error {
	for _, layout := range []string{laravelLayout, "2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, l.zone()); err == nil {
			l.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp: cannot parse %q", s)
}

func (l *laravelTimeScanner) zone() *time.Location {
	if l.loc == nil {
		return time.UTC
	}
	return l.loc
}

// wallClock is the instant whose wall clock in loc reads as t's in UTC.
func wallClock(t time.Time, loc *time.Location) time.Time {
	t = t.UTC()
	if loc == nil || loc == time.UTC {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC()
}
