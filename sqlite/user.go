package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

const userColumns = `id, login, password_hash, level, boards, api_token, created_at, updated_at, disabled_at`

// CreateUser inserts u and sets its ID, CreatedAt and UpdatedAt. A zero
// Level becomes propusk.LevelUser and nil Boards become ["*"], the column
// defaults, because Go cannot tell them from values left unset.
// ECONFLICT when the login, or one that looks alike, is taken; EINVALID
// when the login has no canonical form (logins.Canonical).
func (s *Store) CreateUser(ctx context.Context, u *propusk.User) error {
	u.Prepare(s.now())
	return s.write(ctx, "create user", func(tx *sql.Tx) error { return s.insertUser(ctx, tx, u) })
}

// insertUser inserts the prepared u inside tx, into propusk's own users
// table (the function insertUser) or, in Laravel mode, the app's.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *propusk.User) error {
	if s.lv != nil {
		return s.laravelInsertUser(ctx, tx, u)
	}
	return insertUser(ctx, tx, u)
}

// insertUser inserts the prepared u inside tx, with its canonical login
// key, and sets u.ID (to u.ID itself when it is not 0). EINVALID when the login has no canonical form.
func insertUser(ctx context.Context, tx *sql.Tx, u *propusk.User) error {
	key, err := logins.Canonical(u.Login)
	if err != nil {
		return err
	}
	boards, err := json.Marshal(u.Boards)
	if err != nil {
		return fmt.Errorf("boards: %w", err)
	}
	// An id of 0 is NULL, which AUTOINCREMENT replaces by the next; an
	// import gives its own.
	return tx.QueryRowContext(ctx, `INSERT INTO users (id, login, login_key, password_hash, level, boards, api_token, created_at, updated_at)
		VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.ID, u.Login, key, u.PasswordHash, u.Level, string(boards), nullString(u.APIToken), millis(u.CreatedAt), millis(u.UpdatedAt),
	).Scan(&u.ID)
}

// UserByID returns the user or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id int64) (*propusk.User, error) {
	u, err := scanUser(s.ro.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id), s.loc)
	if err != nil {
		return nil, wrap("user by id", err)
	}
	return u, nil
}

// UserByLogin returns the user whose login has login's canonical form, or
// a row without a key whose login is exactly login; ENOTFOUND otherwise.
func (s *Store) UserByLogin(ctx context.Context, login string) (*propusk.User, error) {
	if s.lv != nil {
		u, err := s.laravelUserByLogin(ctx, s.ro, login)
		return u, wrap("user by login", err)
	}
	key, err := logins.Canonical(login)
	if err != nil {
		return nil, wrap("user by login", sql.ErrNoRows) // no user can have it
	}
	u, err := scanUser(s.ro.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE login_key = ? OR (login_key IS NULL AND login = ?) ORDER BY login_key IS NULL LIMIT 1`, key, login), s.loc)
	if err != nil {
		return nil, wrap("user by login", err)
	}
	return u, nil
}

type scanner interface {
	Scan(dest ...any) error
}

// scanUser reads a row of userColumns. created_at and updated_at are unix
// milliseconds in propusk's own users table, and Laravel's wall-clock TEXT
// in loc (or NULL, the zero time) in the app's.
func scanUser(row scanner, loc *time.Location) (*propusk.User, error) {
	var (
		u                propusk.User
		boards           string
		apiToken         sql.NullString
		created, updated = laravelTimeScanner{loc: loc, ms: true}, laravelTimeScanner{loc: loc, ms: true}
		disabled         sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Login, &u.PasswordHash, &u.Level, &boards, &apiToken, &created, &updated, &disabled); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(boards), &u.Boards); err != nil {
		return nil, fmt.Errorf("user %d: boards: %w", u.ID, err)
	}
	u.APIToken = apiToken.String
	u.CreatedAt = created.t
	u.UpdatedAt = updated.t
	u.DisabledAt = fromNullMillis(disabled)
	return &u, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
