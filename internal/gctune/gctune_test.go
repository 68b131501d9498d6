package gctune_test

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/propusk/propusk/internal/gctune"
)

func TestFor(t *testing.T) {
	p := gctune.For(5 * 19 << 20)
	if p.Percent != 400 || p.Limit != 2*(128<<20+5*19<<20) {
		t.Fatalf("For = %+v", p)
	}
	if p.String() != "GOGC=400 GOMEMLIMIT=446MiB" {
		t.Fatalf("String = %q", p.String())
	}
}

// TestApply: the policy is set only when the operator set neither GOGC nor
// GOMEMLIMIT.
func TestApply(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	p := gctune.Policy{Percent: 300, Limit: 1 << 30}
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"ok/unset", nil, true},
		{"ok/operator-gogc", map[string]string{"GOGC": "200"}, false},
		{"ok/operator-gomemlimit", map[string]string{"GOMEMLIMIT": "1GiB"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			if got := gctune.Apply(p, func(k string) string { return c.env[k] }); got != c.want {
				t.Fatalf("Apply = %v, want %v", got, c.want)
			}
			percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
			if c.want && (percent != 300 || limit != 1<<30) {
				t.Fatalf("set GOGC=%d limit %d, want 300 and 1GiB", percent, limit)
			}
			if !c.want && (percent != 100 || limit != math.MaxInt64) {
				t.Fatalf("changed the operator's settings: GOGC=%d limit %d", percent, limit)
			}
		})
	}
}
