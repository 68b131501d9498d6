// Package batch groups calls that arrive together into one batch, so that
// a database commits many of them at once: group commit, done by the
// caller rather than left to the database.
//
// A database pays for each transaction it commits (the executor's start,
// the commit record, the write-ahead log's flush) about as much as for the
// rows it changes: on the development machine PostgreSQL spent 88 µs of
// CPU on a transaction updating one session row and 113 µs on one
// updating four. A Queue lets up to InFlight batches run at once; a call
// that finds one free starts a batch of itself at once, so a quiet server
// waits for nothing, and the calls that arrive while every batch is busy
// go together into the next, up to Max.
//
// Each call is answered only once the batch that holds it has returned:
// a batch that commits before it returns never tells a caller "done" for
// work that was not committed.
package batch

import (
	"context"
	"errors"
	"sync"
)

// Queue runs the calls given to Do in batches. Its fields are set before
// first use.
type Queue[In, Out any] struct {
	// Run carries out one batch: ins in the order the calls came, and one
	// Out for each, or an error for all of them. Its context carries the
	// values of the call that leads the batch, none of its cancellation:
	// a batch is others' work too. Run bounds itself.
	Run func(ctx context.Context, ins []In) ([]Out, error)
	// Max is the most calls in one batch (at least 1).
	Max int
	// InFlight is the most batches running at once (at least 1).
	InFlight int

	mu      sync.Mutex
	waiting []*call[In, Out]
	running int
}

// call is one Do: its input, and its answer once its batch is done. A
// waiting call is also told to lead a batch: then lead holds the batch.
type call[In, Out any] struct {
	in   In
	out  Out
	err  error
	lead []*call[In, Out]
	done chan struct{} // closed when out and err are set, or lead is
}

// ErrShort is the error of every call of a batch whose Run returned fewer
// outputs than inputs.
var ErrShort = errors.New("batch: fewer results than calls")

// ErrAbandoned is the error of the calls of a batch whose Run panicked,
// but the one that led it: the panic goes on up that caller's stack.
var ErrAbandoned = errors.New("batch: the batch's run panicked")

// Do runs in in a batch and returns its output. A call whose ctx has ended
// returns its error and runs nothing; one that waits for a batch to take
// it returns ctx's error if ctx ends first; once taken, it returns with its
// batch, whose work is others' too.
func (q *Queue[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	if err := ctx.Err(); err != nil {
		var zero Out
		return zero, err
	}
	c := &call[In, Out]{in: in, done: make(chan struct{})}
	q.mu.Lock()
	if q.running < max(q.InFlight, 1) {
		q.running++
		q.mu.Unlock()
		q.lead(ctx, []*call[In, Out]{c})
		return c.out, c.err
	}
	q.waiting = append(q.waiting, c)
	q.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		q.mu.Lock()
		for i, w := range q.waiting {
			if w == c {
				q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
				q.mu.Unlock()
				var zero Out
				return zero, ctx.Err()
			}
		}
		q.mu.Unlock()
		<-c.done // taken into a batch already: answered with it
	}
	if c.lead != nil {
		q.lead(ctx, c.lead)
	}
	return c.out, c.err
}

// lead runs batch, answers its calls and hands the next batch, if calls
// are waiting, to the first of them; else it gives up its slot. So it
// does even when Run panics: a slot kept would stop every later call.
func (q *Queue[In, Out]) lead(ctx context.Context, batch []*call[In, Out]) {
	answered := false
	defer func() {
		if !answered {
			for _, c := range batch[1:] {
				c.err = ErrAbandoned
				close(c.done)
			}
		}
		q.handOff()
	}()
	ins := make([]In, len(batch))
	for i, c := range batch {
		ins[i] = c.in
	}
	outs, err := q.Run(context.WithoutCancel(ctx), ins)
	if err == nil && len(outs) < len(batch) {
		err = ErrShort
	}
	for i, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.out = outs[i]
		}
		if i > 0 {
			close(c.done) // the leader's own is not waited on
		}
	}
	answered = true
}

// handOff gives the next batch, if calls are waiting, to the first of
// them, and the slot with it; else it gives the slot up.
func (q *Queue[In, Out]) handOff() {
	q.mu.Lock()
	if len(q.waiting) == 0 {
		q.running--
		q.mu.Unlock()
		return
	}
	n := min(len(q.waiting), max(q.Max, 1))
	next := make([]*call[In, Out], n)
	copy(next, q.waiting)
	q.waiting = append(q.waiting[:0], q.waiting[n:]...)
	q.mu.Unlock()
	next[0].lead = next
	close(next[0].done)
}
