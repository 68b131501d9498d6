package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/propusk/propusk"
)

// ReserveBudgets implements propusk.Budgets. One write transaction reads
// the counts and takes the attempts, so the writers of this process and of
// others sharing the file take turns and the check is exact.
func (s *Store) ReserveBudgets(ctx context.Context, bs []propusk.Budget, now time.Time) (bool, time.Time, error) {
	var retry time.Time
	err := s.write(ctx, "reserve budgets", func(tx *sql.Tx) error {
		for _, b := range bs {
			var n, ends int64
			err := tx.QueryRowContext(ctx, `SELECT n, ends_at FROM budgets WHERE key = ?`, b.Key).Scan(&n, &ends)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if end := fromMillis(ends); now.Before(end) && n >= int64(b.Limit) && end.After(retry) {
				retry = end
			}
		}
		if !retry.IsZero() {
			return nil
		}
		for _, b := range bs {
			_, err := tx.ExecContext(ctx, `INSERT INTO budgets (key, n, ends_at) VALUES (?1, 1, ?2)
				ON CONFLICT (key) DO UPDATE SET
					n = CASE WHEN ends_at <= ?3 THEN 1 ELSE n + 1 END,
					ends_at = CASE WHEN ends_at <= ?3 THEN excluded.ends_at ELSE ends_at END`,
				b.Key, millis(now.Add(b.Window)), millis(now))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, time.Time{}, err
	}
	return retry.IsZero(), retry, nil
}

// ReleaseBudgets implements propusk.Budgets.
func (s *Store) ReleaseBudgets(ctx context.Context, giveBack, clear []string, now time.Time) error {
	return s.write(ctx, "release budgets", func(tx *sql.Tx) error {
		for _, k := range giveBack {
			if _, err := tx.ExecContext(ctx, `UPDATE budgets SET n = n - 1 WHERE key = ? AND n > 0 AND ends_at > ?`, k, millis(now)); err != nil {
				return err
			}
		}
		for _, k := range clear {
			if _, err := tx.ExecContext(ctx, `DELETE FROM budgets WHERE key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// PruneBudgets implements propusk.Budgets.
func (s *Store) PruneBudgets(ctx context.Context, now time.Time) error {
	return s.write(ctx, "prune budgets", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM budgets WHERE ends_at <= ?`, millis(now))
		return err
	})
}

var _ propusk.Budgets = (*Store)(nil)
