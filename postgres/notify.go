package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Wait blocks until a feed entry may have been added, ctx ends, or the
// listening connection fails. The first Wait, and the first after a failure,
// connects, LISTENs and returns nil at once: entries may have been added
// while nobody listened, so the caller reads the feed before waiting again.
// A failure returns an error with code EUNAVAILABLE and the next Wait
// reconnects. When ctx ends, Wait returns ctx.Err() and keeps listening.
//
// After Heartbeat without a notification Wait pings the connection and
// returns nil (so the caller reads the feed, which costs one query), or the
// error of a connection that went silent.
//
// Wait is meant for one goroutine; concurrent calls take turns.
func (s *Store) Wait(ctx context.Context) error {
	select {
	case s.waiting <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing.Done():
		return errors.New("postgres: wait: store closed")
	}
	defer func() { <-s.waiting }()
	if s.closing.Err() != nil {
		return errors.New("postgres: wait: store closed")
	}
	// Close interrupts a Wait in progress by cancelling its context.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()

	if s.listener == nil {
		conn, err := s.connectListener(ctx)
		if err != nil {
			return wrap("wait", err)
		}
		s.listener = conn
		return nil
	}
	// A link that drops packets gives no error until TCP gives up, minutes
	// later, and notifications would stop without anyone knowing. So a quiet
	// spell of Heartbeat ends with a ping: a live connection waits on, a
	// dead one fails here within Timeout.
	quiet, stopQuiet := context.WithTimeout(ctx, s.heartbeat())
	_, err := s.listener.WaitForNotification(quiet)
	stopQuiet()
	if err == nil {
		return nil
	}
	if ctx.Err() == nil && quiet.Err() != nil && !s.listener.IsClosed() {
		pctx, cancel := s.bound(ctx)
		perr := s.listener.Ping(pctx)
		cancel()
		if perr == nil {
			return nil
		}
		s.dropListener()
		return wrap("wait", perr)
	}
	if ctx.Err() != nil && !s.listener.IsClosed() {
		// Interrupted between messages: the connection is still good.
		if s.closing.Err() != nil {
			return errors.New("postgres: wait: store closed")
		}
		return ctx.Err()
	}
	s.dropListener()
	return wrap("wait", err)
}

// connectListener opens the dedicated connection of Wait and LISTENs on the
// channel of the schema in use.
func (s *Store) connectListener(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, s.listen.Copy())
	if err != nil {
		return nil, err
	}
	var channel string
	err = conn.QueryRow(ctx, `SELECT `+channelExpr).Scan(&channel)
	if err == nil {
		_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
	}
	if err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

// dropListener closes the listening connection; the caller holds waiting.
func (s *Store) dropListener() {
	ctx, cancel := s.bound(context.Background())
	defer cancel()
	s.listener.Close(ctx)
	s.listener = nil
}

// DefaultHeartbeat is how long Wait listens in silence before it checks the
// connection.
const DefaultHeartbeat = 30 * time.Second

func (s *Store) heartbeat() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return DefaultHeartbeat
}
