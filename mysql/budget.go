package mysql

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/propusk/propusk"
)

// reserveSQL takes one attempt from each budget at ? (a window ending at the
// row's own value for a key without a live one), in one statement. The SET
// list is evaluated left to right: n is decided on the old ends_at, before
// ends_at moves.
const reserveSQL = "INSERT INTO budgets (`key`, n, ends_at) VALUES %s ON DUPLICATE KEY UPDATE " +
	"n = IF(ends_at <= ?, 1, n + 1), ends_at = IF(ends_at <= ?, VALUES(ends_at), ends_at)"

// ReserveBudgets implements propusk.Budgets, in one transaction: it counts
// every attempt first (reserveSQL), reads the counts, and gives the
// attempts back if any is over its limit. Counting first and checking after
// errs on the safe side: no number of concurrent reservations, on any
// number of processes, admits more than a budget allows. Keys are sorted,
// so concurrent reservations lock rows in one order.
func (s *Store) ReserveBudgets(ctx context.Context, bs []propusk.Budget, now time.Time) (bool, time.Time, error) {
	if len(bs) == 0 {
		return true, time.Time{}, nil
	}
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b propusk.Budget) int { return strings.Compare(a.Key, b.Key) })
	now = ms(now)
	var (
		values []string
		args   []any
		keys   []any
	)
	limits := make(map[string]int, len(bs))
	for _, b := range bs {
		values = append(values, "(?, 1, ?)")
		args = append(args, b.Key, ms(now.Add(b.Window)))
		keys = append(keys, b.Key)
		limits[b.Key] = b.Limit
	}
	args = append(args, now, now)
	var (
		ok    bool
		retry time.Time
	)
	err := s.write(ctx, "reserve budgets", func(ctx context.Context, tx *sql.Tx) error {
		ok, retry = false, time.Time{}
		if _, err := tx.ExecContext(ctx, strings.Replace(reserveSQL, "%s", strings.Join(values, ", "), 1), args...); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT `key`, n, ends_at FROM budgets WHERE `key` IN ("+placeholders(len(keys))+")", keys...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k   string
				n   int
				end time.Time
			)
			if err := rows.Scan(&k, &n, &end); err != nil {
				return err
			}
			if n > limits[k] && end.After(retry) {
				retry = end.UTC()
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if retry.IsZero() {
			ok = true
			return nil
		}
		// Over a limit: the whole reservation is refused, and rolled back.
		return errRefused
	})
	if errors.Is(err, errRefused) {
		return false, retry, nil
	}
	if err != nil {
		return false, time.Time{}, err
	}
	return ok, time.Time{}, nil
}

// ReleaseBudgets implements propusk.Budgets, in one transaction.
func (s *Store) ReleaseBudgets(ctx context.Context, giveBack, clear []string, now time.Time) error {
	if len(giveBack) == 0 && len(clear) == 0 {
		return nil
	}
	return s.write(ctx, "release budgets", func(ctx context.Context, tx *sql.Tx) error {
		if len(clear) > 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM budgets WHERE `key` IN ("+placeholders(len(clear))+")", anys(clear)...); err != nil {
				return err
			}
		}
		if len(giveBack) > 0 {
			args := append(anys(giveBack), ms(now))
			if _, err := tx.ExecContext(ctx, "UPDATE budgets SET n = n - 1 WHERE `key` IN ("+placeholders(len(giveBack))+") AND n > 0 AND ends_at > ?", args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// PruneBudgets implements propusk.Budgets.
func (s *Store) PruneBudgets(ctx context.Context, now time.Time) error {
	return s.retry(ctx, "prune budgets", func(ctx context.Context) error {
		_, err := s.db.ExecContext(ctx, `DELETE FROM budgets WHERE ends_at <= ?`, ms(now))
		return err
	})
}

// errRefused rolls back a reservation over a limit: its attempts are given
// back by the rollback itself.
var errRefused = errors.New("over budget")

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
