// Command alone runs every subtest of some packages by itself, each in a
// process of its own, and names those that fail alone though they pass in
// the full run: subtests that lean on what an earlier one left behind.
//
//	go run ./internal/testenv/alone ./web ./auth ./sqlite ./postgres
//
// It runs each package's tests once with -json to learn the names of the
// innermost subtests that passed, then runs each of those alone through
// the package's compiled test binary with an anchored -test.run pattern.
// It exits 1 when any fails alone. -p sets how many run at once.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

func main() {
	parallel := flag.Int("p", 2, "subtests run at once")
	filter := flag.String("run", "", "only subtests whose full name matches this regular expression")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	var only *regexp.Regexp
	if *filter != "" {
		only = regexp.MustCompile(*filter)
	}
	tmp, err := os.MkdirTemp("", "alone")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)

	failed, ran := 0, 0
	for _, pkg := range list(pkgs) {
		leaves, err := passedLeaves(pkg.ImportPath)
		if err != nil {
			fatal(err)
		}
		if only != nil {
			leaves = slices.DeleteFunc(leaves, func(n string) bool { return !only.MatchString(n) })
		}
		if len(leaves) == 0 {
			continue
		}
		bin := filepath.Join(tmp, filepath.Base(pkg.Dir)+".test")
		if out, err := exec.Command("go", "test", "-c", "-o", bin, pkg.ImportPath).CombinedOutput(); err != nil {
			fatal(fmt.Errorf("build %s: %v\n%s", pkg.ImportPath, err, out))
		}
		fmt.Fprintf(os.Stderr, "%s: %d subtests, each alone\n", pkg.ImportPath, len(leaves))
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			sema = make(chan struct{}, *parallel)
		)
		for _, name := range leaves {
			sema <- struct{}{}
			wg.Go(func() {
				defer func() { <-sema }()
				cmd := exec.Command(bin, "-test.run", pattern(name), "-test.count=1")
				cmd.Dir = pkg.Dir
				out, err := cmd.CombinedOutput()
				if err == nil && bytes.Contains(out, []byte("no tests to run")) {
					err = fmt.Errorf("the pattern matched no test")
				}
				mu.Lock()
				defer mu.Unlock()
				ran++
				if err != nil {
					failed++
					fmt.Printf("FAIL alone: %s %s (%v)\n%s\n", pkg.ImportPath, name, err, indent(out))
				}
			})
		}
		wg.Wait()
	}
	fmt.Printf("%d subtests run alone, %d failed\n", ran, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

type pkg struct{ ImportPath, Dir string }

// list resolves package patterns to packages with test files.
func list(patterns []string) []pkg {
	args := append([]string{"list", "-f", "{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}"}, patterns...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		fatal(fmt.Errorf("go list: %v", err))
	}
	var pkgs []pkg
	for line := range strings.Lines(string(out)) {
		if path, dir, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			pkgs = append(pkgs, pkg{path, dir})
		}
	}
	return pkgs
}

// passedLeaves runs a package's tests once and returns the subtests that
// passed and have no subtests of their own.
func passedLeaves(importPath string) ([]string, error) {
	cmd := exec.Command("go", "test", "-json", "-count=1", importPath)
	out, _ := cmd.Output() // a failing package still names its passing subtests
	var passed []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Action == "pass" && strings.Contains(ev.Test, "/") {
			passed = append(passed, ev.Test)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", importPath, err)
	}
	parents := map[string]bool{}
	for _, n := range passed {
		for i := range len(n) {
			if n[i] == '/' {
				parents[n[:i]] = true
			}
		}
	}
	// A parent is left out: its children run alone instead.
	leaves := slices.DeleteFunc(passed, func(n string) bool { return parents[n] })
	slices.Sort(leaves)
	return leaves, nil
}

// pattern is a -test.run pattern that matches name and nothing else: each
// slash-separated element anchored and quoted.
func pattern(name string) string {
	elems := strings.Split(name, "/")
	for i, e := range elems {
		elems[i] = "^" + regexp.QuoteMeta(e) + "$"
	}
	return strings.Join(elems, "/")
}

func indent(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\t" + strings.Join(lines, "\n\t")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "alone:", err)
	os.Exit(2)
}
