package postgres

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

var (
	_ propusk.ImportStore = (*Store)(nil)
	_ propusk.TokenLister = (*Store)(nil)
)

// UsersForImport implements propusk.ImportStore.
func (s *Store) UsersForImport(ctx context.Context, ids []int64, keys []string) ([]*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ANY($1) OR u.login_key = ANY($2)`, ids, keys)
	if err != nil {
		return nil, wrap("users for import", err)
	}
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.User, error) { return scanUser(row, s.loc) })
	return us, wrap("users for import", err)
}

// TokensForImport implements propusk.ImportStore.
func (s *Store) TokensForImport(ctx context.Context, ids []int64, hashes []string) ([]*propusk.PersonalAccessToken, error) {
	return s.tokens(ctx, "tokens for import", `SELECT `+s.pat().columns()+` FROM personal_access_tokens
		WHERE id = ANY($1) OR token = ANY($2)`, ids, hashes)
}

// TokensAfter implements propusk.TokenLister.
func (s *Store) TokensAfter(ctx context.Context, after int64, limit int) ([]*propusk.PersonalAccessToken, error) {
	return s.tokens(ctx, "tokens after", `SELECT `+s.pat().columns()+` FROM personal_access_tokens
		WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
}

func (s *Store) tokens(ctx context.Context, op, query string, args ...any) ([]*propusk.PersonalAccessToken, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.PersonalAccessToken, error) { return scanToken(row, s.pat()) })
	return ts, wrap(op, err)
}

// ImportUsers implements propusk.ImportStore.
func (s *Store) ImportUsers(ctx context.Context, batch []propusk.UserImport) error {
	now := s.now()
	return s.write(ctx, "import users", func(ctx context.Context, tx pgx.Tx) error {
		var top int64
		for _, w := range batch {
			if w.Old == nil {
				top = max(top, w.New.ID)
			}
		}
		if err := keepAhead(ctx, tx, "users", top); err != nil {
			return err
		}
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
			tag, err := tx.Exec(ctx, `UPDATE users SET login = $1, login_key = $2, password_hash = $3, created_at = $4, updated_at = $5
				WHERE id = $6 AND login = $7 AND password_hash = $8 AND updated_at = $9`,
				w.New.Login, key, w.New.PasswordHash, w.New.CreatedAt, w.New.UpdatedAt,
				w.Old.ID, w.Old.Login, w.Old.PasswordHash, w.Old.UpdatedAt)
			if err := changedOne(tag, err, "user", w.Old.ID); err != nil {
				return err
			}
			if err := appendEvents(ctx, tx, propusk.EventUser, []string{strconv.FormatInt(w.Old.ID, 10)}, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportTokens implements propusk.ImportStore.
func (s *Store) ImportTokens(ctx context.Context, batch []propusk.TokenImport) error {
	now := s.now()
	return s.write(ctx, "import tokens", func(ctx context.Context, tx pgx.Tx) error {
		var top int64
		for _, w := range batch {
			if w.Old == nil {
				top = max(top, w.New.ID)
			}
		}
		if err := keepAhead(ctx, tx, "personal_access_tokens", top); err != nil {
			return err
		}
		var updated []string
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
			tag, err := tx.Exec(ctx, `UPDATE personal_access_tokens SET name = $1, abilities = $2, last_used_at = $3, expires_at = $4, created_at = $5, updated_at = $6
				WHERE id = $7 AND token = $8 AND tokenable_id = $9 AND updated_at IS NOT DISTINCT FROM $10`,
				w.New.Name, string(abilities), laravelTime(w.New.LastUsedAt, s.loc), laravelTime(w.New.ExpiresAt, s.loc), laravelTime(w.New.CreatedAt, s.loc), laravelTime(w.New.UpdatedAt, s.loc),
				w.Old.ID, w.Old.Hash, w.Old.TokenableID, laravelTime(w.Old.UpdatedAt, s.loc))
			if err := changedOne(tag, err, "token", w.Old.ID); err != nil {
				return err
			}
			updated = append(updated, strconv.FormatInt(w.Old.ID, 10))
		}
		return appendEvents(ctx, tx, propusk.EventPAT, updated, now)
	})
}

// keepAhead moves the id sequence of table to top, unless it is there
// already, before rows with ids up to top are inserted: ids handed out
// later, by this process or another, are above every imported one. A
// sequence is not transactional: a batch that fails leaves it moved, which
// only skips ids.
func keepAhead(ctx context.Context, tx pgx.Tx, table string, top int64) error {
	if top == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT setval(seq, $2)
		FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq) s
		WHERE coalesce(pg_sequence_last_value(seq), 0) < $2`, table, top)
	return err
}

// changedOne checks that an import's update found its row as it was read.
func changedOne(tag pgconn.CommandTag, err error, what string, id int64) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return propusk.Errorf(propusk.ECONFLICT, "%s %d changed in the destination during the import: nothing of this batch was written; run the import again", what, id)
	}
	return nil
}
