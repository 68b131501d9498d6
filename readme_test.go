package propusk_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMEProgram builds the program in README.md's "As a library"
// section, exactly as written, runs it on a free port, waits for /healthz
// to answer 200, and stops it with SIGINT: the README's code compiles,
// handles its errors, migrates before it serves, and shuts down cleanly.
func TestREADMEProgram(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## As a library\n")
	if !ok {
		t.Fatal(`README.md has no "## As a library" section`)
	}
	_, code, ok := strings.Cut(section, "\n```go\n")
	code, _, ok2 := strings.Cut(code, "\n```\n")
	if !ok || !ok2 || !strings.HasPrefix(code, "package main\n") {
		t.Fatal("the library section's first ```go block is not a complete program (package main)")
	}

	// A directory inside the module, so the program builds against this
	// checkout; the leading dot keeps it out of ./... patterns.
	src, err := os.MkdirTemp(".", ".readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(src) })
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(code+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "readme")
	if out, err := exec.Command("go", "build", "-o", bin, "./"+filepath.Base(src)).CombinedOutput(); err != nil {
		t.Fatalf("the README's program does not build: %v\n%s", err, out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "ADDR="+addr)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/healthz", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
			t.Fatalf("/healthz: %d\n%s", res.StatusCode, logs.String())
		}
		select {
		case err := <-done:
			t.Fatalf("the README's program exited before serving: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("the README's program did not serve within 60s\n%s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, f := range []string{"app.db", "app.db.key"} {
		if _, err := os.Stat(filepath.Join(cmd.Dir, f)); err != nil {
			t.Fatalf("the README's program made no %s: %v", f, err)
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("the README's program exited %d on SIGINT\n%s", exit.ExitCode(), logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the README's program did not stop within 30s of SIGINT\n%s", logs.String())
	}
}
