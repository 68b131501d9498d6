package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

const userColumns = `u.id, u.login, u.password_hash, u.level, u.boards, u.api_token, u.created_at, u.updated_at, u.disabled_at`

// CreateUser inserts u and sets its ID, CreatedAt and UpdatedAt. A zero
// Level becomes propusk.LevelUser and nil Boards become ["*"].
// ECONFLICT when the login, or one that looks alike, is taken; EINVALID
// when the login has no canonical form (logins.Canonical).
func (s *Store) CreateUser(ctx context.Context, u *propusk.User) error {
	u.Prepare(s.now())
	if propusk.AuditFrom(ctx) != nil || s.lv != nil {
		return s.write(ctx, "create user", func(ctx context.Context, tx *sql.Tx) error { return s.insertUser(ctx, tx, u) })
	}
	return s.retry(ctx, "create user", func(ctx context.Context) error { return insertUser(ctx, s.db, u) })
}

// execer is a pool or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertUser inserts the prepared u inside tx, into propusk's own users
// table (the function insertUser) or, in Laravel mode, the app's.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *propusk.User) error {
	if s.lv != nil {
		return s.laravelInsertUser(ctx, tx, u)
	}
	return insertUser(ctx, tx, u)
}

// insertUser inserts the prepared u through q, with its canonical login
// key, and sets u.ID (keeps it when it is not 0). EINVALID when the login has no canonical form.
func insertUser(ctx context.Context, q execer, u *propusk.User) error {
	key, err := logins.Canonical(u.Login)
	if err != nil {
		return err
	}
	boards, err := json.Marshal(u.Boards)
	if err != nil {
		return fmt.Errorf("boards: %w", err)
	}
	// An id of 0 is NULL, for which AUTO_INCREMENT hands out the next;
	// an import gives its own, and the counter moves past it.
	res, err := q.ExecContext(ctx, `INSERT INTO users (id, login, login_key, password_hash, level, boards, api_token, created_at, updated_at)
		VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Login, key, u.PasswordHash, u.Level, string(boards), nullString(u.APIToken), ms(u.CreatedAt), ms(u.UpdatedAt))
	if err != nil || u.ID != 0 {
		return err
	}
	u.ID, err = res.LastInsertId()
	return err
}

// UserByID returns the user or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id int64) (*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id), s.loc)
	if err != nil {
		return nil, wrap("user by id", err)
	}
	return u, nil
}

// UserByLogin returns the user whose login has login's canonical form, or
// a row without a key whose login is exactly login (the binary collation
// compares bytes); ENOTFOUND otherwise.
func (s *Store) UserByLogin(ctx context.Context, login string) (*propusk.User, error) {
	if s.lv != nil {
		ctx, cancel := s.bound(ctx)
		defer cancel()
		u, err := s.laravelUserByLogin(ctx, s.db, login)
		return u, wrap("user by login", err)
	}
	key, err := logins.Canonical(login)
	if err != nil {
		return nil, notFound("user by login") // no user can have it
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.login_key = ? OR (u.login_key IS NULL AND u.login = ?) ORDER BY u.login_key IS NULL LIMIT 1`, key, login), s.loc)
	if err != nil {
		return nil, wrap("user by login", err)
	}
	return u, nil
}

// userDest returns the scan destinations of userColumns into u, and a
// function to call after the scan. created_at and updated_at are UTC in
// propusk's own users table, and in the app's Laravel's wall clock in loc,
// or NULL (the zero time).
func userDest(u *propusk.User, loc *time.Location) ([]any, func() error) {
	var (
		boards, apiToken sql.NullString
		created, updated sql.NullTime
		disabled         sql.NullTime
	)
	dest := []any{&u.ID, &u.Login, &u.PasswordHash, &u.Level, &boards, &apiToken, &created, &updated, &disabled}
	return dest, func() error {
		u.APIToken = apiToken.String
		u.CreatedAt, u.UpdatedAt = wallClock(created, loc), wallClock(updated, loc)
		u.DisabledAt = fromNull(disabled)
		u.Boards = []string{}
		if boards.Valid && boards.String != "" {
			if err := json.Unmarshal([]byte(boards.String), &u.Boards); err != nil {
				return fmt.Errorf("user %d: boards: %w", u.ID, err)
			}
		}
		return nil
	}
}

func scanUser(row scanner, loc *time.Location) (*propusk.User, error) {
	var u propusk.User
	dest, finish := userDest(&u, loc)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	return &u, finish()
}
