package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the database/sql driver propusk's SQLite store uses

	"github.com/propusk/propusk/logins"
)

// database is one store under load: a database of its own on a local
// server (or a file), which the harness seeds directly and whose server's
// CPU time it reads.
type database interface {
	// DSN is propusk's --db for it.
	DSN() string
	// Version names the server and its version, as it reports them.
	Version(ctx context.Context) string
	// CPU returns the CPU time each of the database server's processes
	// that serve propusk has used so far, by pid; none for SQLite, which
	// runs inside propusk.
	CPU(ctx context.Context) (map[int]time.Duration, error)
	// PasswordHash returns the stored password hash of login.
	PasswordHash(ctx context.Context, login string) (string, error)
	// Seed adds users seedLogin(from) … seedLogin(to-1), each with hash
	// as password and one live session, in bulk SQL.
	Seed(ctx context.Context, from, to int, hash string) error
	// Close drops the database and closes the connection.
	Close() error
}

// seedLogin is the login of seeded user i. Lowercase letters and digits:
// its canonical key (package logins) is itself, which openDatabase checks.
func seedLogin(i int) string { return fmt.Sprintf("u%08d", i) }

// storeNames are the stores in the order they are run and shown.
var storeNames = []string{"sqlite", "postgres", "mysql"}

// storeTitle is how the page names a store.
func storeTitle(name string) string {
	switch name {
	case "sqlite":
		return "SQLite"
	case "postgres":
		return "PostgreSQL"
	case "mysql":
		return "MariaDB"
	}
	return name
}

// openDatabase makes a fresh database for store name: a file in dir for
// SQLite, a schema or database of its own on the server of dsn otherwise.
func openDatabase(ctx context.Context, name, dsn, dir string) (database, error) {
	if k, err := logins.Canonical(seedLogin(12345678)); err != nil || k != seedLogin(12345678) {
		return nil, fmt.Errorf("seeded logins are not their own canonical key (%q, %v): change seedLogin", k, err)
	}
	tag := "propusk_load_" + random()
	switch name {
	case "sqlite":
		return openSQLite(ctx, filepath.Join(dir, "propusk.db"))
	case "postgres":
		return openPostgres(ctx, dsn, tag)
	case "mysql":
		return openMySQL(ctx, dsn, tag)
	}
	return nil, fmt.Errorf("unknown store %q (want sqlite, postgres or mysql)", name)
}

func random() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkLoopback refuses a server that is not on this machine: the harness
// only ever sends load to 127.0.0.1.
func checkLoopback(flag, host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s: %q is not on this machine; the harness only targets 127.0.0.1", flag, host)
}

// dbCPUDelta sums what each process used between two readings; a process
// that started in between counts from zero.
func dbCPUDelta(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

// readCPU reads the CPU time of pids, leaving out those that have exited.
func readCPU(pids []int) map[int]time.Duration {
	m := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		if t, err := processCPU(pid); err == nil {
			m[pid] = t
		}
	}
	return m
}

// --- SQLite ---

type sqliteDB struct {
	path string
	db   *sql.DB
}

func openSQLite(ctx context.Context, path string) (*sqliteDB, error) {
	// propusk creates and migrates the file; the harness only writes rows
	// into it between steps, waiting out propusk's own writes.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &sqliteDB{path: path, db: db}, nil
}

func (s *sqliteDB) DSN() string { return "sqlite:" + s.path }

func (s *sqliteDB) Version(ctx context.Context) string {
	var v string
	if err := s.db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return "SQLite (version unknown)"
	}
	return "SQLite " + v + " (modernc.org/sqlite, in the propusk process)"
}

func (s *sqliteDB) CPU(context.Context) (map[int]time.Duration, error) { return nil, nil }

func (s *sqliteDB) PasswordHash(ctx context.Context, login string) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, "SELECT password_hash FROM users WHERE login = ?", login).Scan(&h)
	return h, err
}

