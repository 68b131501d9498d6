package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// concurrencyScenarios are measured at every concurrency level, and
// sizeScenarios at every data size.
var (
	concurrencyScenarios = []string{"bare", "token.renew", "user.me (JWT)"}
	sizeScenarios        = []string{"token.renew", "user.me (JWT)", "user.login"}
)

// probeLogin is the user the harness registers through the API on each
// store, to read the password hash propusk writes: every seeded user gets
// that hash, so all share its password and propusk's argon2 parameters.
const probeLogin = "loadtest-probe"

// harness is one run in progress.
type harness struct {
	plan      *plan
	log       io.Writer
	propusk   string   // the binary
	bareBin   string   // the bare process's binary
	beforeBin string   // -before, resolved; "" for none
	bare      *process // the baseline and the limits, one for the whole run; started with the first propusk
	client    *http.Client
	res       *Results
	bareCPU   []float64 // the bare handler's server CPU per request, every round
	cpus      cpuSplit  // where the servers and the harness run; zero: anywhere
}

// run measures everything the plan asks for and writes the page.
func run(ctx context.Context, p *plan, log io.Writer) (*Results, error) {
	if p.render {
		res, err := readResults(filepath.Join(p.out, "performance"))
		if err != nil {
			return nil, fmt.Errorf("-render: %w", err)
		}
		return res, publish(p.out, res)
	}
	p.describe(log)
	ctx, cancel := context.WithTimeout(ctx, p.maxTotal)
	defer cancel()
	began := time.Now()
	dir, err := os.MkdirTemp("", "propusk-loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(log, "building propusk and the bare handler")
	bin, bareBin, err := build(ctx, dir)
	if err != nil {
		return nil, err
	}
	h := &harness{plan: p, log: log, propusk: bin, bareBin: bareBin, res: &Results{Command: p.command, Short: p.short, Started: began.UTC()}}
	if p.before != "" {
		if h.beforeBin, h.res.Before, err = beforeBinary(p.before, bin); err != nil {
			return nil, err
		}
	}
	// Keep-alive connections for every worker of every step, to every
	// server: a step never pays for new connections.
	n := 2 * p.maxWorkers()
	h.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 2 * n, MaxIdleConnsPerHost: n}}
	defer h.client.CloseIdleConnections()
	defer func() {
		if h.bare != nil {
			h.bare.stop()
		}
	}()
	h.res.Machine = readMachine()
	if p.pin {
		cpus, err := usableCPUs()
		if err != nil {
			return nil, err
		}
		h.cpus = splitCPUs(cpus)
		unpin, err := pinSelf(h.cpus.Load)
		if err != nil {
			return nil, err
		}
		defer unpin()
	}
	fmt.Fprintf(log, "CPUs: %v\n", h.cpus)
	h.res.Plan = PlanSummary{Workers: p.workers, Rounds: p.rounds, RoundSeconds: p.round.Seconds(), HashRounds: hashRounds,
		Levels: p.levels, Sizes: p.sizes, Trials: p.trials, ConcurrencyAt: p.sizes[0], SizeWorkers: p.workers, CPUs: h.cpus}
	var failed []error
	for _, name := range p.stores {
		sr, err := h.store(ctx, name, dir)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", storeTitle(name), err))
			fmt.Fprintf(log, "%s: FAILED: %v\n", storeTitle(name), err)
			h.res.Failed = append(h.res.Failed, fmt.Sprintf("%s: %v", storeTitle(name), err))
		}
		if sr == nil {
			continue
		}
		h.res.Stores = append(h.res.Stores, *sr)
		h.res.Machine.Databases = append(h.res.Machine.Databases, sr.Version)
		for _, e := range sr.Errors {
			failed = append(failed, fmt.Errorf("%s: %s", sr.Title, e))
		}
	}
	h.res.Primitives.BareServerCPU = median(h.bareCPU)
	h.res.Machine.Load[1] = loadAverage()
	h.res.Minutes = time.Since(began).Minutes()
	if p.only != nil {
		fmt.Fprintf(log, "measured in %v; -scenarios: no page written\n", time.Since(began).Round(time.Second))
		return h.res, errors.Join(failed...)
	}
	fmt.Fprintf(log, "measured in %v; writing %s\n", time.Since(began).Round(time.Second), p.out)
	// What was measured is published even when a step failed; the page
	// names the failures, and so does the exit status.
	if err := publish(p.out, h.res); err != nil {
		return h.res, err
	}
	return h.res, errors.Join(failed...)
}

