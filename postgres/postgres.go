// Package postgres is the propusk.Store on PostgreSQL, through pgx and its
// connection pool. Many propusk processes can share one database.
//
// # Failing fast
//
// Every method bounds its call with Store.Timeout (3 s by default) and a
// connection attempt with the same, so a request never hangs on a database
// that is down: it gets an error with code propusk.EUNAVAILABLE instead.
//
// # The feed across processes
//
// Store also implements propusk.Notifier. Each method that appends to the
// feed calls pg_notify in its own transaction, so the notification goes out
// exactly when the entry becomes visible; Wait listens on a dedicated
// connection. The channel is named after the schema in use, so stores on
// different schemas of one database do not wake each other.
//
// # Pool
//
// The DSN's pool_* parameters tune the pool (pool_max_conns,
// pool_min_conns, pool_max_conn_lifetime, pool_max_conn_idle_time,
// pool_health_check_period); without pool_max_conns the pool holds up to
// 20 connections. connect_timeout defaults to Timeout.
//
// # Laravel
//
// OpenLaravel opens the database of a Laravel application instead: users
// live in the app's users table, tokens in its personal_access_tokens, and
// propusk's own tables are prefixed "propusk_" (see laravel.go).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/batch"
	"github.com/propusk/propusk/internal/migfiles"
	"github.com/propusk/propusk/internal/rename"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DefaultTimeout bounds each store call unless Store.Timeout says otherwise.
const DefaultTimeout = 3 * time.Second

// defaultMaxConns is the pool size when the DSN has no pool_max_conns.
const defaultMaxConns = 20

// migrateLock is the key of the advisory lock that serializes Migrate
// across processes ("propusk" in ASCII).
const migrateLock int64 = 0x70726f7075736b

// channelExpr is the SQL for the notification channel: named after the
// schema, hashed when the name would pass PostgreSQL's 63-byte limit.
const channelExpr = `(CASE WHEN octet_length(current_schema()) <= 48
	THEN 'propusk_events_' || current_schema()
	ELSE 'propusk_events_' || md5(current_schema()) END)`

// Store is a propusk.Store and propusk.Notifier on a PostgreSQL database.
type Store struct {
	// Timeout bounds every call; set it before the Store is used.
	Timeout time.Duration // DefaultTimeout
	// Heartbeat is how long Wait listens in silence before it pings its
	// connection; set it before the Store is used.
	Heartbeat time.Duration // DefaultHeartbeat
	// Now is the clock for the times no method argument gives: a user or
	// token created without CreatedAt, and the feed entries of DeleteToken,
	// AddKeys and DeleteKeys.
	Now func() time.Time // time.Now

	pool   *pool
	listen *pgx.ConnConfig // of Wait's connection

	// loc is the zone of the wall-clock times Laravel writes (users' and
	// personal_access_tokens' timestamps): UTC, or the app's in Laravel mode.
	loc *time.Location
	lv  *laravel // nil outside Laravel mode

	// waiting is a one-slot semaphore that owns listener; a channel rather
	// than a mutex so that a queued Wait still honours its context.
	waiting  chan struct{}
	listener *pgx.Conn

	closing context.Context // done once Close is called
	close   context.CancelFunc

	// rotations commits the rotations of RenewSession's common path that
	// arrive together in one statement (rotateBatchSQL).
	rotations batch.Queue[rotation, rotated]
}

var (
	_ propusk.Store    = (*Store)(nil)
	_ propusk.Notifier = (*Store)(nil)
)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and checks that it answers. Call Migrate before using the Store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return open(ctx, dsn, nil)
}

