// Package gctune chooses the garbage collector's settings for a propusk
// server process: fewer collections than Go's default while the heap is
// small, and never more memory than the default would take at the peak of
// password hashing.
//
// A propusk server keeps a small heap (its caches) and allocates fast
// (every request's tokens and answers), so at Go's default GOGC=100 it
// collects many times a second, each time paying the collector's fixed
// costs: measured, a tenth to a sixth of the CPU of token.obtain,
// token.renew and auth.verify (see docs/DESIGN.md, "Hot paths"). Password
// hashing is the opposite: each argon2id computation allocates its whole
// memory (19 MiB by default) at once, and a heap goal that swings with the
// number of hashes in flight makes the runtime give those pages back to the
// kernel and fault them in again, hash after hash.
//
// So the policy is GOGC=400, which collects a quarter as often and keeps
// the hashes' pages, bounded by a soft memory limit of twice the most the
// process holds live: its caches (Base) and a computation in every
// hashing slot. Twice the live peak is what GOGC=100 itself reaches at
// that peak, so the limit costs no memory the default would not; below
// the peak, the heap stays far under it.
package gctune

import (
	"fmt"
	"runtime/debug"
)

// Percent is the GOGC the policy sets.
const Percent = 400

// Base is the live heap allowed for besides password hashing: the token,
// login and personal access token caches at their bounds, and the rest.
const Base = 128 << 20

// Policy is a garbage collector setting.
type Policy struct {
	Percent int   // GOGC
	Limit   int64 // GOMEMLIMIT, bytes
}

// For returns the policy of a process whose password checks can hold
// hashing bytes at once (auth.Service.HashingMemory).
func For(hashing int64) Policy {
	return Policy{Percent: Percent, Limit: 2 * (Base + hashing)}
}

// String says the policy as the variables that set it.
func (p Policy) String() string {
	return fmt.Sprintf("GOGC=%d GOMEMLIMIT=%dMiB", p.Percent, p.Limit>>20)
}

// Apply sets p, unless the environment (getenv) sets GOGC or GOMEMLIMIT:
// an operator who set either has chosen, and the runtime has read it
// already. It reports whether it set p.
func Apply(p Policy, getenv func(string) string) bool {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetGCPercent(p.Percent)
	debug.SetMemoryLimit(p.Limit)
	return true
}
