// Package pgtest gives each test a PostgreSQL database of its own: a fresh
// schema on the server named by $PROPUSK_TEST_POSTGRES, dropped when the test
// ends, so tests run in parallel and leave nothing behind.
//
// When the server cannot be reached the test is skipped, with a line on the
// terminal even without -v, except under CI (CI set to anything), where it
// fails: CI never skips (package internal/missing).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/propusk/propusk/internal/missing"
)

// DefaultDSN is the server used when PROPUSK_TEST_POSTGRES is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseDSN returns $PROPUSK_TEST_POSTGRES, or DefaultDSN when it is unset.
func BaseDSN() string {
	if dsn := os.Getenv("PROPUSK_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// DSN creates a schema propusk_test_<random> on the server of BaseDSN and
// returns a DSN whose search_path is that schema; everything created
// through it lands there. The schema is dropped in t.Cleanup, which runs
// after the cleanups the test registers later, such as closing its store.
func DSN(t testing.TB) string {
	t.Helper()
	base := BaseDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := connect(ctx, base)
	if err != nil {
		missing.Skip(t, fmt.Sprintf("PostgreSQL not reachable at %s (set PROPUSK_TEST_POSTGRES; .ci/run starts one): %v", where(base), err))
	}
	defer conn.Close(context.Background())

	schema := "propusk_test_" + random()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withParam(base, "search_path", schema)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 3 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// where names the server of dsn without its credentials.
func where(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "(unparsable $PROPUSK_TEST_POSTGRES)"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// withParam sets a run-time parameter in a URL or key=value DSN.
func withParam(dsn, key, value string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse DSN: %w", err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " " + key + "=" + value, nil
}

func random() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
