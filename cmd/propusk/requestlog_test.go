package main

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/internal/testenv"
)

// TestRequestLogCompleteAfterSIGTERM: the request log is buffered, yet a
// server stopped with SIGTERM has written one line for every request it
// answered, in both log formats.
func TestRequestLogCompleteAfterSIGTERM(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			key := make([]byte, 32)
			rand.Read(key)
			dir := t.TempDir()
			cmd := exec.Command(binarytest.Binary(t), "serve", "--addr", "127.0.0.1:0", "--log-format", format,
				"--db", "sqlite:"+filepath.Join(dir, "p.db"))
			cmd.Env = append(os.Environ(), "PROPUSK_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
			// Not a pipe read by the test: exec copies the process's
			// stderr to the end before Wait returns, so no line is lost here.
			var logs testenv.LogBuffer
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill(); <-done })
			addr := listening
			if format == "json" {
				addr = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
			}
			var base string
			for deadline := time.Now().Add(60 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
				if m := addr.FindStringSubmatch(logs.String()); m != nil {
					base = "http://" + m[1]
				}
				if time.Now().After(deadline) {
					t.Fatalf("propusk did not listen within 60s:\n%s", logs.String())
				}
			}
			const n = 300
			paths := []string{"/healthz", "/api/v1/token.obtain", "/no/such/path", "/api/v1/token.check"}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := w; i < n; i += 4 {
						r, _ := http.NewRequest("GET", base+paths[i%len(paths)], nil)
						r.Header.Set("X-Requested-With", "test")
						res, err := http.DefaultClient.Do(r)
						if err != nil {
							t.Error(err)
							return
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
					}
				})
			}
			wg.Wait()
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-done:
				done <- err // for the cleanup
				if err != nil {
					t.Fatalf("exit: %v\n%s", err, logs.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("propusk did not exit within 30s of SIGTERM")
			}
			marker := map[string]string{"text": "msg=request ", "json": `"msg":"request"`}[format]
			if got := strings.Count(logs.String(), marker); got != n {
				t.Fatalf("%d request log lines after SIGTERM, want %d:\n%s", got, n, logs.String())
			}
		})
	}
}
