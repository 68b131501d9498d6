package gctune_test

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/gctune"
)

func TestFor(t *testing.T) {
	p := gctune.For(5 * 19 << 20)
	if p.Percent != 100 || p.Limit != 2*(128<<20+5*19<<20)+5*19<<20 || p.Reserve != 5*19<<20 {
		t.Fatalf("For = %+v", p)
	}
	if p.String() != "GOGC=100 GOMEMLIMIT=541MiB reserve=95MiB" {
		t.Fatalf("String = %q", p.String())
	}
	// A 32-bit process cannot spare the address space.
	if p := gctune.ForWordSize(5*19<<20, 32); p.Reserve != 0 || p.Limit != 2*(128<<20+5*19<<20) {
		t.Fatalf("32-bit: %+v, want no reserve and a limit of twice the live peak", p)
	}
}

// TestParse: the harness's baseline reads the policy propusk logged and
// must get the same one back; anything else is refused.
func TestParse(t *testing.T) {
	p := gctune.For(5 * 19 << 20)
	got, err := gctune.Parse(p.String())
	if err != nil || got != p {
		t.Fatalf("Parse(%q) = %+v, %v; want %+v", p.String(), got, err, p)
	}
	for _, bad := range []string{
		"",
		"GOGC=400 GOMEMLIMIT=446MiB",
		"GOGC=100 GOMEMLIMIT=541MiB reserve=95MiB extra",
		"GOGC=-1 GOMEMLIMIT=541MiB reserve=95MiB",
		"GOGC=100 GOMEMLIMIT=99999999999999999999MiB reserve=95MiB",
		"GOGC=100 GOMEMLIMIT=2000000MiB reserve=95MiB", // over a TiB
	} {
		if got, err := gctune.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, got)
		}
	}
}

// TestReserveNotResident: the reserve is address space only. Were it
// written (zeroed) once, it would cost its size in resident memory for
// the life of the process.
func TestReserveNotResident(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the resident set from /proc (Linux)")
	}
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	const size = 512 << 20
	before := residentBytes(t)
	if !gctune.Apply(gctune.Policy{Percent: 100, Limit: 4 * size, Reserve: size}, func(string) string { return "" }) {
		t.Fatal("Apply did not apply")
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc < size {
		t.Fatalf("live heap %d MiB after Apply, want the %d MiB reserve in it", ms.HeapAlloc>>20, size>>20)
	}
	if grew := residentBytes(t) - before; grew > size/8 {
		t.Fatalf("resident memory grew by %d MiB for a %d MiB reserve", grew>>20, size>>20)
	}
}

// residentBytes is the process's resident set (VmRSS).
func residentBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
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
