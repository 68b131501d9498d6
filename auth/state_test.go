package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPATMissesBounded: however many distinct made-up ids arrive, the
// negative cache holds at most its bound: ids above the store's highest
// take no entry at all, and ids below it evict one another. The store is
// read no more than the pacing allows, however many ids are tried.
func TestPATMissesBounded(t *testing.T) {
	const bound = 64
	m := newPATMisses(bound)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var reads atomic.Int64
	last := lastFunc(func(context.Context) (int64, error) { reads.Add(1); return 1_000_000, nil })
	ctx := context.Background()
	// Ids above the highest wait for a read, so they come concurrently.
	start := time.Now()
	var wg sync.WaitGroup
	for g := range int64(5000) {
		wg.Go(func() {
			for i := range int64(20) {
				id := 1_000_001 + g*20 + i
				if !m.missing(ctx, id, now, last) {
					t.Errorf("id %d above the highest is not missing", id)
					return
				}
				m.note(id, now)
			}
		})
	}
	wg.Wait()
	if n, most := reads.Load(), int64(time.Since(start)/patReadEvery)+2; n > most {
		t.Fatalf("100,000 ids above the highest read it %d times, want at most %d", n, most)
	}
	if n := m.size(); n != 0 {
		t.Fatalf("%d entries for ids above the highest, want 0", n)
	}
	reads.Store(0)
	for id := range int64(100_000) {
		if m.missing(ctx, id+1, now, last) {
			t.Fatalf("id %d below the highest is missing before the store was asked", id+1)
		}
		m.note(id+1, now)
		if n := m.size(); n > bound {
			t.Fatalf("%d entries, bound %d", n, bound)
		}
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("ids below the highest read it %d times, want 0", n)
	}
	// A remembered id is forgotten when created here, and after patMissTTL.
	m.note(5, now)
	if !m.missing(ctx, 5, now, last) {
		t.Fatal("a noted id is not missing")
	}
	m.created(5, [32]byte{})
	if m.missing(ctx, 5, now, last) {
		t.Fatal("an id created here is still missing")
	}
	m.note(6, now)
	if m.missing(ctx, 6, now.Add(patMissTTL), last) {
		t.Fatal("a noted id is still missing after patMissTTL")
	}
	// Hashes of bare secrets alike, and bounded too.
	for i := range 100_000 {
		m.noteHash([32]byte{byte(i), byte(i >> 8), byte(i >> 16)}, now)
	}
	if n := m.size(); n > 2*bound {
		t.Fatalf("%d entries, bound %d ids and %d hashes", n, bound, bound)
	}
	sum := [32]byte{1, 2, 3}
	m.noteHash(sum, now)
	if !m.missingHash(sum, now) || m.missingHash(sum, now.Add(patMissTTL)) {
		t.Fatal("a noted hash is not missing for exactly patMissTTL")
	}
	m.noteHash(sum, now)
	m.created(7, sum)
	if m.missingHash(sum, now) {
		t.Fatal("the hash of a token created here is still missing")
	}
}

type lastFunc func(context.Context) (int64, error)

func (f lastFunc) LastTokenID(ctx context.Context) (int64, error) { return f(ctx) }

// TestPATMissesReadAfterArrival: an id above the highest is refused only
// by a read that began after the request arrived. A read already on its
// way when a token is created elsewhere and presented here does not count.
func TestPATMissesReadAfterArrival(t *testing.T) {
	m := newPATMisses(64)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	var highest atomic.Int64
	highest.Store(10)
	reading, resume := make(chan struct{}), make(chan struct{})
	var reads atomic.Int64
	last := lastFunc(func(context.Context) (int64, error) {
		n := highest.Load()
		if reads.Add(1) == 1 {
			close(reading)
			<-resume // the first read has seen 10 and is on its way back
		}
		return n, nil
	})
	first := make(chan bool)
	go func() { first <- m.missing(ctx, 11, now, last) }()
	<-reading
	highest.Store(11) // id 11 is committed elsewhere, and presented here
	second := make(chan bool)
	go func() { second <- m.missing(ctx, 11, now, last) }()
	for waiting := false; !waiting; time.Sleep(time.Millisecond) {
		m.mu.Lock()
		waiting = m.next != nil // the second request waits for the next read
		m.mu.Unlock()
	}
	close(resume)
	if !<-first {
		t.Fatal("id 11 is not missing for the request the first read answers")
	}
	if <-second {
		t.Fatal("id 11, created before it was presented, is missing")
	}
	if n := reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2", n)
	}
}
