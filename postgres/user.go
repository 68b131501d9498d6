package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/propusk/propusk"
	"github.com/propusk/propusk/logins"
)

const userColumns = `u.id, u.login, u.password_hash, u.level, u.boards, u.api_token, u.created_at, u.updated_at, u.disabled_at`

// CreateUser inserts u and sets its ID, CreatedAt and UpdatedAt. A zero
// Level becomes propusk.LevelUser and nil Boards become ["*"], the column
// defaults, because Go cannot tell them from values left unset.
// ECONFLICT when the login, or one that looks alike, is taken; EINVALID
// when the login has no canonical form (logins.Canonical).
func (s *Store) CreateUser(ctx context.Context, u *propusk.User) error {
	u.Prepare(s.now())
	if s.lv != nil {
		return s.write(ctx, "create user", func(ctx context.Context, tx pgx.Tx) error { return s.laravelInsertUser(ctx, tx, u) })
	}
	return s.audited(ctx, "create user", func(ctx context.Context, q pgxQ) error { return insertUser(ctx, q, u) })
}

// insertUser inserts the prepared u inside tx, into propusk's own users
// table (the function insertUser) or, in Laravel mode, the app's.
func (s *Store) insertUser(ctx context.Context, tx pgx.Tx, u *propusk.User) error {
	if s.lv != nil {
		return s.laravelInsertUser(ctx, tx, u)
	}
	return insertUser(ctx, tx, u)
}

// insertUser inserts the prepared u through q, with its canonical login
// key, and sets u.ID (to u.ID itself when it is not 0). EINVALID when the login has no canonical form.
func insertUser(ctx context.Context, q querier, u *propusk.User) error {
	key, err := logins.Canonical(u.Login)
	if err != nil {
		return err
	}
	args := []any{u.Login, key, u.PasswordHash, u.Level, u.Boards, nullString(u.APIToken), u.CreatedAt, u.UpdatedAt}
	cols, vals := "", "" // the identity column hands out the id, unless an import gives it
	if u.ID != 0 {
		cols, vals, args = "id, ", "$9, ", append(args, u.ID)
	}
	return q.QueryRow(ctx, `INSERT INTO users (`+cols+`login, login_key, password_hash, level, boards, api_token, created_at, updated_at)
		VALUES (`+vals+`$1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, args...).Scan(&u.ID)
}

// UserByID returns the user or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id int64) (*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id), s.loc)
	if err != nil {
		return nil, wrap("user by id", err)
	}
	return u, nil
}

// UserByLogin returns the user whose login has login's canonical form, or
// a row without a key whose login is exactly login; ENOTFOUND otherwise.
func (s *Store) UserByLogin(ctx context.Context, login string) (*propusk.User, error) {
	if s.lv != nil {
		ctx, cancel := s.bound(ctx)
		defer cancel()
		u, err := s.laravelUserByLogin(ctx, s.pool, login)
		return u, wrap("user by login", err)
	}
	key, err := logins.Canonical(login)
	if err != nil {
		return nil, wrap("user by login", pgx.ErrNoRows) // no user can have it
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u
		WHERE u.login_key = $1 OR (u.login_key IS NULL AND u.login = $2) ORDER BY u.login_key IS NULL LIMIT 1`, key, login), s.loc)
	if err != nil {
		return nil, wrap("user by login", err)
	}
	return u, nil
}

// userDest returns the scan destinations of userColumns into u, and a
// function to call after the scan. created_at and updated_at are
// timestamptz in propusk's own users table, and in the app's Laravel's
// wall clock in loc, or NULL (the zero time).
func userDest(u *propusk.User, loc *time.Location) ([]any, func()) {
	var (
		apiToken         *string
		created, updated = &wallTime{loc: loc}, &wallTime{loc: loc}
		disabled         *time.Time
	)
	dest := []any{&u.ID, &u.Login, &u.PasswordHash, &u.Level, &u.Boards, &apiToken, created, updated, &disabled}
	return dest, func() {
		if apiToken != nil {
			u.APIToken = *apiToken
		}
		u.CreatedAt = created.t
		u.UpdatedAt = updated.t
		u.DisabledAt = utc(disabled)
	}
}

func scanUser(row pgx.Row, loc *time.Location) (*propusk.User, error) {
	var u propusk.User
	dest, finish := userDest(&u, loc)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &u, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
