package laraveltest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" driver, to empty a fixture copy

	"github.com/propusk/propusk/mysql/mytest"
	"github.com/propusk/propusk/postgres/pgtest"
)

// The datasets of the fixtures (see their README).
const (
	Sanctum2UTC    = "sanctum2-utc"    // Sanctum 2.15, UTC, App\Models\User, no expires_at
	Sanctum4Moscow = "sanctum4-moscow" // Sanctum 4, Europe/Moscow, App\User
)

// Each function below gives a test a database of its own, shaped as real
// Laravel left it: with the fixture's rows when data is set, or else with
// its users and tokens deleted and their ids starting again from 1, as in
// a fresh app's database. The fixture files are read once per test binary
// and never written.

var (
	cacheMu sync.Mutex
	cache   = map[string][]byte{} // file name (+" empty") → contents
)

// cached returns what build makes of name, built once per test binary.
func cached(t testing.TB, key string, build func() ([]byte, error)) []byte {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if b, ok := cache[key]; ok {
		return b
	}
	b, err := build()
	if err != nil {
		t.Fatalf("laraveltest: %s: %v", key, err)
	}
	cache[key] = b
	return b
}

// SQLiteDB returns the path of a copy of dataset's SQLite database in
// t.TempDir().
func SQLiteDB(t testing.TB, dataset string, data bool) string {
	t.Helper()
	dir := FixtureDir(t)
	file := dataset + ".sqlite"
	body := cached(t, file, func() ([]byte, error) { return os.ReadFile(filepath.Join(dir, file)) })
	if !data {
		body = cached(t, file+" empty", func() ([]byte, error) { return emptySQLite(body) })
	}
	path := filepath.Join(t.TempDir(), "laravel.sqlite")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// emptySQLite returns the database body with its users and tokens deleted.
func emptySQLite(body []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "laraveltest")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "db.sqlite")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	_, err = db.Exec(`DELETE FROM personal_access_tokens; DELETE FROM users;
		DELETE FROM sqlite_sequence WHERE name IN ('personal_access_tokens', 'users')`)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// PostgresSchema restores dataset's pg_dump into a fresh schema (pgtest.DSN:
// it skips when PostgreSQL is absent, and fails under CI) and returns a DSN
// whose search_path is that schema. The dump names schema public; its
// statements are run with the fresh schema's name instead, and its psql
// meta-commands (\restrict, \unrestrict) are dropped.
func PostgresSchema(t testing.TB, dataset string, data bool) string {
	t.Helper()
	dir := FixtureDir(t)
	dump := cached(t, dataset+".pg.sql", func() ([]byte, error) { return os.ReadFile(filepath.Join(dir, dataset+".pg.sql")) })
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("laraveltest: %v", err)
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatalf("laraveltest: %v", err)
	}
	if err := restorePG(ctx, conn, string(dump), pgx.Identifier{schema}.Sanitize(), data); err != nil {
		t.Fatalf("laraveltest: restore %s: %v", dataset, err)
	}
	return dsn
}

