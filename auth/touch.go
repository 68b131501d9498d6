package auth

import (
	"sync"
	"time"
)

// touchLog coalesces last_used_at per token until the next flush, so a
// thousand requests with one token cost one row update, off the request path.
type touchLog struct {
	mu sync.Mutex
	m  map[int64]time.Time
}

func newTouchLog() *touchLog { return &touchLog{m: map[int64]time.Time{}} }

// use notes that the token of e was used at at, taking the lock at most once
// a second per token.
func (l *touchLog) use(id int64, e *patEntry, at time.Time) {
	sec := at.Unix()
	if old := e.noted.Load(); sec <= old || !e.noted.CompareAndSwap(old, sec) {
		return
	}
	l.touch(id, at)
}

func (l *touchLog) touch(id int64, at time.Time) {
	l.mu.Lock()
	if at.After(l.m[id]) {
		l.m[id] = at
	}
	l.mu.Unlock()
}

func (l *touchLog) take() map[int64]time.Time {
	l.mu.Lock()
	m := l.m
	l.m = map[int64]time.Time{}
	l.mu.Unlock()
	return m
}

// putBack returns entries of a failed flush, keeping newer touches.
func (l *touchLog) putBack(m map[int64]time.Time) {
	for id, at := range m {
		l.touch(id, at)
	}
}
