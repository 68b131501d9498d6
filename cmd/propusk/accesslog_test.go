package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/testenv"
)

// TestAccessLogFlag: --access-log errors logs the failed request only, its
// JSON line carries the id the answer has in X-Request-Id, and a bad value
// is refused before anything starts.
func TestAccessLogFlag(t *testing.T) {
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"serve", "--access-log", "most"}); err == nil || !strings.Contains(err.Error(), "--access-log") {
		t.Fatalf("--access-log most: %v", err)
	}
	var logs testenv.LogBuffer
	m = NewMain(strings.NewReader(""), io.Discard, &logs)
	dir := t.TempDir()
	if err := m.ParseFlags([]string{"serve", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(dir, "p.db"),
		"--log-format", "json", "--access-log", "errors"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, path := range []string{"/healthz", "/no/such/path"} {
		res, err := http.Get("http://" + m.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		ids[path] = res.Header.Get("X-Request-Id")
		if ids[path] == "" {
			t.Errorf("%s: no X-Request-Id", path)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	var requests []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %s", line)
		}
		if rec["msg"] == "request" {
			requests = append(requests, rec)
		}
	}
	if len(requests) != 1 || requests[0]["status"] != 404.0 || requests[0]["request_id"] != ids["/no/such/path"] {
		t.Fatalf("request log %v, want one line of the 404 with request_id %q\n%s", requests, ids["/no/such/path"], logs.String())
	}
}
