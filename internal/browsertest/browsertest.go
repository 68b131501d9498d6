// Package browsertest lets a test drive Debian's headless Chromium and serve
// JavaScript packages installed from npm, without ever downloading a browser.
//
// # Skipping
//
// A test needing Chromium or npm skips only when they are truly absent, and
// says so on the terminal even without -v; when the environment variable CI
// is non-empty it fails instead, because CI installs both and must never
// pass by skipping (package internal/missing).
//
// # Example
//
//	func TestPage(t *testing.T) {
//		nm := browsertest.NodeModules(t) // serve nm/axios/dist/axios.min.js
//		ctx := browsertest.New(t)
//		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
//			t.Fatal(err)
//		}
//		title, err := chromedp.Run(ctx, chromedp.Title())
//		…
//	}
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propusk/propusk/internal/missing"
)

// debianChromium is where Debian's chromium package installs the browser.
const debianChromium = "/usr/bin/chromium"

// Chromium returns the path of the Chromium binary: $PROPUSK_TEST_CHROMIUM
// when set, else /usr/bin/chromium, else "chromium" found on PATH. It skips the test when there is none, or fails it
// under CI.
func Chromium(t testing.TB) string {
	t.Helper()
	if p, ok := os.LookupEnv("PROPUSK_TEST_CHROMIUM"); ok {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		unavailable(t, "Chromium not found at %s (PROPUSK_TEST_CHROMIUM)", p)
		return ""
	}
	if fi, err := os.Stat(debianChromium); err == nil && !fi.IsDir() {
		return debianChromium
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	unavailable(t, "Chromium not found at %s nor on PATH (apt-get install chromium)", debianChromium)
	return ""
}

// New starts a fresh headless Chromium (see Chromium) with its own profile in
// t.TempDir and returns a chromedp context for one tab of it. The browser is
// closed in t.Cleanup. Chromium gets only the flags below: nothing that
// reaches the network on its own, and no downloaded components.
func New(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// Start the browser now, so a broken installation fails here with a
	// clear message rather than inside the test's first action.
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
	})
	return ctx
}

// npm runs `npm ci` at most once per test binary; the file lock in
// installNodeModules serialises it across test binaries.
var npm struct {
	once sync.Once
	err  error
}

// NodeModules returns the absolute path of the repository's node_modules
// directory, with the packages of package-lock.json installed. When axios is
// missing it runs `npm ci` in the repository root first, once, under a file
// lock so test packages running in parallel do not race. It skips the test
// when npm is absent or fails, or fails it under CI.
func NodeModules(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	dir := filepath.Join(root, "node_modules")
	if installed(dir) {
		return dir
	}
	npm.once.Do(func() { npm.err = installNodeModules(root, dir) })
	if npm.err != nil {
		unavailable(t, "node_modules: %v", npm.err)
	}
	return dir
}

// installed reports whether the packages the browser tests serve are there.
func installed(nodeModules string) bool {
	for _, f := range []string{"axios/dist/axios.min.js", "axe-core/axe.min.js"} {
		if _, err := os.Stat(filepath.Join(nodeModules, f)); err != nil {
			return false
		}
	}
	return true
}

func installNodeModules(root, nodeModules string) error {
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("npm not found on PATH; install Node.js and run `npm ci` in the repository root")
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "propusk-npm-ci.lock"))
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer unlock()
	// Another test binary may have installed them while we waited.
	if installed(nodeModules) {
		return nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("`npm ci` in %s: %v\n%s", root, err, out)
	}
	if !installed(nodeModules) {
		return fmt.Errorf("`npm ci` in %s did not install axios and axe-core", root)
	}
	return nil
}

// repoRoot walks up from the working directory (a test's package directory)
// to the directory holding package.json and go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if exists(filepath.Join(dir, "go.mod")) && exists(filepath.Join(dir, "package.json")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no directory with go.mod and package.json above the working directory")
		}
		dir = parent
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// unavailable skips the test, or fails it when CI is set: CI installs
// Chromium and npm, so a missing one there is a broken pipeline.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	missing.Skip(t, "browser tests: "+fmt.Sprintf(format, args...))
}
