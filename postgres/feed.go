package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/propusk/propusk"
)

// Keys returns every stored key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]*propusk.Key, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT kid, use, sealed, public, created_at FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, wrap("keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*propusk.Key, error) {
		var k propusk.Key
		if err := row.Scan(&k.ID, &k.Use, &k.Sealed, &k.Public, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		return &k, nil
	})
	if err != nil {
		return nil, wrap("keys", err)
	}
	return keys, nil
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
	return s.write(ctx, "add keys", func(ctx context.Context, tx pgx.Tx) error {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, use, sealed, public, created_at) VALUES ($1, $2, $3, $4, $5)`,
				k.ID, k.Use, nonNil(k.Sealed), nilIfEmpty(k.Public), k.CreatedAt); err != nil {
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
	return s.write(ctx, "delete keys", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE kid = ANY ($1)`, ids); err != nil {
			return err
		}
		return appendEvents(ctx, tx, propusk.EventKeys, []string{""}, now)
	})
}

// nonNil keeps a NOT NULL bytea column from receiving NULL for a nil slice.
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

// Events returns the feed entries with Seq > after, in order, at most limit.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]propusk.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT seq, kind, ref, at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrap("events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (propusk.Event, error) {
		var e propusk.Event
		err := row.Scan(&e.Seq, &e.Kind, &e.Ref, &e.At)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, wrap("events", err)
	}
	return events, nil
}

// LastEvent returns the highest Seq in the feed, 0 when it is empty.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, wrap("last event", err)
	}
	return seq, nil
}

// Prune deletes the sessions that expired before the given time and the
// feed entries recorded before it. The two deletes are separate
// transactions: neither needs the other, and a delete of the feed never
// waits while holding session locks.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, before); err != nil {
		return wrap("prune sessions", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM events WHERE at < $1`, before); err != nil {
		return wrap("prune events", err)
	}
	return nil
}

// SetMetaOnce stores value under name unless one is there, and returns the
// value stored. Of concurrent callers, the losers' INSERT waits for the
// winner's to commit and then does nothing; the SELECT after it, a new
// statement under READ COMMITTED, sees the winner's value.
func (s *Store) SetMetaOnce(ctx context.Context, name, value string) (string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
		return "", wrap("set meta once", err)
	}
	var stored string
	if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&stored); err != nil {
		return "", wrap("set meta once", err)
	}
	return stored, nil
}
