// Package gctune chooses the garbage collector's settings for a propusk
// server process, and for the load harness's baseline, which must hash
// under the same settings to be a fair limit.
//
// A propusk server keeps a small heap (its caches) and allocates fast
// (every request's tokens and answers). Password hashing is the opposite:
// each argon2id computation allocates its whole memory (19 MiB by default)
// at once, and golang.org/x/crypto/argon2 reads each block before it first
// writes it. When the runtime has given a block's pages back to the
// kernel, that read maps the kernel's shared zero page and the write that
// follows replaces it, flushing the page from every CPU's TLB: measured,
// 400 to 800 such faults per login at Go's default settings and at
// GOGC=400, an eighth of a login's CPU. The runtime gives pages back
// whenever the heap goal falls, and with a small live heap the goal
// swings with the number of hashes in flight.
//
// So the policy holds a reserve the size of the hashing memory: one
// allocation, made once and never touched, so it costs address space and
// no resident memory, but counts as live heap. The heap goal then never
// falls below twice the reserve, the pages freed hashes leave are reused by
// the next hashes instead of being returned, and the collector runs a
// fraction as often on token paths as it would for a few MiB of caches.
// GOGC stays at Go's default, 100, and a soft memory limit bounds the
// peak: twice the most the process holds live (caches and a computation
// in every hashing slot), plus the reserve.
package gctune

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
)

// Percent is the GOGC the policy sets: Go's default.
const Percent = 100

// Base is the live heap allowed for besides password hashing: the token,
// login and personal access token caches at their bounds, and the rest.
const Base = 128 << 20

// Policy is a garbage collector setting.
type Policy struct {
	Percent int   // GOGC
	Limit   int64 // GOMEMLIMIT, bytes
	Reserve int64 // bytes allocated once, kept live and never touched
}

// For returns the policy of a process whose password checks can hold
// hashing bytes at once (auth.Service.HashingMemory).
func For(hashing int64) Policy {
	return forWordSize(hashing, strconv.IntSize)
}

// forWordSize is For on a platform of the given pointer size: a 32-bit
// process has 4 GiB of address space or less, too little to set a
// hundred MiB or more aside, so it gets no reserve (and no limit for one).
func forWordSize(hashing int64, bits int) Policy {
	p := Policy{Percent: Percent, Limit: 2 * (Base + hashing)}
	if bits == 64 {
		p.Reserve = hashing
		p.Limit += hashing
	}
	return p
}

// String says the policy as the variables that set it, and the reserve;
// Parse reads it back.
func (p Policy) String() string {
	return fmt.Sprintf("GOGC=%d GOMEMLIMIT=%dMiB reserve=%dMiB", p.Percent, p.Limit>>20, p.Reserve>>20)
}

var policyText = regexp.MustCompile(`^GOGC=(\d+) GOMEMLIMIT=(\d+)MiB reserve=(\d+)MiB$`)

// Parse reads a policy as String writes it, to the MiB.
func Parse(s string) (Policy, error) {
	m := policyText.FindStringSubmatch(s)
	if m == nil {
		return Policy{}, fmt.Errorf("gctune: %q is not GOGC=N GOMEMLIMIT=NMiB reserve=NMiB", s)
	}
	var n [3]int64
	for i := range n {
		v, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || v > 1<<20 { // a TiB is far more than any setting
			return Policy{}, fmt.Errorf("gctune: %q: %s is out of range", s, m[i+1])
		}
		n[i] = v
	}
	return Policy{Percent: int(n[0]), Limit: n[1] << 20, Reserve: n[2] << 20}, nil
}

// reserve is the held reserve, for the life of the process.
var reserve []byte

// Apply sets p, unless the environment (getenv) sets GOGC or GOMEMLIMIT:
// an operator who set either has chosen, and the runtime has read it
// already. It reports whether it set p. A reserve is allocated on the
// first call that asks for one and kept; later calls change only GOGC
// and the limit.
func Apply(p Policy, getenv func(string) string) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	if p.Reserve > 0 && reserve == nil {
		// Pages the runtime maps fresh are known zero, so a large
		// pointer-free allocation from them is never written: it stays
		// out of the resident set (TestReserveNotResident).
		reserve = make([]byte, p.Reserve)
	}
	debug.SetGCPercent(p.Percent)
	debug.SetMemoryLimit(p.Limit)
	return true
}
