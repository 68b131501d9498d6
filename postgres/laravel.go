package postgres

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/migfiles"
	"github.com/propusk/propusk/internal/rename"
	"github.com/propusk/propusk/logins"
)

// Laravel mode
//
// The store runs the same SQL in both modes. In Laravel mode the pool
// rewrites it (package rename, pool in renamed.go) before pgx sees it:
// propusk's own tables get the prefix propusk_, and a read of users becomes
// a read of usersView, the app's users joined to propusk_users. Writes of a
// user are the one thing whose shape differs; they are in userrow.go,
// which calls the functions below. A statement that names the app's table
// as it is quotes it ("users"), which the rewrite leaves alone.

//go:embed migrations_laravel/*.sql
var laravelMigrations embed.FS

// The startup parameter that marks propusk's own connections, for the
// triggers (see triggers.sql).
const (
	originSetting = "propusk.origin"
	originPropusk = "propusk"
)

// laravel is what a Store in Laravel mode knows of the app's database.
type laravel struct {
	propusk.Laravel
	expires bool // personal_access_tokens has expires_at (Sanctum 3 and later)
	name    bool // users has name, which the app requires
	stamps  bool // users has created_at and updated_at
}

// laravelTables are propusk's own tables, renamed in Laravel mode.
var laravelTables = []string{"sessions", "session_forks", "events", "event_seq", "meta", "signing_keys", "budgets", "audit_log"}

// OpenLaravel opens the database of a Laravel application in Laravel mode
// (see propusk.Laravel): users are the app's users, tokens its
// personal_access_tokens (in the schema the DSN's search_path finds first),
// and propusk's own tables are prefixed propusk.LaravelPrefix. Both of the
// app's tables must exist. Call Migrate before using the Store.
//
// propusk's connections carry the startup parameter propusk.origin, by
// which the triggers tell its writes from the app's: a pooler between
// propusk and PostgreSQL must be in session mode, or pass it.
func OpenLaravel(ctx context.Context, dsn string, l propusk.Laravel) (*Store, error) {
	l = l.WithDefaults()
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	lv, err := inspect(ctx, dsn, l)
	if err != nil {
		return nil, err
	}
	return open(ctx, dsn, lv)
}

// inspect reads which of the columns propusk uses the app's tables have,
// on a connection of its own.
func inspect(ctx context.Context, dsn string, l propusk.Laravel) (*laravel, error) {
	s, err := open(ctx, dsn, nil)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ctx, cancel := s.bound(ctx)
	defer cancel()
	lv := &laravel{Laravel: l}
	users, err := columns(ctx, s.pool.Pool, "users")
	if err != nil {
		return nil, err
	}
	pats, err := columns(ctx, s.pool.Pool, "personal_access_tokens")
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"id", l.LoginColumn, "password"} {
		if !users[c] {
			return nil, fmt.Errorf("postgres: open: the Laravel app's users table has no column %s", c)
		}
	}
	if l.LoginColumn == "password" || l.LoginColumn == "id" {
		return nil, fmt.Errorf("postgres: open: the Laravel login column cannot be %s", l.LoginColumn)
	}
	lv.name = users["name"] && l.LoginColumn != "name"
	lv.stamps = users["created_at"] && users["updated_at"]
	lv.expires = pats["expires_at"]
	return lv, nil
}

