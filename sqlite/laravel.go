package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/template"
	"time"

	"modernc.org/sqlite"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/migfiles"
	"github.com/propusk/propusk/internal/rename"
	"github.com/propusk/propusk/logins"
)

// Laravel mode
//
// The store runs the same SQL in both modes. In Laravel mode every
// connection rewrites it (package rename) before SQLite sees it: propusk's
// own tables get the prefix propusk_, and a read of users becomes a read of
// usersView, the app's users joined to propusk_users. Writes of a user are
// the one thing whose shape differs; they are in userrow.go, which calls
// the functions below. A statement that names the app's table as it is
// quotes it ("users"), which the rewrite leaves alone.

//go:embed migrations_laravel/*.sql
var laravelMigrations embed.FS

// laravel is what a Store in Laravel mode knows of the app's database.
type laravel struct {
	propusk.Laravel
	expires bool // personal_access_tokens has expires_at (Sanctum 3 and later)
	name    bool // users has name, which the app requires
	stamps  bool // users has created_at and updated_at
}

// laravelTables are propusk's own tables, renamed in Laravel mode.
var laravelTables = []string{"sessions", "session_forks", "events", "meta", "signing_keys", "budgets", "audit_log"}

// OpenLaravel opens the database of a Laravel application in Laravel mode
// (see propusk.Laravel): users are the app's users, tokens its
// personal_access_tokens, and propusk's own tables are prefixed
// propusk.LaravelPrefix. The file must exist and hold both of the app's
// tables. Like Open, it switches the file to WAL, which Laravel works with
// too; both the app and propusk must be able to write the file's directory.
// Call Migrate before using the Store.
func OpenLaravel(ctx context.Context, path string, l propusk.Laravel) (*Store, error) {
	l = l.WithDefaults()
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open: invalid path %q", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: the Laravel app's database: %w", path, err)
	}
	lv, err := inspect(ctx, path, l)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	names := map[string]string{}
	for _, t := range laravelTables {
		names[t] = propusk.LaravelPrefix + t
	}
	r := rename.New(names, map[string]string{"users": lv.usersView(true)})
	s, err := open(ctx, path, func(dsn string) (*sql.DB, error) {
		c, err := sqlite.NewConnector(dsn)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(rename.Connector(c, r)), nil
	})
	if err != nil {
		return nil, err
	}
	s.loc, s.lv = l.Location, lv
	return s, nil
}

// inspect reads which of the columns propusk uses the app's tables have,
// on a connection of its own.
func inspect(ctx context.Context, path string, l propusk.Laravel) (*laravel, error) {
	db, err := sql.Open("sqlite", path+"?"+readParams)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	lv := &laravel{Laravel: l}
	users, err := columns(ctx, db, "users")
	if err != nil {
		return nil, err
	}
	pats, err := columns(ctx, db, "personal_access_tokens")
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"id", l.LoginColumn, "password"} {
		if !users[c] {
			return nil, fmt.Errorf("the Laravel app's users table has no column %s", c)
		}
	}
	if l.LoginColumn == "password" || l.LoginColumn == "id" {
		return nil, fmt.Errorf("the Laravel login column cannot be %s", l.LoginColumn)
	}
	lv.name = users["name"] && l.LoginColumn != "name"
	lv.stamps = users["created_at"] && users["updated_at"]
	lv.expires = pats["expires_at"]
	return lv, nil
}

// columns returns the names of table's columns, or an error saying the
// table is missing.
func columns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols[c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, propusk.LaravelMissingTable(table)
	}
	return cols, nil
}

// usersView is the subquery that users reads become: the columns of
// propusk's users table (userColumns), from the app's users and
// propusk_users, with propusk's defaults for a user without a row there.
// Its times are the app's wall-clock TEXT, which scanUser reads in the
// store's zone. canon is there for laravelLogins.
func (lv *laravel) usersView(side bool) string {
	stamps := `NULL AS created_at, NULL AS updated_at`
	if lv.stamps {
		stamps = `u.created_at AS created_at, u.updated_at AS updated_at`
	}
	if !side {
		return `SELECT u.id AS id, u."` + lv.LoginColumn + `" AS login, u.password AS password_hash,
		10 AS level, '["*"]' AS boards, NULL AS api_token, ` + stamps + `,
		NULL AS disabled_at, NULL AS canon
		FROM "users" u`
	}
	return `SELECT u.id AS id, u."` + lv.LoginColumn + `" AS login, u.password AS password_hash,
		coalesce(p.level, 10) AS level, coalesce(p.boards, '["*"]') AS boards, p.api_token AS api_token, ` + stamps + `,
		p.disabled_at AS disabled_at, p.canon AS canon
		FROM "users" u LEFT JOIN propusk_users p ON p.user_id = u.id`
}

