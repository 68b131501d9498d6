package rename

import (
	"context"
	"database/sql/driver"
	"errors"
)

// Connector returns a connector whose connections rewrite every statement
// with r before the driver sees it, for the stores on database/sql: code
// that runs SQL through a *sql.DB or *sql.Tx opened on it needs no change.
func Connector(base driver.Connector, r *Renamer) driver.Connector {
	return connector{base, r}
}

type connector struct {
	driver.Connector
	r *Renamer
}

// Connect implements driver.Connector.
func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &renamingConn{conn, c.r}, nil
}

// renamingConn forwards every optional interface database/sql looks for, so the
// wrapped connection keeps its context handling, validation and checks.
type renamingConn struct {
	driver.Conn
	r *Renamer
}

// Unwrap returns the driver's connection.
func (c *renamingConn) Unwrap() driver.Conn { return c.Conn }

func (c *renamingConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(c.r.SQL(query))
}

func (c *renamingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, c.r.SQL(query))
	}
	return c.Prepare(query)
}

func (c *renamingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, c.r.SQL(query), args)
	}
	return nil, driver.ErrSkip
}

func (c *renamingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, c.r.SQL(query), args)
	}
	return nil, driver.ErrSkip
}

func (c *renamingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	if opts.Isolation != 0 || opts.ReadOnly {
		return nil, errors.New("rename: the driver cannot begin a transaction with options")
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver has nothing better
}

func (c *renamingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *renamingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *renamingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *renamingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

var (
	_ driver.ConnPrepareContext = (*renamingConn)(nil)
	_ driver.ExecerContext      = (*renamingConn)(nil)
	_ driver.QueryerContext     = (*renamingConn)(nil)
	_ driver.ConnBeginTx        = (*renamingConn)(nil)
	_ driver.Pinger             = (*renamingConn)(nil)
	_ driver.SessionResetter    = (*renamingConn)(nil)
	_ driver.Validator          = (*renamingConn)(nil)
	_ driver.NamedValueChecker  = (*renamingConn)(nil)
)