// columns returns the names of table's columns, the table found through
// the search_path, or an error saying it is missing.
func columns(ctx context.Context, q querier, table string) (map[string]bool, error) {
	var cols []string
	err := q.QueryRow(ctx, `SELECT coalesce(array_agg(attname::text), '{}') FROM pg_attribute
		WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, table).Scan(&cols)
	if err != nil {
		return nil, wrap("open", err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("postgres: open: %w", propusk.LaravelMissingTable(table))
	}
	out := map[string]bool{}
	for _, c := range cols {
		out[c] = true
	}
	return out, nil
}

// renamer is the rewrite of the store's SQL in Laravel mode.
func (lv *laravel) renamer() *rename.Renamer {
	names := map[string]string{}
	for _, t := range laravelTables {
		names[t] = propusk.LaravelPrefix + t
	}
	return rename.New(names, map[string]string{"users": lv.usersView(true)})
}

// usersView is the subquery that users reads become: the columns of
// propusk's users table (userColumns), from the app's users and
// propusk_users, with propusk's defaults for a user without a row there.
// Its times are the app's wall clock, which userDest reads in the store's
// zone. canon is there for laravelLogins.
func (lv *laravel) usersView(side bool) string {
	stamps := `NULL::timestamp AS created_at, NULL::timestamp AS updated_at`
	if lv.stamps {
		stamps = `u.created_at, u.updated_at`
	}
	if !side {
		return `SELECT u.id, u."` + lv.LoginColumn + `"::text AS login, u.password::text AS password_hash,
		10 AS level, '{*}'::text[] AS boards, NULL::text AS api_token, ` + stamps + `,
		NULL::timestamptz AS disabled_at, NULL::text AS canon
		FROM "users" u`
	}
	return `SELECT u.id, u."` + lv.LoginColumn + `"::text AS login, u.password::text AS password_hash,
		coalesce(p.level, 10) AS level, coalesce(p.boards, '{*}') AS boards, p.api_token, ` + stamps + `,
		p.disabled_at, p.canon
		FROM "users" u LEFT JOIN propusk_users p ON p.user_id = u.id`
}

// laravelLogins returns the users a typed login may name, through the
// indexes of propusk_users, never a scan of the app's table: rows whose
// login is login in lower case, or whose lower case or propusk-written
// canonical key is login's canonical key (so "ＡＤＭＩＮ" finds "Admin").
// The candidates most likely to win come first.
func (s *Store) laravelLogins(ctx context.Context, q rowsQuerier, login string) ([]propusk.LoginMatch, error) {
	var key *string
	if k, err := logins.Canonical(login); err == nil {
		key = &k
	}
	rows, err := q.Query(ctx, `SELECT `+userColumns+`, u.canon FROM users u WHERE u.id IN (
			SELECT user_id FROM propusk_users WHERE lkey = lower($1)
			UNION SELECT user_id FROM propusk_users WHERE lkey = $2
			UNION SELECT user_id FROM propusk_users WHERE canon = $2)
		ORDER BY u.login = $1 DESC, u.canon IS NOT DISTINCT FROM $2 DESC, u.id LIMIT 16`, login, key)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (propusk.LoginMatch, error) {
		var (
			u     propusk.User
			canon *string
		)
		dest, finish := userDest(&u, s.loc)
		if err := row.Scan(append(dest, &canon)...); err != nil {
			return propusk.LoginMatch{}, err
		}
		finish()
		return propusk.LoginMatch{User: &u, Keyed: key != nil && canon != nil && *canon == *key}, nil
	})
}

// rowsQuerier is a pool or a transaction, for queries of many rows.
type rowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// laravelUserByLogin is UserByLogin in Laravel mode: see propusk.PickLogin.
func (s *Store) laravelUserByLogin(ctx context.Context, q rowsQuerier, login string) (*propusk.User, error) {
	ms, err := s.laravelLogins(ctx, q, login)
	if err != nil {
		return nil, err
	}
	if u := propusk.PickLogin(login, ms); u != nil {
		return u, nil
	}
	return nil, pgx.ErrNoRows
}

// laravelInsertUser inserts the prepared u as the app would: a row of
// users with the login, the hash, name (u.Name, or the login) and the
// times as the app's wall clock, to the second; and propusk_users' row of
// what the app's table has no column for. ECONFLICT when a user has the
// login in any letter case or canonical form (of two propusk processes
// racing, canon's unique index stops one); EINVALID when it has no
// canonical form.
func (s *Store) laravelInsertUser(ctx context.Context, tx pgx.Tx, u *propusk.User) error {
	key, err := logins.Canonical(u.Login)
	if err != nil {
		return err
	}
	if ms, err := s.laravelLogins(ctx, tx, u.Login); err != nil {
		return err
	} else if len(ms) > 0 {
		return propusk.ErrLaravelLoginTaken
	}
	u.PrepareLaravel()
	cols := []string{`"` + s.lv.LoginColumn + `"`, `password`}
	args := []any{u.Login, u.PasswordHash}
	if s.lv.name {
		cols, args = append(cols, `name`), append(args, u.Name)
	}
	if s.lv.stamps {
		cols, args = append(cols, `created_at`, `updated_at`), append(args, laravelTime(u.CreatedAt, s.loc), laravelTime(u.UpdatedAt, s.loc))
	}
	marks := make([]string, len(cols))
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	err = tx.QueryRow(ctx, `INSERT INTO "users" (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`) RETURNING id`,
		args...).Scan(&u.ID)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO propusk_users (user_id, lkey, canon, level, boards, api_token)
		VALUES ($1, lower($2), $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey, canon = excluded.canon, level = excluded.level,
			boards = excluded.boards, api_token = excluded.api_token`,
		u.ID, u.Login, key, u.Level, u.Boards, nullString(u.APIToken))
	return err
}

// laravelSetHash is setHash on the app's users table.
func (s *Store) laravelSetHash(ctx context.Context, q execer, id int64, hash string, at time.Time, old *string) (int64, error) {
	sql, args := `UPDATE "users" SET password = $1`, []any{hash, id}
	if s.lv.stamps {
		sql, args = sql+`, updated_at = $3`, append(args, laravelTime(at, s.loc))
	}
	sql += ` WHERE id = $2`
	if old != nil {
		sql, args = sql+fmt.Sprintf(` AND password = $%d`, len(args)+1), append(args, *old)
	}
	tag, err := q.Exec(ctx, sql, args...)
	return tag.RowsAffected(), err
}

// laravelSetAPIToken is setAPIToken in propusk_users: 0 rows when the app
// has no such user.
func (s *Store) laravelSetAPIToken(ctx context.Context, tx pgx.Tx, id int64, sealed string) (int64, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO propusk_users (user_id, lkey, api_token)
		SELECT id, lower("`+s.lv.LoginColumn+`"), $1 FROM "users" WHERE id = $2
		ON CONFLICT (user_id) DO UPDATE SET api_token = excluded.api_token`, nullString(sealed), id)
	return tag.RowsAffected(), err
}

// laravelSetAdminFields is setAdminFields in propusk_users.
func (s *Store) laravelSetAdminFields(ctx context.Context, tx pgx.Tx, u *propusk.User) error {
	_, err := tx.Exec(ctx, `INSERT INTO propusk_users (user_id, lkey, level, boards, disabled_at)
		SELECT id, lower("`+s.lv.LoginColumn+`"), $1, $2, $3 FROM "users" WHERE id = $4
		ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, boards = excluded.boards, disabled_at = excluded.disabled_at`,
		u.Level, u.Boards, nullMillis(u.DisabledAt), u.ID)
	return err
}

// migrateLaravel is Migrate in Laravel mode: it refuses a database without
// the app's tables, applies migrations_laravel in name order, each once and
// recorded in propusk_migrations, and installs the triggers of
// triggers.sql when their text changed (a new login column, a new
// version). It never alters a table of the app. Its statements name every
// table as it is, so they run on the pool's own connections, not
// rewritten; each transaction holds Migrate's advisory lock.
func (s *Store) migrateLaravel(ctx context.Context) error {
	files, err := migfiles.Read(laravelMigrations, "migrations_laravel/0*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, f := range files {
		if err := s.applyLaravel(ctx, f.Name, f.Body, nil); err != nil {
			return err
		}
	}
	triggers, err := s.lv.triggers()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return s.applyLaravel(ctx, migfiles.TriggersName(triggers), triggers, s.backfillKeys)
}

// applyLaravel runs body, then after, in one transaction, unless
// propusk_migrations records name, and records it.
func (s *Store) applyLaravel(ctx context.Context, name, body string, after func(ctx context.Context, tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		for _, t := range []string{"users", "personal_access_tokens"} {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return propusk.LaravelMissingTable(t)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS propusk_migrations (
			name text PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM propusk_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments Exec uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, body); err != nil {
			return err
		}
		if after != nil {
			if err := after(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO propusk_migrations (name) VALUES ($1)`, name)
		return err
	})
	if err != nil {
		var perr *propusk.Error
		if errors.As(err, &perr) {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		return wrap("migrate "+name, err)
	}
	return nil
}

// triggers renders triggers.sql for lv.
func (lv *laravel) triggers() (string, error) {
	body, err := fs.ReadFile(laravelMigrations, "migrations_laravel/triggers.sql")
	if err != nil {
		return "", err
	}
	t, err := template.New("triggers").Parse(string(body))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	err = t.Execute(&b, map[string]string{"Login": lv.LoginColumn, "Channel": channelExpr})
	return b.String(), err
}

// backfillKeys keys every user of the app's table in propusk_users, for
// the rows written before the triggers that keep the keys were installed,
// or under another login column. A key that changes loses the canonical
// key propusk wrote for the old login. It forgets the triggers installed
// before, so that going back to them installs them again.
func (s *Store) backfillKeys(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `DELETE FROM propusk_migrations WHERE name LIKE 'triggers %'`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO propusk_users (user_id, lkey)
		SELECT id, lower("`+s.lv.LoginColumn+`") FROM "users"
		ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey,
			canon = CASE WHEN propusk_users.lkey IS NOT DISTINCT FROM excluded.lkey THEN propusk_users.canon END`)
	return err
}

// AppUsers returns up to limit of the app's users with ids above after, in
// id order, as the app's users table has them, with propusk's defaults for
// what only propusk keeps (level, boards): the read of "propusk import
// laravel", which must work on a Laravel database propusk never served,
// without creating anything in it. Outside Laravel mode it is EINVALID.
func (s *Store) AppUsers(ctx context.Context, after int64, limit int) ([]*propusk.User, error) {
	if s.lv == nil {
		return nil, propusk.Errorf(propusk.EINVALID, "app users: the store is not in Laravel mode")
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.queryUsers(ctx, "app users", `SELECT `+userColumns+` FROM (`+s.lv.usersView(false)+`) u
		WHERE u.id > $1 ORDER BY u.id LIMIT $2`, after, limit)
}
