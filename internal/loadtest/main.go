// Command loadtest is propusk's load harness: it measures the hot paths
// of the real binary on SQLite, PostgreSQL and MariaDB, each beside a
// bare net/http handler, and writes docs/PERFORMANCE.md with its plots.
//
//	go run ./internal/loadtest                # the full run, about 15 minutes
//	go run ./internal/loadtest -short         # under a minute: every part, tiny sizes, into $TMPDIR
//	go run ./internal/loadtest -render         # the page and plots again from docs/performance/results.json
//	go run ./internal/loadtest -before PATH    # the main table on a second binary too: what a change saves per request
//
// It builds cmd/propusk and a bare JSON handler (internal/loadtest/bare),
// which also serves the limits propusk is held to (bare + one Ed25519
// signature; one argon2id hash with propusk's parameters), runs each as a
// process of its own on 127.0.0.1, and drives both with the same HTTP
// client from this process. For each store it runs propusk on a fresh
// database (a file; a schema or database of its own on the local server,
// dropped at exit), seeds users and sessions in bulk SQL, and measures:
//
//   - each scenario (token.obtain, token.renew, user.me by JWT and by
//     PAT, auth.verify, user.login, user.register) in rounds, each after
//     a round of the bare handler with the same clients and, for
//     token.obtain, user.login and user.register, before a round of its
//     limit: throughput, latency p50 and p99 and its distribution, and
//     CPU time per request of the server (utime+stime of its process,
//     from /proc) and of the database (its processes serving propusk,
//     from /proc); token.obtain's and user.login's goals are judged
//     against their limits' server CPU in those rounds;
//   - how that cost grows with concurrency and with the number of users
//     and sessions;
//   - how long a logoff on one process takes to be enforced by a second
//     process on the same database.
//
// With -before PATH, a second propusk binary (one built from an older
// commit, for example: git worktree add /tmp/old COMMIT && (cd /tmp/old
// && go build -o /tmp/propusk-old ./cmd/propusk)) serves each store's
// database beside the built one, after that one migrated it, with the
// same master key, and the workers' accounts are shared between the
// two. Only the main table's scenarios are measured on it, each round
// beside the built binary's (bare, then the two taking turns to go
// first, then the limit), and the page gains a "Before and after" table:
// both binaries' throughput and server and database CPU per request, and
// the medians of the rounds' ratios, current over before. The other steps and the goals
// are the built binary's alone. A -before binary that cannot serve the
// database (its migrations older or newer than the database's) fails
// that store, saying so. The page names each binary's vcs.revision when
// its build information (go version -m) has one: go build stamps none with
// -buildvcs=false, nor in a linked git worktree (golang/go#58218).
//
// The servers it starts (propusk, bare) run on the second half of the
// machine's CPUs and the harness on the first (-pin=false leaves them to
// the kernel): see cpuSplit. Database servers run where they run.
//
// For context it also times, in this process, the primitives under the
// limits (one Ed25519 signature, one argon2id hash), and reports the bare
// handler's CPU per request over all its rounds.
//
// The run says its expected length before it starts, every step lasts a
// fixed time, and the whole stops by itself. It only ever targets
// 127.0.0.1, and refuses database servers elsewhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	p, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	// Interrupted, the run still stops its servers and drops its databases.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, p, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		stop()
		os.Exit(1)
	}
}
