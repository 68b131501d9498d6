// Package testenv gives tests what they share: a fake clock and migrated
// stores on throwaway databases. Only tests import it.
package testenv

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/postgres"
	"github.com/propusk/propusk/postgres/pgtest"
	"github.com/propusk/propusk/sqlite"
)

// Clock is a fake clock: tests move time instead of sleeping. It is safe
// for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at t; the zero t means 2030-01-02 03:04:05 UTC.
func NewClock(t time.Time) *Clock {
	if t.IsZero() {
		t = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	return &Clock{now: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d (back, when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// SQLite returns a migrated SQLite store in a file of t.TempDir(), closed at
// the test's end, and the file's path.
func SQLite(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "propusk.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// Postgres returns a migrated PostgreSQL store on a fresh schema (see
// pgtest.DSN: it skips loudly when PostgreSQL is absent, and fails under CI),
// closed at the test's end, and its DSN.
func Postgres(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dsn
}

// JWTClaims decodes a JWT's payload without verifying it.
func JWTClaims(t testing.TB, tok string) map[string]any {
	t.Helper()
	var m map[string]any
	DecodeJWT(t, tok, 1, &m)
	return m
}

// JWTHeader decodes a JWT's header without verifying it.
func JWTHeader(t testing.TB, tok string) map[string]any {
	t.Helper()
	var m map[string]any
	DecodeJWT(t, tok, 0, &m)
	return m
}

// DecodeJWT decodes part i of a JWT (0 the header, 1 the claims) into out,
// without verifying it.
func DecodeJWT(t testing.TB, tok string, i int, out any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		t.Fatalf("JWT part %d: %v", i, err)
	}
}

// LogBuffer collects what a logger or a child process writes, safe for
// the goroutines of the server under test.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// JSONLines returns the JSON log lines written so far at level, in order.
func (l *LogBuffer) JSONLines(t testing.TB, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["level"] == level {
			out = append(out, m)
		}
	}
	return out
}
