package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/propusk/propusk/mysql/mytest"
	"github.com/propusk/propusk/postgres/pgtest"
)

// TestShort runs the whole harness in -short mode, every scenario on every
// store, and checks that it wrote the page and every plot the page shows,
// and that the page can be written again from its results alone. It
// asserts that the harness works, never how fast propusk is.
func TestShort(t *testing.T) {
	stores := []string{"sqlite"}
	// A store whose server is absent is skipped visibly (and fails under
	// CI); the others still run.
	t.Run("postgres", func(t *testing.T) {
		pgtest.DSN(t)
		stores = append(stores, "postgres")
	})
	t.Run("mysql", func(t *testing.T) {
		mytest.DSN(t)
		stores = append(stores, "mysql")
	})
	out := t.TempDir()
	p, err := parseFlags([]string{"-short", "-out", out, "-stores", strings.Join(stores, ",")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), p, t.Output())
	if err != nil {
		t.Fatal(err)
	}

	if len(res.Stores) != len(stores) {
		t.Fatalf("measured %d stores, want %d", len(res.Stores), len(stores))
	}
	for _, s := range res.Stores {
		if len(s.Scenarios) != len(scenarios) {
			t.Errorf("%s: %d scenarios measured, want %d", s.Store, len(s.Scenarios), len(scenarios))
		}
		for _, sc := range s.Scenarios {
			if sc.Median.Requests == 0 || sc.BareMedian.Requests == 0 {
				t.Errorf("%s %s: no request answered (%+v beside bare %+v): %s", s.Store, sc.Name, sc.Median, sc.BareMedian, sc.FirstError)
			}
			checkLimit(t, s.Store, sc, p.rounds, p.round.Seconds())
		}
		if want := len(p.levels) * len(concurrencyScenarios); len(s.Concurrency) != want {
			t.Errorf("%s: %d concurrency points, want %d", s.Store, len(s.Concurrency), want)
		}
		if want := len(p.sizes) * len(sizeScenarios); len(s.DataSize) != want {
			t.Errorf("%s: %d data-size points, want %d", s.Store, len(s.DataSize), want)
		}
		// A logoff on one process must be enforced by the other.
		if rv := s.Revocation; len(rv.Trials) != p.trials || rv.Failed != 0 {
			t.Errorf("%s: revocation: %d trials enforced, %d not, want %d enforced", s.Store, len(rv.Trials), rv.Failed, p.trials)
		}
	}
	checkLimitGoals(t, res, stores)
	if res.Primitives.Ed25519Sign <= 0 || res.Primitives.Argon2id <= 0 || res.Primitives.BareServerCPU <= 0 {
		t.Errorf("primitives not measured: %+v", res.Primitives)
	}

	page, err := os.ReadFile(filepath.Join(out, "PERFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range append([]string{"## Goals", "## Limits", "## Primitives", "-short", res.Machine.CPU}, names(res)...) {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page does not mention %q", want)
		}
	}
	if strings.Contains(string(page), "Before and after") {
		t.Error("the page has a before-and-after section from a run without -before")
	}
	svgs := regexp.MustCompile(`\]\((performance/[^)]+\.svg)\)`).FindAllStringSubmatch(string(page), -1)
	if want := 2 + 3*len(stores); len(svgs) != want {
		t.Errorf("the page shows %d plots, want %d", len(svgs), want)
	}
	for _, m := range svgs {
		b, err := os.ReadFile(filepath.Join(out, m[1]))
		if err != nil {
			t.Errorf("the page shows %s: %v", m[1], err)
			continue
		}
		if !strings.Contains(string(b), "<svg") || !strings.HasSuffix(strings.TrimSpace(string(b)), "</svg>") {
			t.Errorf("%s is not a whole SVG document", m[1])
		}
	}

	// -render writes the same page from results.json alone.
	r, err := parseFlags([]string{"-render", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(context.Background(), r, io.Discard); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(filepath.Join(out, "PERFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(page) {
		t.Error("-render wrote a different page from the same results")
	}
}

// wantLimits are the limits token.obtain, user.login and user.register
// are measured beside, and no other scenario.
var wantLimits = map[string]string{"token.obtain": "sign", "user.login": "hash", "user.register": "hash"}

// checkLimit checks that sc was measured beside its limit in every round,
// and that the limit's server answered and was measured.
func checkLimit(t *testing.T, store string, sc ScenarioResult, rounds int, round float64) {
	t.Helper()
	want := wantLimits[sc.Name]
	if sc.Limit != want {
		t.Errorf("%s %s: measured beside limit %q, want %q", store, sc.Name, sc.Limit, want)
		return
	}
	if want == "" {
		if len(sc.LimitRounds) != 0 || sc.LimitCPURatio != 0 {
			t.Errorf("%s %s: limit figures without a limit: %d rounds, ratio %v", store, sc.Name, len(sc.LimitRounds), sc.LimitCPURatio)
		}
		return
	}
	if len(sc.LimitRounds) != rounds {
		t.Errorf("%s %s: %d rounds of %s, want %d", store, sc.Name, len(sc.LimitRounds), want, rounds)
	}
	// A hashing scenario's rounds, and its limit's, last hashRounds rounds'
	// length at least (a round ends with its last answer).
	if sc.Name != "token.obtain" {
		for i := range sc.Rounds {
			if s, l := sc.Rounds[i].Seconds, sc.LimitRounds[i].Seconds; s < hashRounds*round || l < hashRounds*round {
				t.Errorf("%s %s: a round of %.2f s and of %s %.2f s, where rounds last %.2f s", store, sc.Name, s, want, l, round)
			}
		}
	}
	m := sc.LimitMedian
	if m.Requests == 0 || m.Errors != 0 || m.Throughput <= 0 || m.ServerCPU <= 0 || sc.LimitCPURatio <= 0 || sc.LimitThroughputRatio <= 0 {
		t.Errorf("%s %s: %s not measured: %+v, ratios %v (CPU) and %v (throughput)",
			store, sc.Name, want, m, sc.LimitCPURatio, sc.LimitThroughputRatio)
	}
}

// checkLimitGoals checks that token.obtain and user.login are judged, on
// every store, by their limits' server CPU measured beside them.
func checkLimitGoals(t *testing.T, res *Results, stores []string) {
	t.Helper()
	judged := map[string]int{}
	for _, g := range goals(res) {
		name, _, _ := strings.Cut(g.Goal, " ")
		limit, ok := map[string]string{"token.obtain": "sign", "user.login": "hash"}[name]
		if !ok {
			continue
		}
		judged[name]++
		var sc *ScenarioResult
		for _, s := range res.Stores {
			for i := range s.Scenarios {
				if s.Title == g.Store && s.Scenarios[i].Name == name {
					sc = &s.Scenarios[i]
				}
			}
		}
		if sc == nil {
			t.Errorf("goal %q on %s: no such scenario measured", g.Goal, g.Store)
			continue
		}
		if g.Unmeasured {
			t.Errorf("goal %q on %s: not measured", g.Goal, g.Store)
		}
		for _, want := range []string{limit + "'s", micro(sc.LimitMedian.ServerCPU) + " µs", fmt.Sprintf("%.2f×", sc.LimitCPURatio)} {
			if !strings.Contains(g.Figure, want) {
				t.Errorf("goal %q on %s reads %q, which does not give %q", g.Goal, g.Store, g.Figure, want)
			}
		}
		if g.Met != (sc.LimitCPURatio <= limitFactor) {
			t.Errorf("goal %q on %s: met %v with %.2f× the limit", g.Goal, g.Store, g.Met, sc.LimitCPURatio)
		}
	}
	for _, name := range []string{"token.obtain", "user.login"} {
		if judged[name] != len(stores) {
			t.Errorf("%s judged on %d stores, want %d", name, judged[name], len(stores))
		}
	}
}

// TestGoalsWithoutLimits: results written before the limits were measured
// as servers still render, their limit goals shown as not measured rather
// than judged by anything else.
func TestGoalsWithoutLimits(t *testing.T) {
	m := Measure{Requests: 100, Throughput: 1000, ServerCPU: 100}
	res := &Results{
		Primitives: Primitives{Ed25519Sign: 30, Argon2id: 30000, BareServerCPU: 50},
		Plan:       PlanSummary{Rounds: 1, Levels: []int{1}, Sizes: []int{100}},
		Stores: []StoreResult{{Store: "sqlite", Title: "SQLite", Scenarios: []ScenarioResult{
			{Name: "token.obtain", Median: m, BareMedian: m},
			{Name: "user.login", Median: m, BareMedian: m},
		}}},
	}
	gs := goals(res)
	if len(gs) != 2 {
		t.Fatalf("%d goals, want 2: %+v", len(gs), gs)
	}
	for _, g := range gs {
		if !g.Unmeasured || g.Met {
			t.Errorf("goal %q judged without its limit: %+v", g.Goal, g)
		}
	}
	path := filepath.Join(t.TempDir(), "PERFORMANCE.md")
	if err := writePage(path, res, map[string]Plot{}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if row := "| " + g.Goal + " | SQLite | — |"; !strings.Contains(string(page), row) || !strings.Contains(string(page), row+" "+g.Limit+" | not measured |") {
			t.Errorf("the page does not show %q as not measured", g.Goal)
		}
	}
}

// names are the stores' and scenarios' names the page must show.
func names(res *Results) []string {
	var out []string
	for _, s := range res.Stores {
		out = append(out, s.Title, s.Version)
	}
	for _, sc := range scenarios {
		out = append(out, sc.Name)
	}
	return out
}

// TestRefusesRemoteDatabases: the harness sends load to this machine
// only, and says so before it connects anywhere.
func TestRefusesRemoteDatabases(t *testing.T) {
	for _, c := range []struct{ name, store, dsn string }{
		{"fail/postgres-remote", "postgres", "postgres://postgres@10.1.2.3:5432/test"},
		{"fail/postgres-hostname", "postgres", "postgres://postgres@db.example.com/test"},
		{"fail/mysql-remote", "mysql", "mysql://root@192.0.2.7:3306/"},
		{"fail/mysql-hostname", "mysql", "mysql://root@db.example.com:3306/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := openDatabase(context.Background(), c.store, c.dsn, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), "not on this machine") {
				t.Fatalf("openDatabase(%s) = %v, want a refusal", c.dsn, err)
			}
		})
	}
}

// TestFlags: plans that cannot run, or would run for hours, are refused
// before anything starts.
func TestFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		err  string // "" when the plan is accepted
	}{
		{"ok/defaults", nil, ""},
		{"ok/short", []string{"-short"}, ""},
		{"ok/sqlite-small", []string{"-stores", "sqlite", "-sizes", "1000,5000"}, ""},
		{"fail/unknown-store", []string{"-stores", "oracle"}, "unknown store"},
		{"fail/sizes-descending", []string{"-sizes", "10000,1000"}, "ascending"},
		{"fail/sizes-too-small", []string{"-sizes", "10"}, "at least"},
		{"fail/too-many-clients", []string{"-c", "5000"}, "-c"},
		{"fail/round-too-long", []string{"-round", "2h"}, "-round"},
		{"fail/before-missing", []string{"-before", "/nonexistent/propusk"}, "-before"},
		{"fail/before-not-executable", []string{"-before", "loadtest_test.go"}, "not an executable"},
		{"ok/scenarios", []string{"-scenarios", "token.renew, user.login"}, ""},
		{"fail/unknown-scenario", []string{"-scenarios", "token.renew,user.logout"}, "unknown scenario"},
		{"fail/render-scenarios", []string{"-render", "-scenarios", "token.renew"}, "-render measures nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseFlags(c.args, io.Discard)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("err = %v, want one saying %q", err, c.err)
			}
		})
	}
}

