// Package mysql is the propusk.Store on MySQL 8 and MariaDB 10.11 and later,
// through github.com/go-sql-driver/mysql and database/sql's connection pool.
// Many propusk processes can share one database.
//
// # Sessions
//
// Every connection the store opens is set up the same way, whatever the
// server's defaults: time_zone '+00:00' (times are stored in UTC), a strict
// sql_mode (bad input is an error, never silently truncated), utf8mb4, and
// READ COMMITTED, so that a statement sees what committed before it, as on
// PostgreSQL, and InnoDB takes no gap locks. Parameters are interpolated by
// the driver (interpolateParams), so a statement costs one round trip, not
// a prepare, an execute and a close.
//
// # Failing fast
//
// Every method bounds its call with Store.Timeout (3 s by default), and a
// connection attempt with the same, so a request never hangs on a database
// that is down: it gets an error with code propusk.EUNAVAILABLE instead.
// A deadlock (error 1213) or lock wait timeout (1205) is retried, up to
// Store.Retries times, within the same bound.
//
// # The feed across processes
//
// MySQL has no LISTEN/NOTIFY: Store does not implement propusk.Notifier, and
// auth.Service polls Events, one primary-key range read, every
// auth.Config.PollInterval (100 ms by default, a tenth of the second within
// which every process enforces a revocation).
//
// # Pool
//
// The DSN's pool_* parameters tune the pool (pool_max_conns,
// pool_max_idle_conns, pool_max_conn_lifetime, pool_max_conn_idle_time);
// without pool_max_conns the pool holds up to 20 connections.
//
// # Laravel
//
// OpenLaravel opens the database of a Laravel application instead: users
// live in the app's users table, tokens in its personal_access_tokens, and
// propusk's own tables are prefixed "propusk_" (see laravel.go).
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/migfiles"
	"github.com/propusk/propusk/internal/rename"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultTimeout bounds each store call unless Store.Timeout says otherwise.
const DefaultTimeout = 3 * time.Second

// DefaultRetries is how many times a statement or transaction that hit a
// deadlock or lock wait timeout is tried again.
const DefaultRetries = 3

// defaultMaxConns is the pool size when the DSN has no pool_max_conns.
const defaultMaxConns = 20

// Store is a propusk.Store on a MySQL or MariaDB database.
type Store struct {
	// Timeout bounds every call; set it before the Store is used.
	Timeout time.Duration // DefaultTimeout
	// Retries bounds the retries of a deadlock or lock wait timeout.
	Retries int // DefaultRetries
	// Now is the clock for the times no method argument gives.
	Now func() time.Time // time.Now

	db *sql.DB

	// loc is the zone of the wall-clock times Laravel writes (users' and
	// personal_access_tokens' timestamps): UTC, or the app's in Laravel mode.
	loc *time.Location
	lv  *laravel // nil outside Laravel mode
}

var (
	_ propusk.Store   = (*Store)(nil)
	_ propusk.Budgets = (*Store)(nil)
)

// Open connects to the database at dsn, a URL
// mysql://user:password@host:port/dbname?param=value, and checks that it
// answers. Parameters other than pool_* are the driver's (see
// github.com/go-sql-driver/mysql). Call Migrate before using the Store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return open(ctx, dsn, nil)
}

// open is Open, in Laravel mode when lv is set.
func open(ctx context.Context, dsn string, lv *laravel) (*Store, error) {
	cfg, pool, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: open: %w", err)
	}
	if lv != nil {
		// Marks every connection of propusk's: the triggers record feed
		// entries only for the app's writes (see triggers.sql).
		cfg.Params[originVariable] = "1"
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql: open: %w", err)
	}
	var connector driver.Connector = readCommitted{conn}
	loc := time.UTC
	if lv != nil {
		connector, loc = rename.Connector(connector, lv.renamer()), lv.Location
	}
	db := sql.OpenDB(connector)
	pool.apply(db)
	s := &Store{Timeout: DefaultTimeout, Retries: DefaultRetries, Now: time.Now, db: db, loc: loc, lv: lv}
	ctx, done := s.bound(ctx)
	defer done()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		var myErr *mysql.MySQLError
		if errors.As(err, &myErr) && myErr.Number == 1049 { // ER_BAD_DB_ERROR
			return nil, fmt.Errorf("mysql: open: database %q does not exist on %s: create it with CREATE DATABASE `%s` CHARACTER SET utf8mb4 (error 1049)",
				cfg.DBName, cfg.Addr, strings.ReplaceAll(cfg.DBName, "`", "``"))
		}
		return nil, wrap("open", err)
	}
	return s, nil
}

