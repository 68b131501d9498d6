// Package mytest gives each test a MySQL or MariaDB database of its own, on
// the server named by $PROPUSK_TEST_MYSQL, dropped when the test ends, so
// tests run in parallel and leave nothing behind.
//
// When the server cannot be reached the test is skipped, with a line on the
// terminal even without -v, except under CI (CI set to anything), where it
// fails: CI never skips (package internal/missing).
package mytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/propusk/propusk/internal/missing"
)

// DefaultDSN is the server used when PROPUSK_TEST_MYSQL is unset: root
// without a password, as Debian's mariadb-server allows over TCP once
// .ci/run has set it up. Its database part is ignored.
const DefaultDSN = "mysql://root@127.0.0.1:3306/"

// BaseDSN returns $PROPUSK_TEST_MYSQL, or DefaultDSN when it is unset.
func BaseDSN() string {
	if dsn := os.Getenv("PROPUSK_TEST_MYSQL"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// DSN creates a database propusk_test_<random> on the server of BaseDSN and
// returns a mysql:// DSN for it. The database is dropped in t.Cleanup,
// which runs after the cleanups the test registers later, such as closing
// its store.
func DSN(t testing.TB) string {
	t.Helper()
	base, err := url.Parse(BaseDSN())
	if err != nil || base.Scheme != "mysql" {
		t.Fatalf("mytest: $PROPUSK_TEST_MYSQL: want mysql://user:password@host:port/")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := connect(ctx, base)
	if err != nil {
		missing.Skip(t, fmt.Sprintf("MySQL/MariaDB not reachable at %s (set PROPUSK_TEST_MYSQL; .ci/run starts one): %v", base.Host, err))
	}
	defer db.Close()
	name := "propusk_test_" + random()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("mytest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := connect(ctx, base)
		if err != nil {
			t.Errorf("mytest: drop database %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("mytest: drop database %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	return u.String()
}

// connect opens one connection to the server of base, with no database.
func connect(ctx context.Context, base *url.URL) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", base.Host
	if base.Port() == "" {
		cfg.Addr = base.Hostname() + ":3306"
	}
	cfg.User = base.User.Username()
	cfg.Passwd, _ = base.User.Password()
	cfg.Timeout = 3 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func random() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