// TestScenariosOnly: -scenarios measures the named scenarios of the main
// table in the table's order, and the plan's estimate leaves out the steps
// it skips.
func TestScenariosOnly(t *testing.T) {
	full, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseFlags([]string{"-scenarios", "user.login,token.renew"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range p.mainScenarios() {
		names = append(names, sc.Name)
	}
	if want := []string{"token.renew", "user.login"}; !slices.Equal(names, want) {
		t.Fatalf("scenarios %v, want %v", names, want)
	}
	if len(full.mainScenarios()) != len(scenarios) {
		t.Fatalf("a full run measures %d scenarios, want all %d", len(full.mainScenarios()), len(scenarios))
	}
	if p.expected() >= full.expected()/4 {
		t.Fatalf("expected %v for two scenarios, against %v for a full run", p.expected(), full.expected())
	}
}

// TestShortKeepsOffThePage: a -short run's figures mean nothing, so unless
// told where, it writes into the temporary directory, never over
// docs/PERFORMANCE.md.
func TestShortKeepsOffThePage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		out  string
	}{
		{"ok/full-writes-docs", nil, "docs"},
		{"ok/short-writes-temp", []string{"-short"}, shortOut},
		{"ok/short-where-told", []string{"-short", "-out", "elsewhere"}, "elsewhere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := parseFlags(c.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if p.out != c.out {
				t.Fatalf("-out = %q, want %q", p.out, c.out)
			}
		})
	}
}
