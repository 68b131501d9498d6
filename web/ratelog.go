package web

import (
	"sync"
	"time"
)

// rateLogClasses bounds the classes a rateLog tracks; past it, the rest
// share one, so a flood of distinct errors cannot grow it.
const rateLogClasses = 64

// rateLog bounds how often each class of a repeated condition is logged:
// the first occurrence at once, then at most one line per interval,
// carrying the number left out since the last line. A failure that hits
// every request (a full disk, a misconfigured proxy) is then a few lines a
// minute, not one a request.
type rateLog struct {
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	classes map[string]*logClass
}

// logClass is what a rateLog knows of one class.
type logClass struct {
	next       time.Time // when the class may log again
	suppressed int       // occurrences not logged since its last line
}

func newRateLog(every time.Duration, now func() time.Time) *rateLog {
	return &rateLog{every: every, now: now, classes: map[string]*logClass{}}
}

// admit reports whether an occurrence of class may be logged now and, if
// so, how many occurrences were left out since its last line.
func (l *rateLog) admit(class string) (ok bool, suppressed int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c, found := l.classes[class]
	if !found && len(l.classes) >= rateLogClasses {
		class = "other"
		c, found = l.classes[class]
	}
	if !found {
		c = &logClass{}
		l.classes[class] = c
	}
	if now.Before(c.next) {
		c.suppressed++
		return false, 0
	}
	suppressed = c.suppressed
	c.next, c.suppressed = now.Add(l.every), 0
	return true, suppressed
}
