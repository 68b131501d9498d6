package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk/mysql/mytest"
	"github.com/propusk/propusk/postgres/pgtest"
)

// plan is what one run measures, and where it writes.
type plan struct {
	out      string   // the docs directory: PERFORMANCE.md, and performance/ for the plots and results.json
	stores   []string // of storeNames
	pgDSN    string
	myDSN    string
	workers  int           // concurrent clients of the main table
	round    time.Duration // length of one measured round
	warm     time.Duration // unmeasured requests before each step
	rounds   int           // rounds of each scenario (and as many of the bare handler, and of its limit)
	levels   []int         // concurrency levels of the growth step
	sizes    []int         // users (and sessions) of the data-size step, ascending
	trials   int           // revocation trials per store
	before   string        // -before: a second propusk binary, as given; "" for none
	only     []string      // -scenarios: the main table's scenarios to measure, nothing else; nil for a full run
	short    bool
	pin      bool   // run the servers and the load generator on CPUs of their own (cpuSplit)
	render   bool   // only render the page and plots from out/performance/results.json
	command  string // the command line, as the page shows it
	maxTotal time.Duration
}

// shortOut is where a -short run writes unless told otherwise.
var shortOut = filepath.Join(os.TempDir(), "propusk-loadtest-short")

// parseFlags reads the command line. -short changes the defaults of the
// other flags, not what is given.
func parseFlags(args []string, stderr io.Writer) (*plan, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := &plan{}
	short := fs.Bool("short", false, "a run of under a minute that only shows every part works (CI): tiny rounds, sizes and trials")
	fs.StringVar(&p.out, "out", "docs", "directory to write PERFORMANCE.md and performance/*.svg into (-short: "+shortOut+")")
	stores := fs.String("stores", strings.Join(storeNames, ","), "stores to measure, of sqlite, postgres and mysql")
	fs.StringVar(&p.pgDSN, "postgres", pgtest.BaseDSN(), "PostgreSQL server ($PROPUSK_TEST_POSTGRES); the run makes a schema of its own there and drops it")
	fs.StringVar(&p.myDSN, "mysql", mytest.BaseDSN(), "MariaDB or MySQL server ($PROPUSK_TEST_MYSQL); the run makes a database of its own there and drops it")
	workers := fs.Int("c", 0, "concurrent clients in the main table (default 16; -short 4)")
	roundLen := fs.Duration("round", 0, "length of one measured round (default 750ms; -short 150ms): short rounds, many of them, let a pair of rounds see the same load from other work")
	rounds := fs.Int("rounds", 0, "rounds of each scenario, each after a round of the bare handler (default 6; -short 1)")
	levels := fs.String("concurrency", "", "concurrency levels of the growth step (default 1,4,16,64,256; -short 1,4)")
	sizes := fs.String("sizes", "", "users and sessions of the data-size step (default 1000,10000,100000,1000000; -short 100,300)")
	trials := fs.Int("trials", 0, "revocation trials per store (default 50; -short 3)")
	fs.StringVar(&p.before, "before", "", "a second propusk binary (one built from an older commit) to measure beside the built one in the main table's rounds, on the same database")
	only := fs.String("scenarios", "", "measure only these scenarios of the main table (comma-separated names, as the page shows them), and no growth or revocation step; for profiling a change. The page is not written")
	fs.BoolVar(&p.pin, "pin", true, "run the measured servers on the second half of the CPUs and the load generator on the first (with fewer than two CPUs, nothing is pinned); -pin=false lets the kernel place them")
	fs.BoolVar(&p.render, "render", false, "measure nothing: write the page and plots again from "+resultsFile+" in -out's performance/")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	p.short = *short
	outGiven := false
	fs.Visit(func(f *flag.Flag) { outGiven = outGiven || f.Name == "out" })
	if p.short && !outGiven {
		// A short run's figures mean nothing: never over the published page.
		p.out = shortOut
	}
	def := func(full, short int) int {
		if p.short {
			return short
		}
		return full
	}
	p.workers = pick(*workers, def(16, 4))
	p.rounds = pick(*rounds, def(6, 1))
	p.trials = pick(*trials, def(50, 3))
	p.round, p.warm = 750*time.Millisecond, 300*time.Millisecond
	if p.short {
		p.round, p.warm = 150*time.Millisecond, 50*time.Millisecond
	}
	if *roundLen != 0 {
		p.round = *roundLen
	}
	var err error
	if p.levels, err = ints(*levels, map[bool]string{false: "1,4,16,64,256", true: "1,4"}[p.short]); err != nil {
		return nil, fmt.Errorf("-concurrency: %w", err)
	}
	if p.sizes, err = ints(*sizes, map[bool]string{false: "1000,10000,100000,1000000", true: "100,300"}[p.short]); err != nil {
		return nil, fmt.Errorf("-sizes: %w", err)
	}
	for s := range strings.SplitSeq(*stores, ",") {
		if s = strings.TrimSpace(s); s != "" {
			p.stores = append(p.stores, s)
		}
	}
	for n := range strings.SplitSeq(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			p.only = append(p.only, n)
		}
	}
	p.command = "go run ./internal/loadtest"
	if len(args) > 0 {
		p.command += " " + strings.Join(args, " ")
	}
	return p, p.check()
}

