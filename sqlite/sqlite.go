// Package sqlite is the propusk.Store on an SQLite database file, through the
// pure-Go driver modernc.org/sqlite (no cgo).
//
// # Durability and concurrency
//
// The database runs in WAL mode with synchronous=FULL: a commit is on disk
// before the call returns, so a token pair handed to a client survives a
// power cut, not only a crash of the process. Under WAL that costs one fsync
// per commit, which the write rates of an auth service easily afford.
//
// Writes go through a pool of exactly one connection that opens every
// transaction with BEGIN IMMEDIATE. Writers of this process therefore queue in
// Go instead of racing for SQLite's lock, and a transaction never has to
// upgrade a read lock to a write lock, the case busy_timeout cannot resolve.
// Writers of other processes wait up to busy_timeout (5 s). Reads use a
// separate pool of read-only connections that WAL lets run beside the writer.
//
// # Laravel
//
// personal_access_tokens has Laravel Sanctum's columns and formats (times as
// TEXT 'YYYY-MM-DD HH:MM:SS' in UTC, abilities as JSON text), so the table can
// be shared with a Laravel app. The other tables are propusk's own and keep
// times as unix milliseconds.
//
// OpenLaravel opens the database of a Laravel application instead: users
// live in the app's users table, tokens in its personal_access_tokens, and
// propusk's own tables are prefixed "propusk_" (see laravel.go).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/batch"
	"github.com/propusk/propusk/internal/migfiles"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a propusk.Store on one SQLite database file.
type Store struct {
	// Now is the clock for the times no method argument gives: a user or
	// token created without CreatedAt, and the feed entries of DeleteToken,
	// AddKeys and DeleteKeys.
	Now func() time.Time // time.Now

	db   *sql.DB // one connection: every write, and Migrate
	ro   *sql.DB // read-only connections
	path string

	// loc is the zone of the wall-clock times Laravel writes (users' and
	// personal_access_tokens' timestamps): UTC, or the app's in Laravel mode.
	loc *time.Location
	lv  *laravel // nil outside Laravel mode

	// renewals commits the RenewSession calls that arrive together in one
	// transaction (renewBatch).
	renewals batch.Queue[renewal, *propusk.Renewal]
}

var _ propusk.Store = (*Store)(nil)

// Pragmas of every connection. busy_timeout comes first so the others wait
// for a lock instead of failing while another process writes.
const (
	writeParams = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"
	readParams  = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=query_only(1)"
)

// Open opens the SQLite database at path, creating the file if it is
// missing, readable and writable by its owner only (mode 0600, whatever the
// umask; its -wal and -shm files follow). Call Migrate before using the Store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open: invalid path %q", path)
	}
	if err := create(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return open(ctx, path, openDB)
}

// openDB opens a pool of connections to dsn.
func openDB(dsn string) (*sql.DB, error) { return sql.Open("sqlite", dsn) }

// open opens the write and read pools on path with openDB.
func open(ctx context.Context, path string, openDB func(dsn string) (*sql.DB, error)) (*Store, error) {
	db, err := openWriter(ctx, path, openDB)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ro, err := openDB(path + "?" + readParams)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	ro.SetMaxOpenConns(n)
	ro.SetMaxIdleConns(n)
	if err := ro.PingContext(ctx); err != nil {
		db.Close()
		ro.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{Now: time.Now, db: db, ro: ro, path: path, loc: time.UTC}
	s.renewals = batch.Queue[renewal, *propusk.Renewal]{Run: s.renewBatch, Max: renewBatchMax, InFlight: 1}
	return s, nil
}

// openWriter opens the one write connection. It connects first: it creates
// the file and switches it to WAL, which the read-only connections could
// not do. Switching the journal mode takes an exclusive lock for which
// SQLite does not wait (busy_timeout does not apply), so processes starting
// together on a new file retry it for a while.
func openWriter(ctx context.Context, path string, openDB func(dsn string) (*sql.DB, error)) (*sql.DB, error) {
	for attempt := 0; ; attempt++ {
		db, err := openDB(path + "?" + writeParams)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
		err = db.PingContext(ctx)
		if err == nil {
			return db, nil
		}
		db.Close()
		if !busy(err) || attempt == 50 {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(10+attempt*10) * time.Millisecond):
		}
	}
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.ro.Close(), s.db.Close())
}

// Migrate applies the embedded migrations that the database has not seen,
// in name order, each in its own transaction, and records each in
// schema_migrations. It is idempotent, and safe when several processes run
// it at once: each transaction holds SQLite's write lock from its start, and
// re-checks whether its migration was applied meanwhile.
func (s *Store) Migrate(ctx context.Context) error {
	if s.lv != nil {
		return s.migrateLaravel(ctx)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return wrap("migrate", err)
	}
	files, err := migfiles.Read(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, f := range files {
		if err := s.migrate(ctx, f.Name, f.Body); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, name, body string) error {
	return s.write(ctx, "migrate "+name, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			return err
		}
		if after := afterMigration[name]; after != nil {
			if err := after(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, s.now().UnixMilli())
		return err
	})
}

// write runs fn in a transaction on the write connection (BEGIN IMMEDIATE)
// and commits it when fn returns nil. Errors are mapped and given op as context.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	if err := s.origin(ctx, tx, true); err != nil {
		tx.Rollback()
		return wrap(op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return wrap(op, err)
	}
	if err := s.writeAudit(ctx, tx); err != nil {
		tx.Rollback()
		return wrap(op, err)
	}
	if err := s.origin(ctx, tx, false); err != nil {
		tx.Rollback()
		return wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// appendEvent adds one entry to the feed inside tx.
func appendEvent(ctx context.Context, tx *sql.Tx, kind, ref string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO events (kind, ref, at) VALUES (?, ?, ?)`, kind, ref, millis(at))
	return err
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Times of propusk's own tables are unix milliseconds; a zero time.Time is NULL.

func millis(t time.Time) int64 { return t.UnixMilli() }

func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}
