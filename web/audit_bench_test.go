package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// BenchmarkHotPaths is token.renew (a rotation) and user.me (a JWT) through
// the server on each store, the paths whose cost the audit log must not
// raise. It uses only what main had before the audit log, so that the
// same file measures both sides (see docs/OPERATIONS.md, "Audit log"):
//
//	go test ./web -run '^$' -bench HotPaths -count 5
func BenchmarkHotPaths(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) propusk.Store
	}{
		{"sqlite", func(b *testing.B) propusk.Store { s, _ := testenv.SQLite(b); return s }},
		{"postgres", func(b *testing.B) propusk.Store { s, _ := testenv.Postgres(b); return s }},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			key := make([]byte, 32)
			rand.Read(key)
			svc, err := auth.New(ctx, auth.Config{Store: st.open(b), MasterKey: key, Logger: slog.New(slog.DiscardHandler),
				Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
			if err != nil {
				b.Fatal(err)
			}
			srv, err := web.New(web.Config{Service: svc, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			p, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("token.renew", func(b *testing.B) {
				refresh := p.RefreshToken
				for b.Loop() {
					r := httptest.NewRequest("POST", "/api/v1/token.renew?refreshToken="+refresh, nil)
					r.Header.Set("X-Requested-With", "bench")
					w := httptest.NewRecorder()
					srv.ServeHTTP(w, r)
					var pair struct{ RefreshToken string }
					if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &pair) != nil {
						b.Fatalf("token.renew: %d %s", w.Code, w.Body)
					}
					refresh = pair.RefreshToken
				}
			})
			b.Run("user.me", func(b *testing.B) {
				for b.Loop() {
					r := httptest.NewRequest("GET", "/api/v1/user.me", nil)
					r.Header.Set("Authorization", "Bearer "+p.AccessToken)
					r.Header.Set("X-Requested-With", "bench")
					w := httptest.NewRecorder()
					srv.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("user.me: %d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
