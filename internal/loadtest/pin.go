package main

import (
	"fmt"
	"strconv"
	"strings"
)

// cpuSplit is which CPUs the servers the harness measures run on, and
// which the harness itself, the load generator, runs on: the second half
// of the machine's CPUs and the first. Sharing cores, the kernel preempts
// a busy server for the load generator and back, and charges the busier
// of two servers more for it than their work differs by: on the 2-core
// development machine, token.obtain beside its limit (the sign server)
// cost 1.16 times the limit's server CPU unpinned and 1.12 times pinned,
// alternating rounds of each, where a deployment's load comes from other
// machines altogether. Databases' servers are not the harness's to pin:
// they run wherever their kernel puts them.
type cpuSplit struct {
	Servers, Load []int
}

// splitCPUs returns the split of cpus (the CPUs the harness may use, in
// order), or the zero split (nothing pinned) when there are fewer than two.
func splitCPUs(cpus []int) cpuSplit {
	if len(cpus) < 2 {
		return cpuSplit{}
	}
	half := len(cpus) / 2
	return cpuSplit{Servers: cpus[half:], Load: cpus[:half]}
}

// pinned reports whether the split pins anything.
func (s cpuSplit) pinned() bool { return len(s.Servers) > 0 }

// String says where everything runs, for the run's log and the page.
func (s cpuSplit) String() string {
	if !s.pinned() {
		return "not pinned"
	}
	return fmt.Sprintf("servers on CPU %s, the load generator on CPU %s", cpuList(s.Servers), cpuList(s.Load))
}

// cpuList spells cpus as taskset does: "0", "2,3".
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}
