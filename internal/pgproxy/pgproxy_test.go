package pgproxy_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/internal/pgproxy"
	"github.com/propusk/propusk/postgres/pgtest"
)

// Through reroutes a postgres:// DSN through p.
func through(t *testing.T, dsn string, p *pgproxy.Proxy) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr()
	return u.String()
}

func TestCountAndCut(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, _ := url.Parse(dsn)
	p, err := pgproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, through(t, dsn, p))
	if err != nil {
		t.Fatal(err)
	}
	before := p.Statements()
	for i := range 3 {
		var n int
		if err := conn.QueryRow(ctx, "SELECT $1::int", i).Scan(&n); err != nil || n != i {
			t.Fatalf("select %d: %v %d", i, err, n)
		}
	}
	if got := p.Statements() - before; got != 3 {
		t.Fatalf("counted %d statements, want 3", got)
	}

	p.Down()
	if err := conn.Ping(ctx); err == nil {
		t.Fatal("a connection survived Down")
	}
	if c, err := pgx.Connect(ctx, through(t, dsn, p)); err == nil {
		c.Close(ctx)
		t.Fatal("connected while down")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, through(t, dsn, p))
	if err != nil {
		t.Fatalf("after Up: %v", err)
	}
	conn.Close(ctx)

	if err := p.Hang(); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if c, err := pgx.Connect(short, through(t, dsn, p)); err == nil {
		c.Close(ctx)
		t.Fatal("connected while hanging")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, through(t, dsn, p))
	if err != nil {
		t.Fatalf("after hanging: %v", err)
	}
	conn.Close(ctx)
}