// publish writes results.json, the plots and the page.
func publish(out string, res *Results) error {
	dir := filepath.Join(out, "performance")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeResults(dir, res); err != nil {
		return err
	}
	plots, err := writePlots(dir, res)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return writePage(filepath.Join(out, "PERFORMANCE.md"), res, plots)
}

// store runs every step on one store, with propusk serving from a fresh
// database, and drops the database at the end.
func (h *harness) store(ctx context.Context, name, dir string) (*StoreResult, error) {
	p := h.plan
	sdir := filepath.Join(dir, name)
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		return nil, err
	}
	dsn := map[string]string{"postgres": p.pgDSN, "mysql": p.myDSN}[name]
	db, err := openDatabase(ctx, name, dsn, sdir)
	if err != nil {
		return nil, err
	}
	sr := &StoreResult{Store: name, Title: storeTitle(name)}
	defer func() {
		if cerr := db.Close(); cerr != nil {
			sr.Errors = append(sr.Errors, cerr.Error())
		}
	}()
	fmt.Fprintf(h.log, "%s: starting propusk\n", sr.Title)
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"PROPUSK_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	// Registrations all come from 127.0.0.1: the per-address limit would
	// refuse all but the first 30 an hour.
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", db.DSN(), "--register-limit", "1000000000"}
	a, err := start(ctx, "propusk", h.propusk, h.cpus.Servers, env, args...)
	if err != nil {
		return nil, err
	}
	defer a.stop()
	sr.Version = db.Version(ctx)
	t := &target{base: a.URL, client: h.client, password: "loadtest password " + random(), regPrefix: "r" + random() + "-", accountSet: &accountSet{first: 1}}
	if err := h.probe(ctx, t, db); err != nil {
		return nil, err
	}
	hash, err := db.PasswordHash(ctx, probeLogin)
	if err != nil {
		return nil, fmt.Errorf("read the probe's password hash: %w", err)
	}
	if h.bare == nil {
		if err := h.startBare(ctx, a, hash); err != nil {
			return nil, err
		}
	}
	t.bareURL = h.bare.URL
	seeded := 0
	seed := func(size int) error {
		t0 := time.Now()
		if err := db.Seed(ctx, seeded+1, size+1, hash); err != nil {
			return err
		}
		fmt.Fprintf(h.log, "%s: seeded %d users and sessions in %v\n", sr.Title, size-seeded, time.Since(t0).Round(time.Millisecond))
		sr.SeedSeconds = append(sr.SeedSeconds, time.Since(t0).Seconds())
		seeded = size
		// user.login draws from the users no worker or trial signs in as.
		t.loginLo, t.loginHi = p.maxWorkers()+p.trials+1, size+1
		return nil
	}
	if err := seed(p.sizes[0]); err != nil {
		return nil, err
	}
	cpu := cpuReader{server: a.cpu, db: db.CPU}
	if name == "sqlite" {
		cpu.db = nil
	}
	bareCPU := cpuReader{server: h.bare.cpu}
	var before *beforeProcess
	if h.beforeBin != "" {
		fmt.Fprintf(h.log, "%s: starting -before %s on the same database\n", sr.Title, p.before)
		if before, err = h.startBefore(ctx, t, cpu, env, args); err != nil {
			return nil, err
		}
		// Only the main table is measured on it; stopped after that.
		defer before.proc.stop()
	}

	// A step that fails is recorded and the next one runs: one busy
	// moment late in a long run must not lose what came before it.
	step := func(what string, f func() error) {
		if err := f(); err != nil {
			err = fmt.Errorf("%s: %w", what, err)
			fmt.Fprintf(h.log, "%s: FAILED: %v\n", sr.Title, err)
			sr.Errors = append(sr.Errors, err.Error())
		}
	}
	for _, sc := range p.mainScenarios() {
		step(sc.Name+" beside the bare handler", func() error {
			r, err := h.beside(ctx, t, sc, cpu, bareCPU, before)
			if err != nil {
				return err
			}
			sr.Scenarios = append(sr.Scenarios, *r)
			if r.FirstError != "" {
				fmt.Fprintf(h.log, "%s: %s: %d requests refused; the first: %s\n", sr.Title, sc.Name, r.Median.Errors, r.FirstError)
			}
			fmt.Fprintf(h.log, "%s: %-14s %8.0f req/s %5.2f× bare (server CPU %5.2f×)  p50 %7.0f µs  p99 %7.0f µs  CPU/req server %6.1f µs  db %6.1f µs\n",
				sr.Title, sc.Name, r.Median.Throughput, r.ThroughputRatio, r.CPURatio, r.Median.P50, r.Median.P99, r.Median.ServerCPU, r.Median.DBCPU)
			if r.Limit != "" {
				fmt.Fprintf(h.log, "%s: %-14s server CPU %5.2f× %s's (%.1f µs/req at %.0f req/s)\n",
					sr.Title, sc.Name, r.LimitCPURatio, r.Limit, r.LimitMedian.ServerCPU, r.LimitMedian.Throughput)
			}
			return h.logBefore(sr.Title, r)
		})
	}
	if before != nil {
		before.proc.stop()
	}
	if name != "sqlite" {
		step("counting SQL statements", func() error {
			fmt.Fprintf(h.log, "%s: counting SQL statements per request\n", sr.Title)
			counts, err := h.countStatements(ctx, name, db, env, args, t)
			if err != nil {
				return err
			}
			for i := range sr.Scenarios {
				if c, ok := counts[sr.Scenarios[i].Name]; ok {
					sc := &sr.Scenarios[i]
					sc.Counted, sc.Statements, sc.RoundTrips = true, c[0], c[1]
					fmt.Fprintf(h.log, "%s: %-14s %.2f statements per request\n", sr.Title, sc.Name, sc.Statements)
				}
			}
			return nil
		})
	}
	if p.only != nil {
		return sr, nil // -scenarios: the main table only
	}
	for _, c := range p.levels {
		step(fmt.Sprintf("%d clients", c), func() error {
			pts, err := h.growth(ctx, t, concurrencyScenarios, c, c, cpu, bareCPU)
			if err != nil {
				return err
			}
			sr.Concurrency = append(sr.Concurrency, pts...)
			h.logGrowth(sr.Title, "clients", pts)
			return nil
		})
	}
	step("revocation across two processes", func() error {
		b, err := start(ctx, "propusk (second process)", h.propusk, h.cpus.Servers, env, args...)
		if err != nil {
			return err
		}
		defer b.stop()
		if sr.Revocation, err = h.revocation(ctx, t, b.URL, p.maxWorkers()+1); err != nil {
			return err
		}
		rv := sr.Revocation
		fmt.Fprintf(h.log, "%s: revocation across two processes: p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d trials, %d not enforced\n",
			sr.Title, rv.P50, rv.P99, rv.Max, len(rv.Trials), rv.Failed)
		return nil
	})
	for i, size := range p.sizes {
		step(fmt.Sprintf("%d users", size), func() error {
			if i > 0 {
				if err := seed(size); err != nil {
					return err
				}
			}
			pts, err := h.growth(ctx, t, sizeScenarios, p.workers, size, cpu, bareCPU)
			if err != nil {
				return err
			}
			sr.DataSize = append(sr.DataSize, pts...)
			h.logGrowth(sr.Title, "users", pts)
			return nil
		})
		if seeded < size {
			break // the larger sizes would not be what they say
		}
	}
	return sr, nil
}

