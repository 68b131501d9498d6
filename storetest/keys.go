package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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

func testKeys(t *testing.T, open OpenFunc) {
	t.Run("ok/add-list-delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		keys, err := s.Keys(ctxOf(t))
		must(t, "keys", err)
		if len(keys) != 0 {
			t.Fatalf("keys of a new store = %d", len(keys))
		}
		access := &propusk.Key{ID: "k-access", Use: propusk.KeyUseAccess, Sealed: []byte("sealed-ed25519"), Public: []byte("public-ed25519"), CreatedAt: t0}
		refresh := &propusk.Key{ID: "k-refresh", Use: propusk.KeyUseRefresh, Sealed: []byte{0, 1, 2, 255}, CreatedAt: t0.Add(time.Second)}
		seal := &propusk.Key{ID: "k-seal", Use: propusk.KeyUseSeal, Sealed: []byte("sealed-aes"), CreatedAt: t0.Add(2 * time.Second)}
		must(t, "add", s.AddKeys(ctxOf(t), seal, access))
		must(t, "add", s.AddKeys(ctxOf(t), refresh))
		if got, want := kindRefs(events(t, s)), []string{propusk.EventKeys + ":", propusk.EventKeys + ":"}; !slices.Equal(got, want) {
			t.Errorf("feed = %q, want %q", got, want)
		}

		keys, err = s.Keys(ctxOf(t))
		must(t, "keys", err)
		want := []*propusk.Key{access, refresh, seal}
		if len(keys) != len(want) {
			t.Fatalf("keys = %d, want %d", len(keys), len(want))
		}
		for i, k := range keys {
			w := want[i]
			if k.ID != w.ID || k.Use != w.Use || !bytes.Equal(k.Sealed, w.Sealed) || !bytes.Equal(k.Public, w.Public) {
				t.Errorf("key %d = %+v, want %+v", i, k, w)
			}
			sameTime(t, "key.CreatedAt", k.CreatedAt, w.CreatedAt)
		}
		if len(keys[1].Public) != 0 {
			t.Errorf("refresh key has a public half %x", keys[1].Public)
		}

		must(t, "delete", s.DeleteKeys(ctxOf(t), "k-access", "k-unknown"))
		keys, err = s.Keys(ctxOf(t))
		must(t, "keys", err)
		if len(keys) != 2 || keys[0].ID != "k-refresh" || keys[1].ID != "k-seal" {
			t.Errorf("keys after delete = %+v", keys)
		}
		wantFeedLen(t, s, 3)
	})
	t.Run("fail/duplicate-id", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "add", s.AddKeys(ctxOf(t), &propusk.Key{ID: "k1", Use: propusk.KeyUseAccess, Sealed: []byte("a"), CreatedAt: t0}))
		err := s.AddKeys(ctxOf(t),
			&propusk.Key{ID: "k2", Use: propusk.KeyUseAccess, Sealed: []byte("b"), CreatedAt: t0},
			&propusk.Key{ID: "k1", Use: propusk.KeyUseAccess, Sealed: []byte("c"), CreatedAt: t0})
		wantCode(t, "add duplicate", err, propusk.ECONFLICT)
		keys, err := s.Keys(ctxOf(t))
		must(t, "keys", err)
		if len(keys) != 1 || string(keys[0].Sealed) != "a" {
			t.Errorf("keys after failed add = %+v, want only the first k1", keys)
		}
		wantFeedLen(t, s, 1)
	})
}
