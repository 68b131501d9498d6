package metrics_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/metrics"
	"github.com/propusk/propusk/web"
)

// BenchmarkCost measures what metrics cost on the hot paths, user.me with
// a token already seen (a JWT, and a cached api-token) and token.renew, as
// the ratio of the time with metrics to the time without (x-off), both
// measured in the same run in alternating bursts on one store, so the load
// of others on a shared machine affects both alike.
//
//	go test ./metrics -run '^$' -bench Cost -count 3
func BenchmarkCost(b *testing.B) {
	store, _ := testenv.SQLite(b)
	key := make([]byte, 32)
	rand.Read(key)
	ctx := context.Background()
	newServer := func(m *metrics.Metrics) (*auth.Service, http.Handler) {
		cfg := auth.Config{Store: store, MasterKey: key, Logger: slog.New(slog.DiscardHandler),
			Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}}
		if m != nil {
			cfg.Store, cfg.Observer = m.Store(store), m
		}
		svc, err := auth.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		srv, err := web.New(web.Config{Service: svc, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		if m == nil {
			return svc, srv
		}
		m.Watch(svc)
		return svc, m.Requests(srv)
	}
	offSvc, off := newServer(nil)
	_, on := newServer(metrics.New())
	if _, err := offSvc.Register(ctx, "alice", "correct horse", propusk.Client{}); err != nil {
		b.Fatal(err)
	}
	renew := func(h http.Handler) func() {
		q, err := offSvc.Login(ctx, "alice", "correct horse", propusk.Client{})
		if err != nil {
			b.Fatal(err)
		}
		refresh := q.RefreshToken
		return func() {
			r := httptest.NewRequest("POST", "/api/v1/token.renew?refreshToken="+refresh, nil)
			r.Header.Set("X-Requested-With", "bench")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			var pair struct{ RefreshToken string }
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &pair) != nil {
				b.Fatalf("token.renew: %d %s", w.Code, w.Body)
			}
			refresh = pair.RefreshToken
		}
	}
	// Log in for the renewals first: each login replaces the api-token.
	renewOff, renewOn := renew(off), renew(on)
	p, err := offSvc.Login(ctx, "alice", "correct horse", propusk.Client{})
	if err != nil {
		b.Fatal(err)
	}
	me := func(h http.Handler, header, value string) func() {
		return func() {
			r := httptest.NewRequest("GET", "/api/v1/user.me", nil)
			r.Header.Set("X-Requested-With", "bench")
			r.Header.Set(header, value)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("user.me: %d %s", w.Code, w.Body)
			}
		}
	}
	for _, tc := range []struct {
		name    string
		off, on func()
		burst   int
	}{
		{"user.me/access-token", me(off, "X-Access-Token", p.AccessToken), me(on, "X-Access-Token", p.AccessToken), 200},
		{"user.me/api-token", me(off, "Authorization", "Bearer "+p.APIToken), me(on, "Authorization", "Bearer "+p.APIToken), 200},
		{"token.renew", renewOff, renewOn, 20},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.off()
			tc.on() // warm the caches of both
			var tOff, tOn time.Duration
			n := 0
			for n < b.N {
				k := min(tc.burst, b.N-n)
				start := time.Now()
				for range k {
					tc.off()
				}
				tOff += time.Since(start)
				start = time.Now()
				for range k {
					tc.on()
				}
				tOn += time.Since(start)
				n += k
			}
			b.ReportMetric(float64(tOff.Nanoseconds())/float64(b.N), "off-ns/op")
			b.ReportMetric(float64(tOn.Nanoseconds())/float64(b.N), "on-ns/op")
			b.ReportMetric(float64(tOn)/float64(tOff), "x-off")
		})
	}
}