// startBare starts the bare process, once for the run, when the first
// propusk (a) has written the probe's hash: its /hash takes that hash's
// argon2 parameters, and the process the garbage collector policy a chose
// for itself, so that a limit costs what the same work costs propusk. The
// primitives are timed with the same parameters.
func (h *harness) startBare(ctx context.Context, a *process, hash string) error {
	params, err := parseArgon2(hash)
	if err != nil {
		return err
	}
	args := []string{"-argon2", params.String()}
	gc := "as the environment sets it"
	if a.gcPolicy != "" {
		args, gc = append(args, "-gc", a.gcPolicy), a.gcPolicy
	}
	if h.bare, err = start(ctx, "bare", h.bareBin, h.cpus.Servers, nil, args...); err != nil {
		return err
	}
	fmt.Fprintf(h.log, "the bare process serves the limits with argon2id %s, garbage collector %s\n", params, gc)
	fmt.Fprintln(h.log, "measuring the primitives: an Ed25519 signature, an argon2id hash")
	h.res.Primitives = measurePrimitives(params)
	return nil
}

// probe registers probeLogin through the API: the first write checks the
// server works, and leaves a hash with propusk's own parameters.
func (h *harness) probe(ctx context.Context, t *target, db database) error {
	status, body, err := t.call(ctx, "POST", t.base+"/api/v1/user.register", jsonBody{"login": probeLogin, "password": t.password}, nil)
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("user.register: %d %.300s", status, body)
	}
	return nil
}

