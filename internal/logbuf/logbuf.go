// Package logbuf is a log writer that holds lines in memory for a moment
// and writes them out together, so a busy server pays one write(2) for
// many lines of its request log instead of one per request.
//
// Lines go out when the buffer fills, at most Every after the first line
// of a batch was written, when a line is written through Direct (whose
// lines, warnings and errors, should be seen at once: it writes the
// buffered lines before its own, so the order of the log is kept), and on
// Flush and Close. A process that exits by Close loses nothing; one that
// crashes loses at most the lines of the last Every, and only log lines:
// no state lives here.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Defaults of New.
const (
	DefaultSize  = 64 << 10
	DefaultEvery = 100 * time.Millisecond
)

// Writer buffers what is written to it; see the package comment. Each
// Write must be whole lines, as slog handlers write them: a Write is never
// split, so lines from concurrent writers never interleave. It is safe for
// concurrent use.
type Writer struct {
	out   io.Writer
	every time.Duration

	mu     sync.Mutex
	buf    []byte
	timer  *time.Timer // flushes the batch; armed while buf holds lines
	closed bool
	err    error // the first write error, returned by Flush and Close
}

// New returns a Writer to out that holds up to size bytes (DefaultSize
// when 0 or less) for at most every (DefaultEvery when 0 or less).
func New(out io.Writer, size int, every time.Duration) *Writer {
	if size <= 0 {
		size = DefaultSize
	}
	if every <= 0 {
		every = DefaultEvery
	}
	w := &Writer{out: out, every: every, buf: make([]byte, 0, size)}
	w.timer = time.AfterFunc(time.Hour, func() { w.Flush() })
	w.timer.Stop()
	return w
}

// Write buffers p. A p larger than the buffer is written out at once,
// after the lines buffered before it. It never fails: a write error of out
// is kept for Flush and Close to report, as a logger has no one to tell.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.write(p)
		return len(p), nil
	}
	if len(w.buf)+len(p) > cap(w.buf) {
		w.flush()
		if len(p) > cap(w.buf) {
			w.write(p)
			return len(p), nil
		}
	}
	if len(w.buf) == 0 {
		w.timer.Reset(w.every)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Direct returns a writer to the same output whose lines go out at once,
// after every line buffered before them.
func (w *Writer) Direct() io.Writer { return direct{w} }

type direct struct{ w *Writer }

func (d direct) Write(p []byte) (int, error) {
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	d.w.flush()
	d.w.write(p)
	return len(p), nil
}

// Flush writes out the buffered lines. It returns the first error of a
// write to out so far.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flush()
	return w.err
}

// Close flushes the buffer; later writes go out at once. It returns the
// first error of a write to out.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flush()
	w.closed = true
	return w.err
}

// flush writes out buf; w.mu is held.
func (w *Writer) flush() {
	if len(w.buf) == 0 {
		return
	}
	w.timer.Stop()
	w.write(w.buf)
	w.buf = w.buf[:0]
}

// write writes p to out; w.mu is held.
func (w *Writer) write(p []byte) {
	if _, err := w.out.Write(p); err != nil && w.err == nil {
		w.err = err
	}
}
