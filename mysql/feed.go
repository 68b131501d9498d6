package mysql

import (
	"context"
	"time"

	"github.com/propusk/propusk"
)

// Events returns the feed entries with Seq > after, in order, at most limit:
// a range read of the primary key, which is what every process polls.
func (s *Store) Events(ctx context.Context, after int64, limit int) ([]propusk.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT seq, kind, ref, at FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("events", err)
	}
	defer rows.Close()
	var events []propusk.Event
	for rows.Next() {
		var e propusk.Event
		if err := rows.Scan(&e.Seq, &e.Kind, &e.Ref, &e.At); err != nil {
			return nil, wrap("events", err)
		}
		e.At = e.At.UTC()
		events = append(events, e)
	}
	return events, wrap("events", rows.Err())
}

// LastEvent returns the highest Seq in the feed, 0 when it is empty.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq); err != nil {
		return 0, wrap("last event", err)
	}
	return seq, nil
}

// Prune deletes the sessions that expired before the given time and the
// feed entries recorded before it, in two statements.
func (s *Store) Prune(ctx context.Context, before time.Time) error {
	if err := s.retry(ctx, "prune sessions", func(ctx context.Context) error {
		_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, ms(before))
		return err
	}); err != nil {
		return err
	}
	return s.retry(ctx, "prune events", func(ctx context.Context) error {
		_, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE at < ?`, ms(before))
		return err
	})
}

// SetMetaOnce stores value under name unless one is there, and returns the
// value stored. A loser's INSERT IGNORE waits for the winner's row lock and
// then inserts nothing; the SELECT after it, a new statement under READ
// COMMITTED, sees the winner's value.
func (s *Store) SetMetaOnce(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := s.retry(ctx, "set meta once", func(ctx context.Context) error {
		// Not INSERT IGNORE: it would turn a bad value's error into a warning.
		if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = name`, name, value); err != nil {
			return err
		}
		return s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&stored)
	})
	return stored, err
}
