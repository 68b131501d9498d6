package main

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/missing"
)

// TestSplitCPUs: the servers get the second half of the CPUs, the load
// generator the first; with fewer than two, nothing is pinned.
func TestSplitCPUs(t *testing.T) {
	cases := []struct {
		cpus          []int
		servers, load []int
		text          string
	}{
		{nil, nil, nil, "not pinned"},
		{[]int{3}, nil, nil, "not pinned"},
		{[]int{0, 1}, []int{1}, []int{0}, "servers on CPU 1, the load generator on CPU 0"},
		{[]int{0, 1, 2}, []int{1, 2}, []int{0}, "servers on CPU 1,2, the load generator on CPU 0"},
		{[]int{2, 3, 6, 7}, []int{6, 7}, []int{2, 3}, "servers on CPU 6,7, the load generator on CPU 2,3"},
	}
	for _, c := range cases {
		s := splitCPUs(c.cpus)
		if !slices.Equal(s.Servers, c.servers) || !slices.Equal(s.Load, c.load) || s.String() != c.text {
			t.Errorf("splitCPUs(%v) = %+v %q, want servers %v, load %v, %q", c.cpus, s, s, c.servers, c.load, c.text)
		}
	}
}

// TestStartOn: a child started on CPUs runs on those alone, and the
// harness's own threads keep theirs.
func TestStartOn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pinning is Linux's")
	}
	cpus, err := usableCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		missing.Skip(t, "a second CPU to pin a server apart from the load generator (this machine has one)")
	}
	last := cpus[len(cpus)-1:]
	cmd := exec.Command("grep", "Cpus_allowed_list", "/proc/self/status")
	var out strings.Builder
	cmd.Stdout = &out
	if err := startOn(cmd, last); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(strings.TrimPrefix(out.String(), "Cpus_allowed_list:")); got != cpuList(last) {
		t.Errorf("the child ran on CPU %s, want %s", got, cpuList(last))
	}
	if after, _ := usableCPUs(); !slices.Equal(after, cpus) {
		t.Errorf("the harness's CPUs changed from %v to %v", cpus, after)
	}
}
