package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
)

// The -before mode measures a second propusk binary beside the one the
// harness builds, in the main table's rounds (bare, then current and before
// taking turns to go first, then the limit), so that what a change saves per request is read from pairs
// of rounds that saw the same load from other work.

// BeforeBinary names the -before binary of a run, and what the build
// information of both binaries says they were built from.
type BeforeBinary struct {
	Path    string // as given to -before
	Build   Build  // of the -before binary
	Current Build  // of the binary the harness built
}

// Build is what a binary's build information (go version -m) says it was
// built from; empty when it says nothing, as with -buildvcs=false.
type Build struct {
	Revision string `json:",omitempty"` // vcs.revision
	Modified bool   `json:",omitempty"` // vcs.modified: the tree had uncommitted changes
}

// String is the revision as the page gives it.
func (b Build) String() string {
	switch {
	case b.Revision == "":
		return "its build information names no revision"
	case b.Modified:
		return "revision " + b.Revision + ", with uncommitted changes"
	}
	return "revision " + b.Revision
}

// readBuild reads a binary's revision from its build information, which
// needs no process: a binary that has none (not Go, or built without VCS
// stamping) gets an empty Build.
func readBuild(path string) Build {
	var b Build
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return b
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// checkBefore rejects a -before that is not an executable file, before
// anything starts.
func checkBefore(path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("-before: %w", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("-before: %s is not an executable file", path)
	}
	return nil
}

// BeforeResult is one scenario on the -before binary, each round right
// after the current binary's, with the same clients.
type BeforeResult struct {
	Rounds []Measure
	Median Measure
	// CPURatio is the median over the rounds of the current binary's
	// server CPU per request over the before binary's: below 1, the
	// current one costs less. ThroughputRatio is the same for throughput:
	// above 1, the current one serves more. Rounds where either binary
	// answered nothing are left out of both.
	CPURatio, ThroughputRatio float64
	// CPUChange is the median over the rounds of the current binary's
	// server CPU per request minus the before binary's, µs: negative, the
	// current one costs that much less.
	CPUChange  float64
	FirstError string `json:",omitempty"` // the first answer other than the scenario's success
	// Failed says why the before binary was not measured in every round
	// (it refused every request, or stopped answering); the current
	// binary's figures are kept.
	Failed string `json:",omitempty"`
}

// beforeProcess is the -before binary serving one store's database, and
// the target its rounds drive.
type beforeProcess struct {
	proc *process
	t    *target
	cpu  cpuReader
}

// startBefore starts the -before binary as a second "propusk serve" on
// the database the current one (t) has migrated, with the same
// environment and arguments: the same master key opens the same signing
// keys, so each process accepts what the other signs. It checks that
// before any round.
func (h *harness) startBefore(ctx context.Context, t *target, cpu cpuReader, env, args []string) (*beforeProcess, error) {
	cannot := func(err error) error {
		return fmt.Errorf("-before %s cannot serve the database this run's propusk made and migrated (are its migrations older or newer than the database's?): %w", h.plan.before, err)
	}
	proc, err := start(ctx, "propusk -before", h.beforeBin, h.cpus.Servers, env, args...)
	if err != nil {
		return nil, cannot(err)
	}
	// It drives the current binary's accounts (signing a user in again
	// would revoke the api-token the current binary's workers hold), and
	// registers logins of its own, which must not collide with theirs.
	bt := &target{base: proc.URL, bareURL: t.bareURL, client: t.client, password: t.password, accountSet: t.accountSet,
		regPrefix: "b" + random() + "-", loginLo: t.loginLo, loginHi: t.loginHi}
	if err := crossCheck(ctx, t, bt); err != nil {
		proc.stop()
		return nil, cannot(err)
	}
	return &beforeProcess{proc: proc, t: bt, cpu: cpuReader{server: proc.cpu, db: cpu.db}}, nil
}

// crossCheck signs the probe user in on each process and has the other
// accept its access token: both read and write the same tables and sign
// with the same keys.
func crossCheck(ctx context.Context, cur, before *target) error {
	for _, p := range []struct {
		name       string
		signs, use *target
	}{{"the before binary", before, cur}, {"the current binary", cur, before}} {
		a, err := p.signs.signIn(ctx, probeLogin)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		status, body, err := p.use.call(ctx, "GET", p.use.base+"/api/v1/user.me", nil, map[string]string{"X-Access-Token": a.access})
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("user.me with a token %s signed: %d %.200s", p.name, status, body)
		}
	}
	return nil
}

// comparison is one scenario on the -before process, a round at a time.
type comparison struct {
	bp     *beforeProcess
	sc     scenario
	rounds []round
	res    BeforeResult
}

