package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/migfiles"
	"github.com/propusk/propusk/internal/rename"
	"github.com/propusk/propusk/logins"
)

// Laravel mode
//
// The store runs the same SQL in both modes. In Laravel mode every
// connection rewrites it (package rename) before the driver sees it:
// propusk's own tables get the prefix propusk_, and a read of users becomes
// a read of usersView, the app's users joined to propusk_users. Writes of a
// user are the one thing whose shape differs; they are in userrow.go,
// which calls the functions below. A statement that names the app's table
// as it is quotes it (`users`), which the rewrite leaves alone.
//
// MySQL's and MariaDB's collations compare case-insensitively, and a
// Laravel app's users.email has a unique index under one (Laravel's
// default utf8mb4_unicode_ci, which also ignores accents): two logins it
// holds equal cannot both be there, whatever propusk's own rule. propusk
// finds logins through propusk_users' binary keys, as on the other stores.

//go:embed migrations_laravel/*.sql
var laravelMigrations embed.FS

// originVariable is the session variable that marks propusk's own
// connections, for the triggers (see triggers.sql).
const originVariable = "@propusk_origin"

// MySQL error numbers of creating a trigger without the right to.
const (
	errTriggerDenied   = 1142 // ER_TABLEACCESS_DENIED_ERROR: no TRIGGER privilege
	errBinlogNeedSuper = 1419 // ER_BINLOG_CREATE_ROUTINE_NEED_SUPER
)

// laravel is what a Store in Laravel mode knows of the app's database.
type laravel struct {
	propusk.Laravel
	expires bool // personal_access_tokens has expires_at (Sanctum 3 and later)
	name    bool // users has name, which the app requires
	stamps  bool // users has created_at and updated_at
}

// laravelTables are propusk's own tables, renamed in Laravel mode.
var laravelTables = []string{"sessions", "session_forks", "events", "event_seq", "meta", "signing_keys", "budgets", "audit_log", "store_locks"}

// OpenLaravel opens the database of a Laravel application in Laravel mode
// (see propusk.Laravel): users are the app's users, tokens its
// personal_access_tokens, and propusk's own tables are prefixed
// propusk.LaravelPrefix. Both of the app's tables must exist. Call Migrate
// before using the Store.
//
// The app writes its TIMESTAMP columns as its wall clock, and a session
// zone of UTC reads them back unchanged: the server's time zone must be
// the one the app's connection had when it wrote them (a stock app's
// connection keeps the server's SYSTEM zone; UTC servers are the norm).
func OpenLaravel(ctx context.Context, dsn string, l propusk.Laravel) (*Store, error) {
	l = l.WithDefaults()
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("mysql: open: %w", err)
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
	users, err := columns(ctx, s.db, "users")
	if err != nil {
		return nil, err
	}
	pats, err := columns(ctx, s.db, "personal_access_tokens")
	if err != nil {
		return nil, err
	}
	for _, c := range []string{"id", l.LoginColumn, "password"} {
		if !users[strings.ToLower(c)] {
			return nil, fmt.Errorf("mysql: open: the Laravel app's users table has no column %s", c)
		}
	}
	if l.LoginColumn == "password" || l.LoginColumn == "id" {
		return nil, fmt.Errorf("mysql: open: the Laravel login column cannot be %s", l.LoginColumn)
	}
	lv.name = users["name"] && l.LoginColumn != "name"
	lv.stamps = users["created_at"] && users["updated_at"]
	lv.expires = pats["expires_at"]
	return lv, nil
}

