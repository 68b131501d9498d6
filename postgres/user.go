package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/propusk/propusk"
)

const userColumns = `u.id, u.login, u.password_hash, u.level, u.boards, u.api_token, u.created_at, u.updated_at`

// CreateUser inserts u and sets its ID, CreatedAt and UpdatedAt. A zero
// Level becomes propusk.LevelUser and nil Boards become ["*"], the column
// defaults, because Go cannot tell them from values left unset.
// ECONFLICT when the login is taken.
func (s *Store) CreateUser(ctx context.Context, u *propusk.User) error {
	u.Prepare(s.now())
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return wrap("create user", insertUser(ctx, s.pool, u))
}

// insertUser inserts the prepared u through q and sets u.ID.
func insertUser(ctx context.Context, q querier, u *propusk.User) error {
	return q.QueryRow(ctx, `INSERT INTO users (login, password_hash, level, boards, api_token, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		u.Login, u.PasswordHash, u.Level, u.Boards, nullString(u.APIToken), u.CreatedAt, u.UpdatedAt,
	).Scan(&u.ID)
}

// UserByID returns the user or ENOTFOUND.
func (s *Store) UserByID(ctx context.Context, id int64) (*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	if err != nil {
		return nil, wrap("user by id", err)
	}
	return u, nil
}

// UserByLogin returns the user with exactly this login, or ENOTFOUND.
func (s *Store) UserByLogin(ctx context.Context, login string) (*propusk.User, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.login = $1`, login))
	if err != nil {
		return nil, wrap("user by login", err)
	}
	return u, nil
}

// userDest returns the scan destinations of userColumns into u, and a
// function to call after the scan.
func userDest(u *propusk.User) ([]any, func()) {
	var (
		apiToken         *string
		created, updated time.Time
	)
	dest := []any{&u.ID, &u.Login, &u.PasswordHash, &u.Level, &u.Boards, &apiToken, &created, &updated}
	return dest, func() {
		if apiToken != nil {
			u.APIToken = *apiToken
		}
		u.CreatedAt = created.UTC()
		u.UpdatedAt = updated.UTC()
	}
}

func scanUser(row pgx.Row) (*propusk.User, error) {
	var u propusk.User
	dest, finish := userDest(&u)
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
