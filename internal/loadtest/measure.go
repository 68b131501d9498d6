package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Measure is one round of one scenario, or the medians of several rounds.
type Measure struct {
	Requests   int     // answered as the scenario expects
	Errors     int     // answered otherwise
	Seconds    float64 // length of the round
	Throughput float64 // Requests per second
	P50, P99   float64 // latency, µs
	ServerCPU  float64 // CPU time of the server process per request, µs
	DBCPU      float64 // CPU time of the database server per request, µs; 0 for SQLite (inside the server)
}

// TotalCPU is the server's and the database's CPU time per request, µs.
func (m Measure) TotalCPU() float64 { return m.ServerCPU + m.DBCPU }

// round is a Measure and its latencies, kept for the distributions.
type round struct {
	Measure
	lat []time.Duration
}

// outcome is what one request of a worker came to.
type outcome struct {
	ok     bool   // answered as the scenario expects
	detail string // otherwise, what came instead (status and body)
	stop   bool   // and the worker cannot go on this round (a renewal chain broke)
}

// drive has workers run do in a loop for d, each on its own, and returns
// the latency of every request and how many were answered as expected.
// A worker stops at the first transport error, which fails the round; a
// request answered otherwise only counts, and stops its worker only when
// the worker cannot go on (a refused renewal leaves no refresh token).
func drive(ctx context.Context, workers int, d time.Duration, do func(ctx context.Context, w int) (outcome, error)) ([]time.Duration, int, int, string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, d+time.Minute) // a hung server ends the round
	defer cancel()
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, workers)
	oks := make([]int, workers)
	bads := make([]int, workers)
	var mu sync.Mutex
	var firstErr error
	var firstBad string
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				o, err := do(ctx, w)
				took := time.Since(t0)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lats[w] = append(lats[w], took)
				if o.ok {
					oks[w]++
					continue
				}
				bads[w]++
				mu.Lock()
				if firstBad == "" {
					firstBad = o.detail
				}
				mu.Unlock()
				if o.stop {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	ok, bad := 0, 0
	for w := range workers {
		all = append(all, lats[w]...)
		ok += oks[w]
		bad += bads[w]
	}
	return all, ok, bad, firstBad, elapsed, firstErr
}

// cpuReader reads the CPU time of a server and of its database.
type cpuReader struct {
	server func() (time.Duration, error)
	db     func(ctx context.Context) (map[int]time.Duration, error) // nil: none
}

// measureRound runs one round and reads the CPU time around it.
func measureRound(ctx context.Context, cpu cpuReader, workers int, d time.Duration, do func(ctx context.Context, w int) (outcome, error)) (round, string, error) {
	var db0, db1 map[int]time.Duration
	var err error
	if cpu.db != nil {
		if db0, err = cpu.db(ctx); err != nil {
			return round{}, "", fmt.Errorf("database CPU: %w", err)
		}
	}
	s0, err := cpu.server()
	if err != nil {
		return round{}, "", fmt.Errorf("server CPU: %w", err)
	}
	lat, ok, bad, firstBad, elapsed, err := drive(ctx, workers, d, do)
	if err != nil {
		return round{}, "", err
	}
	s1, err := cpu.server()
	if err != nil {
		return round{}, "", fmt.Errorf("server CPU: %w", err)
	}
	if cpu.db != nil {
		if db1, err = cpu.db(ctx); err != nil {
			return round{}, "", fmt.Errorf("database CPU: %w", err)
		}
	}
	r := round{lat: lat}
	r.Requests, r.Errors, r.Seconds = ok, bad, elapsed.Seconds()
	r.Throughput = float64(ok) / elapsed.Seconds()
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	r.P50, r.P99 = quantile(sorted, 0.50), quantile(sorted, 0.99)
	if ok > 0 {
		r.ServerCPU = micros(s1-s0) / float64(ok)
		r.DBCPU = micros(dbCPUDelta(db0, db1)) / float64(ok)
	}
	return r, firstBad, nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// quantile returns the q-quantile of sorted latencies, in µs.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return micros(sorted[min(max(i, 0), len(sorted)-1)])
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianOf returns each field's median over rounds, and the sums of the
// counts.
func medianOf(rs []round) Measure {
	var m Measure
	field := func(f func(Measure) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r.Measure)
		}
		return median(xs)
	}
	for _, r := range rs {
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Seconds += r.Seconds
	}
	m.Throughput = field(func(m Measure) float64 { return m.Throughput })
	m.P50 = field(func(m Measure) float64 { return m.P50 })
	m.P99 = field(func(m Measure) float64 { return m.P99 })
	m.ServerCPU = field(func(m Measure) float64 { return m.ServerCPU })
	m.DBCPU = field(func(m Measure) float64 { return m.DBCPU })
	return m
}

// cdfProbs are the probabilities at which a scenario's latency
// distribution is kept for its plot.
var cdfProbs = func() []float64 {
	var ps []float64
	for i := 1; i < 100; i++ {
		ps = append(ps, float64(i)/100)
	}
	return append(ps, 0.995, 0.999)
}()

// distribution returns the latencies of rounds at cdfProbs, µs.
func distribution(rs []round) []float64 {
	var all []time.Duration
	for _, r := range rs {
		all = append(all, r.lat...)
	}
	slices.Sort(all)
	out := make([]float64, len(cdfProbs))
	for i, p := range cdfProbs {
		out[i] = quantile(all, p)
	}
	return out
}