// origin marks (on) or unmarks the write transaction tx as propusk's, in
// Laravel mode: see propusk_origin in migrations_laravel.
func (s *Store) origin(ctx context.Context, tx *sql.Tx, on bool) error {
	if s.lv == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE propusk_origin SET active = ?`, on)
	return err
}

// queryer is a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// laravelLogins returns the users a typed login may name, through the
// indexes of propusk_users, never a scan of the app's table: rows whose
// login is login in lower case, or whose lower case or propusk-written
// canonical key is login's canonical key (so "ＡＤＭＩＮ" finds "Admin").
// The candidates most likely to win come first.
func (s *Store) laravelLogins(ctx context.Context, q queryer, login string) ([]propusk.LoginMatch, error) {
	var key sql.NullString
	if k, err := logins.Canonical(login); err == nil {
		key = sql.NullString{String: k, Valid: true}
	}
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+`, canon FROM users WHERE id IN (
			SELECT user_id FROM propusk_users WHERE lkey = lower(?1)
			UNION SELECT user_id FROM propusk_users WHERE lkey = ?2
			UNION SELECT user_id FROM propusk_users WHERE canon = ?2)
		ORDER BY login = ?1 DESC, canon IS ?2 DESC, id LIMIT 16`, login, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []propusk.LoginMatch
	for rows.Next() {
		var canon sql.NullString
		u, err := scanUser(withExtra{rows, []any{&canon}}, s.loc)
		if err != nil {
			return nil, err
		}
		ms = append(ms, propusk.LoginMatch{User: u, Keyed: key.Valid && canon.Valid && canon.String == key.String})
	}
	return ms, rows.Err()
}

// withExtra scans a row's columns beyond those of its scanner's caller
// into more.
type withExtra struct {
	scanner
	more []any
}

func (w withExtra) Scan(dest ...any) error { return w.scanner.Scan(append(dest, w.more...)...) }

// laravelUserByLogin is UserByLogin in Laravel mode: see propusk.PickLogin.
func (s *Store) laravelUserByLogin(ctx context.Context, q queryer, login string) (*propusk.User, error) {
	ms, err := s.laravelLogins(ctx, q, login)
	if err != nil {
		return nil, err
	}
	if u := propusk.PickLogin(login, ms); u != nil {
		return u, nil
	}
	return nil, sql.ErrNoRows
}

// laravelInsertUser inserts the prepared u as the app would: a row of
// users with the login, the hash, name (u.Name, or the login) and the
// times as the app's wall clock, to the second; and propusk_users' row of
// what the app's table has no column for. ECONFLICT when a user has the
// login in any letter case or canonical form; EINVALID when it has no
// canonical form.
func (s *Store) laravelInsertUser(ctx context.Context, tx *sql.Tx, u *propusk.User) error {
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
	err = tx.QueryRowContext(ctx, `INSERT INTO "users" (`+strings.Join(cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`) RETURNING id`,
		args...).Scan(&u.ID)
	if err != nil {
		return err
	}
	boards, err := json.Marshal(u.Boards)
	if err != nil {
		return fmt.Errorf("boards: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO propusk_users (user_id, lkey, canon, level, boards, api_token)
		VALUES (?, lower(?), ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey, canon = excluded.canon, level = excluded.level,
			boards = excluded.boards, api_token = excluded.api_token`,
		u.ID, u.Login, key, u.Level, string(boards), nullString(u.APIToken))
	return err
}

