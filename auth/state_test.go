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
