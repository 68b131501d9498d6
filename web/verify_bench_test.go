package web_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// BenchmarkEdge compares auth.verify, with a token already seen, to a bare
// handler, both over HTTP on 127.0.0.1 with keep-alive connections, in the
// same run. The goal is at least 0.85× the bare handler's throughput:
// compare ns/op of bare with each other (higher ns/op, lower throughput).
// On a shared machine the load of others swamps that difference, so the
// interleaved sub-benchmarks alternate short bursts of the two and report
// the throughput of auth.verify as a fraction of the bare handler's
// (x-bare), which the others' load affects alike.
// x-bare-cpu is the same from the CPU time the process (client and server)
// spends on each, which the load of others moves far less: it is the
// ratio of the two throughputs with the CPUs to themselves.
// TestAuthVerifyNoStoreRead shows that no such request reads the store.
//
//	go test ./web -run '^$' -bench Edge -count 5 -cpu 2
func BenchmarkEdge(b *testing.B) {
	store, _ := testenv.SQLite(b)
	key := make([]byte, 32)
	rand.Read(key)
	// The default clock and Run, as a server runs them.
	svc, err := auth.New(context.Background(), auth.Config{Store: store, MasterKey: key, Argon2: testArgon})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(bare.Close)

	reg, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{})
	if err != nil {
		b.Fatal(err)
	}
	type target struct {
		name, url string
		header    map[string]string
	}
	targets := []target{
		{"bare", bare.URL + "/", nil},
		{"auth.verify/access-token", ts.URL + "/api/v1/auth.verify?level=10", map[string]string{"X-Access-Token": reg.AccessToken, "X-Original-URI": "/page"}},
		{"auth.verify/pat", ts.URL + "/api/v1/auth.verify?level=10", map[string]string{"Authorization": "Bearer " + reg.APIToken, "X-Original-URI": "/page"}},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	getter := func(b *testing.B, c target) func() error {
		return func() error {
			r, err := http.NewRequest("GET", c.url, nil)
			if err != nil {
				return err
			}
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			res, err := client.Do(r)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("%s: %d", c.url, res.StatusCode)
			}
			return nil
		}
	}
	for _, c := range targets {
		b.Run(c.name, func(b *testing.B) {
			get := getter(b, c)
			if err := get(); err != nil { // the first sight fills the caches
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	// burst sends n requests from 2×GOMAXPROCS workers and returns how long
	// they took, and the CPU time the process (client and server) spent.
	burst := func(b *testing.B, get func() error, n int) (time.Duration, time.Duration) {
		workers := 2 * runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		cpu0 := processCPU()
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range n / workers {
					if err := get(); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start), processCPU() - cpu0
	}
	for _, c := range targets[1:] {
		b.Run("interleaved/"+c.name, func(b *testing.B) {
			// The bare handler gets the same request, token and all, as
			// the app behind a proxy would.
			bareGet, get := getter(b, target{url: targets[0].url, header: c.header}), getter(b, c)
			if err := get(); err != nil {
				b.Fatal(err)
			}
			var bareTime, verifyTime, bareCPU, verifyCPU time.Duration
			for b.Loop() {
				t, c := burst(b, bareGet, 200)
				bareTime, bareCPU = bareTime+t, bareCPU+c
				t, c = burst(b, get, 200)
				verifyTime, verifyCPU = verifyTime+t, verifyCPU+c
			}
			b.ReportMetric(float64(bareTime)/float64(verifyTime), "x-bare")
			// The throughput the two would have with the CPUs to
			// themselves: the inverse ratio of CPU per request. Other
			// work on a shared machine moves wall time much more than it
			// moves CPU time.
			if verifyCPU > 0 {
				b.ReportMetric(float64(bareCPU)/float64(verifyCPU), "x-bare-cpu")
			}
		})
	}
}
