package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/propusk/propusk"
)

// wrap translates a driver error into propusk's vocabulary by SQLSTATE and
// error type, never by message, and gives everything op as context. Mapped
// errors keep the driver's error in their chain for the log;
// propusk.ErrorCode and propusk.ErrorMessage find the *propusk.Error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var perr *propusk.Error
	if errors.As(err, &perr) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(op)
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, &propusk.Error{Code: propusk.EUNAVAILABLE, Message: "the database is unavailable"}, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w: %w", op, &propusk.Error{Code: propusk.ECONFLICT, Message: "already exists"}, err)
		case "42P01": // undefined_table: the schema is missing, not the request wrong
			return fmt.Errorf("postgres: %s: %w: %w", op, &propusk.Error{Code: propusk.EUNAVAILABLE, Message: propusk.NoSchemaMessage}, err)
		case "22021", // character_not_in_repertoire: invalid UTF-8
			"22P05", // untranslatable_character: a NUL byte in text
			"22001": // string_data_right_truncation: longer than the column
			// The service validates input before it gets here; this is the
			// net under it, so a client's bytes never cause a 500.
			return fmt.Errorf("postgres: %s: %w: %w", op, &propusk.Error{Code: propusk.EINVALID, Message: "the input contains text the database cannot store"}, err)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// notFound is the ENOTFOUND of op.
func notFound(op string) error {
	return fmt.Errorf("postgres: %s: %w", op, &propusk.Error{Code: propusk.ENOTFOUND, Message: "not found"})
}

// unavailable reports whether err means the database cannot be reached or
// did not answer in time, rather than that it refused the statement.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or in recovery
			"58030": // io_error: a failing disk
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") || // connection_exception
			// insufficient_resources: disk_full, out_of_memory,
			// too_many_connections, configuration_limit_exceeded.
			strings.HasPrefix(pgErr.Code, "53")
	}
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded),
		pgconn.Timeout(err),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}
