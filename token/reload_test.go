package token_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/token"
)

// rotation is a verifier that knows only the old keys and a signer that
// signs with keys added after it started, as two processes around a
// "keys rotate".
type rotation struct {
	verifier      *token.Tokens
	access, renew string // signed with the new keys
	old, rotated  *token.Keyset
	reloads       atomic.Int32
	gate          chan struct{} // Reload waits on it when not nil
	fail          atomic.Bool   // Reload fails, as with the store down
}

func newRotation(t *testing.T, gate chan struct{}) *rotation {
	t.Helper()
	now := time.Now()
	a1, _ := token.GenerateAccessKey(rand.Reader, now.Add(-time.Hour))
	r1, _ := token.GenerateRefreshKey(rand.Reader, now.Add(-time.Hour))
	a2, _ := token.GenerateAccessKey(rand.Reader, now)
	r2, _ := token.GenerateRefreshKey(rand.Reader, now)
	old, err := token.NewKeyset([]token.AccessKey{a1}, []token.RefreshKey{r1})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := token.NewKeyset([]token.AccessKey{a1, a2}, []token.RefreshKey{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	ro := &rotation{old: old, rotated: rotated, gate: gate}
	ro.verifier = token.New(old, token.Config{Rand: rand.Reader, ReloadInterval: 50 * time.Millisecond,
		Reload: func(ctx context.Context) error {
			ro.reloads.Add(1)
			if ro.gate != nil {
				select {
				case <-ro.gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if ro.fail.Load() {
				return errors.New("store down")
			}
			ro.verifier.SetKeyset(ro.rotated)
			return nil
		}})
	signer := token.New(rotated, token.Config{Rand: rand.Reader})
	if ro.access, err = signer.SignAccess(&token.AccessClaims{
		ExpiresAt: token.NewNumericDate(now.Add(time.Hour)), IssuedAt: token.NewNumericDate(now),
		SessionID: "c2Vzc2lvbg", Boards: []string{"*"},
	}); err != nil {
		t.Fatal(err)
	}
	if ro.renew, err = signer.SignRefresh(&token.RefreshClaims{
		ExpiresAt: token.NewNumericDate(now.Add(time.Hour)), SessionID: "c2Vzc2lvbg",
	}); err != nil {
		t.Fatal(err)
	}
	return ro
}

// TestReloadConcurrent: while one request reloads the keys for a token
// with a new kid, every other request with such tokens waits for that
// reload and is accepted; none is refused because it came second.
func TestReloadConcurrent(t *testing.T) {
	for _, kind := range []string{"access", "refresh"} {
		t.Run("ok/"+kind, func(t *testing.T) {
			gate := make(chan struct{})
			ro := newRotation(t, gate)
			const n = 64
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					if kind == "access" {
						_, errs[i] = ro.verifier.VerifyAccess(ro.access)
					} else {
						_, errs[i] = ro.verifier.VerifyRefresh(ro.renew)
					}
				})
			}
			// Hold the reload until the others have had time to pile up
			// behind it: the race the issue saw under load.
			for ro.reloads.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			close(gate)
			wg.Wait()
			refused := 0
			for _, err := range errs {
				if err != nil {
					refused++
					t.Log(err)
				}
			}
			if refused > 0 {
				t.Fatalf("%d of %d genuine tokens with a new kid refused during a reload", refused, n)
			}
			if r := ro.reloads.Load(); r > 2 {
				t.Fatalf("%d reloads for one new kid, want one (two at most)", r)
			}
		})
	}
}

// TestReloadRefusals: a made-up kid is refused as invalid after at most a
// reload or two, however many requests carry it at once; a kid that cannot
// be looked up because the store is down is "unavailable", not "invalid",
// so a client keeps its tokens and tries again.
func TestReloadRefusals(t *testing.T) {
	t.Run("fail/made-up-kid", func(t *testing.T) {
		ro := newRotation(t, nil)
		ro.rotated = ro.old // the reload finds nothing new
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if _, err := ro.verifier.VerifyAccess(ro.access); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
					t.Errorf("made-up kid: %v, want %s", err, propusk.ETOKENINVALID)
				}
			})
		}
		wg.Wait()
		if r := ro.reloads.Load(); r > 2 {
			t.Fatalf("a flood of one made-up kid caused %d reloads, want at most 2", r)
		}
	})
	t.Run("fail/store-down", func(t *testing.T) {
		ro := newRotation(t, nil)
		ro.fail.Store(true)
		for _, verify := range []func() error{
			func() error { _, err := ro.verifier.VerifyAccess(ro.access); return err },
			func() error { _, err := ro.verifier.VerifyRefresh(ro.renew); return err },
		} {
			if err := verify(); propusk.ErrorCode(err) != propusk.EUNAVAILABLE {
				t.Fatalf("new kid with the store down: %v, want %s", err, propusk.EUNAVAILABLE)
			}
		}
		ro.fail.Store(false) // the store is back: the same tokens verify
		if _, err := ro.verifier.VerifyAccess(ro.access); err != nil {
			t.Fatalf("after the store came back: %v", err)
		}
	})
}
