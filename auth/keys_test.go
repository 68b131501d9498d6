package auth

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/postgres"
	"github.com/propusk/propusk/sqlite"
	"github.com/propusk/propusk/token"
)

// faultyStore is a real store whose key reads fail on demand, as in a
// database blip or a failover, and which can lose keys events, as a feed
// that missed one would.
type faultyStore struct {
	propusk.Store
	failKeys   atomic.Int32 // the next failKeys reads of the keys fail
	hideKeysEv atomic.Bool  // Events leaves out keys events
}

func (f *faultyStore) Keys(ctx context.Context) ([]*propusk.Key, error) {
	if f.failKeys.Add(-1) >= 0 {
		return nil, propusk.Errorf(propusk.EUNAVAILABLE, "injected: the database is failing over")
	}
	return f.Store.Keys(ctx)
}

func (f *faultyStore) Events(ctx context.Context, after int64, limit int) ([]propusk.Event, error) {
	evs, err := f.Store.Events(ctx, after, limit)
	if err != nil || !f.hideKeysEv.Load() {
		return evs, err
	}
	kept := evs[:0]
	for _, e := range evs {
		if e.Kind != propusk.EventKeys {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// TestDeletedKeyStops: a signing key deleted (after a compromise, say)
// stops verifying its tokens and leaves the JWKS, with no restart, even
// when the reload after its feed event fails or the event is never seen.
func TestDeletedKeyStops(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) propusk.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
	}
	cases := []struct {
		name string
		// fail makes the reload after the deletion go wrong; catchUp is how
		// the process catches up: SyncFeed once more, or Run on its own.
		fail    func(f *faultyStore)
		catchUp string // "sync" or "run"
	}{
		{"reload-fails-once/sync", func(f *faultyStore) { f.failKeys.Store(1) }, "sync"},
		{"reload-fails-once/run", func(f *faultyStore) { f.failKeys.Store(1) }, "run"},
		{"reload-fails-for-a-while/run", func(f *faultyStore) { f.failKeys.Store(5) }, "run"},
		{"event-missed/run", func(f *faultyStore) { f.hideKeysEv.Store(true) }, "run"},
	}
	for _, st := range stores {
		for _, c := range cases {
			t.Run(st.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				f := &faultyStore{Store: st.open(t)}
				mk := key(t)
				svc, err := New(ctx, Config{Store: f, MasterKey: mk, Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1},
					PollInterval: 20 * time.Millisecond, SafetyPoll: 100 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				doomed := svc.tokens.Keyset().SigningKeyID()
				tok := signAccess(t, svc)
				if _, err := RotateKeys(ctx, f.Store, mk, time.Now(), rand.Reader); err != nil {
					t.Fatal(err)
				}
				keysMust(t, svc.SyncFeed(ctx))
				if _, err := svc.tokens.VerifyAccess(tok); err != nil {
					t.Fatalf("before the deletion: %v", err)
				}
				if !strings.Contains(string(svc.JWKS()), doomed) {
					t.Fatal("the JWKS lacks the key before its deletion")
				}

				// The key is deleted, and this process's reload goes wrong.
				keysMust(t, f.Store.DeleteKeys(ctx, doomed))
				c.fail(f)
				if c.catchUp == "sync" {
					if err := svc.SyncFeed(ctx); err == nil {
						t.Fatal("SyncFeed hid the failed reload")
					}
					keysMust(t, svc.SyncFeed(ctx)) // the store is back; no new event
				} else {
					runCtx, stop := context.WithCancel(ctx)
					done := make(chan struct{})
					go func() { svc.Run(runCtx); close(done) }()
					t.Cleanup(func() { stop(); <-done })
				}
				// No restart: the key stops, on its own or through Run.
				deadline := time.Now().Add(15 * time.Second)
				for {
					_, err := svc.tokens.VerifyAccess(tok)
					gone := !strings.Contains(string(svc.JWKS()), doomed)
					if propusk.ErrorCode(err) == propusk.ETOKENINVALID && gone {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the deleted key still verifies (%v) or is still published (%v)", err, !gone)
					}
					time.Sleep(10 * time.Millisecond)
				}
				// And it stays stopped.
				if c.catchUp == "sync" {
					keysMust(t, svc.SyncFeed(ctx))
				}
				if _, err := svc.tokens.VerifyAccess(tok); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
					t.Fatalf("the deleted key came back: %v", err)
				}
			})
		}
	}
}

func signAccess(t *testing.T, svc *Service) string {
	t.Helper()
	now := svc.Now()
	tok, err := svc.tokens.SignAccess(&token.AccessClaims{
		ExpiresAt: token.NewNumericDate(now.Add(time.Hour)), IssuedAt: token.NewNumericDate(now),
		SessionID: "c2Vzc2lvbi1vZi1kb29t", Boards: []string{"*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func keysMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFirstStartTogether: services starting at once on one empty database,
// each on its own connection as separate processes are, end up with one
// key set: the same JWKS and the same CSRF key everywhere.
func TestFirstStartTogether(t *testing.T) {
	opens := []struct {
		name string
		open func(t *testing.T) func() propusk.Store // a migrated database; each call connects anew
	}{
		{"sqlite", func(t *testing.T) func() propusk.Store {
			_, path := testenv.SQLite(t)
			return func() propusk.Store {
				s, err := sqlite.Open(context.Background(), path)
				keysMust(t, err)
				t.Cleanup(func() { s.Close() })
				return s
			}
		}},
		{"postgres", func(t *testing.T) func() propusk.Store {
			_, dsn := testenv.Postgres(t)
			return func() propusk.Store {
				s, err := postgres.Open(context.Background(), dsn)
				keysMust(t, err)
				t.Cleanup(func() { s.Close() })
				return s
			}
		}},
	}
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			connect := o.open(t)
			mk := key(t)
			const n = 6
			svcs := make([]*Service, n)
			stores := make([]propusk.Store, n)
			for i := range stores {
				stores[i] = connect()
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					svcs[i], errs[i] = New(t.Context(), Config{Store: stores[i], MasterKey: mk, Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1}})
				})
			}
			wg.Wait()
			for i := range n {
				keysMust(t, errs[i])
				if string(svcs[i].JWKS()) != string(svcs[0].JWKS()) || string(svcs[i].DeriveKey("test")) != string(svcs[0].DeriveKey("test")) {
					t.Fatalf("services 0 and %d started together and disagree on keys:\n%s\n%s", i, svcs[0].JWKS(), svcs[i].JWKS())
				}
			}
			stored, err := stores[0].Keys(t.Context())
			keysMust(t, err)
			if len(stored) != 3 {
				t.Fatalf("%d keys stored after %d starts at once, want one access, one refresh, one seal", len(stored), n)
			}
			// Each accepts the tokens of every other at once.
			for i := range n {
				tok := signAccess(t, svcs[i])
				for j := range n {
					if _, err := svcs[j].tokens.VerifyAccess(tok); err != nil {
						t.Fatalf("service %d refuses a token of service %d: %v", j, i, err)
					}
				}
			}
		})
	}
}