func (s *sqliteDB) Seed(ctx context.Context, from, to int, hash string) error {
	now := time.Now().UnixMilli()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `WITH RECURSIVE g(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM g WHERE n + 1 < ?)
		INSERT INTO users (login, login_key, password_hash, level, boards, created_at, updated_at)
		SELECT printf('u%08d', n), printf('u%08d', n), ?, 10, '["*"]', ?, ? FROM g`,
		from, to, hash, now, now); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, generation, rotated_at, created_at, renewed_at, expires_at, user_agent, ip)
		SELECT 'seed-' || id, id, 0, ?, ?, ?, ?, 'loadtest seed', '127.0.0.1' FROM users WHERE login >= ? AND login < ?`,
		now, now, now, now+30*24*3600*1000, seedLogin(from), seedLogin(to)); err != nil {
		return fmt.Errorf("seed sessions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, "ANALYZE")
	return err
}

func (s *sqliteDB) Close() error { return s.db.Close() }

// --- PostgreSQL ---

type postgresDB struct {
	base, dsn, schema, app string
	conn                   *pgx.Conn
}

func openPostgres(ctx context.Context, base, tag string) (*postgresDB, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("-postgres: want a postgres:// URL")
	}
	if err := checkLoopback("-postgres", u.Hostname()); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s: %w", u.Host, err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+tag); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", tag)
	// The name picks propusk's connections out of pg_stat_activity, so
	// that only their backends' CPU time is counted.
	q.Set("application_name", tag)
	u.RawQuery = q.Encode()
	return &postgresDB{base: base, dsn: u.String(), schema: tag, app: tag, conn: conn}, nil
}

func (p *postgresDB) DSN() string { return p.dsn }

func (p *postgresDB) Version(ctx context.Context) string {
	var v string
	if err := p.conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "PostgreSQL (version unknown)"
	}
	return "PostgreSQL " + v
}

// CPU counts propusk's backends and the server's background processes
// (WAL writer, checkpointer, background writer, autovacuum), whose work
// propusk's writes cause; other clients' backends are left out.
func (p *postgresDB) CPU(ctx context.Context) (map[int]time.Duration, error) {
	rows, err := p.conn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE application_name = $1 OR backend_type <> 'client backend'`, p.app)
	if err != nil {
		return nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	ints := make([]int, len(pids))
	for i, p := range pids {
		ints[i] = int(p)
	}
	return readCPU(ints), nil
}

func (p *postgresDB) PasswordHash(ctx context.Context, login string) (string, error) {
	var h string
	err := p.conn.QueryRow(ctx, "SELECT password_hash FROM "+p.schema+".users WHERE login = $1", login).Scan(&h)
	return h, err
}

func (p *postgresDB) Seed(ctx context.Context, from, to int, hash string) error {
	s := p.schema
	if _, err := p.conn.Exec(ctx, `INSERT INTO `+s+`.users (login, login_key, password_hash, level, boards, created_at, updated_at)
		SELECT l, l, $1, 10, '{*}', now(), now() FROM (SELECT 'u' || lpad(g::text, 8, '0') AS l FROM generate_series($2::bigint, $3::bigint - 1) g) n`,
		hash, from, to); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if _, err := p.conn.Exec(ctx, `INSERT INTO `+s+`.sessions (id, user_id, generation, rotated_at, created_at, renewed_at, expires_at, user_agent, ip)
		SELECT 'seed-' || id, id, 0, now(), now(), now(), now() + interval '30 days', 'loadtest seed', '127.0.0.1'
		FROM `+s+`.users WHERE login >= $1 AND login < $2`, seedLogin(from), seedLogin(to)); err != nil {
		return fmt.Errorf("seed sessions: %w", err)
	}
	_, err := p.conn.Exec(ctx, "ANALYZE "+s+".users, "+s+".sessions")
	return err
}

