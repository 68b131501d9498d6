package postgres

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/internal/pgproxy"
	"github.com/propusk/propusk/postgres/pgtest"
	"github.com/propusk/propusk/storetest"
)

// openTest opens a migrated store on a fresh schema.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.DSN(t))
	return storetest.Migrated(t, s, err)
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) propusk.Store { return openTest(t) })
}

// openProxied returns a migrated store on a fresh schema that reaches
// PostgreSQL through a proxy the test controls, with a short Timeout.
func openProxied(t *testing.T) (*Store, *pgproxy.Proxy) {
	t.Helper()
	p, dsn, err := pgproxy.For(pgtest.DSN(t))
	if err != nil {
		missing.Skip(t, "the failure tests need a URL DSN in PROPUSK_TEST_POSTGRES: "+err.Error())
	}
	t.Cleanup(func() { p.Close() })
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Timeout = 500 * time.Millisecond
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, p
}

// TestUnavailable takes the database away under a working store: calls
// fail fast with EUNAVAILABLE, Wait reports the loss, and all recovers.
func TestUnavailable(t *testing.T) {
	s, p := openProxied(t)
	ctx := t.Context()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- s.Wait(ctx) }()

	cuts := []struct {
		mode string
		cut  func() error
	}{
		{"refuse", func() error { p.Down(); return nil }},
		{"hang", p.Hang},
	}
	for _, c := range cuts {
		mode := c.mode
		if err := c.cut(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err := s.UserByID(ctx, 1)
		if code := propusk.ErrorCode(err); code != propusk.EUNAVAILABLE {
			t.Errorf("%s: error %v (%s), want %s", mode, err, code, propusk.EUNAVAILABLE)
		}
		if msg := propusk.ErrorMessage(err); msg != "the database is unavailable" {
			t.Errorf("%s: message %q", mode, msg)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: the call took %v, want about Timeout", mode, d)
		}
	}
	select {
	case err := <-waited:
		if code := propusk.ErrorCode(err); code != propusk.EUNAVAILABLE {
			t.Errorf("wait on a lost connection: %v (%s), want %s", err, code, propusk.EUNAVAILABLE)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not notice the lost connection")
	}

	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	u := &propusk.User{Login: "back", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("wait after recovery reconnects and returns nil: %v", err)
	}
}

// TestWaitNoticesSilentLink: a listening connection whose packets vanish
// (no error, no close) is found out by the heartbeat, not minutes later by TCP.
func TestWaitNoticesSilentLink(t *testing.T) {
	s, p := openProxied(t)
	s.Heartbeat = 300 * time.Millisecond
	if err := s.Wait(t.Context()); err != nil {
		t.Fatalf("first wait: %v", err)
	}
	// A quiet but healthy link: Wait returns nil after a heartbeat.
	if err := s.Wait(t.Context()); err != nil {
		t.Fatalf("quiet healthy link: %v", err)
	}
	p.Silence()
	start := time.Now()
	err := s.Wait(t.Context())
	if code := propusk.ErrorCode(err); code != propusk.EUNAVAILABLE {
		t.Fatalf("silent link: %v (%s), want %s", err, code, propusk.EUNAVAILABLE)
	}
	t.Logf("silent link noticed after %v (heartbeat 300ms + timeout 500ms)", time.Since(start))
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(t.Context()); err != nil {
		t.Fatalf("reconnect: %v", err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	_, err = Open(t.Context(), "postgres://postgres@"+addr+"/test?sslmode=disable")
	if code := propusk.ErrorCode(err); code != propusk.EUNAVAILABLE {
		t.Errorf("open: %v (%s), want %s", err, code, propusk.EUNAVAILABLE)
	}
	if d := time.Since(start); d > DefaultTimeout+time.Second {
		t.Errorf("open took %v", d)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	dsn := pgtest.DSN(t)
	storetest.MigrateConcurrently(t, func(ctx context.Context) (storetest.Migrator, error) { return Open(ctx, dsn) })
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	if n != len(names) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(names))
	}
}

// TestFeedOrder appends to the feed from many goroutines while a reader
// follows it as a process does: the reader must never see a gap, which it
// would if a later seq could commit before an earlier one.
func TestFeedOrder(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	u := &propusk.User{Login: "alice", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	const n = 200
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		sess := &propusk.Session{ID: "s" + strconv.Itoa(i), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if err := s.RevokeSession(ctx, "s"+strconv.Itoa(i), 0, now); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var last int64
	deadline := time.Now().Add(30 * time.Second)
	for last < n && time.Now().Before(deadline) {
		evs, err := s.Events(ctx, last, 17)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Seq != last+1 {
				t.Fatalf("reader at seq %d next saw %d: an entry was skipped", last, e.Seq)
			}
			last = e.Seq
		}
	}
	wg.Wait()
	if last != n {
		t.Errorf("reader reached seq %d, want %d", last, n)
	}
}

// TestChannelPerSchema checks that stores on two schemas of one database do
// not wake each other.
func TestChannelPerSchema(t *testing.T) {
	a, b := openTest(t), openTest(t)
	ctx := t.Context()
	if err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.AddKeys(ctx, &propusk.Key{ID: "k", Use: propusk.KeyUseSeal, Sealed: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := b.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait on the other schema = %v, want context.DeadlineExceeded", err)
	}
}

// TestLaravelFormats checks personal_access_tokens both ways: rows as
// Laravel writes them read back, and rows we write are in Laravel's types.
func TestLaravelFormats(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	u := storetest.LaravelRows(t, s, func(ctx context.Context, userID int64) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO personal_access_tokens
		(tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at)
		VALUES ('App\Models\User', $1, 'api-token', 'aaaa', '["*"]', NULL, NULL, '2024-05-06 07:08:09', '2024-05-06 07:08:09'),
		       ('App\Models\User', $1, 'legacy', 'bbbb', NULL, '2024-05-07 00:00:00', '2025-01-01 00:00:00', '2024-05-06 07:08:10', '2024-05-06 07:08:10')`,
			userID)
		return err
	})

	ours := &propusk.PersonalAccessToken{TokenableType: `App\Models\User`, TokenableID: u.ID, Name: "ci", Hash: "cccc",
		ExpiresAt: time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("X", 3600)),
		CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.CreateToken(ctx, ours); err != nil {
		t.Fatal(err)
	}
	var created, expires, abilities string
	if err := s.pool.QueryRow(ctx, `SELECT created_at::text, expires_at::text, abilities FROM personal_access_tokens WHERE token = 'cccc'`).
		Scan(&created, &expires, &abilities); err != nil {
		t.Fatal(err)
	}
	if created != "2025-01-02 03:04:05" || expires != "2026-01-02 02:04:05" || abilities != `["*"]` {
		t.Errorf("stored created_at %q, expires_at %q, abilities %q; want Laravel's formats", created, expires, abilities)
	}
	rows, _ := s.pool.Query(ctx, `SELECT column_name || ' ' || data_type || coalesce(' ' || datetime_precision, '')
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'personal_access_tokens' AND column_name LIKE '%_at'
		ORDER BY column_name`)
	types, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"created_at timestamp without time zone 0", "expires_at timestamp without time zone 0",
		"last_used_at timestamp without time zone 0", "updated_at timestamp without time zone 0",
	}
	if !slices.Equal(types, want) {
		t.Errorf("column types = %q, want %q", types, want)
	}
}

// TestSchemaMissing: a database without the schema is unavailable (503),
// with a message that says what to do, not an internal error.
func TestSchemaMissing(t *testing.T) {
	s, err := Open(t.Context(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, err = s.UserByID(t.Context(), 1)
	if propusk.ErrorCode(err) != propusk.EUNAVAILABLE || !strings.Contains(propusk.ErrorMessage(err), "migrate") {
		t.Fatalf("%v (%s)", err, propusk.ErrorCode(err))
	}
}
