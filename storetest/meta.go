package storetest

import (
	"strconv"
	"sync"
	"testing"

	"github.com/propusk/propusk"
)

func testMeta(t *testing.T, open OpenFunc) {
	t.Run("ok/set-once", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.Meta(ctxOf(t), "instance")
		wantCode(t, "meta before set", err, propusk.ENOTFOUND)
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
		v, err = s.Meta(ctxOf(t), "instance")
		must(t, "meta", err)
		if v != "first" {
			t.Errorf("meta = %q, want first", v)
		}
		_, err = s.Meta(ctxOf(t), "other")
		wantCode(t, "other meta", err, propusk.ENOTFOUND)
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
