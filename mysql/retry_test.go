package mysql

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/mysql/mytest"
)

// openWith opens a second store on the database of a migrated store dsn,
// set up by the test.
func openWith(t *testing.T, dsn string, retries int) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Timeout, s.Retries = 20*time.Second, retries
	return s
}

// TestDeadlockRetried: a real deadlock, detected by InnoDB, whose victim is
// the store's transaction (the other side has written more, so InnoDB rolls
// back the store's), is retried and succeeds; with no retries it is
// EUNAVAILABLE, never a bare driver error.
func TestDeadlockRetried(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retries int
		want    string
	}{
		{"ok/retried", DefaultRetries, ""},
		{"fail/no-retries", 0, propusk.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := mytest.DSN(t)
			s := openWith(t, dsn, tc.retries)
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			u := &propusk.User{Login: "alice", PasswordHash: "x"}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if err := s.CreateSession(ctx, &propusk.Session{ID: "sid", UserID: u.ID, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			// The other side: a heavy transaction that holds event_seq.
			other, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Rollback()
			for i := range 50 {
				if _, err := other.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, 'x')`, fmt.Sprint("m", i)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := other.ExecContext(ctx, `UPDATE event_seq SET seq = seq WHERE one = 1`); err != nil {
				t.Fatal(err)
			}
			// The store locks the session row, then waits for event_seq.
			done := make(chan error, 1)
			go func() { done <- s.RevokeSession(ctx, "sid", 0, now) }()
			waitLockWait(t, s.db, done)
			// The other side now wants the session row: a cycle.
			if _, err := other.ExecContext(ctx, `UPDATE sessions SET ip = 'x' WHERE id = 'sid'`); err != nil {
				t.Fatalf("the heavier transaction was chosen as the victim: %v", err)
			}
			time.Sleep(50 * time.Millisecond) // the retry waits for other's lock
			if err := other.Commit(); err != nil {
				t.Fatal(err)
			}
			err = <-done
			if got := propusk.ErrorCode(err); got != tc.want {
				t.Fatalf("revoke in a deadlock: %v (%q), want %q", err, got, tc.want)
			}
			if tc.want == "" && !strings.Contains(innodbStatus(t, s.db), "LATEST DETECTED DEADLOCK") {
				t.Fatal("no deadlock was detected")
			}
		})
	}
}

// TestLockWaitTimeoutRetried: a statement that waited innodb_lock_wait_timeout
// for a row lock (error 1205) is retried, and succeeds once the lock is gone.
func TestLockWaitTimeoutRetried(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retries int
		want    string
	}{
		{"ok/retried", DefaultRetries, ""},
		{"fail/no-retries", 0, propusk.EUNAVAILABLE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := mytest.DSN(t)
			s := openWith(t, dsn+"?innodb_lock_wait_timeout=1", tc.retries)
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			other, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Rollback()
			if _, err := other.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('n', 'other')`); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := s.SetMetaOnce(ctx, "n", "store"); done <- err }()
			time.Sleep(1500 * time.Millisecond) // past one lock wait timeout
			other.Commit()
			err = <-done
			if got := propusk.ErrorCode(err); got != tc.want {
				t.Fatalf("set meta behind a lock: %v (%q), want %q", err, got, tc.want)
			}
		})
	}
}

// waitLockWait waits until some transaction waits for a lock.
func waitLockWait(t *testing.T, db *sql.DB, done chan error) {
	t.Helper()
	for range 200 {
		select {
		case err := <-done:
			t.Fatalf("the store did not wait for the lock: %v", err)
		default:
		}
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM information_schema.processlist
			WHERE db = DATABASE() AND info LIKE 'UPDATE event\_seq SET seq = LAST\_INSERT\_ID%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the store never waited for the lock")
}

func innodbStatus(t *testing.T, db *sql.DB) string {
	var typ, name, status string
	if err := db.QueryRowContext(t.Context(), `SHOW ENGINE INNODB STATUS`).Scan(&typ, &name, &status); err != nil {
		t.Fatal(err)
	}
	return status
}

// TestErrorsByNumber: driver errors reach the service as propusk codes,
// mapped by MySQL error number, raised by the real server.
func TestErrorsByNumber(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	u := &propusk.User{Login: "owner", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sess := func(id, ua, ip string) error {
		return s.CreateSession(ctx, &propusk.Session{ID: id, UserID: u.ID, UserAgent: ua, IP: ip, ExpiresAt: now.Add(time.Hour)})
	}
	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"1062/duplicate", func() error { sess("dup", "", ""); return sess("dup", "", "") }, propusk.ECONFLICT},
		{"1366/invalid-utf8", func() error { return sess("bad-utf8", "\xff\xfe", "") }, propusk.EINVALID},
		{"1406/too-long", func() error { return sess("long", "", strings.Repeat("1", 300)) }, propusk.EINVALID},
		{"1146/no-table", func() error {
			if _, err := s.db.ExecContext(ctx, `RENAME TABLE meta TO meta_gone`); err != nil {
				return err
			}
			defer s.db.ExecContext(ctx, `RENAME TABLE meta_gone TO meta`)
			_, err := s.SetMetaOnce(ctx, "x", "y")
			return err
		}, propusk.EUNAVAILABLE},
		{"not-found", func() error { _, err := s.Session(ctx, "nope"); return err }, propusk.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := propusk.ErrorCode(tc.do()); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSessionSettings: whatever the server's defaults, the store's
// connections run in UTC, strict mode and READ COMMITTED.
func TestSessionSettings(t *testing.T) {
	s := openTest(t)
	var tz, mode, iso string
	if err := s.db.QueryRowContext(t.Context(), `SELECT @@session.time_zone, @@session.sql_mode, @@session.tx_isolation`).Scan(&tz, &mode, &iso); err != nil {
		// MySQL 8 names it transaction_isolation.
		if err := s.db.QueryRowContext(t.Context(), `SELECT @@session.time_zone, @@session.sql_mode, @@session.transaction_isolation`).Scan(&tz, &mode, &iso); err != nil {
			t.Fatal(err)
		}
	}
	if tz != "+00:00" || !strings.Contains(mode, "STRICT_ALL_TABLES") || iso != "READ-COMMITTED" {
		t.Fatalf("time_zone %q, sql_mode %q, isolation %q", tz, mode, iso)
	}
}