// open is Open, in Laravel mode when lv is set.
func open(ctx context.Context, dsn string, lv *laravel) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn's error redacts the password, best effort.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	var r *rename.Renamer
	if lv != nil {
		r = lv.renamer()
		// Marks every connection of propusk's: the triggers record feed
		// entries only for the app's writes (see triggers.sql).
		cfg.ConnConfig.RuntimeParams[originSetting] = originPropusk
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultTimeout
	}
	pgxPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	closing, cancel := context.WithCancel(context.Background())
	s := &Store{
		Timeout:   DefaultTimeout,
		Now:       time.Now,
		pool:      &pool{pgxPool, r},
		listen:    cfg.ConnConfig.Copy(),
		loc:       time.UTC,
		lv:        lv,
		waiting:   make(chan struct{}, 1),
		rotations: batch.Queue[rotation, rotated]{Max: rotateBatchMax, InFlight: rotateInFlight},
		closing:   closing,
		close:     cancel,
	}
	if lv != nil {
		s.loc = lv.Location
	}
	s.rotations.Run = s.rotateBatch
	ctx, done := s.bound(ctx)
	defer done()
	if err := pgxPool.Ping(ctx); err != nil {
		s.Close()
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" { // invalid_catalog_name
			// The server is there and the database is not: say how to make
			// it, and nothing else (the driver's text repeats the name).
			name := cfg.ConnConfig.Database
			return nil, fmt.Errorf("postgres: open: database %q does not exist on %s:%d: create it with CREATE DATABASE %s (SQLSTATE 3D000)",
				name, cfg.ConnConfig.Host, cfg.ConnConfig.Port, pgx.Identifier{name}.Sanitize())
		}
		return nil, wrap("open", err)
	}
	return s, nil
}

// Close stops a Wait in progress and closes every connection. It is safe to
// call more than once.
func (s *Store) Close() error {
	s.close()
	s.waiting <- struct{}{}
	if s.listener != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.listener.Close(ctx)
		cancel()
		s.listener = nil
	}
	<-s.waiting
	s.pool.Close()
	return nil
}

// Migrate applies the embedded migrations that the database has not seen,
// in name order, each in its own transaction, and records each in
// schema_migrations. It is idempotent, and safe when several processes run
// it at once: each transaction first takes an advisory lock and then checks
// whether its migration was applied meanwhile. It runs under ctx alone, not
// Timeout, since a migration may take long.
func (s *Store) Migrate(ctx context.Context) error {
	if s.lv != nil {
		return s.migrateLaravel(ctx)
	}
	files, err := migfiles.Read(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, f := range files {
		name := f.Name
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				name text PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
				return err
			}
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			// Without arguments Exec uses the simple protocol, which runs
			// a file of several statements.
			if _, err := tx.Exec(ctx, f.Body); err != nil {
				return err
			}
			if after := afterMigration[name]; after != nil {
				if err := after(ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
			return err
		})
		if err != nil {
			return wrap("migrate "+name, err)
		}
	}
	return nil
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

// write runs fn in a READ COMMITTED transaction, bounded by Timeout, and
// commits it when fn returns nil. Errors are mapped and given op as context.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return s.writeAudit(ctx, tx)
	})
	return wrap(op, err)
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// appendEventsSQL adds one feed entry of kind $2 at $3 for each ref in $1,
// numbered from event_seq (see the migration), and notifies each; it returns
// how many it added. Callers run it last in their transaction, so that the
// event_seq lock is held for as short a time as possible and is never held
// while waiting for another lock.
const appendEventsSQL = `WITH c AS (
	UPDATE event_seq SET seq = seq + cardinality($1::text[]) RETURNING seq
), e AS (
	INSERT INTO events (seq, kind, ref, at)
	SELECT c.seq - cardinality($1::text[]) + r.n, $2, r.ref, $3
	FROM c, unnest($1::text[]) WITH ORDINALITY AS r (ref, n)
	RETURNING seq
)
SELECT count(*) FROM e, pg_notify(` + channelExpr + `, e.seq::text)`

// appendEvents adds feed entries inside tx; see appendEventsSQL.
func appendEvents(ctx context.Context, tx pgx.Tx, kind string, refs []string, at time.Time) error {
	if len(refs) == 0 {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, appendEventsSQL, refs, kind, propusk.TruncMillis(at)).Scan(&n); err != nil {
		return err
	}
	if n != len(refs) {
		return errors.New("append events: feed entries lost")
	}
	return nil
}

// nullMillis is t for a nullable column: nil for the zero time.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return propusk.TruncMillis(t)
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
