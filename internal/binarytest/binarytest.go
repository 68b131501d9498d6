// Package binarytest runs the real propusk binary for tests outside
// cmd/propusk: relying services and examples written in other languages
// that must meet propusk as a deployment does. Only tests import it.
package binarytest

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildOut  []byte
	buildErr  error
)

// Binary builds cmd/propusk once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "propusk-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "propusk")
		buildOut, buildErr = exec.Command("go", "build", "-o", binPath, "github.com/propusk/propusk/cmd/propusk").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// Propusk is a running "propusk serve" on SQLite in a temporary directory.
type Propusk struct {
	URL string   // http://127.0.0.1:port
	DB  string   // its --db, for commands such as "keys rotate"
	Env []string // its environment, master key included, for those commands
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// Start runs "propusk serve" on a free port with args added, and waits
// until it listens; it is killed when the test ends.
func Start(t testing.TB, args ...string) *Propusk {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	p := &Propusk{
		DB:  "sqlite:" + filepath.Join(t.TempDir(), "propusk.db"),
		Env: append(os.Environ(), "PROPUSK_MASTER_KEY="+base64.StdEncoding.EncodeToString(key)),
	}
	cmd := exec.Command(Binary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--db", p.DB}, args...)...)
	cmd.Env = p.Env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatal("propusk did not listen within 60s")
	}
	return p
}

// Command runs "propusk args…" against p's database and returns its output.
func (p *Propusk) Command(t testing.TB, args ...string) []byte {
	t.Helper()
	args = append(args, "--db", p.DB)
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = p.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("propusk %v: %v\n%s", args, err, out)
	}
	return out
}
