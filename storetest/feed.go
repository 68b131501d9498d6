package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

func testEvents(t *testing.T, open OpenFunc) {
	t.Run("ok/empty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		last, err := s.LastEvent(ctxOf(t))
		must(t, "last event", err)
		if last != 0 {
			t.Errorf("last event of an empty feed = %d", last)
		}
		evs, err := s.Events(ctxOf(t), 0, 10)
		must(t, "events", err)
		if len(evs) != 0 {
			t.Errorf("events of an empty feed = %v", evs)
		}
	})
	t.Run("ok/order-after-limit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		var refs []string
		for i := range 5 {
			id := "s" + strconv.Itoa(i)
			refs = append(refs, propusk.EventSession+":"+id)
			newSession(t, s, id, u.ID, t0, t0.Add(time.Hour))
			must(t, "revoke", s.RevokeSession(ctxOf(t), id, 0, t0.Add(time.Duration(i)*time.Second)))
		}
		all := events(t, s)
		if got := kindRefs(all); !slices.Equal(got, refs) {
			t.Fatalf("feed = %q, want %q", got, refs)
		}
		for i := 1; i < len(all); i++ {
			if all[i].Seq <= all[i-1].Seq {
				t.Fatalf("feed not in Seq order: %v", all)
			}
		}
		for i, e := range all {
			sameTime(t, "event.At", e.At, t0.Add(time.Duration(i)*time.Second))
		}
		last, err := s.LastEvent(ctxOf(t))
		must(t, "last event", err)
		if last != all[4].Seq {
			t.Errorf("last event = %d, want %d", last, all[4].Seq)
		}

		cases := []struct {
			name  string
			after int64
			limit int
			want  []string
		}{
			{"all", 0, 100, refs},
			{"limit", 0, 2, refs[:2]},
			{"after", all[1].Seq, 100, refs[2:]},
			{"after-and-limit", all[1].Seq, 2, refs[2:4]},
			{"after-last", all[4].Seq, 100, nil},
		}
		for _, tc := range cases {
			evs, err := s.Events(ctxOf(t), tc.after, tc.limit)
			must(t, tc.name, err)
			if got := kindRefs(evs); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("%s: events = %q, want %q", tc.name, got, tc.want)
			}
		}
	})
}

func testPrune(t *testing.T, open OpenFunc) {
	t.Run("ok/prune", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		cut := t0.Add(time.Hour)
		newSession(t, s, "expired", u.ID, t0, cut.Add(-time.Millisecond))
		newSession(t, s, "live", u.ID, t0, cut.Add(time.Hour))
		newSession(t, s, "revoked-early", u.ID, t0, cut.Add(time.Hour))
		newSession(t, s, "revoked-late", u.ID, t0, cut.Add(time.Hour))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "revoked-early", 0, cut.Add(-time.Minute)))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "revoked-late", 0, cut.Add(time.Minute)))
		lastBefore, err := s.LastEvent(ctxOf(t))
		must(t, "last event", err)

		must(t, "prune", s.Prune(ctxOf(t), cut))
		_, err = s.Session(ctxOf(t), "expired")
		wantCode(t, "expired session", err, propusk.ENOTFOUND)
		for _, id := range []string{"live", "revoked-early", "revoked-late"} {
			if _, err := s.Session(ctxOf(t), id); err != nil {
				t.Errorf("session %s after prune: %v", id, err)
			}
		}
		if got, want := kindRefs(events(t, s)), []string{propusk.EventSession + ":revoked-late"}; !slices.Equal(got, want) {
			t.Errorf("feed after prune = %q, want %q", got, want)
		}

		// A Seq is never handed out twice, even once the feed is empty.
		must(t, "prune all", s.Prune(ctxOf(t), cut.Add(24*time.Hour)))
		newSession(t, s, "later", u.ID, t0, cut.Add(48*time.Hour))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "later", 0, cut.Add(25*time.Hour)))
		evs := events(t, s)
		if len(evs) != 1 || evs[0].Seq <= lastBefore {
			t.Errorf("feed after pruning all and one revoke = %v, want one entry with Seq > %d", evs, lastBefore)
		}
	})
}

// testNotifier checks a store that pushes feed entries. A Wait that has just
// started listening returns at once, because entries may have been added
// before it listened; after that it returns when an entry is added.
func testNotifier(t *testing.T, open OpenFunc) {
	s := open(t)
	n, ok := s.(propusk.Notifier)
	if !ok {
		t.Skipf("%T does not implement propusk.Notifier", s)
	}
	u := newUser(t, s, "alice")
	newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	must(t, "first wait", n.Wait(ctx))

	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	err := n.Wait(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with nothing added = %v, want context.DeadlineExceeded", err)
	}

	woke := make(chan error, 1)
	go func() { woke <- n.Wait(ctx) }()
	must(t, "revoke", s.RevokeSession(ctxOf(t), "sid", 0, t0))
	select {
	case err := <-woke:
		must(t, "wait after revoke", err)
	case <-ctx.Done():
		t.Fatal("Wait did not return after a feed entry was added")
	}
}