// restorePG runs a plain-format pg_dump with schema in place of public,
// with its COPY data when data is set.
func restorePG(ctx context.Context, conn *pgx.Conn, dump, schema string, data bool) error {
	var stmt strings.Builder
	sc := bufio.NewScanner(strings.NewReader(dump))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, `\`), strings.HasPrefix(line, "--"), strings.TrimSpace(line) == "" && stmt.Len() == 0:
			continue
		case strings.HasPrefix(line, "SELECT pg_catalog.set_config('search_path'"),
			!data && strings.HasPrefix(line, "SELECT pg_catalog.setval("):
			continue
		case strings.HasPrefix(line, "COPY "):
			var rows strings.Builder
			for sc.Scan() && sc.Text() != `\.` {
				rows.WriteString(sc.Text())
				rows.WriteByte('\n')
			}
			if !data || rows.Len() == 0 {
				continue
			}
			copySQL := strings.TrimSuffix(strings.ReplaceAll(line, "public.", schema+"."), ";")
			if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(rows.String()), copySQL); err != nil {
				return fmt.Errorf("%s: %w", copySQL, err)
			}
			continue
		}
		stmt.WriteString(strings.ReplaceAll(line, "public.", schema+"."))
		stmt.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if _, err := conn.Exec(ctx, stmt.String()); err != nil {
				return fmt.Errorf("%s: %w", stmt.String(), err)
			}
			stmt.Reset()
		}
	}
	return sc.Err()
}

// MariaDB loads dataset's mariadb-dump into a fresh database (mytest.DSN:
// it skips when the server is absent, and fails under CI) and returns its
// mysql:// DSN.
func MariaDB(t testing.TB, dataset string, data bool) string {
	t.Helper()
	dir := FixtureDir(t)
	dump := cached(t, dataset+".mariadb.sql", func() ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, dataset+".mariadb.sql"))
		if err != nil {
			return nil, err
		}
		// Line 1 is the dump's "sandbox mode" marker for the mariadb
		// client, not SQL.
		if i := bytes.IndexByte(b, '\n'); i >= 0 && bytes.HasPrefix(b, []byte("/*M!999999")) {
			b = b[i+1:]
		}
		return b, nil
	})
	dsn := mytest.DSN(t)
	db, err := MariaDBConn(dsn)
	if err != nil {
		t.Fatalf("laraveltest: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, string(dump)); err != nil {
		t.Fatalf("laraveltest: load %s: %v", dataset, err)
	}
	if !data {
		if _, err := db.ExecContext(ctx, `TRUNCATE TABLE personal_access_tokens; TRUNCATE TABLE users`); err != nil {
			t.Fatalf("laraveltest: %v", err)
		}
	}
	return dsn
}

// MariaDBConn opens a connection to the database of a mysql:// DSN that
// runs several statements at once, as a dump needs, in the server's own
// session settings.
func MariaDBConn(dsn string) (*sql.DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.MultiStatements = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	return db, nil
}

// Connection is a Laravel database connection, as config/database.php
// gives it, and the app's time zone: what db.php needs to act as the app.
type Connection map[string]any

// SQLiteConnection is the connection of a Laravel app to the SQLite file
// at path.
func SQLiteConnection(path, timezone string) Connection {
	return Connection{"driver": "sqlite", "database": path, "foreign_key_constraints": true, "timezone": timezone}
}

// PostgresConnection is the connection of a Laravel app to the database
// and schema of dsn (as PostgresSchema returns).
func PostgresConnection(t testing.TB, dsn, timezone string) Connection {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return Connection{"driver": "pgsql", "host": cfg.Host, "port": cfg.Port, "database": cfg.Database,
		"username": cfg.User, "password": cfg.Password, "schema": cfg.RuntimeParams["search_path"], "sslmode": "disable", "timezone": timezone}
}

// MariaDBConnection is the connection of a Laravel app to the database of
// dsn (as MariaDB returns), with the skeleton's settings: no time_zone of
// its own, so the server's applies.
func MariaDBConnection(t testing.TB, dsn, timezone string) Connection {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	return Connection{"driver": "mysql", "host": u.Hostname(), "port": port, "database": strings.TrimPrefix(u.Path, "/"),
		"username": u.User.Username(), "password": pass, "charset": "utf8mb4", "collation": "utf8mb4_unicode_ci", "timezone": timezone}
}

// DB runs one command of testdata/db.php (Illuminate's query builder) on
// the connection c and returns its output line.
func DB(t testing.TB, c Connection, args ...string) string {
	t.Helper()
	cfg, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(Script(t, "db.php", "", append([]string{string(cfg)}, args...)...))
}

// App is a running db.php that takes one command at a time: a Laravel
// process, connected already, whose every command's time is the app's own.
type App struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// StartApp starts db.php on c, reading commands; it stops at the test's end.
func StartApp(t testing.TB, c Connection) *App {
	t.Helper()
	cfg, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(PHP(t), filepath.Join(dir(), "testdata", "db.php"), string(cfg), "-")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return &App{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

// Do runs one command and returns its output line.
func (a *App) Do(args ...string) (string, error) {
	if _, err := fmt.Fprintln(a.in, strings.Join(args, " ")); err != nil {
		return "", err
	}
	line, err := a.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("db.php %v: %w (its error is on stderr)", args, err)
	}
	return strings.TrimSpace(line), nil
}
