package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/propusk/propusk"
)

// Keys returns every stored key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]*propusk.Key, error) {
	rows, err := s.ro.QueryContext(ctx, `SELECT kid, use, sealed, public, created_at FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, wrap("keys", err)
	}
	defer rows.Close()
	var keys []*propusk.Key
	for rows.Next() {
		var (
			k       propusk.Key
			created int64
		)
		if err := rows.Scan(&k.ID, &k.Use, &k.Sealed, &k.Public, &created); err != nil {
			return nil, wrap("keys", err)
		}
		k.CreatedAt = fromMillis(created)
		keys = append(keys, &k)
	}
	return keys, wrap("keys", rows.Err())
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
	return s.write(ctx, "add keys", func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, use, sealed, public, created_at) VALUES (?, ?, ?, ?, ?)`,
				k.ID, k.Use, nonNil(k.Sealed), k.Public, millis(k.CreatedAt)); err != nil {
				return err
			}
		}
		return appendEvent(ctx, tx, propusk.EventKeys, "", now)
	})
}

// DeleteKeys deletes the keys by id and appends one EventKeys, in one
// transaction. Ids that do not exist are skipped.
func (s *Store) DeleteKeys(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.now()
	return s.write(ctx, "delete keys", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE kid = ?`, id); err != nil {
				return err
			}
		}
		return appendEvent(ctx, tx, propusk.EventKeys, "", now)
	})
}

// nonNil keeps a NOT NULL blob column from receiving NULL for an empty slice.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Events returns the feed entries with Seq > after, in order, at most limit.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]propusk.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.ro.QueryContext(ctx, `SELECT seq, kind, ref, at FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("events", err)
	}
	defer rows.Close()
	var events []propusk.Event
	for rows.Next() {
		var (
			e  propusk.Event
			at int64
		)
		if err := rows.Scan(&e.Seq, &e.Kind, &e.Ref, &at); err != nil {
			return nil, wrap("events", err)
		}
		e.At = fromMillis(at)
		events = append(events, e)
	}
	return events, wrap("events", rows.Err())
}

// LastEvent returns the highest Seq in the feed, 0 when it is empty.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.ro.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, wrap("last event", err)
	}
	return seq, nil
}

// Prune deletes the sessions that expired before the given time and the
// feed entries recorded before it.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	return s.write(ctx, "prune", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, millis(before)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM events WHERE at < ?`, millis(before))
		return err
	})
}

// SetMetaOnce stores value under name unless one is there, and returns the
// value stored.
func (s *Store) SetMetaOnce(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := s.write(ctx, "set meta once", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return noSchema(ctx, tx, err)
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&stored)
	})
	return stored, err
}
