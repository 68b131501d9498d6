package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/go-sql-driver/mysql"

	"github.com/propusk/propusk"
)

// MySQL and MariaDB error numbers the store maps; both servers use the same
// numbers for all of them.
const (
	errTableFull          = 1114 // ER_RECORD_FILE_FULL: the table (or disk) is full
	errDiskFull           = 1021 // ER_DISK_FULL
	errOutOfMemory        = 1037 // ER_OUTOFMEMORY
	errOutOfSortMemory    = 1038 // ER_OUT_OF_SORTMEMORY
	errConCount           = 1040 // ER_CON_COUNT_ERROR: too many connections
	errServerShutdown     = 1053 // ER_SERVER_SHUTDOWN
	errDupEntry           = 1062 // ER_DUP_ENTRY
	errNoSuchTable        = 1146 // ER_NO_SUCH_TABLE
	errLockWaitTimeout    = 1205 // ER_LOCK_WAIT_TIMEOUT
	errLockDeadlock       = 1213 // ER_LOCK_DEADLOCK
	errTooManyUserConns   = 1203 // ER_TOO_MANY_USER_CONNECTIONS
	errUserLimitReached   = 1226 // ER_USER_LIMIT_REACHED
	errReadOnly           = 1290 // ER_OPTION_PREVENTS_STATEMENT (read_only)
	errTruncatedValue     = 1292 // ER_TRUNCATED_WRONG_VALUE: a time out of range
	errWarnDataOutOfRange = 1264 // ER_WARN_DATA_OUT_OF_RANGE
	errIncorrectString    = 1366 // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: invalid UTF-8
	errDataTooLong        = 1406 // ER_DATA_TOO_LONG
	errQueryInterrupted   = 1317 // ER_QUERY_INTERRUPTED
	errConnectionKilled   = 1927 // ER_CONNECTION_KILLED (MariaDB)
	errServerGone         = 2006 // CR_SERVER_GONE_ERROR
	errServerLost         = 2013 // CR_SERVER_LOST
)

// wrap translates a driver error into propusk's vocabulary by error number
// and error type, never by message, and gives everything op as context.
// Mapped errors keep the driver's error in their chain for the log.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var perr *propusk.Error
	if errors.As(err, &perr) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op)
	}
	if unavailable(err) {
		return fmt.Errorf("mysql: %s: %w: %w", op, &propusk.Error{Code: propusk.EUNAVAILABLE, Message: "the database is unavailable"}, err)
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case errDupEntry:
			return fmt.Errorf("mysql: %s: %w: %w", op, &propusk.Error{Code: propusk.ECONFLICT, Message: "already exists"}, err)
		case errNoSuchTable: // the schema is missing, not the request wrong
			return fmt.Errorf("mysql: %s: %w: %w", op, &propusk.Error{Code: propusk.EUNAVAILABLE, Message: propusk.NoSchemaMessage}, err)
		case errIncorrectString, errDataTooLong, errTruncatedValue, errWarnDataOutOfRange:
			// The service validates input before it gets here; this is the
			// net under it, so a client's bytes never cause a 500.
			return fmt.Errorf("mysql: %s: %w: %w", op, &propusk.Error{Code: propusk.EINVALID, Message: "the input contains text the database cannot store"}, err)
		}
	}
	return fmt.Errorf("mysql: %s: %w", op, err)
}

// notFound is the ENOTFOUND of op.
func notFound(op string) error {
	return fmt.Errorf("mysql: %s: %w", op, &propusk.Error{Code: propusk.ENOTFOUND, Message: "not found"})
}

// retryable reports whether err is a deadlock or a lock wait timeout: the
// server rolled back the statement or transaction, which may simply be run
// again.
func retryable(err error) bool {
	var myErr *mysql.MySQLError
	return errors.As(err, &myErr) && (myErr.Number == errLockDeadlock || myErr.Number == errLockWaitTimeout)
}

// unavailable reports whether err means the database cannot be reached, did
// not answer in time, is out of room, or stayed locked past the retries,
// rather than that it refused the statement.
func unavailable(err error) bool {
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case errTableFull, errDiskFull, errOutOfMemory, errOutOfSortMemory,
			errConCount, errTooManyUserConns, errUserLimitReached, errServerShutdown,
			errReadOnly, errQueryInterrupted, errConnectionKilled, errServerGone, errServerLost,
			errLockDeadlock, errLockWaitTimeout:
			return true
		}
		return false
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}
