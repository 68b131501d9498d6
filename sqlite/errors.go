package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/propusk/propusk"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrap translates a driver error into propusk's vocabulary by result code,
// never by message, and gives everything op as context. Mapped errors keep the
// driver's error in their chain for the log; propusk.ErrorCode and
// propusk.ErrorMessage find the *propusk.Error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var perr *propusk.Error
	if errors.As(err, &perr) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, &propusk.Error{Code: propusk.ENOTFOUND, Message: "not found"})
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		code := serr.Code()
		switch code {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, &propusk.Error{Code: propusk.ECONFLICT, Message: "already exists"}, err)
		}
		// Only another process can still hold the lock after busy_timeout:
		// this process's writers queue on its one write connection.
		switch code & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlite: %s: %w: %w", op, &propusk.Error{Code: propusk.EUNAVAILABLE, Message: "the database is busy"}, err)
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
			// A full or failing disk: no request is at fault, and a retry
			// may succeed once an operator has made room.
			return fmt.Errorf("sqlite: %s: %w: %w", op, &propusk.Error{Code: propusk.EUNAVAILABLE, Message: "the database cannot write"}, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// busy reports whether err is SQLITE_BUSY or SQLITE_LOCKED: another
// connection holds the lock.
func busy(err error) bool {
	var serr *sqlite.Error
	if !errors.As(err, &serr) {
		return false
	}
	code := serr.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// notFound is the ENOTFOUND of a method that learns of the absence otherwise
// than through sql.ErrNoRows.
func notFound(op string) error {
	return fmt.Errorf("sqlite: %s: %w", op, &propusk.Error{Code: propusk.ENOTFOUND, Message: "not found"})
}

// noSchema turns err into "call Migrate first" when the schema is missing.
// SQLite reports a missing table with the generic SQLITE_ERROR, which wrap
// cannot tell from others without reading the message, so the one call every
// service makes first (SetMetaOnce, from auth.New) asks the catalogue
// instead, and only once it has failed.
func noSchema(ctx context.Context, tx *sql.Tx, err error) error {
	var n int
	if tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'propusk_meta')`).Scan(&n) == nil && n == 0 {
		return fmt.Errorf("%w: %w", &propusk.Error{Code: propusk.EUNAVAILABLE, Message: propusk.NoSchemaMessage}, err)
	}
	return err
}
