package auth

import (
	"context"
	"fmt"
	"sync"

	"github.com/propusk/propusk"
)

// SubscriptionBuffer is how many live feed entries a subscriber may fall
// behind by before it is cut off. A cut-off subscriber resumes from its
// last entry (Subscribe with resume), reading what it missed from the store.
const SubscriptionBuffer = 1024

// replayPage is how many entries a resuming subscriber reads from the store at once.
const replayPage = 500

// ErrTooFarBehind is returned by Subscription.Replay when entries the
// subscriber has not seen were pruned while it read: it must start over.
var ErrTooFarBehind = propusk.Errorf(propusk.EINVALID, "the position is older than the oldest retained revocation")

// feedHub fans the entries this process's feed follower applies out to
// subscribers, so a thousand subscribers cost the database nothing more
// than the follower's own reads.
type feedHub struct {
	mu   sync.Mutex
	last int64 // the highest Seq published
	subs map[*Subscription]struct{}
}

func newFeedHub(last int64) *feedHub {
	return &feedHub{last: last, subs: map[*Subscription]struct{}{}}
}

// publish hands events, in order, to every subscriber. It never blocks: a
// subscriber whose buffer is full is cut off.
func (h *feedHub) publish(events []propusk.Event) {
	if len(events) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = max(h.last, events[len(events)-1].Seq)
	for sub := range h.subs {
		for _, e := range events {
			select {
			case sub.live <- e:
			default:
				h.cut(sub)
			}
			if sub.cut {
				break
			}
		}
	}
}

// restart cuts every subscriber off and moves the position to last: the
// feed's numbering went back, and what subscribers hold means nothing now.
// Each resumes, finds its position ahead of the store, and is told to start over.
func (h *feedHub) restart(last int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = last
	for sub := range h.subs {
		h.cut(sub)
	}
}

// cut ends sub; the caller holds h.mu.
func (h *feedHub) cut(sub *Subscription) {
	if !sub.cut {
		sub.cut = true
		close(sub.gone)
	}
	delete(h.subs, sub)
}

// Subscription follows the revocation feed for one subscriber: first the
// entries after its position that were recorded before it subscribed
// (Replay, read from the store), then the live ones (Live) as this process
// applies them. Take filters the live ones that Replay already gave.
type Subscription struct {
	svc  *Service
	live chan propusk.Event
	gone chan struct{}
	cut  bool // under hub.mu

	// Reset reports that the position asked for cannot be resumed (the
	// entries after it were pruned, or it is ahead of the store's feed):
	// the subscriber must drop what it knows and start over from Position.
	Reset bool
	pos   int64 // the last Seq given
	upto  int64 // Replay reads the store up to here; live entries follow
}

// Subscribe follows the feed. With resume, it starts after the entry after
// (a client's Last-Event-ID), replaying what the store still holds; without,
// it starts at the current end and replays nothing. Close it when done.
// Errors are the store's, when it cannot say whether after can be resumed.
func (s *Service) Subscribe(ctx context.Context, after int64, resume bool) (*Subscription, error) {
	sub := &Subscription{svc: s, live: make(chan propusk.Event, SubscriptionBuffer), gone: make(chan struct{})}
	h := s.hub
	h.mu.Lock()
	last := h.last
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	sub.pos, sub.upto = last, last
	switch {
	case !resume || after == last:
	case after < 0:
		sub.Reset = true
	case after < last:
		// The store numbers entries without gaps, so the entry after the
		// position is there unless it was pruned.
		events, err := s.store.Events(ctx, after, 1)
		if err != nil {
			sub.Close()
			return nil, fmt.Errorf("auth: subscribe: %w", err)
		}
		if len(events) == 0 || events[0].Seq != after+1 {
			sub.Reset = true
		} else {
			sub.pos = after
		}
	default: // ahead of this process: another may have read further
		stored, err := s.store.LastEvent(ctx)
		if err != nil {
			sub.Close()
			return nil, fmt.Errorf("auth: subscribe: %w", err)
		}
		if after > stored {
			sub.Reset = true
		} else {
			sub.pos = after
		}
	}
	return sub, nil
}

// Position returns the Seq of the last entry given (or, before any, the
// position the subscription starts after).
func (sub *Subscription) Position() int64 { return sub.pos }

// Replay returns the next entries recorded before the subscription began,
// read from the store, or none once it has caught up with Live. It returns
// ErrTooFarBehind when entries it has not given were pruned meanwhile.
func (sub *Subscription) Replay(ctx context.Context) ([]propusk.Event, error) {
	if sub.pos >= sub.upto {
		return nil, nil
	}
	events, err := sub.svc.store.Events(ctx, sub.pos, replayPage)
	if err != nil {
		return nil, fmt.Errorf("auth: replay revocations: %w", err)
	}
	if len(events) == 0 || events[0].Seq != sub.pos+1 {
		return nil, ErrTooFarBehind
	}
	for i, e := range events {
		if e.Seq > sub.upto {
			events = events[:i]
			break
		}
	}
	sub.pos = events[len(events)-1].Seq
	return events, nil
}

// Live delivers the entries this process applies after the subscription
// began. Pass each to Take.
func (sub *Subscription) Live() <-chan propusk.Event { return sub.live }

// Take reports whether a live entry is new to the subscriber, and records it.
func (sub *Subscription) Take(e propusk.Event) bool {
	if e.Seq <= sub.pos {
		return false
	}
	sub.pos = e.Seq
	return true
}

// Gone is closed when the subscription is cut off: it fell SubscriptionBuffer
// entries behind, or the feed started over. The subscriber resumes from
// Position with a new Subscribe.
func (sub *Subscription) Gone() <-chan struct{} { return sub.gone }

// Close ends the subscription.
func (sub *Subscription) Close() {
	h := sub.svc.hub
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// Subscribers returns how many subscriptions are open, for tests and metrics.
func (s *Service) Subscribers() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return len(s.hub.subs)
}
