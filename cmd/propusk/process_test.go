package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/internal/testenv"
)

// These helpers run the real propusk binary as a child process, the way an
// operator does, for tests that need a real process boundary: SIGKILL,
// several servers on one database.

// proc is a running propusk server.
type proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	URL  string
	logs *testenv.LogBuffer
	done chan struct{}
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer runs "propusk serve" on a free port with the given extra
// arguments and environment, in dir, and waits until it listens.
func startServer(t testing.TB, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binarytest.Binary(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, logs: &testenv.LogBuffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.Kill() })
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-p.done:
		t.Fatalf("propusk exited before listening:\n%s", p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("propusk did not listen within 60s:\n%s", p.logs)
	}
	return p
}

// Kill ends the process with SIGKILL: no shutdown, no flush.
func (p *proc) Kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Stop sends SIGTERM and waits for a graceful exit.
func (p *proc) Stop() error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("propusk did not exit within 30s of SIGTERM:\n%s", p.logs)
	}
	return nil
}

// call sends a request and decodes a JSON answer into out (when not nil).
func (p *proc) call(method, path string, header map[string]string, body string, out any) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, method, p.URL+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("X-Requested-With", "XMLHttpRequest")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// tokenPair is the JSON of a token answer.
type tokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	Expires      int64  `json:"expires"`
	APIToken     string `json:"apiToken"`
	Error        string `json:"error"`
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
