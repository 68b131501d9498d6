package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/propusk/propusk"
)

// keyTrio is one process's first-start keys: one of each use, ids prefixed.
func keyTrio(prefix string) []*propusk.Key {
	return []*propusk.Key{
		{ID: prefix + "-access", Use: propusk.KeyUseAccess, Sealed: []byte("a"), Public: []byte("p"), CreatedAt: t0},
		{ID: prefix + "-refresh", Use: propusk.KeyUseRefresh, Sealed: []byte("r"), CreatedAt: t0},
		{ID: prefix + "-seal", Use: propusk.KeyUseSeal, Sealed: []byte("s"), CreatedAt: t0},
	}
}

func keyIDs(keys []*propusk.Key) string {
	s := ""
	for _, k := range keys {
		s += k.ID + " "
	}
	return s
}

func testMissingKeys(t *testing.T, open OpenFunc) {
	t.Run("ok/concurrent-first-start", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 8
		got := make([][]*propusk.Key, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = s.AddMissingKeys(ctxOf(t), keyTrio(fmt.Sprintf("p%d", i))...) })
		}
		wg.Wait()
		for i := range n {
			must(t, "add missing keys", errs[i])
			if len(got[i]) != 3 {
				t.Fatalf("starter %d got %d keys, want one of each use: %s", i, len(got[i]), keyIDs(got[i]))
			}
			if keyIDs(got[i]) != keyIDs(got[0]) {
				t.Fatalf("starters got different key sets: %s and %s", keyIDs(got[0]), keyIDs(got[i]))
			}
		}
		stored, err := s.Keys(ctxOf(t))
		must(t, "keys", err)
		if keyIDs(stored) != keyIDs(got[0]) {
			t.Fatalf("stored %s, starters got %s", keyIDs(stored), keyIDs(got[0]))
		}
		if evs := events(t, s); len(evs) != 1 || evs[0].Kind != propusk.EventKeys {
			t.Fatalf("feed = %q, want one keys event", kindRefs(evs))
		}
	})
	t.Run("ok/partly-missing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		old := keyTrio("old")
		must(t, "add", s.AddKeys(ctxOf(t), old[0]))
		got, err := s.AddMissingKeys(ctxOf(t), keyTrio("new")...)
		must(t, "add missing keys", err)
		if want := "new-refresh new-seal old-access "; keyIDs(got) != want {
			t.Fatalf("keys = %s, want %s", keyIDs(got), want)
		}
		if n := len(events(t, s)); n != 2 {
			t.Fatalf("feed has %d entries, want 2 (the add, the missing ones)", n)
		}
	})
	t.Run("ok/none-missing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "add", s.AddKeys(ctxOf(t), keyTrio("old")...))
		got, err := s.AddMissingKeys(ctxOf(t), keyTrio("new")...)
		must(t, "add missing keys", err)
		if want := "old-access old-refresh old-seal "; keyIDs(got) != want {
			t.Fatalf("keys = %s, want %s", keyIDs(got), want)
		}
		if n := len(events(t, s)); n != 1 {
			t.Fatalf("feed has %d entries, want 1: nothing was added", n)
		}
	})
}