// columns returns the names of table's columns in the DSN's database, in
// lower case, or an error saying it is missing.
func columns(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT LOWER(column_name) FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name = ?`, table)
	if err != nil {
		return nil, wrap("open", err)
	}
	defer rows.Close()
	cols := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, wrap("open", err)
		}
		cols[c] = true
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("open", err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("mysql: open: %w", propusk.LaravelMissingTable(table))
	}
	return cols, nil
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
	stamps := `NULL AS created_at, NULL AS updated_at`
	if lv.stamps {
		stamps = `u.created_at, u.updated_at`
	}
	if !side {
		return "SELECT u.id, u.`" + lv.LoginColumn + "` AS login, u.password AS password_hash, " +
			`10 AS level, '["*"]' AS boards, NULL AS api_token, ` + stamps + `,
		NULL AS disabled_at, NULL AS canon
		FROM ` + "`users`" + ` u`
	}
	return "SELECT u.id, u.`" + lv.LoginColumn + "` AS login, u.password AS password_hash, " +
		`COALESCE(p.level, 10) AS level, COALESCE(p.boards, '["*"]') AS boards, p.api_token, ` + stamps + `,
		p.disabled_at, p.canon
		FROM ` + "`users`" + ` u LEFT JOIN propusk_users p ON p.user_id = u.id`
}

// laravelLogins returns the users a typed login may name, through the
// indexes of propusk_users, never a scan of the app's table: rows whose
// login is login in lower case, or whose lower case or propusk-written
// canonical key is login's canonical key (so "ＡＤＭＩＮ" finds "Admin").
// A join, not IN: MySQL runs an IN of a UNION once per row of users.
func (s *Store) laravelLogins(ctx context.Context, q querier, login string) ([]propusk.LoginMatch, error) {
	var key sql.NullString
	if k, err := logins.Canonical(login); err == nil {
		key = sql.NullString{String: k, Valid: true}
	}
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+`, u.canon FROM (
			SELECT user_id FROM propusk_users WHERE lkey = LOWER(?)
			UNION SELECT user_id FROM propusk_users WHERE lkey = ?
			UNION SELECT user_id FROM propusk_users WHERE canon = ?) k
		JOIN users u ON u.id = k.user_id
		ORDER BY BINARY u.login = ? DESC, u.canon <=> ? DESC, u.id LIMIT 16`, login, key, key, login, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ms []propusk.LoginMatch
	for rows.Next() {
		var (
			u     propusk.User
			canon sql.NullString
		)
		dest, finish := userDest(&u, s.loc)
		if err := rows.Scan(append(dest, &canon)...); err != nil {
			return nil, err
		}
		if err := finish(); err != nil {
			return nil, err
		}
		ms = append(ms, propusk.LoginMatch{User: &u, Keyed: key.Valid && canon.Valid && canon.String == key.String})
	}
	return ms, rows.Err()
}

// laravelUserByLogin is UserByLogin in Laravel mode: see propusk.PickLogin.
func (s *Store) laravelUserByLogin(ctx context.Context, q querier, login string) (*propusk.User, error) {
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
// login in any letter case or canonical form, or one the app's collation
// holds equal (its unique index); EINVALID when it has no canonical form.
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
	cols := []string{"`" + s.lv.LoginColumn + "`", `password`}
	args := []any{u.Login, u.PasswordHash}
	if s.lv.name {
		cols, args = append(cols, `name`), append(args, u.Name)
	}
	if s.lv.stamps {
		cols, args = append(cols, `created_at`, `updated_at`), append(args, laravelTime(u.CreatedAt, s.loc), laravelTime(u.UpdatedAt, s.loc))
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO `users` ("+strings.Join(cols, ", ")+") VALUES ("+placeholders(len(cols))+")", args...)
	if err != nil {
		return err
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	boards, err := json.Marshal(u.Boards)
	if err != nil {
		return fmt.Errorf("boards: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO propusk_users (user_id, lkey, canon, level, boards, api_token)
		VALUES (?, LOWER(?), ?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE lkey = VALUES(lkey), canon = VALUES(canon), level = VALUES(level),
			boards = VALUES(boards), api_token = VALUES(api_token)`,
		u.ID, u.Login, key, u.Level, string(boards), nullString(u.APIToken))
	return err
}

