package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/propusk/propusk/internal/rename"
)

// pool is the store's connection pool. Every statement the store runs
// passes through it, or through a transaction it began, and is rewritten
// by r first (package rename): nothing outside Laravel mode, where r is
// nil, and propusk's own table names in it (see laravel.go).
type pool struct {
	*pgxpool.Pool
	r *rename.Renamer
}

// Exec implements pgxQ.
func (p *pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return p.Pool.Exec(ctx, p.r.SQL(sql), args...)
}

// Query implements pgxQ.
func (p *pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return p.Pool.Query(ctx, p.r.SQL(sql), args...)
}

// QueryRow implements pgxQ.
func (p *pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return p.Pool.QueryRow(ctx, p.r.SQL(sql), args...)
}

// Begin begins a transaction whose statements are rewritten as the pool's.
func (p *pool) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.Pool.Begin(ctx)
	if err != nil || p.r == nil {
		return tx, err
	}
	return &renamedTx{tx, p.r}, nil
}

// renamedTx is a transaction of a pool in Laravel mode.
type renamedTx struct {
	pgx.Tx
	r *rename.Renamer
}

func (t *renamedTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.Tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &renamedTx{tx, t.r}, nil
}

func (t *renamedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.Tx.Exec(ctx, t.r.SQL(sql), args...)
}

func (t *renamedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.Tx.Query(ctx, t.r.SQL(sql), args...)
}

func (t *renamedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.Tx.QueryRow(ctx, t.r.SQL(sql), args...)
}

func (t *renamedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.Tx.Prepare(ctx, name, t.r.SQL(sql))
}

func (t *renamedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	for _, q := range b.QueuedQueries {
		q.SQL = t.r.SQL(q.SQL)
	}
	return t.Tx.SendBatch(ctx, b)
}
