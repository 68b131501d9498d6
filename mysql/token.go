package mysql

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
	if propusk.AuditFrom(ctx) != nil {
		return s.write(ctx, "create token", func(ctx context.Context, tx *sql.Tx) error { return insertToken(ctx, tx, t, s.pat()) })
	}
	return s.retry(ctx, "create token", func(ctx context.Context) error { return insertToken(ctx, s.db, t, s.pat()) })
}

// insertToken inserts t into p through q and sets t.ID. EINVALID when t
// expires and p has no expires_at: the expiry would be dropped.
func insertToken(ctx context.Context, q execer, t *propusk.PersonalAccessToken, p patTable) error {
	abilities, err := json.Marshal(t.Abilities)
	if err != nil {
		return err
	}
	// An id of 0 is NULL: AUTO_INCREMENT hands out the next. An import
	// gives its own, and the counter moves past it.
	var res sql.Result
	if p.noExpiry {
		if !t.ExpiresAt.IsZero() {
			return errNoExpiry
		}
		res, err = q.ExecContext(ctx, `INSERT INTO personal_access_tokens
			(id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, created_at, updated_at)
			VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TokenableType, t.TokenableID, t.Name, t.Hash, string(abilities),
			laravelTime(t.LastUsedAt, p.loc), laravelTime(t.CreatedAt, p.loc), laravelTime(t.UpdatedAt, p.loc))
	} else {
		res, err = q.ExecContext(ctx, `INSERT INTO personal_access_tokens
			(id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at)
			VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TokenableType, t.TokenableID, t.Name, t.Hash, string(abilities),
			laravelTime(t.LastUsedAt, p.loc), laravelTime(t.ExpiresAt, p.loc), laravelTime(t.CreatedAt, p.loc), laravelTime(t.UpdatedAt, p.loc))
	}
	if err != nil || t.ID != 0 {
		return err
	}
	t.ID, err = res.LastInsertId()
	return err
}

// errNoExpiry refuses a token with an expiry on a Sanctum 2 table, which
// has no column to keep it.
var errNoExpiry = propusk.Errorf(propusk.EINVALID, "this personal_access_tokens table has no expires_at column (Laravel Sanctum 2): a token cannot expire")

// Token returns the token with this id, or ENOTFOUND.
func (s *Store) Token(ctx context.Context, id int64) (*propusk.PersonalAccessToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := s.pat()
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens WHERE id = ?`, id), p)
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
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens WHERE token = ?`, hash), p)
	if err != nil {
		return nil, wrap("token by hash", err)
	}
	return t, nil
}

// LastTokenID returns the highest personal access token id, 0 when there is
// none: one probe of the primary key. InnoDB may reuse an AUTO_INCREMENT
// value only for ids above the highest row after a server restart, and
// those have never been issued, which is what the service needs.
func (s *Store) LastTokenID(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM personal_access_tokens`).Scan(&id); err != nil {
		return 0, wrap("last token id", err)
	}
	return id, nil
}

// UserTokens returns the tokens of the user (tokenable_type typ), in the
// order they were created.
func (s *Store) UserTokens(ctx context.Context, typ string, userID int64) ([]*propusk.PersonalAccessToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	p := s.pat()
	rows, err := s.db.QueryContext(ctx, `SELECT `+p.columns()+` FROM personal_access_tokens
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
	return s.write(ctx, "delete token", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM personal_access_tokens
			WHERE id = ? AND tokenable_type = ? AND tokenable_id = ?`, id, typ, userID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
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
	err := s.write(ctx, "replace named token", func(ctx context.Context, tx *sql.Tx) error {
		deleted = nil
		// The user row first: its lock orders concurrent replaces of one
		// user, so each deletes what the one before it inserted.
		if n, err := s.setAPIToken(ctx, tx, t.TokenableID, sealed, t.CreatedAt); err != nil {
			return err
		} else if n == 0 {
			return notFound("replace named token")
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM personal_access_tokens
			WHERE tokenable_type = ? AND tokenable_id = ? AND name = ? FOR UPDATE`,
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
		if len(deleted) > 0 {
			args := make([]any, len(deleted))
			for i, id := range deleted {
				args[i] = id
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM personal_access_tokens WHERE id IN (`+placeholders(len(args))+`)`, args...); err != nil {
				return err
			}
		}
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
	// In id order, so that two batches touching the same tokens lock them
	// in the same order and cannot deadlock.
	slices.Sort(ids)
	return s.write(ctx, "touch tokens", func(ctx context.Context, tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE personal_access_tokens SET last_used_at = ? WHERE id = ?`, laravelTime(used[id], s.loc), id); err != nil {
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
		lastUsed, expires, created, updated sql.NullTime
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
	t.LastUsedAt = wallClock(lastUsed, p.loc)
	t.ExpiresAt = wallClock(expires, p.loc)
	t.CreatedAt = wallClock(created, p.loc)
	t.UpdatedAt = wallClock(updated, p.loc)
	return &t, nil
}

// laravelLayout is how Laravel writes a timestamp.
const laravelLayout = "2006-01-02 15:04:05"

// laravelTime is t for a TIMESTAMP column, as Laravel writes it: the wall
// clock in loc (UTC outside Laravel mode), which the session's zone, UTC,
// keeps as it is; to the second (MySQL would round a fraction, not truncate
// it); or NULL for the zero time. A string, because the driver would turn
// a time.Time into the session's zone.
func laravelTime(t time.Time, loc *time.Location) any {
	if t.IsZero() {
		return nil
	}
	return t.In(loc).Format(laravelLayout)
}
