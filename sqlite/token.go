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

// CreateToken inserts t and sets its ID. Times are stored as Laravel does,
// to the second: t's times are truncated to match. A zero CreatedAt becomes
// Now, a zero UpdatedAt CreatedAt, nil Abilities ["*"]. ECONFLICT if the hash
// exists.
func (s *Store) CreateToken(ctx context.Context, t *propusk.PersonalAccessToken) error {
	t.Prepare(s.now())
	return s.write(ctx, "create token", func(tx *sql.Tx) error {
		return insertToken(ctx, tx, t)
	})
}

func insertToken(ctx context.Context, tx *sql.Tx, t *propusk.PersonalAccessToken) error {
	abilities, err := json.Marshal(t.Abilities)
	if err != nil {
		return err
	}
	// An id of 0 is NULL, which AUTOINCREMENT replaces; an import gives its own.
	return tx.QueryRowContext(ctx, `INSERT INTO personal_access_tokens
		(id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at)
		VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.ID, t.TokenableType, t.TokenableID, t.Name, t.Hash, string(abilities),
		laravelTime(t.LastUsedAt), laravelTime(t.ExpiresAt), laravelTime(t.CreatedAt), laravelTime(t.UpdatedAt),
	).Scan(&t.ID)
}

// Token returns the token with this id, or ENOTFOUND.
func (s *Store) Token(ctx context.Context, id int64) (*propusk.PersonalAccessToken, error) {
	t, err := scanToken(s.ro.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM personal_access_tokens WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("token", err)
	}
	return t, nil
}

// TokenByHash returns the token with this hex SHA-256, or ENOTFOUND.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*propusk.PersonalAccessToken, error) {
	t, err := scanToken(s.ro.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM personal_access_tokens WHERE token = ?`, hash))
	if err != nil {
		return nil, wrap("token by hash", err)
	}
	return t, nil
}

// UserTokens returns the tokens of the user (tokenable_type typ), in the
// order they were created.
func (s *Store) UserTokens(ctx context.Context, typ string, userID int64) ([]*propusk.PersonalAccessToken, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT `+tokenColumns+` FROM personal_access_tokens
		WHERE tokenable_type = ? AND tokenable_id = ? ORDER BY id`, typ, userID)
	if err != nil {
		return nil, wrap("user tokens", err)
	}
	defer rows.Close()
	var list []*propusk.PersonalAccessToken
	for rows.Next() {
		t, err := scanToken(rows)
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
		res, err := tx.ExecContext(ctx, `UPDATE users SET api_token = ?, updated_at = ? WHERE id = ?`,
			nullString(sealed), millis(t.CreatedAt), t.TokenableID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
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
		return insertToken(ctx, tx, t)
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
			if _, err := stmt.ExecContext(ctx, laravelTime(used[id]), id); err != nil {
				return err
			}
		}
		return nil
	})
}

func scanToken(row scanner) (*propusk.PersonalAccessToken, error) {
	var (
		t                                   propusk.PersonalAccessToken
		abilities                           sql.NullString
		lastUsed, expires, created, updated laravelTimeScanner
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

// laravelLayout is how Laravel's SQLite grammar writes a timestamp, in UTC.
const laravelLayout = "2006-01-02 15:04:05"

// laravelTime is t as Laravel writes it, or NULL for the zero time.
func laravelTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(laravelLayout)
}

// laravelTimeScanner reads a timestamp of personal_access_tokens as Laravel
// or another writer may have left it: TEXT in Laravel's layout or in
// RFC 3339, a time the driver already parsed, or NULL.
type laravelTimeScanner struct{ t time.Time }

// Scan implements sql.Scanner.
func (l *laravelTimeScanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		l.t = time.Time{}
	case time.Time:
		l.t = v.UTC()
	case string:
		return l.parse(v)
	case []byte:
		return l.parse(string(v))
	case int64:
		l.t = time.Unix(v, 0).UTC()
	default:
		return fmt.Errorf("timestamp: unsupported type %T", v)
	}
	return nil
}

func (l *laravelTimeScanner) parse(s string) error {
	for _, layout := range []string{laravelLayout, "2006-01-02 15:04:05.999999999", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			l.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp: cannot parse %q", s)
}
