// Package missing skips a test whose outside dependency (PostgreSQL,
// Chromium, npm, w3m) is missing, in a way a developer sees.
//
// A skip alone is invisible: "go test ./..." prints only "ok" for a package
// whose tests pass or skip, and hides everything the package wrote,
// standard error included, unless -v is given. A green "ok" must not hide
// that half the suite never ran, so Skip does three things:
//
//   - under CI (CI set to anything) it fails the test: CI installs every
//     dependency and must never pass by skipping;
//   - otherwise it writes one line per missing dependency and test binary
//     to /dev/tty, the developer's terminal, which go test does not capture;
//   - and it skips the test, so "go test ./..." on a fresh machine without
//     Chromium still exits 0, as the README promises; the run's result is
//     kept out of go test's cache, so the next run says it again instead of
//     replaying a silent "(cached)".
//
// Where there is no terminal (a cron job, an editor's test runner) the line
// cannot be shown; such runs should set CI or use -v.
package missing

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	mu     sync.Mutex
	shown  = map[string]bool{}
	tty    *os.File
	ttyErr error
	once   sync.Once
)

// Skip fails t under CI and skips it otherwise, after telling the terminal
// why (once per message and test binary). msg says what is missing and how
// to install it, e.g. "Chromium not found (apt-get install chromium)".
func Skip(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s, and CI never skips", msg)
	}
	notify(msg)
	uncache.Do(dontCache)
	t.Skip("SKIPPING: " + msg)
}

var uncache sync.Once

// dontCache keeps go test from caching this run's result: a cached "ok"
// replays no output and runs no test, so the skip would go unseen on every
// run after the first. go test does not cache a run that opened a file
// inside the module modified within the last two seconds, so this writes
// one (.test-skipped at the module root, ignored by git) and opens it.
func dontCache() {
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	for !exists(filepath.Join(dir, "go.mod")) {
		if filepath.Dir(dir) == dir {
			return
		}
		dir = filepath.Dir(dir)
	}
	path := filepath.Join(dir, ".test-skipped")
	if os.WriteFile(path, []byte(time.Now().String()+"\n"), 0o600) != nil {
		return
	}
	if f, err := os.Open(path); err == nil {
		f.Close()
	}
}

// notify writes msg to the controlling terminal once.
func notify(msg string) {
	mu.Lock()
	defer mu.Unlock()
	if shown[msg] {
		return
	}
	shown[msg] = true
	once.Do(func() { tty, ttyErr = os.OpenFile("/dev/tty", os.O_WRONLY, 0) })
	if ttyErr != nil {
		return
	}
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	fmt.Fprintf(tty, "SKIPPING tests in %s: %s (CI=1 fails instead)\n", pkg, msg)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
