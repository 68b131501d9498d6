package mysql

import (
	"context"
	"database/sql"
	"time"

	"github.com/propusk/propusk"
)

const keyColumns = "kid, `use`, sealed, public, created_at"

// Keys returns every stored key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]*propusk.Key, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	keys, err := readKeys(ctx, s.db)
	return keys, wrap("keys", err)
}

// querier is a pool or a transaction, for queries of many rows.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readKeys(ctx context.Context, q querier) ([]*propusk.Key, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []*propusk.Key
	for rows.Next() {
		var (
			k       propusk.Key
			created time.Time
		)
		if err := rows.Scan(&k.ID, &k.Use, &k.Sealed, &k.Public, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = created.UTC()
		keys = append(keys, &k)
	}
	return keys, rows.Err()
}

func insertKey(ctx context.Context, tx *sql.Tx, k *propusk.Key) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Use, nonNil(k.Sealed), nilIfEmpty(k.Public), ms(k.CreatedAt))
	return err
}

// AddKeys inserts the keys and appends one EventKeys, in one transaction.
// A zero CreatedAt becomes Now. ECONFLICT if a key id exists.
func (s *Store) AddKeys(ctx context.Context, keys ...*propusk.Key) error {
	if len(keys) == 0 {
		return nil
	}
	now := s.now()
	for _, k := range keys {
		if k.CreatedAt.IsZero() {
			k.CreatedAt = now
		}
		k.CreatedAt = propusk.TruncMillis(k.CreatedAt)
	}
	return s.write(ctx, "add keys", func(ctx context.Context, tx *sql.Tx) error {
		for _, k := range keys {
			if err := insertKey(ctx, tx, k); err != nil {
				return err
			}
		}
		return appendEvents(ctx, tx, propusk.EventKeys, []string{""}, now)
	})
}

// DeleteKeys deletes the keys by id and appends one EventKeys, in one
// transaction. Ids that do not exist are skipped.
func (s *Store) DeleteKeys(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.now()
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return s.write(ctx, "delete keys", func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE kid IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventKeys, []string{""}, now)
	})
}

// AddMissingKeys inserts each key whose use has none stored and returns
// every stored key, oldest first. The lock on store_locks' 'keys' row,
// taken first, queues every other AddMissingKeys behind this transaction,
// so of several processes starting at once on an empty database one
// inserts and the others find its keys.
func (s *Store) AddMissingKeys(ctx context.Context, keys ...*propusk.Key) ([]*propusk.Key, error) {
	now := s.now()
	var stored []*propusk.Key
	err := s.write(ctx, "add missing keys", func(ctx context.Context, tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM store_locks WHERE name = 'keys' FOR UPDATE`).Scan(&name); err != nil {
			return err
		}
		have, err := readKeys(ctx, tx)
		if err != nil {
			return err
		}
		uses := map[string]bool{}
		for _, k := range have {
			uses[k.Use] = true
		}
		added := false
		for _, k := range keys {
			if uses[k.Use] {
				continue
			}
			if k.CreatedAt.IsZero() {
				k.CreatedAt = now
			}
			k.CreatedAt = propusk.TruncMillis(k.CreatedAt)
			if err := insertKey(ctx, tx, k); err != nil {
				return err
			}
			uses[k.Use], added = true, true
		}
		if stored, err = readKeys(ctx, tx); err != nil || !added {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventKeys, []string{""}, now)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// nonNil keeps a NOT NULL blob column from receiving NULL for a nil slice.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nilIfEmpty stores an absent public key as NULL.
func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
