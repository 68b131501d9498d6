package storetest

import (
	"strconv"
	"sync"
	"testing"
)

func testMeta(t *testing.T, open OpenFunc) {
	t.Run("ok/set-once", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		v, err := s.SetMetaOnce(ctxOf(t), "instance", "first")
		must(t, "set once", err)
		if v != "first" {
			t.Errorf("set once = %q, want first", v)
		}
		v, err = s.SetMetaOnce(ctxOf(t), "instance", "second")
		must(t, "set once again", err)
		if v != "first" {
			t.Errorf("second set once = %q, want first", v)
		}
		v, err = s.SetMetaOnce(ctxOf(t), "other", "own")
		must(t, "set once another name", err)
		if v != "own" {
			t.Errorf("set once another name = %q, want own", v)
		}
	})
	t.Run("ok/concurrent-set-once", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		const n = 20
		var (
			wg   sync.WaitGroup
			got  = make([]string, n)
			errs = make([]error, n)
			ctx  = ctxOf(t)
		)
		for i := range n {
			wg.Go(func() {
				got[i], errs[i] = s.SetMetaOnce(ctx, "key", "value-"+strconv.Itoa(i))
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("set once %d: %v", i, errs[i])
			}
			if got[i] != got[0] {
				t.Fatalf("processes disagree: %q and %q", got[0], got[i])
			}
		}
	})
}