func (p *postgresDB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := p.conn.Exec(ctx, "DROP SCHEMA "+p.schema+" CASCADE")
	p.conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", p.schema, err)
	}
	return nil
}

// --- MariaDB and MySQL ---

type mysqlDB struct {
	dsn, name string
	db        *sql.DB
}

func openMySQL(ctx context.Context, base, tag string) (*mysqlDB, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "mysql" {
		return nil, fmt.Errorf("-mysql: want a mysql://user:password@host:port/ URL")
	}
	if err := checkLoopback("-mysql", u.Hostname()); err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.Port() == "" {
		cfg.Addr = u.Hostname() + ":3306"
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.InterpolateParams = true // one round trip per seeding batch
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+tag+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		db.Close()
		return nil, fmt.Errorf("MariaDB/MySQL at %s: %w", cfg.Addr, err)
	}
	u.Path = "/" + tag
	return &mysqlDB{dsn: u.String(), name: tag, db: db}, nil
}

func (m *mysqlDB) DSN() string { return m.dsn }

func (m *mysqlDB) Version(ctx context.Context) string {
	var v string
	if err := m.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "MariaDB/MySQL (version unknown)"
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		return "MariaDB " + strings.SplitN(v, "-MariaDB", 2)[0]
	}
	return "MySQL " + v
}

// CPU counts the whole server process: MariaDB runs every connection as a
// thread of one process, and without performance_schema (off by default)
// there is no telling which thread serves whom. Other clients' queries
// are counted too; the medians of rounds keep their share out.
func (m *mysqlDB) CPU(context.Context) (map[int]time.Duration, error) {
	pids := processesNamed("mariadbd", "mysqld")
	if len(pids) == 0 {
		return nil, fmt.Errorf("no mariadbd or mysqld process on this machine")
	}
	return readCPU(pids), nil
}

func (m *mysqlDB) PasswordHash(ctx context.Context, login string) (string, error) {
	var h string
	err := m.db.QueryRowContext(ctx, "SELECT password_hash FROM "+m.name+".users WHERE login = ?", login).Scan(&h)
	return h, err
}

// seedBatch is how many users one INSERT adds on MySQL, which has no
// generate_series: well under the default max_allowed_packet.
const seedBatch = 2000

func (m *mysqlDB) Seed(ctx context.Context, from, to int, hash string) error {
	now := time.Now().UTC().Format("2006-01-02 15:04:05.000")
	for lo := from; lo < to; lo += seedBatch {
		hi := min(lo+seedBatch, to)
		var b strings.Builder
		b.WriteString("INSERT INTO " + m.name + ".users (login, login_key, password_hash, level, boards, created_at, updated_at) VALUES ")
		args := make([]any, 0, 3*(hi-lo)+2)
		for i := lo; i < hi; i++ {
			if i > lo {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, ?, 10, '[\"*\"]', ?, ?)")
			args = append(args, seedLogin(i), seedLogin(i), hash, now, now)
		}
		if _, err := m.db.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("seed users: %w", err)
		}
	}
	if _, err := m.db.ExecContext(ctx, `INSERT INTO `+m.name+`.sessions (id, user_id, generation, rotated_at, created_at, renewed_at, expires_at, user_agent, ip)
		SELECT CONCAT('seed-', id), id, 0, ?, ?, ?, ? + INTERVAL 30 DAY, 'loadtest seed', '127.0.0.1' FROM `+m.name+`.users WHERE login >= ? AND login < ?`,
		now, now, now, now, seedLogin(from), seedLogin(to)); err != nil {
		return fmt.Errorf("seed sessions: %w", err)
	}
	_, err := m.db.ExecContext(ctx, "ANALYZE TABLE "+m.name+".users, "+m.name+".sessions")
	return err
}

func (m *mysqlDB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := m.db.ExecContext(ctx, "DROP DATABASE "+m.name)
	m.db.Close()
	if err != nil {
		return fmt.Errorf("drop database %s: %w", m.name, err)
	}
	return nil
}
