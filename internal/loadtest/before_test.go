package main

import (
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestShortBefore runs -short on SQLite with -before pointing to a second
// build of the same propusk, and checks that every scenario of the main
// table was measured on both, with finite, positive ratios, and that the
// page shows them. It asserts that the comparison is made, never which
// binary is faster.
func TestShortBefore(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "propusk-before")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/propusk/propusk/cmd/propusk").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out := t.TempDir()
	p, err := parseFlags([]string{"-short", "-out", out, "-stores", "sqlite", "-before", bin}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), p, t.Output())
	if err != nil {
		t.Fatal(err)
	}
	if res.Before == nil || res.Before.Path != bin {
		t.Fatalf("results name the before binary as %+v, want %s", res.Before, bin)
	}
	if len(res.Stores) != 1 || len(res.Stores[0].Scenarios) != len(scenarios) {
		t.Fatalf("measured %+v, want every scenario on SQLite", res.Stores)
	}
	positive := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) }
	for _, sc := range res.Stores[0].Scenarios {
		b := sc.Before
		if b == nil {
			t.Errorf("%s: not measured on the before binary", sc.Name)
			continue
		}
		if b.Failed != "" || len(b.Rounds) != p.rounds || b.Median.Requests == 0 {
			t.Errorf("%s on the before binary: %d rounds of %d, %d requests answered; %s", sc.Name, len(b.Rounds), p.rounds, b.Median.Requests, b.Failed)
		}
		if !positive(b.Median.Throughput) || !positive(b.Median.ServerCPU) || !positive(b.CPURatio) || !positive(b.ThroughputRatio) {
			t.Errorf("%s on the before binary: median %+v, server CPU ratio %v, throughput ratio %v", sc.Name, b.Median, b.CPURatio, b.ThroughputRatio)
		}
		// The limits are still measured in the same rounds.
		checkLimit(t, "sqlite", sc, p.rounds, p.round.Seconds())
	}
	if s := res.Stores[0]; len(s.Concurrency) == 0 || len(s.DataSize) == 0 || len(s.Revocation.Trials) != p.trials {
		t.Errorf("the steps after the main table did not all run: %d concurrency points, %d data-size points, %d revocation trials", len(s.Concurrency), len(s.DataSize), len(s.Revocation.Trials))
	}

	page, err := os.ReadFile(filepath.Join(out, "PERFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Before and after", "`" + bin + "`", "× before (server CPU)"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page does not mention %q", want)
		}
	}
	for _, sc := range scenarios {
		if !strings.Contains(string(page), "| SQLite | "+sc.Name+" | ") {
			t.Errorf("the before-and-after table has no row for %s", sc.Name)
		}
	}
}

// TestBeforeCannotServe: a -before binary that cannot serve the database
// the current one migrated fails the store with a message that says so,
// and what the binary said.
func TestBeforeCannotServe(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "propusk-old")
	script := "#!/bin/sh\necho 'propusk: migrate: unknown migration 0099_newer.sql' >&2\nexit 1\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := parseFlags([]string{"-short", "-out", t.TempDir(), "-stores", "sqlite", "-before", bin}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(context.Background(), p, io.Discard)
	if err == nil {
		t.Fatal("the run succeeded with a before binary that cannot start")
	}
	for _, want := range []string{"-before " + bin + " cannot serve the database", "unknown migration 0099_newer.sql"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(res.Failed) != 1 || len(res.Stores) != 0 {
		t.Errorf("SQLite should be reported as not measured: failed %q, %d stores measured", res.Failed, len(res.Stores))
	}
}