// laravelSetHash is setHash on the app's users table; BINARY compares the
// old hash byte for byte, not by the column's collation.
func (s *Store) laravelSetHash(ctx context.Context, q execer, id int64, hash string, at time.Time, old *string) (int64, error) {
	stmt, args := "UPDATE `users` SET password = ?", []any{hash}
	if s.lv.stamps {
		stmt, args = stmt+`, updated_at = ?`, append(args, laravelTime(at, s.loc))
	}
	stmt, args = stmt+` WHERE id = ?`, append(args, id)
	if old != nil {
		stmt, args = stmt+` AND BINARY password = ?`, append(args, *old)
	}
	res, err := q.ExecContext(ctx, stmt, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// laravelSetAPIToken is setAPIToken in propusk_users: 0 rows when the app
// has no such user.
func (s *Store) laravelSetAPIToken(ctx context.Context, tx *sql.Tx, id int64, sealed string) (int64, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO propusk_users (user_id, lkey, api_token) SELECT id, LOWER(`"+s.lv.LoginColumn+"`), ? FROM `users` WHERE id = ? "+
		`ON DUPLICATE KEY UPDATE api_token = VALUES(api_token)`, nullString(sealed), id)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// laravelSetAdminFields is setAdminFields in propusk_users.
func (s *Store) laravelSetAdminFields(ctx context.Context, tx *sql.Tx, u *propusk.User, boards string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO propusk_users (user_id, lkey, level, boards, disabled_at) SELECT id, LOWER(`"+s.lv.LoginColumn+"`), ?, ?, ? FROM `users` WHERE id = ? "+
		`ON DUPLICATE KEY UPDATE level = VALUES(level), boards = VALUES(boards), disabled_at = VALUES(disabled_at)`,
		u.Level, boards, nullMillis(u.DisabledAt), u.ID)
	return err
}

// migrateLaravel is Migrate in Laravel mode: it refuses a database without
// the app's tables, applies migrations_laravel in name order, each once and
// recorded in propusk_migrations, and installs the triggers of
// triggers.sql when their text changed (a new login column, a new
// version). It never alters a table of the app. As Migrate, it runs under
// the named lock, one process at a time. Creating a trigger is DDL, which
// MySQL commits as it runs: while they are installed again, for a moment,
// the app's writes go unrecorded.
func (s *Store) migrateLaravel(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return wrap("migrate", err)
	}
	defer conn.Close()
	const lock = `CONCAT('propusk_migrate_', LEFT(SHA1(DATABASE()), 40))`
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+lock+`, 60)`).Scan(&got); err != nil {
		return wrap("migrate: lock", err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("mysql: migrate: another process held the migration lock for a minute")
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK(`+lock+`)`)
	for _, t := range []string{"users", "personal_access_tokens"} {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_name = ?`, t).Scan(&n); err != nil {
			return wrap("migrate", err)
		}
		if n == 0 {
			return fmt.Errorf("mysql: migrate: %w", propusk.LaravelMissingTable(t))
		}
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS propusk_migrations (
		name VARCHAR(255) NOT NULL PRIMARY KEY,
		applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`); err != nil {
		return wrap("migrate", err)
	}
	files, err := migfiles.Read(laravelMigrations, "migrations_laravel/0*.sql")
	if err != nil {
		return fmt.Errorf("mysql: migrate: %w", err)
	}
	for _, f := range files {
		if err := s.applyLaravel(ctx, conn, f.Name, statements(f.Body), nil); err != nil {
			return err
		}
	}
	triggers, err := s.lv.triggers()
	if err != nil {
		return fmt.Errorf("mysql: migrate: %w", err)
	}
	var stmts []string
	for _, st := range strings.Split(triggers, "\n//\n") {
		if st = strings.TrimSpace(stripComments(st)); st != "" {
			stmts = append(stmts, st)
		}
	}
	return s.applyLaravel(ctx, conn, migfiles.TriggersName(triggers), stmts, s.backfillKeys)
}

// applyLaravel runs stmts in order, then after, unless propusk_migrations
// records name, and records it.
func (s *Store) applyLaravel(ctx context.Context, conn *sql.Conn, name string, stmts []string, after func(ctx context.Context, conn *sql.Conn) error) error {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM propusk_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return wrap("migrate "+name, err)
	}
	if n > 0 {
		return nil
	}
	for i, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return triggerRights(wrap(fmt.Sprintf("migrate %s: statement %d", name, i+1), err))
		}
	}
	if after != nil {
		if err := after(ctx, conn); err != nil {
			return wrap("migrate "+name, err)
		}
	}
	_, err := conn.ExecContext(ctx, `INSERT INTO propusk_migrations (name) VALUES (?)`, name)
	return wrap("migrate "+name, err)
}

// triggerRights says what a refusal to create a trigger needs.
func triggerRights(err error) error {
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return err
	}
	switch myErr.Number {
	case errBinlogNeedSuper:
		return fmt.Errorf("%w: the server writes a binary log, so creating Laravel mode's triggers needs the SUPER privilege, "+
			"or log_bin_trust_function_creators = 1 (SET GLOBAL log_bin_trust_function_creators = 1, and in the server's configuration)", err)
	case errTriggerDenied:
		return fmt.Errorf("%w: Laravel mode's triggers need the TRIGGER privilege on the app's tables "+
			"(GRANT TRIGGER ON dbname.* TO the propusk user)", err)
	}
	return err
}

// stripComments drops the comment lines of a statement.
func stripComments(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
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
	err = t.Execute(&b, map[string]string{"Login": lv.LoginColumn})
	return b.String(), err
}

// backfillKeys keys every user of the app's table in propusk_users, for
// the rows written before the triggers that keep the keys were installed,
// or under another login column. A key that changes loses the canonical
// key propusk wrote for the old login. It forgets the triggers installed
// before, so that going back to them installs them again.
func (s *Store) backfillKeys(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `DELETE FROM propusk_migrations WHERE name LIKE 'triggers %'`); err != nil {
		return err
	}
	_, err := conn.ExecContext(ctx, "INSERT INTO propusk_users (user_id, lkey) SELECT id, LOWER(`"+s.lv.LoginColumn+"`) FROM `users` "+
		`ON DUPLICATE KEY UPDATE canon = IF(lkey <=> VALUES(lkey), canon, NULL), lkey = VALUES(lkey)`)
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
		WHERE u.id > ? ORDER BY u.id LIMIT ?`, after, limit)
}
