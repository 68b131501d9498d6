package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

var (
	_ propusk.ImportStore = (*Store)(nil)
	_ propusk.TokenLister = (*Store)(nil)
)

// UsersForImport implements propusk.ImportStore.
func (s *Store) UsersForImport(ctx context.Context, ids []int64, keys []string) ([]*propusk.User, error) {
	idList, keyList, err := jsonLists(ids, keys)
	if err != nil {
		return nil, err
	}
	rows, err := s.ro.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE id IN (SELECT value FROM json_each(?)) OR login_key IN (SELECT value FROM json_each(?))`, idList, keyList)
	if err != nil {
		return nil, wrap("users for import", err)
	}
	defer rows.Close()
	var us []*propusk.User
	for rows.Next() {
		u, err := scanUser(rows, s.loc)
		if err != nil {
			return nil, wrap("users for import", err)
		}
		us = append(us, u)
	}
	return us, wrap("users for import", rows.Err())
}

// TokensForImport implements propusk.ImportStore.
func (s *Store) TokensForImport(ctx context.Context, ids []int64, hashes []string) ([]*propusk.PersonalAccessToken, error) {
	idList, hashList, err := jsonLists(ids, hashes)
	if err != nil {
		return nil, err
	}
	return s.tokens(ctx, "tokens for import", `SELECT `+s.pat().columns()+` FROM personal_access_tokens
		WHERE id IN (SELECT value FROM json_each(?)) OR token IN (SELECT value FROM json_each(?))`, idList, hashList)
}

// TokensAfter implements propusk.TokenLister.
func (s *Store) TokensAfter(ctx context.Context, after int64, limit int) ([]*propusk.PersonalAccessToken, error) {
	return s.tokens(ctx, "tokens after", `SELECT `+s.pat().columns()+` FROM personal_access_tokens
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

func (s *Store) tokens(ctx context.Context, op, query string, args ...any) ([]*propusk.PersonalAccessToken, error) {
	rows, err := s.ro.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var ts []*propusk.PersonalAccessToken
	for rows.Next() {
		t, err := scanToken(rows, s.pat())
		if err != nil {
			return nil, wrap(op, err)
		}
		ts = append(ts, t)
	}
	return ts, wrap(op, rows.Err())
}

// ImportUsers implements propusk.ImportStore. AUTOINCREMENT keeps its
// counter above every id inserted, so later users never collide.
func (s *Store) ImportUsers(ctx context.Context, batch []propusk.UserImport) error {
	now := s.now()
	return s.write(ctx, "import users", func(tx *sql.Tx) error {
		for _, w := range batch {
			if w.Old == nil {
				if err := insertUser(ctx, tx, w.New); err != nil {
					return err
				}
				continue
			}
			key, err := logins.Canonical(w.New.Login)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE users SET login = ?, login_key = ?, password_hash = ?, created_at = ?, updated_at = ?
				WHERE id = ? AND login = ? AND password_hash = ? AND updated_at = ?`,
				w.New.Login, key, w.New.PasswordHash, millis(w.New.CreatedAt), millis(w.New.UpdatedAt),
				w.Old.ID, w.Old.Login, w.Old.PasswordHash, millis(w.Old.UpdatedAt))
			if err := changedOne(res, err, "user", w.Old.ID); err != nil {
				return err
			}
			if err := appendEvent(ctx, tx, propusk.EventUser, strconv.FormatInt(w.Old.ID, 10), now); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportTokens implements propusk.ImportStore.
func (s *Store) ImportTokens(ctx context.Context, batch []propusk.TokenImport) error {
	now := s.now()
	return s.write(ctx, "import tokens", func(tx *sql.Tx) error {
		for _, w := range batch {
			if w.Old == nil {
				if err := insertToken(ctx, tx, w.New, s.pat()); err != nil {
					return err
				}
				continue
			}
			abilities, err := json.Marshal(w.New.Abilities)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE personal_access_tokens SET name = ?, abilities = ?, last_used_at = ?, expires_at = ?, created_at = ?, updated_at = ?
				WHERE id = ? AND token = ? AND tokenable_id = ? AND updated_at IS ?`,
				w.New.Name, string(abilities), laravelTime(w.New.LastUsedAt, s.loc), laravelTime(w.New.ExpiresAt, s.loc), laravelTime(w.New.CreatedAt, s.loc), laravelTime(w.New.UpdatedAt, s.loc),
				w.Old.ID, w.Old.Hash, w.Old.TokenableID, laravelTime(w.Old.UpdatedAt, s.loc))
			if err := changedOne(res, err, "token", w.Old.ID); err != nil {
				return err
			}
			if err := appendEvent(ctx, tx, propusk.EventPAT, strconv.FormatInt(w.Old.ID, 10), now); err != nil {
				return err
			}
		}
		return nil
	})
}

// changedOne checks that an import's update found its row as it was read.
func changedOne(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return propusk.Errorf(propusk.ECONFLICT, "%s %d changed in the destination during the import: nothing of this batch was written; run the import again", what, id)
	}
	return nil
}

// jsonLists encodes two lists for json_each.
func jsonLists[T any](a []int64, b []T) (string, string, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return "", "", err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return "", "", err
	}
	return string(ja), string(jb), nil
}