func pick(given, def int) int {
	if given != 0 {
		return given
	}
	return def
}

func ints(s, def string) ([]int, error) {
	if s == "" {
		s = def
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, errors.New("give them in ascending order")
		}
		out = append(out, n)
	}
	return out, nil
}

// check rejects plans that cannot run, or could run for hours.
func (p *plan) check() error {
	for _, s := range p.stores {
		ok := false
		for _, n := range storeNames {
			ok = ok || s == n
		}
		if !ok {
			return fmt.Errorf("-stores: unknown store %q (want sqlite, postgres or mysql)", s)
		}
	}
	for _, n := range p.only {
		if _, ok := lookupScenario(n); !ok {
			return fmt.Errorf("-scenarios: unknown scenario %q", n)
		}
	}
	if p.render {
		if p.before != "" || p.only != nil {
			return errors.New("-before, -scenarios: -render measures nothing")
		}
		return nil
	}
	if err := checkBefore(p.before); err != nil {
		return err
	}
	switch {
	case len(p.stores) == 0:
		return errors.New("-stores: none given")
	case p.workers < 1 || p.workers > 1024:
		return errors.New("-c: want 1 to 1024")
	case p.rounds < 1 || p.rounds > 20:
		return errors.New("-rounds: want 1 to 20")
	case p.round < 50*time.Millisecond || p.round > time.Minute:
		return errors.New("-round: want 50ms to 1m")
	case p.trials < 1 || p.trials > 1000:
		return errors.New("-trials: want 1 to 1000")
	case p.levels[len(p.levels)-1] > 1024:
		return errors.New("-concurrency: at most 1024")
	case p.sizes[len(p.sizes)-1] > 10_000_000:
		return errors.New("-sizes: at most 10000000")
	}
	// The workers sign in as seeded users 1…W, the revocation trials use
	// the next ones, and user.login draws from the rest.
	if need := p.maxWorkers() + p.trials + 50; p.sizes[0] < need {
		return fmt.Errorf("-sizes: the smallest must be at least %d (workers, revocation trials and 50 users for user.login)", need)
	}
	p.maxTotal = 2*p.expected() + 5*time.Minute
	return nil
}

// mainScenarios are the scenarios of the main table the plan measures.
func (p *plan) mainScenarios() []scenario {
	if p.only == nil {
		return scenarios
	}
	var out []scenario
	for _, sc := range scenarios {
		if slices.Contains(p.only, sc.Name) {
			out = append(out, sc)
		}
	}
	return out
}

// maxWorkers is the most workers any step runs.
func (p *plan) maxWorkers() int { return max(p.workers, p.levels[len(p.levels)-1]) }

// seedRate is a cautious guess of users and sessions seeded per second,
// for the estimate only (MariaDB, the slowest, seeds about this fast).
const seedRate = 20000

// expected is how long the run should take, said before it starts.
func (p *plan) expected() time.Duration {
	step := func(n int) time.Duration {
		return time.Duration(n) * (p.round + p.warm/time.Duration(max(p.rounds, 1)))
	}
	// size is a round of sc, in rounds' lengths.
	size := func(sc scenario) int {
		if sc.hashes {
			return hashRounds
		}
		return 1
	}
	rounds := 0
	for _, sc := range p.mainScenarios() {
		rounds += 1 + size(sc) // the bare handler's round, and the scenario's
		if p.before != "" {
			rounds += size(sc) // and on the -before binary
		}
		if sc.limit != nil {
			rounds += size(*sc.limit) // and its limit
		}
	}
	perStore := step(rounds * p.rounds)
	if p.only != nil {
		return time.Duration(len(p.stores))*(perStore+15*time.Second) + 30*time.Second
	}
	perStore += step(len(p.levels) * len(concurrencyScenarios) * p.rounds) // growth with concurrency
	sized := 0
	for _, n := range sizeScenarios {
		sized += size(scenarioNamed(n))
	}
	perStore += step(len(p.sizes) * sized * p.rounds)                           // growth with data size
	perStore += time.Duration(p.sizes[len(p.sizes)-1]) * time.Second / seedRate // seeding
	perStore += time.Duration(p.trials) * 600 * time.Millisecond                // revocation (the slowest store polls every 500 ms)
	perStore += 15 * time.Second                                                // servers starting, accounts signing in
	return time.Duration(len(p.stores))*perStore + 30*time.Second               // builds and primitives
}

func (p *plan) describe(w io.Writer) {
	fmt.Fprintf(w, "loadtest: %s\n", p.command)
	fmt.Fprintf(w, "stores %s; %d clients; %d rounds of %v beside the bare handler and the limits; concurrency %v; sizes %v; %d revocation trials\n",
		strings.Join(p.stores, ","), p.workers, p.rounds, p.round, p.levels, p.sizes, p.trials)
	if p.only != nil {
		fmt.Fprintf(w, "only %s, in the main table; no page is written\n", strings.Join(p.only, ", "))
	}
	if p.before != "" {
		fmt.Fprintf(w, "the main table's scenarios also on -before %s, in the same rounds\n", p.before)
	}
	fmt.Fprintf(w, "expected length: about %v (stops by itself after %v at most)\n", p.expected().Round(time.Second), p.maxTotal.Round(time.Second))
}
