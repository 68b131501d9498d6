package logbuf_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/logbuf"
)

// out is a destination that records each write it gets.
type out struct {
	mu     sync.Mutex
	writes []string
	fail   error
}

func (o *out) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return 0, o.fail
	}
	o.writes = append(o.writes, string(p))
	return len(p), nil
}

func (o *out) text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.writes, "")
}

func (o *out) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.writes)
}

func TestWriter(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, w *logbuf.Writer, o *out)
	}{
		{"ok/held-until-flush", func(t *testing.T, w *logbuf.Writer, o *out) {
			w.Write([]byte("a\n"))
			w.Write([]byte("b\n"))
			if o.count() != 0 {
				t.Fatalf("written before a flush: %q", o.text())
			}
			w.Flush()
			if o.text() != "a\nb\n" || o.count() != 1 {
				t.Fatalf("after Flush: %q in %d writes, want both lines in one", o.text(), o.count())
			}
		}},
		{"ok/close-flushes-then-writes-through", func(t *testing.T, w *logbuf.Writer, o *out) {
			w.Write([]byte("a\n"))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			w.Write([]byte("late\n"))
			if o.text() != "a\nlate\n" {
				t.Fatalf("got %q", o.text())
			}
		}},
		{"ok/full-buffer-goes-out", func(t *testing.T, w *logbuf.Writer, o *out) {
			line := strings.Repeat("x", 99) + "\n" // the buffer holds 10 of them
			for range 25 {
				w.Write([]byte(line))
			}
			if o.count() != 2 || len(o.text()) != 20*len(line) {
				t.Fatalf("%d writes of %d bytes, want 2 of 20 lines", o.count(), len(o.text()))
			}
		}},
		{"ok/line-larger-than-buffer-keeps-order", func(t *testing.T, w *logbuf.Writer, o *out) {
			w.Write([]byte("first\n"))
			big := strings.Repeat("y", 2000) + "\n"
			w.Write([]byte(big))
			if o.text() != "first\n"+big {
				t.Fatalf("got %d bytes, want the first line then the big one", len(o.text()))
			}
		}},
		{"ok/direct-goes-out-after-the-buffered", func(t *testing.T, w *logbuf.Writer, o *out) {
			w.Write([]byte("request 1\n"))
			w.Direct().Write([]byte("error\n"))
			w.Write([]byte("request 2\n"))
			if o.text() != "request 1\nerror\n" {
				t.Fatalf("got %q", o.text())
			}
		}},
		{"ok/flushed-after-a-moment", func(t *testing.T, w *logbuf.Writer, o *out) {
			w.Write([]byte("a\n"))
			// The timer flushes; the deadline only keeps a broken test
			// from hanging.
			for deadline := time.Now().Add(10 * time.Second); o.text() != "a\n"; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the line was never written without a Flush")
				}
			}
		}},
		{"fail/write-error-reported", func(t *testing.T, w *logbuf.Writer, o *out) {
			o.fail = errors.New("disk full")
			w.Write([]byte("a\n"))
			if err := w.Flush(); err == nil || err.Error() != "disk full" {
				t.Fatalf("Flush = %v, want disk full", err)
			}
			if err := w.Close(); err == nil {
				t.Fatal("Close forgot the write error")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &out{}
			w := logbuf.New(o, 1000, 20*time.Millisecond)
			if !strings.Contains(c.name, "moment") {
				w = logbuf.New(o, 1000, time.Hour) // only what the case does flushes
			}
			c.run(t, w, o)
		})
	}
}

// TestConcurrentLinesWhole: lines written at once from many goroutines all
// come out, each whole.
func TestConcurrentLinesWhole(t *testing.T) {
	var o bytes.Buffer
	var mu sync.Mutex
	w := logbuf.New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return o.Write(p)
	}), 4096, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "goroutine %d line %d %s\n", g, i, strings.Repeat("z", i%50))
			}
		})
	}
	wg.Wait()
	w.Close()
	lines := strings.Split(strings.TrimSuffix(o.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		var g, i int
		var z string
		if n, _ := fmt.Sscanf(l, "goroutine %d line %d %s", &g, &i, &z); n < 2 || (i%50 != 0 && len(z) != i%50) {
			t.Fatalf("a torn line: %q", l)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
