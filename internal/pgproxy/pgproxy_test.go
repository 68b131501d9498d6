package pgproxy_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk/internal/pgproxy"
	"github.com/propusk/propusk/postgres/pgtest"
)

func TestCountAndCut(t *testing.T) {
	p, dsn, err := pgproxy.For(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, dsn)
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
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		c.Close(ctx)
		t.Fatal("connected while down")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("after Up: %v", err)
	}
	conn.Close(ctx)

	if err := p.Hang(); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if c, err := pgx.Connect(short, dsn); err == nil {
		c.Close(ctx)
		t.Fatal("connected while hanging")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("after hanging: %v", err)
	}
	defer conn.Close(ctx)

	// Silenced, an open connection stays open but hears nothing back.
	p.Silence()
	short, cancelSilent := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelSilent()
	if err := conn.Ping(short); err == nil {
		t.Fatal("a ping was answered while silenced")
	}
	if err := p.Up(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("after silence: %v", err)
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("ping after silence: %v", err)
	}
	conn.Close(ctx)
}
