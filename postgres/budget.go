package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/propusk/propusk"
)

// reserveSQL takes one attempt from each budget $1 at $2 (a window ending
// at $3 for a key without a live one) in one statement and one round trip,
// and returns the counts. A count over its limit means the reservation is
// refused, and its attempts are given back (giveBackSQL): counting first and
// checking after errs on the safe side, as a refused reservation may briefly
// refuse a concurrent one, but no number of concurrent reservations, on
// any number of processes, admits more than a budget allows. Keys come
// sorted, so concurrent statements lock rows in one order and cannot deadlock.
const reserveSQL = `INSERT INTO budgets AS b (key, n, ends_at)
SELECT k, 1, e FROM unnest($1::text[], $3::timestamptz[]) AS t (k, e)
ON CONFLICT (key) DO UPDATE SET
	n = CASE WHEN b.ends_at <= $2 THEN 1 ELSE b.n + 1 END,
	ends_at = CASE WHEN b.ends_at <= $2 THEN excluded.ends_at ELSE b.ends_at END
RETURNING key, n, ends_at`

// giveBackSQL gives one attempt back to each key $1 if its window still ends
// at $2 (not one that started since).
const giveBackSQL = `UPDATE budgets b SET n = b.n - 1
FROM unnest($1::text[], $2::timestamptz[]) AS t (k, e)
WHERE b.key = t.k AND b.ends_at = t.e AND b.n > 0`

// ReserveBudgets implements propusk.Budgets; see reserveSQL.
func (s *Store) ReserveBudgets(ctx context.Context, bs []propusk.Budget, now time.Time) (bool, time.Time, error) {
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b propusk.Budget) int { return strings.Compare(a.Key, b.Key) })
	keys := make([]string, len(bs))
	ends := make([]time.Time, len(bs))
	limits := make(map[string]int, len(bs))
	for i, b := range bs {
		keys[i], ends[i], limits[b.Key] = b.Key, now.Add(b.Window), b.Limit
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, reserveSQL, keys, now, ends)
	if err != nil {
		return false, time.Time{}, wrap("reserve budgets", err)
	}
	var retry time.Time
	taken, windows := keys[:0:0], ends[:0:0]
	for rows.Next() {
		var k string
		var n int
		var end time.Time
		if err := rows.Scan(&k, &n, &end); err != nil {
			rows.Close()
			return false, time.Time{}, wrap("reserve budgets", err)
		}
		taken, windows = append(taken, k), append(windows, end)
		if n > limits[k] && end.After(retry) {
			retry = end
		}
	}
	if err := rows.Err(); err != nil {
		return false, time.Time{}, wrap("reserve budgets", err)
	}
	if retry.IsZero() {
		return true, time.Time{}, nil
	}
	if _, err := s.pool.Exec(ctx, giveBackSQL, taken, windows); err != nil {
		return false, time.Time{}, wrap("reserve budgets: give back", err)
	}
	return false, retry, nil
}

// ReleaseBudgets implements propusk.Budgets, in one statement.
func (s *Store) ReleaseBudgets(ctx context.Context, giveBack, clear []string, now time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM budgets WHERE key = ANY($2::text[]))
		UPDATE budgets SET n = n - 1 WHERE key = ANY($1::text[]) AND n > 0 AND ends_at > $3`,
		emptyIfNil(giveBack), emptyIfNil(clear), now)
	return wrap("release budgets", err)
}

// PruneBudgets implements propusk.Budgets.
func (s *Store) PruneBudgets(ctx context.Context, now time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `DELETE FROM budgets WHERE ends_at <= $1`, now)
	return wrap("prune budgets", err)
}

// emptyIfNil makes a nil slice an empty array rather than SQL NULL.
func emptyIfNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var _ propusk.Budgets = (*Store)(nil)
