package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// resultsFile holds everything a run measured, beside the plots, so that
// the page can be written again (-render) without measuring again.
const resultsFile = "results.json"

// Results is one run.
type Results struct {
	Command    string
	Short      bool
	Started    time.Time
	Minutes    float64 // how long the run took
	Machine    Machine
	Primitives Primitives
	Plan       PlanSummary
	Stores     []StoreResult
	Failed     []string `json:",omitempty"` // stores that could not be measured at all, and why
	// Before names the -before binary, when the run measured one.
	Before *BeforeBinary `json:",omitempty"`
}

// PlanSummary is what the run was asked to do, for the page.
type PlanSummary struct {
	Workers       int
	Rounds        int
	RoundSeconds  float64
	HashRounds    int // a hashing scenario's round lasts this many rounds' length
	Levels, Sizes []int
	Trials        int
	ConcurrencyAt int // users seeded during the concurrency step
	SizeWorkers   int // clients of the data-size step
	CPUs          cpuSplit
}

// Machine is where the run ran, as the machine reports it.
type Machine struct {
	CPU        string
	Cores      int
	MemoryGiB  float64
	OS         string
	Kernel     string
	Go         string
	GOMAXPROCS int
	Databases  []string
	// Load is the 1-minute load average (runnable processes, of every
	// user) at the start and at the end of the run: above the number of
	// cores, other work was competing for them.
	Load [2]float64
}

// Primitives are the costs under the limits, measured in the same run as
// CPU time of the harness process: context for the page. The goals are
// judged against the limits measured as servers (ScenarioResult.Limit).
type Primitives struct {
	Ed25519Sign   float64 // µs per signature of a token-sized message
	Argon2id      float64 // µs per hash with propusk's parameters
	Argon2Params  string  // as the stored hash names them
	BareServerCPU float64 // µs of the bare handler's server CPU per request: the median of all its rounds
}

// StoreResult is everything measured on one store.
type StoreResult struct {
	Store       string // sqlite, postgres, mysql
	Title       string
	Version     string
	Scenarios   []ScenarioResult
	Concurrency []GrowthPoint
	DataSize    []GrowthPoint
	SeedSeconds []float64 // how long seeding up to each size took
	Revocation  Revocation
	Errors      []string `json:",omitempty"` // steps that failed; the page names them
}

// ScenarioResult is one scenario beside the bare handler.
type ScenarioResult struct {
	Name       string
	Workers    int
	Rounds     []Measure
	BareRounds []Measure
	Median     Measure
	BareMedian Measure
	// ThroughputRatio is the median over pairs of rounds (bare, then the
	// scenario) of the scenario's throughput over the bare handler's.
	ThroughputRatio float64
	// CPURatio is the same for server CPU per request, bare over the
	// scenario: the throughput ratio the server alone would reach.
	CPURatio         float64
	Distribution     []float64 // latency at cdfProbs, µs
	BareDistribution []float64 // the bare handler's, in the rounds beside this scenario
	FirstError       string    `json:",omitempty"`
	// Statements is SQL statements per request, counted at the wire in a
	// separate short run (Counted); RoundTrips the waits for the server
	// among them, -1 where the protocol does not tell.
	Counted                bool
	Statements, RoundTrips float64
	// Limit names what the scenario is held to, measured in rounds of its
	// own on the bare process, each right after the scenario's round with
	// the same clients: "sign" (token.obtain) or "hash" (user.login,
	// user.register); "" for none. Results written before the limits were
	// measured in-server have none either.
	Limit       string    `json:",omitempty"`
	LimitRounds []Measure `json:",omitempty"`
	LimitMedian Measure
	// LimitCPURatio is the median over the rounds of the scenario's server
	// CPU per request over its limit's (the opposite way round to CPURatio:
	// a goal says "within 1.15× the limit"), and LimitThroughputRatio the
	// same for throughput, the scenario's over the limit's.
	LimitCPURatio, LimitThroughputRatio float64
	// Before is the scenario on the -before binary, in rounds paired
	// with these; nil when the run had none.
	Before *BeforeResult `json:",omitempty"`
}

// GrowthPoint is a scenario at one concurrency level or data size.
type GrowthPoint struct {
	Scenario string
	X        int
	Median   Measure
}

// Revocation is how long a logoff on one process takes to be enforced by
// another on the same database.
type Revocation struct {
	Trials        []float64 // ms from the logoff's answer to the other process's first refusal
	P50, P99, Max float64   // ms
	Failed        int       // trials the other process still accepted after 10 s
}

// Busy reports whether other work competed for the cores during the run.
func (m Machine) Busy() bool { return max(m.Load[0], m.Load[1]) > float64(m.Cores) }

func writeResults(dir string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, resultsFile), append(b, '\n'), 0o644)
}

func readResults(dir string) (*Results, error) {
	b, err := os.ReadFile(filepath.Join(dir, resultsFile))
	if err != nil {
		return nil, err
	}
	var r Results
	return &r, json.Unmarshal(b, &r)
}