// laravelSetHash is setHash on the app's users table.
func (s *Store) laravelSetHash(ctx context.Context, tx *sql.Tx, id int64, hash string, at time.Time, old *string) (int64, error) {
	q, args := `UPDATE "users" SET password = ?`, []any{hash}
	if s.lv.stamps {
		q, args = q+`, updated_at = ?`, append(args, laravelTime(propusk.TruncSeconds(at), s.loc))
	}
	q, args = q+` WHERE id = ?`, append(args, id)
	if old != nil {
		q, args = q+` AND password = ?`, append(args, *old)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// laravelSetAPIToken is setAPIToken in propusk_users: 0 rows when the app
// has no such user.
func (s *Store) laravelSetAPIToken(ctx context.Context, tx *sql.Tx, id int64, sealed string) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO propusk_users (user_id, lkey, api_token)
		SELECT id, lower("`+s.lv.LoginColumn+`"), ? FROM "users" WHERE id = ?
		ON CONFLICT (user_id) DO UPDATE SET api_token = excluded.api_token`, nullString(sealed), id)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// laravelSetAdminFields is setAdminFields in propusk_users.
func (s *Store) laravelSetAdminFields(ctx context.Context, tx *sql.Tx, u *propusk.User, boards string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO propusk_users (user_id, lkey, level, boards, disabled_at)
		SELECT id, lower("`+s.lv.LoginColumn+`"), ?, ?, ? FROM "users" WHERE id = ?
		ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, boards = excluded.boards, disabled_at = excluded.disabled_at`,
		u.Level, boards, nullMillis(u.DisabledAt), u.ID)
	return err
}

// migrateLaravel is Migrate in Laravel mode: it refuses a database without
// the app's tables, applies migrations_laravel in name order, each once and
// recorded in propusk_migrations, and installs the triggers of
// triggers.sql when their text changed (a new login column, a new
// version). It never alters a table of the app.
func (s *Store) migrateLaravel(ctx context.Context) error {
	for _, t := range []string{"users", "personal_access_tokens"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, t).Scan(&n); err != nil {
			return wrap("migrate", err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: migrate: %w", propusk.LaravelMissingTable(t))
		}
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS propusk_migrations (
		name TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return wrap("migrate", err)
	}
	files, err := migfiles.Read(laravelMigrations, "migrations_laravel/0*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, f := range files {
		if err := s.applyLaravel(ctx, f.Name, f.Body, nil); err != nil {
			return err
		}
	}
	triggers, err := s.lv.triggers()
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return s.applyLaravel(ctx, migfiles.TriggersName(triggers), triggers, s.backfillKeys)
}

// applyLaravel runs body, then after, in one write transaction, unless
// propusk_migrations records name, and records it. The transaction is not
// marked as propusk's (Store.write): before the first migration there is
// no propusk_origin, and none of this fires a trigger that reads it.
func (s *Store) applyLaravel(ctx context.Context, name, body string, after func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap("migrate "+name, err)
	}
	defer tx.Rollback()
	err = func() error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM propusk_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			return err
		}
		if after != nil {
			if err := after(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO propusk_migrations (name, applied_at) VALUES (?, ?)`, name, s.now().UnixMilli())
		return err
	}()
	if err == nil {
		err = tx.Commit()
	}
	return wrap("migrate "+name, err)
}

// nowMillisSQL is the time in unix milliseconds, in SQL a trigger can use.
const nowMillisSQL = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`

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
	err = t.Execute(&b, map[string]string{"Login": lv.LoginColumn, "Now": nowMillisSQL})
	return b.String(), err
}

// backfillKeys keys every user of the app's table in propusk_users, for
// the rows written before the triggers that keep the keys were installed,
// or under another login column. A key that changes loses the canonical
// key propusk wrote for the old login. It forgets the triggers installed
// before, so that going back to them installs them again.
func (s *Store) backfillKeys(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM propusk_migrations WHERE name LIKE 'triggers %'`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO propusk_users (user_id, lkey)
		SELECT id, lower("`+s.lv.LoginColumn+`") FROM "users" WHERE true
		ON CONFLICT (user_id) DO UPDATE SET lkey = excluded.lkey,
			canon = CASE WHEN propusk_users.lkey IS excluded.lkey THEN propusk_users.canon END`)
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
	return s.queryUsers(ctx, "app users", `SELECT `+userColumns+` FROM (`+s.lv.usersView(false)+`) u
		WHERE u.id > ? ORDER BY u.id LIMIT ?`, after, limit)
}