// prepare readies the workers of sc and warms the step up: pools,
// caches and connections as in a server that has been running.
func (h *harness) prepare(ctx context.Context, t *target, sc scenario, workers int) error {
	if sc.accounts {
		if err := t.ensureAccounts(ctx, workers); err != nil {
			return err
		}
	}
	ok, bad, err := h.warm(ctx, t, sc, workers)
	if err != nil {
		return err
	}
	if ok == 0 {
		return fmt.Errorf("warming up, every request refused; the first: %s", bad)
	}
	return nil
}

func (h *harness) warm(ctx context.Context, t *target, sc scenario, workers int) (int, string, error) {
	_, ok, _, firstBad, _, err := drive(ctx, workers, h.plan.warm, func(ctx context.Context, w int) (outcome, error) { return sc.do(ctx, t, w) })
	return ok, firstBad, err
}

// oneRound measures one round of sc.
func (h *harness) oneRound(ctx context.Context, t *target, sc scenario, workers int, cpu cpuReader) (round, string, error) {
	if sc.accounts {
		// A worker whose renewal was refused signs in again.
		if err := t.ensureAccounts(ctx, workers); err != nil {
			return round{}, "", err
		}
	}
	return measureRound(ctx, cpu, workers, sc.length(h.plan.round), func(ctx context.Context, w int) (outcome, error) { return sc.do(ctx, t, w) })
}

