package auth

import (
	"context"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

func newSubService(t *testing.T) *Service {
	t.Helper()
	svc, err := New(context.Background(), Config{Store: openSQLite(t), MasterKey: key(t), Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// revokeN records n session revocations in the store's feed.
func revokeN(t *testing.T, svc *Service, n int) {
	t.Helper()
	u, err := svc.CreateUser(context.Background(), "sub"+time.Now().Format("150405.000000000"), "password-1", propusk.LevelUser, nil)
	must(t, err)
	for range n {
		s, err := svc.newSession(u.ID, propusk.Client{})
		must(t, err)
		must(t, svc.store.CreateSession(context.Background(), s))
		must(t, svc.Logoff(context.Background(), s.ID))
	}
}

// TestSubscription: replay then live without a gap or a repeat; a
// subscriber that falls SubscriptionBuffer entries behind is cut off and
// leaves the hub; a feed that starts over cuts everyone off.
func TestSubscription(t *testing.T) {
	ctx := context.Background()
	t.Run("ok/replay-then-live", func(t *testing.T) {
		svc := newSubService(t)
		base := svc.lastSeq // the first start's keys entry
		revokeN(t, svc, 3)
		must(t, svc.SyncFeed(ctx))
		sub, err := svc.Subscribe(ctx, base, true)
		must(t, err)
		defer sub.Close()
		revokeN(t, svc, 2)
		must(t, svc.SyncFeed(ctx))
		var seqs []int64
		for {
			events, err := sub.Replay(ctx)
			must(t, err)
			if len(events) == 0 {
				break
			}
			for _, e := range events {
				seqs = append(seqs, e.Seq)
			}
		}
		for len(sub.Live()) > 0 {
			if e := <-sub.Live(); sub.Take(e) {
				seqs = append(seqs, e.Seq)
			}
		}
		for i, s := range seqs {
			if s != base+int64(i+1) {
				t.Fatalf("seqs %v, want %d…%d once each", seqs, base+1, base+5)
			}
		}
		if len(seqs) != 5 || sub.Position() != base+5 || sub.Reset {
			t.Fatalf("seqs %v, position %d, reset %v", seqs, sub.Position(), sub.Reset)
		}
	})
	t.Run("ok/no-position-no-replay", func(t *testing.T) {
		svc := newSubService(t)
		base := svc.lastSeq
		revokeN(t, svc, 2)
		must(t, svc.SyncFeed(ctx))
		sub, err := svc.Subscribe(ctx, 0, false)
		must(t, err)
		defer sub.Close()
		if events, err := sub.Replay(ctx); err != nil || len(events) != 0 || sub.Position() != base+2 {
			t.Fatalf("replayed %v %v at %d", events, err, sub.Position())
		}
	})
	t.Run("fail/slow-subscriber-cut-off", func(t *testing.T) {
		svc := newSubService(t)
		sub, err := svc.Subscribe(ctx, 0, false)
		must(t, err)
		defer sub.Close()
		fast, err := svc.Subscribe(ctx, 0, false)
		must(t, err)
		defer fast.Close()
		events := make([]propusk.Event, SubscriptionBuffer+1)
		for i := range events {
			events[i] = propusk.Event{Seq: int64(i + 1), Kind: propusk.EventSession, Ref: "x"}
		}
		svc.hub.publish(events[:SubscriptionBuffer])
		for len(fast.Live()) > 0 {
			fast.Take(<-fast.Live())
		}
		svc.hub.publish(events[SubscriptionBuffer:])
		select {
		case <-sub.Gone():
		default:
			t.Fatal("a subscriber a buffer behind was not cut off")
		}
		select {
		case <-fast.Gone():
			t.Fatal("a subscriber that kept up was cut off")
		default:
		}
		if n := svc.Subscribers(); n != 1 {
			t.Fatalf("%d subscribers, want the one that kept up", n)
		}
	})
	t.Run("fail/feed-restart-cuts-everyone", func(t *testing.T) {
		svc := newSubService(t)
		sub, err := svc.Subscribe(ctx, 0, false)
		must(t, err)
		defer sub.Close()
		svc.hub.restart(0)
		select {
		case <-sub.Gone():
		default:
			t.Fatal("not cut off when the feed started over")
		}
	})
	t.Run("fail/reset", func(t *testing.T) {
		svc := newSubService(t)
		base := svc.lastSeq
		revokeN(t, svc, 3)
		must(t, svc.SyncFeed(ctx))
		must(t, svc.store.Prune(ctx, time.Now().Add(time.Hour))) // every entry
		for _, after := range []int64{0, base + 1, base + 99} {
			sub, err := svc.Subscribe(ctx, after, true)
			must(t, err)
			if !sub.Reset || sub.Position() != base+3 {
				t.Errorf("after %d: reset %v at %d, want a reset to %d", after, sub.Reset, sub.Position(), base+3)
			}
			sub.Close()
		}
		if n := svc.Subscribers(); n != 0 {
			t.Fatalf("%d subscribers left after Close", n)
		}
	})
}