// compare readies sc on bp as prepare does for the current binary. A
// before binary that refuses it is recorded, not fatal: the current
// binary's rounds go on.
func (h *harness) compare(ctx context.Context, bp *beforeProcess, sc scenario) *comparison {
	c := &comparison{bp: bp, sc: sc}
	if err := h.prepare(ctx, bp.t, sc, h.plan.workers); err != nil {
		c.res.Failed = err.Error()
	}
	return c
}

// round measures one round on the before binary, unless it has failed.
func (c *comparison) round(ctx context.Context, h *harness) {
	if c.res.Failed != "" {
		return
	}
	m, bad, err := h.oneRound(ctx, c.bp.t, c.sc, h.plan.workers, c.bp.cpu)
	if err != nil {
		c.res.Failed = err.Error()
		return
	}
	if bad != "" && c.res.FirstError == "" {
		c.res.FirstError = bad
	}
	c.rounds = append(c.rounds, m)
}

// result sets the medians and the ratios to the current binary's rounds,
// which were measured in the same order.
func (c *comparison) result(current []Measure) *BeforeResult {
	r := c.res
	r.Median = medianOf(c.rounds)
	for _, m := range c.rounds {
		r.Rounds = append(r.Rounds, m.Measure)
	}
	if r.Failed == "" && r.Median.Requests == 0 {
		r.Failed = "every request refused; the first: " + r.FirstError
	}
	r.CPURatio = median(pairedRatios(current, r.Rounds, serverCPU))
	r.ThroughputRatio = median(pairedRatios(current, r.Rounds, throughput))
	var change []float64
	for i := range min(len(current), len(r.Rounds)) {
		if current[i].Requests > 0 && r.Rounds[i].Requests > 0 {
			change = append(change, current[i].ServerCPU-r.Rounds[i].ServerCPU)
		}
	}
	r.CPUChange = median(change)
	return &r
}

func serverCPU(m Measure) float64  { return m.ServerCPU }
func throughput(m Measure) float64 { return m.Throughput }

// pairedRatios are f of each round of current over f of the before
// round measured right after it, for the rounds where both are positive.
func pairedRatios(current, before []Measure, f func(Measure) float64) []float64 {
	var out []float64
	for i := range min(len(current), len(before)) {
		if c, b := f(current[i]), f(before[i]); c > 0 && b > 0 {
			out = append(out, c/b)
		}
	}
	return out
}

// beforeRow is a scenario measured on both binaries, on one store, as
// the page shows it.
type beforeRow struct {
	Store, Title string
	ScenarioResult
}

// CPURange and ThroughputRange are the least and the greatest of the
// rounds' ratios, which the page gives beside their medians; "" for one
// round.
func (r beforeRow) CPURange() string        { return ratioRange(r.Rounds, r.Before.Rounds, serverCPU) }
func (r beforeRow) ThroughputRange() string { return ratioRange(r.Rounds, r.Before.Rounds, throughput) }

func ratioRange(current, before []Measure, f func(Measure) float64) string {
	rs := pairedRatios(current, before, f)
	if len(rs) < 2 {
		return ""
	}
	return fmt.Sprintf("%.2f–%.2f", slices.Min(rs), slices.Max(rs))
}

// beforeRows are the scenarios of every store measured on the -before
// binary too.
func beforeRows(res *Results) []beforeRow {
	var rows []beforeRow
	for _, s := range res.Stores {
		for _, sc := range s.Scenarios {
			if sc.Before != nil {
				rows = append(rows, beforeRow{s.Store, s.Title, sc})
			}
		}
	}
	return rows
}

// beforeBinary resolves -before for running, and reads both binaries'
// build information.
func beforeBinary(given, current string) (string, *BeforeBinary, error) {
	abs, err := filepath.Abs(given)
	if err != nil {
		return "", nil, fmt.Errorf("-before: %w", err)
	}
	if err := checkBefore(abs); err != nil {
		return "", nil, err
	}
	return abs, &BeforeBinary{Path: given, Build: readBuild(abs), Current: readBuild(current)}, nil
}

// logBefore logs r's figures on the -before binary, if it was measured
// there, and returns why it could not be in every round: the current
// binary's figures stand, but the run says the comparison is incomplete.
func (h *harness) logBefore(store string, r *ScenarioResult) error {
	b := r.Before
	if b == nil {
		return nil
	}
	if b.Median.Requests > 0 {
		fmt.Fprintf(h.log, "%s: %-14s -before %8.0f req/s  CPU/req server %6.1f µs  db %6.1f µs; current/before: server CPU %5.2f× (%+.1f µs), throughput %5.2f×\n",
			store, r.Name, b.Median.Throughput, b.Median.ServerCPU, b.Median.DBCPU, b.CPURatio, b.CPUChange, b.ThroughputRatio)
	}
	if b.Failed != "" {
		return fmt.Errorf("on -before %s: %s", h.plan.before, b.Failed)
	}
	return nil
}