// beside measures sc in rounds, each right after a round of the bare
// handler with the same clients, with -before beside a round on the
// before binary (each going first in turn), and, if sc has a limit, right
// before a round of the limit, so that the load others put on the machine falls on all of
// them alike; ratios are taken per round.
func (h *harness) beside(ctx context.Context, t *target, sc scenario, cpu, bareCPU cpuReader, before *beforeProcess) (*ScenarioResult, error) {
	p := h.plan
	if err := h.prepare(ctx, t, bareScenario, p.workers); err != nil {
		return nil, fmt.Errorf("bare: %w", err)
	}
	if err := h.prepare(ctx, t, sc, p.workers); err != nil {
		return nil, err
	}
	r := &ScenarioResult{Name: sc.Name, Workers: p.workers}
	var cmp *comparison
	if before != nil {
		cmp = h.compare(ctx, before, sc)
	}
	if sc.limit != nil {
		r.Limit = sc.limit.Name
		if err := h.prepare(ctx, t, *sc.limit, p.workers); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Limit, err)
		}
	}
	// baseline runs one round of the bare process (the bare handler or a
	// limit), where every request must succeed.
	baseline := func(b scenario) (round, error) {
		m, bad, err := h.oneRound(ctx, t, b, p.workers, bareCPU)
		if err == nil && bad != "" {
			err = errors.New(bad)
		}
		if err != nil {
			return m, fmt.Errorf("%s: %w", b.Name, err)
		}
		return m, nil
	}
	var rounds, bares, limits []round
	var tput, cpuRatio, limitTput, limitCPU []float64
	for i := range p.rounds {
		b, err := baseline(bareScenario)
		if err != nil {
			return nil, err
		}
		// With -before, the two binaries take turns going first after the
		// bare round, so that a round's position cannot pass for a
		// difference between them.
		beforeFirst := cmp != nil && i%2 == 1
		if beforeFirst {
			cmp.round(ctx, h)
		}
		s, bad, err := h.oneRound(ctx, t, sc, p.workers, cpu)
		if err != nil {
			return nil, err
		}
		if bad != "" && r.FirstError == "" {
			r.FirstError = bad
		}
		rounds, bares = append(rounds, s), append(bares, b)
		r.Rounds, r.BareRounds = append(r.Rounds, s.Measure), append(r.BareRounds, b.Measure)
		h.bareCPU = append(h.bareCPU, b.ServerCPU)
		if b.Throughput > 0 {
			tput = append(tput, s.Throughput/b.Throughput)
		}
		if s.ServerCPU > 0 {
			cpuRatio = append(cpuRatio, b.ServerCPU/s.ServerCPU)
		}
		if cmp != nil && !beforeFirst {
			cmp.round(ctx, h)
		}
		if sc.limit == nil {
			continue
		}
		l, err := baseline(*sc.limit)
		if err != nil {
			return nil, err
		}
		limits, r.LimitRounds = append(limits, l), append(r.LimitRounds, l.Measure)
		if l.Throughput > 0 {
			limitTput = append(limitTput, s.Throughput/l.Throughput)
		}
		if l.ServerCPU > 0 {
			limitCPU = append(limitCPU, s.ServerCPU/l.ServerCPU)
		}
	}
	r.Median, r.BareMedian = medianOf(rounds), medianOf(bares)
	r.ThroughputRatio, r.CPURatio = median(tput), median(cpuRatio)
	if sc.limit != nil {
		r.LimitMedian = medianOf(limits)
		r.LimitThroughputRatio, r.LimitCPURatio = median(limitTput), median(limitCPU)
	}
	r.Distribution, r.BareDistribution = distribution(rounds), distribution(bares)
	if cmp != nil {
		r.Before = cmp.result(r.Rounds)
	}
	// Refusals are figures (the page shows them), unless nothing worked.
	if r.Median.Requests == 0 {
		return nil, fmt.Errorf("every request refused; the first: %s", r.FirstError)
	}
	return r, nil
}

// growth measures names at one point (x: a concurrency level or a data
// size), rounds interleaved across the scenarios.
func (h *harness) growth(ctx context.Context, t *target, names []string, workers, x int, cpu, bareCPU cpuReader) ([]GrowthPoint, error) {
	scs := make([]scenario, len(names))
	readers := make([]cpuReader, len(names))
	for i, n := range names {
		scs[i], readers[i] = bareScenario, bareCPU
		if n != "bare" {
			scs[i], readers[i] = scenarioNamed(n), cpu
		}
		if err := h.prepare(ctx, t, scs[i], workers); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	rounds := make([][]round, len(names))
	for range h.plan.rounds {
		for i, sc := range scs {
			r, bad, err := h.oneRound(ctx, t, sc, workers, readers[i])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sc.Name, err)
			}
			if r.Requests == 0 {
				return nil, fmt.Errorf("%s: every request refused; the first: %s", sc.Name, bad)
			}
			if bad != "" {
				fmt.Fprintf(h.log, "%s: %d of %d requests refused; the first: %s\n", sc.Name, r.Errors, r.Requests+r.Errors, bad)
			}
			rounds[i] = append(rounds[i], r)
		}
	}
	pts := make([]GrowthPoint, len(names))
	for i, n := range names {
		pts[i] = GrowthPoint{Scenario: n, X: x, Median: medianOf(rounds[i])}
	}
	return pts, nil
}

func (h *harness) logGrowth(store, unit string, pts []GrowthPoint) {
	for _, pt := range pts {
		fmt.Fprintf(h.log, "%s: %7d %s  %-14s %8.0f req/s  p50 %7.0f µs  p99 %8.0f µs  CPU/req server %6.1f µs  db %6.1f µs\n",
			store, pt.X, unit, pt.Scenario, pt.Median.Throughput, pt.Median.P50, pt.Median.P99, pt.Median.ServerCPU, pt.Median.DBCPU)
	}
}

// sortedCopy returns xs sorted.
func sortedCopy(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}