// poolConfig is the pool_* parameters of a DSN.
type poolConfig struct {
	maxOpen, maxIdle      int
	lifetime, idleTimeout time.Duration
}

func (p poolConfig) apply(db *sql.DB) {
	db.SetMaxOpenConns(p.maxOpen)
	db.SetMaxIdleConns(p.maxIdle)
	db.SetConnMaxLifetime(p.lifetime)
	db.SetConnMaxIdleTime(p.idleTimeout)
}

// parseDSN turns a mysql:// URL into the driver's configuration, with the
// session settings the store relies on, and the pool's.
func parseDSN(dsn string) (*mysql.Config, poolConfig, error) {
	pool := poolConfig{maxOpen: defaultMaxConns, maxIdle: defaultMaxConns, lifetime: 30 * time.Minute, idleTimeout: 5 * time.Minute}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		// url's error would repeat the password.
		return nil, pool, errors.New("want a DSN mysql://user:password@host:port/dbname")
	}
	q := u.Query()
	if !q.Has("pool_max_idle_conns") {
		defer func() { pool.maxIdle = pool.maxOpen }()
	}
	for name, set := range map[string]func(string) error{
		"pool_max_conns":          func(v string) (err error) { pool.maxOpen, err = strconv.Atoi(v); return },
		"pool_max_idle_conns":     func(v string) (err error) { pool.maxIdle, err = strconv.Atoi(v); return },
		"pool_max_conn_lifetime":  func(v string) (err error) { pool.lifetime, err = time.ParseDuration(v); return },
		"pool_max_conn_idle_time": func(v string) (err error) { pool.idleTimeout, err = time.ParseDuration(v); return },
	} {
		if !q.Has(name) {
			continue
		}
		if err := set(q.Get(name)); err != nil {
			return nil, pool, fmt.Errorf("%s: %w", name, err)
		}
		q.Del(name)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg, err := mysql.ParseDSN("tcp(" + host + ")/?" + q.Encode())
	if err != nil {
		return nil, pool, err
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return nil, pool, errors.New("the DSN names no database: mysql://user:password@host:port/dbname")
	}
	// What the store's SQL relies on, whatever the DSN says.
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.InterpolateParams = true
	cfg.ClientFoundRows = true // rows affected = rows matched, as PostgreSQL counts
	cfg.MultiStatements = false
	if cfg.Collation == "" || !strings.HasPrefix(cfg.Collation, "utf8mb4") {
		cfg.Collation = "utf8mb4_general_ci"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
	return cfg, pool, nil
}

// readCommitted is the driver's connector, with every new connection set to
// READ COMMITTED: the one statement for it that MySQL 8 and MariaDB both
// accept (the variable is transaction_isolation on one, tx_isolation on
// MariaDB before 11.1).
type readCommitted struct{ driver.Connector }

func (c readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("mysql: the driver's connection cannot execute")
	}
	if _, err := ex.ExecContext(ctx, `SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED`, nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Close closes every connection.
func (s *Store) Close() error { return s.db.Close() }

// Migrate applies the embedded migrations that the database has not seen,
// in name order, and records each in schema_migrations. MySQL commits DDL
// as it runs it, so a migration is not one transaction as on PostgreSQL:
// each file is written to be safe to run again from the start (its
// statements run in order, and a failed run is reported with the statement
// that failed). Several processes may run Migrate at once: a named lock
// (GET_LOCK, per database) lets one run at a time, and each checks what was
// applied meanwhile. It runs under ctx alone, not Timeout.
func (s *Store) Migrate(ctx context.Context) error {
	if s.lv != nil {
		return s.migrateLaravel(ctx)
	}
	files, err := migfiles.Read(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("mysql: migrate: %w", err)
	}
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
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name VARCHAR(255) NOT NULL PRIMARY KEY,
		applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`); err != nil {
		return wrap("migrate", err)
	}
	for _, f := range files {
		name := f.Name
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return wrap("migrate "+name, err)
		}
		if n > 0 {
			continue
		}
		for i, stmt := range statements(f.Body) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return wrap(fmt.Sprintf("migrate %s: statement %d", name, i+1), err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES (?)`, name); err != nil {
			return wrap("migrate "+name, err)
		}
	}
	return nil
}

