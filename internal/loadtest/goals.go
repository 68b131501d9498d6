package main

import "fmt"

// renewLimit is issue 15's limit on a renewal's CPU on PostgreSQL, server
// and database together, µs.
const renewLimit = 175.0

// limitFactor is how far above its limit (the sign or hash server's CPU
// per request) issue 15 lets token.obtain and user.login go.
const limitFactor = 1.15

// Goal is one target of issue 15 (or issue 10) against its measured figure.
type Goal struct {
	Goal   string
	Store  string
	Figure string
	Limit  string
	Met    bool
	// Unmeasured: the results hold nothing to judge the goal by (they
	// were written before its limit was measured).
	Unmeasured bool
}

// goals judges every goal on every store it applies to, each against a
// limit measured in the same run.
func goals(res *Results) []Goal {
	var out []Goal
	for _, s := range res.Stores {
		for _, sc := range s.Scenarios {
			m, b := sc.Median, sc.BareMedian
			switch sc.Name {
			case "user.me (JWT)", "user.me (PAT)":
				out = append(out, Goal{
					Goal:   sc.Name + " at ≥ 0.70× the bare handler, as server CPU per request",
					Store:  s.Title,
					Figure: fmt.Sprintf("%.2f× (%.1f µs against bare %.1f µs; throughput %.2f×)", sc.CPURatio, m.ServerCPU, b.ServerCPU, sc.ThroughputRatio),
					Limit:  "≥ 0.70×",
					Met:    sc.CPURatio >= 0.70,
				})
			case "token.obtain":
				out = append(out, limitGoal(s.Title, sc,
					"token.obtain within 1.15× the sign server (bare + one Ed25519 signature), server CPU per request"))
			case "token.renew":
				if s.Store != "postgres" {
					continue
				}
				out = append(out, Goal{
					Goal:   "token.renew on PostgreSQL at ≤ 175 µs of server + database CPU per renewal",
					Store:  s.Title,
					Figure: fmt.Sprintf("%.1f µs (server %.1f + database %.1f)", m.TotalCPU(), m.ServerCPU, m.DBCPU),
					Limit:  "≤ 175 µs",
					Met:    m.TotalCPU() <= renewLimit,
				})
			case "user.login":
				out = append(out, limitGoal(s.Title, sc,
					"user.login within 1.15× the hash server (one argon2id hash), server CPU per login"))
			case "auth.verify":
				out = append(out, Goal{
					Goal:   "auth.verify with a cached token at ≥ 0.85× the bare handler's throughput (issue 10)",
					Store:  s.Title,
					Figure: fmt.Sprintf("%.2f× (%.0f against %.0f req/s; server CPU %.2f×)", sc.ThroughputRatio, m.Throughput, b.Throughput, sc.CPURatio),
					Limit:  "≥ 0.85×",
					Met:    sc.ThroughputRatio >= 0.85,
				})
			}
		}
	}
	return out
}

// limitGoal judges sc's server CPU per request against limitFactor times
// its limit's, measured by the limit's server in the rounds paired with
// sc's: the median of the rounds' ratios, as every ratio on the page.
func limitGoal(store string, sc ScenarioResult, goal string) Goal {
	g := Goal{Goal: goal, Store: store, Limit: fmt.Sprintf("≤ %.2f×", limitFactor)}
	// The figure gives the medians too, but the ratio is what is judged:
	// a pair of rounds sees the same load from other work, the medians of
	// separate rounds need not.
	l := sc.LimitMedian
	if sc.Limit == "" || l.ServerCPU <= 0 || sc.LimitCPURatio <= 0 {
		g.Figure, g.Unmeasured = "—", true
		return g
	}
	g.Figure = fmt.Sprintf("%.2f× (%s µs against %s's %s µs)", sc.LimitCPURatio, micro(sc.Median.ServerCPU), sc.Limit, micro(l.ServerCPU))
	g.Met = sc.LimitCPURatio <= limitFactor
	return g
}

// micro writes µs as the page does: tenths below a millisecond, whole
// microseconds above.
func micro(us float64) string {
	if us >= 1000 {
		return thousands(us)
	}
	return fmt.Sprintf("%.1f", us)
}
