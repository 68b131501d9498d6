package batch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/batch"
)

// gate is a Run that records each batch and holds it until released.
type gate struct {
	mu      sync.Mutex
	batches [][]int
	started chan struct{} // a value per batch started
	release chan struct{} // a value lets one batch return
	fail    error
}

func newGate() *gate {
	return &gate{started: make(chan struct{}, 100), release: make(chan struct{}, 100)}
}

func (g *gate) run(_ context.Context, ins []int) ([]int, error) {
	g.mu.Lock()
	g.batches = append(g.batches, slices.Clone(ins))
	g.mu.Unlock()
	g.started <- struct{}{}
	<-g.release
	if g.fail != nil {
		return nil, g.fail
	}
	outs := make([]int, len(ins))
	for i, in := range ins {
		outs[i] = in * 10
	}
	return outs, nil
}

// waitFor waits for a value on ch: a batch started.
func waitFor(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no batch started within 10s")
	}
}

// TestBatches: a call with a free slot runs alone at once; calls that
// arrive while every slot is busy run together in the next batch, in
// their order, up to Max; each gets its own answer.
func TestBatches(t *testing.T) {
	g := newGate()
	q := &batch.Queue[int, int]{Run: g.run, Max: 3, InFlight: 1}
	ctx := context.Background()
	results := make(chan [2]int, 10)
	do := func(in int) {
		out, err := q.Do(ctx, in)
		if err != nil {
			t.Errorf("Do(%d): %v", in, err)
		}
		results <- [2]int{in, out}
	}
	go do(1)
	waitFor(t, g.started) // 1 runs alone, holding the only slot
	for in := 2; in <= 6; in++ {
		go do(in)
	}
	// The five wait; which order they queued in is the scheduler's, so
	// the batches are checked by size: 1, then three, then two.
	waitQueued(t, q, 5)
	for range 3 {
		g.release <- struct{}{}
	}
	got := map[int]int{}
	for range 6 {
		r := <-results
		got[r[0]] = r[1]
	}
	for in := 1; in <= 6; in++ {
		if got[in] != in*10 {
			t.Errorf("Do(%d) = %d, want %d", in, got[in], in*10)
		}
	}
	var sizes []int
	for _, b := range g.batches {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{1, 3, 2}) || !slices.Equal(g.batches[0], []int{1}) {
		t.Errorf("batches %v, want [1] then three, then two", g.batches)
	}
}

// waitQueued waits until n calls wait in q.
func waitQueued(t *testing.T, q *batch.Queue[int, int], n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); batch.Waiting(q) != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls wait, not %d", batch.Waiting(q), n)
		}
	}
}

// TestBatchErrors: a batch's error is every one of its calls' error, and a
// batch that answers short fails all its calls.
func TestBatchErrors(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		run  func(context.Context, []int) ([]int, error)
		want error
	}{
		{"error", func(context.Context, []int) ([]int, error) { return nil, boom }, boom},
		{"short", func(context.Context, []int) ([]int, error) { return []int{}, nil }, batch.ErrShort},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &batch.Queue[int, int]{Run: c.run, Max: 4, InFlight: 1}
			if _, err := q.Do(context.Background(), 1); !errors.Is(err, c.want) {
				t.Errorf("Do = %v, want %v", err, c.want)
			}
		})
	}
}

// TestEndedContext: a call whose context has ended runs nothing.
func TestEndedContext(t *testing.T) {
	ran := false
	q := &batch.Queue[int, int]{Max: 1, InFlight: 1, Run: func(_ context.Context, ins []int) ([]int, error) {
		ran = true
		return ins, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Do(ctx, 1); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Do with an ended context = %v, ran %v; want context.Canceled, not run", err, ran)
	}
}

// TestCancelWaiting: a call whose context ends while it waits returns the
// context's error and is never run; the others are.
func TestCancelWaiting(t *testing.T) {
	g := newGate()
	q := &batch.Queue[int, int]{Run: g.run, Max: 10, InFlight: 1}
	done := make(chan struct{})
	go func() { q.Do(context.Background(), 1); close(done) }()
	waitFor(t, g.started)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := q.Do(ctx, 2); errc <- err }()
	waitQueued(t, q, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Do = %v, want context.Canceled", err)
	}
	g.release <- struct{}{}
	<-done
	if len(g.batches) != 1 {
		t.Errorf("batches %v: the cancelled call ran", g.batches)
	}
	// The slot is free again: the next call runs at once.
	g.release <- struct{}{}
	if out, err := q.Do(context.Background(), 3); err != nil || out != 30 {
		t.Errorf("Do(3) = %d, %v", out, err)
	}
}

// TestManyCallers: under the race detector, many callers on a few slots
// each get their own answer, and no batch exceeds Max.
func TestManyCallers(t *testing.T) {
	var mu sync.Mutex
	largest := 0
	q := &batch.Queue[int, int]{Max: 5, InFlight: 2, Run: func(_ context.Context, ins []int) ([]int, error) {
		mu.Lock()
		largest = max(largest, len(ins))
		mu.Unlock()
		time.Sleep(100 * time.Microsecond)
		outs := make([]int, len(ins))
		for i, in := range ins {
			outs[i] = -in
		}
		return outs, nil
	}}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if out, err := q.Do(context.Background(), i); err != nil || out != -i {
				t.Errorf("Do(%d) = %d, %v", i, out, err)
			}
		})
	}
	wg.Wait()
	if largest > 5 {
		t.Errorf("a batch of %d, over Max 5", largest)
	}
}

// TestRunPanics: when a batch's Run panics, the panic goes up its
// leader's stack, the batch's other calls get ErrAbandoned, and the queue
// goes on serving.
func TestRunPanics(t *testing.T) {
	g := newGate()
	q := &batch.Queue[int, int]{Max: 10, InFlight: 1, Run: func(ctx context.Context, ins []int) ([]int, error) {
		if slices.Contains(ins, 2) {
			panic("boom")
		}
		return g.run(ctx, ins)
	}}
	errs := make(chan error, 3)
	do := func(in int) {
		defer func() {
			if r := recover(); r != nil {
				errs <- fmt.Errorf("panicked: %v", r)
			}
		}()
		_, err := q.Do(context.Background(), in)
		errs <- err
	}
	go do(1)
	waitFor(t, g.started) // 1 holds the slot; 2 and 3 wait, to run together
	go do(2)
	waitQueued(t, q, 1)
	go do(3)
	waitQueued(t, q, 2)
	g.release <- struct{}{}
	got := map[string]int{}
	for range 3 {
		err := <-errs
		switch {
		case err == nil:
			got["ok"]++
		case errors.Is(err, batch.ErrAbandoned):
			got["abandoned"]++
		default:
			got[err.Error()]++
		}
	}
	if got["ok"] != 1 || got["abandoned"] != 1 || got["panicked: boom"] != 1 {
		t.Errorf("outcomes %v, want one ok, one abandoned, one panic", got)
	}
	g.release <- struct{}{}
	if out, err := q.Do(context.Background(), 4); err != nil || out != 40 {
		t.Errorf("after the panic, Do(4) = %d, %v; want 40", out, err)
	}
}
