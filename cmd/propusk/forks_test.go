package main

import (
	"context"
	"database/sql"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// countForks counts the forked chains of session sid in the database of
// dsn, in its own dialect: no store method reads them.
func countForks(ctx context.Context, dsn, sid string) (int, error) {
	var n int
	if !strings.HasPrefix(dsn, "mysql://") {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return 0, err
		}
		defer conn.Close(context.Background())
		err = conn.QueryRow(ctx, `SELECT count(*) FROM session_forks WHERE session_id = $1`, sid).Scan(&n)
		return n, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return 0, err
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", u.Host, strings.TrimPrefix(u.Path, "/")
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return 0, err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM session_forks WHERE session_id = ?`, sid).Scan(&n)
	return n, err
}
