package auth

import (
	"context"
	"testing"
	"time"
)

// TestPATMissesBounded: however many distinct made-up ids arrive, the
// negative cache holds at most its bound: ids above the store's highest
// take no entry at all, and ids below it evict one another.
func TestPATMissesBounded(t *testing.T) {
	const bound = 64
	m := newPATMisses(bound)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	reads := 0
	last := lastFunc(func(context.Context) (int64, error) { reads++; return 1_000_000, nil })
	ctx := context.Background()
	for id := int64(1_000_001); id < 1_100_000; id++ {
		if !m.missing(ctx, id, now, last) {
			t.Fatalf("id %d above the highest is not missing", id)
		}
		m.note(id, now)
	}
	if n := m.size(); n != 0 {
		t.Fatalf("%d entries for ids above the highest, want 0", n)
	}
	for id := range int64(100_000) {
		if m.missing(ctx, id+1, now, last) {
			t.Fatalf("id %d below the highest is missing before the store was asked", id+1)
		}
		m.note(id+1, now)
		if n := m.size(); n > bound {
			t.Fatalf("%d entries, bound %d", n, bound)
		}
	}
	if reads != 1 {
		t.Fatalf("the store's highest id was read %d times, want 1", reads)
	}
	// A remembered id is forgotten when created here, and after patMissTTL.
	m.note(5, now)
	if !m.missing(ctx, 5, now, last) {
		t.Fatal("a noted id is not missing")
	}
	m.created(5)
	if m.missing(ctx, 5, now, last) {
		t.Fatal("an id created here is still missing")
	}
	m.note(6, now)
	if m.missing(ctx, 6, now.Add(patMissTTL), last) {
		t.Fatal("a noted id is still missing after patMissTTL")
	}
}

type lastFunc func(context.Context) (int64, error)

func (f lastFunc) LastTokenID(ctx context.Context) (int64, error) { return f(ctx) }
