// Package nodeapi runs examples/node-api's `node --test` against a real
// propusk. The example itself is JavaScript; this file only starts propusk
// and Node.
package nodeapi

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/propusk/propusk/internal/binarytest"
)

// TestNode runs the example's tests (test/*.test.js) with Node from the
// system and jose from npm (`npm ci` here when node_modules lacks it). It
// skips loudly when node or npm is absent, and fails instead under CI.
func TestNode(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not found on PATH (CI installs Debian's nodejs and npm)", tool)
			}
			t.Skipf("SKIPPED: %s not found on PATH: install Node.js (Debian: nodejs npm); this test fails under CI", tool)
		}
	}
	if _, err := os.Stat(filepath.Join("node_modules", "jose", "package.json")); err != nil {
		if out, err := exec.Command("npm", "ci", "--no-audit", "--no-fund").CombinedOutput(); err != nil {
			t.Fatalf("npm ci in examples/node-api: %v\n%s", err, out)
		}
	}
	p := binarytest.Start(t)
	res, err := http.Get(p.URL + "/api/v1/revocations")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		// The stream's server side is another engineer's part of issue 10.
		if os.Getenv("CI") != "" {
			t.Fatal("propusk serves no revocation stream (GET /api/v1/revocations is 404)")
		}
		t.Skip("SKIPPED: propusk serves no revocation stream yet (GET /api/v1/revocations is 404); this test fails under CI")
	}
	cmd := exec.Command("node", "--test", "--test-reporter=spec")
	cmd.Env = append(os.Environ(), "PROPUSK_URL="+p.URL)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("node --test: %v", err)
	}
}