// statements splits a migration file at the semicolons that end a line,
// dropping comment lines. Migrations hold no procedures or strings with
// such semicolons.
func statements(body string) []string {
	var (
		out []string
		cur strings.Builder
	)
	for line := range strings.Lines(body) {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, t)
	}
	return out
}

// bound gives a call its deadline: the caller's or Timeout, whichever is
// sooner, so that no request waits on a database that is down.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// retry runs fn, bounded by Timeout, and runs it again when it failed on a
// deadlock or lock wait timeout, at most Retries more times: the server has
// rolled the statement (or the deadlock victim's transaction) back, so
// nothing of the failed try remains. Errors are mapped with op as context.
func (s *Store) retry(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return wrap(op, s.again(ctx, fn))
}

// again runs fn, and again when it failed on a deadlock or lock wait
// timeout, at most Retries more times, with a short pause between tries.
func (s *Store) again(ctx context.Context, fn func(ctx context.Context) error) error {
	tries := s.Retries
	if tries < 0 {
		tries = 0
	}
	for i := 0; ; i++ {
		err := fn(ctx)
		if err == nil || !retryable(err) || i >= tries || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(i+1) * 5 * time.Millisecond):
		}
	}
}

// write runs fn in a transaction, with retries (see retry), and commits it
// when fn returns nil.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.retry(ctx, op, func(ctx context.Context) error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
		if err := s.writeAudit(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// appendEvents adds one feed entry of kind at at for each ref inside tx,
// numbered from event_seq (see the migration): LAST_INSERT_ID(expr) hands
// the new value back in the same round trip. Callers run it last in their
// transaction, so the event_seq lock is held briefly and never while
// waiting for another lock.
func appendEvents(ctx context.Context, tx *sql.Tx, kind string, refs []string, at time.Time) error {
	if len(refs) == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE event_seq SET seq = LAST_INSERT_ID(seq + ?) WHERE one = 1`, len(refs))
	if err != nil {
		return err
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	var (
		q    strings.Builder
		args []any
	)
	q.WriteString(`INSERT INTO events (seq, kind, ref, at) VALUES `)
	at = propusk.TruncMillis(at).UTC()
	for i, ref := range refs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
		args = append(args, last-int64(len(refs))+int64(i)+1, kind, ref, at)
	}
	_, err = tx.ExecContext(ctx, q.String(), args...)
	return err
}

// ms is t for a DATETIME(3) column: UTC, to the millisecond.
func ms(t time.Time) time.Time { return propusk.TruncMillis(t).UTC() }

// nullMillis is t for a nullable DATETIME(3) column: nil for the zero time.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func fromNull(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// wallClock is a TIMESTAMP the app wrote as its wall clock in loc, as the
// driver reads it in the session's zone, UTC: the instant whose wall clock
// in loc reads as t's does in UTC. NULL is the zero time.
func wallClock(t sql.NullTime, loc *time.Location) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	u := t.Time.UTC()
	if loc == nil || loc == time.UTC {
		return u
	}
	return time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), loc).UTC()
}

// placeholders is "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
