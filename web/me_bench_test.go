//go:build unix

package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
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

// BenchmarkUserMe is user.me by an access token and by a personal access
// token, both already seen, beside a bare net/http JSON handler, over HTTP
// on 127.0.0.1 in the same run, on each store. The server is this process,
// wrapped as "propusk serve" wraps it (request ids, the request log as JSON
// to nowhere, metrics); the client is a child process (the test binary as
// a load generator, loadgen_test.go), so this process's CPU time is the
// server's. Each iteration sends a burst to the bare handler and one to
// user.me, alternately, so the machine's other load falls on both alike.
// It reports:
//
//   - x-bare-cpu: the bare handler's server CPU time per request divided
//     by user.me's, the throughput user.me would have, as a fraction of
//     the bare handler's, on a server that only served (the goal is at
//     least 0.70);
//   - x-bare: the same measured by wall time, with the load generator on
//     the same cores: the client's own cost, the same for both, and the
//     machine's other load narrow and blur it;
//   - cpu-µs/req and bare-cpu-µs/req: the server's CPU time per request of
//     each (user and system time of this process, from getrusage);
//   - reads/req: store calls per user.me, the feed's own polling excluded.
//
// Command (-cpuprofile profiles the server alone):
//
//	go test ./web -run '^$' -bench 'UserMe$' -benchtime 10x -count 5
func BenchmarkUserMe(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) propusk.Store
	}{
		{"sqlite", func(b *testing.B) propusk.Store { s, _ := testenv.SQLite(b); return s }},
		{"postgres", func(b *testing.B) propusk.Store { s, _ := testenv.Postgres(b); return s }},
	}
	gen := startLoadgen(b)
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			key := make([]byte, 32)
			rand.Read(key)
			m := metrics.New()
			discard := slog.New(slog.NewJSONHandler(io.Discard, nil))
			// The default clock and Run, as a server runs them.
			svc, err := auth.New(ctx, auth.Config{Store: m.Store(st.open(b)), MasterKey: key, Logger: discard, Observer: m,
				Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
			if err != nil {
				b.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- svc.Run(runCtx) }()
			b.Cleanup(func() { cancel(); <-done })
			srv, err := web.New(web.Config{Service: svc, Logger: discard})
			if err != nil {
				b.Fatal(err)
			}
			m.Watch(svc)
			ts := httptest.NewServer(web.RequestIDs(web.LogRequestsAs(discard, web.AccessLog{}, m.Requests(srv))))
			b.Cleanup(ts.Close)
			p, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{})
			if err != nil {
				b.Fatal(err)
			}
			id := p.UserID
			bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := json.Marshal(struct {
					ID     *int64   `json:"_id,omitempty"`
					Login  string   `json:"login,omitempty"`
					Level  int      `json:"level"`
					Boards []string `json:"boards"`
					Via    string   `json:"via"`
				}{&id, "alice", propusk.LevelUser, []string{propusk.AllBoards}, propusk.ViaAccessToken})
				w.Header().Set("Content-Type", "application/json")
				w.Write(b)
			}))
			b.Cleanup(bare.Close)
			for _, c := range []struct {
				name   string
				header map[string]string
			}{
				{"access-token", map[string]string{"X-Access-Token": p.AccessToken, "X-Requested-With": "bench"}},
				{"pat", map[string]string{"Authorization": "Bearer " + p.APIToken, "X-Requested-With": "bench"}},
			} {
				b.Run(c.name, func(b *testing.B) {
					me := burstOrder{URL: ts.URL + "/api/v1/user.me", Header: c.header, N: 1000, Workers: 8}
					// The bare handler gets the same request, token and all.
					plain := burstOrder{URL: bare.URL + "/", Header: c.header, N: me.N, Workers: me.Workers}
					gen.burst(b, me) // the first sight fills the caches
					gen.burst(b, plain)
					var meWall, bareWall, meCPU, bareCPU time.Duration
					reads0 := storeCalls(b, m)
					for b.Loop() {
						w, c := measure(func() { gen.burst(b, plain) })
						bareWall, bareCPU = bareWall+w, bareCPU+c
						w, c = measure(func() { gen.burst(b, me) })
						meWall, meCPU = meWall+w, meCPU+c
					}
					n := float64(b.N * me.N)
					b.ReportMetric(float64(bareWall)/float64(meWall), "x-bare")
					b.ReportMetric(float64(bareCPU)/float64(meCPU), "x-bare-cpu")
					b.ReportMetric(float64(meCPU.Microseconds())/n, "cpu-µs/req")
					b.ReportMetric(float64(bareCPU.Microseconds())/n, "bare-cpu-µs/req")
					b.ReportMetric(float64(storeCalls(b, m)-reads0)/n, "reads/req")
				})
			}
		})
	}
}

// BenchmarkUserMeHandler is the work of propusk's handler chain alone for
// user.me by a cached access token and a cached personal access token:
// the chain of BenchmarkUserMe (request ids, the request log as JSON to
// nowhere, metrics, the Server) called directly, without a connection,
// beside a bare handler that encodes the same JSON. The difference is
// what propusk adds to a request; allocs/op shows what it allocates.
//
//	go test ./web -run '^$' -bench UserMeHandler -benchmem -count 5
func BenchmarkUserMeHandler(b *testing.B) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	store, _ := testenv.SQLite(b)
	m := metrics.New()
	discard := slog.New(slog.NewJSONHandler(io.Discard, nil))
	svc, err := auth.New(ctx, auth.Config{Store: m.Store(store), MasterKey: key, Logger: discard, Observer: m,
		Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := web.New(web.Config{Service: svc, Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	chain := web.RequestIDs(web.LogRequestsAs(discard, web.AccessLog{}, m.Requests(srv)))
	p, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{})
	if err != nil {
		b.Fatal(err)
	}
	id := p.UserID
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(struct {
			ID     *int64   `json:"_id,omitempty"`
			Login  string   `json:"login,omitempty"`
			Level  int      `json:"level"`
			Boards []string `json:"boards"`
			Via    string   `json:"via"`
		}{&id, "alice", propusk.LevelUser, []string{propusk.AllBoards}, propusk.ViaAccessToken})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	for _, c := range []struct {
		name string
		h    http.Handler
		k, v string
	}{
		{"bare", bare, "X-Access-Token", p.AccessToken},
		{"access-token", chain, "X-Access-Token", p.AccessToken},
		{"pat", chain, "Authorization", "Bearer " + p.APIToken},
	} {
		b.Run(c.name, func(b *testing.B) {
			// A request as net/http's server hands it over, reused: the
			// handlers copy it before they change it.
			r := httptest.NewRequest("GET", "/api/v1/user.me", nil)
			r.Header.Set(c.k, c.v)
			r.Header.Set("X-Requested-With", "bench")
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				w.code = 0
				c.h.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("%s: %d", c.name, w.code)
				}
			}
		})
	}
}

// discardWriter is a ResponseWriter that keeps the status and drops the body.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

// measure runs f and returns the wall time and this process's CPU time it took.
func measure(f func()) (wall, cpu time.Duration) {
	c0, t0 := processCPU(), time.Now()
	f()
	return time.Since(t0), processCPU() - c0
}
