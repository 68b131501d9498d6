package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// The request path counts every request and every token check. A Vec's
// WithLabelValues hashes and validates its label values and looks the
// child up under a lock each time; the children a request uses are few
// (the routes, methods and statuses in use, the token outcomes), so they
// are kept here, found by a map lookup that neither hashes with
// Prometheus's hash nor allocates.

// requestKey names the children of the request metrics one request uses.
type requestKey struct {
	route, method string
	code          int
}

// requestChildren are the request counter and timer of one requestKey.
type requestChildren struct {
	count   prometheus.Counter
	seconds prometheus.Observer
}

// requestCache keeps the children of requestKeys seen. Routes are the
// route table's patterns, methods a fixed set and codes HTTP's, so it stays
// small.
type requestCache struct {
	mu sync.RWMutex
	m  map[requestKey]requestChildren
}

// children returns k's children, making them on first use.
func (c *requestCache) children(m *Metrics, k requestKey) requestChildren {
	c.mu.RLock()
	ch, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return ch
	}
	ch = requestChildren{
		count:   m.requests.WithLabelValues(k.route, k.method, statusLabel(k.code)),
		seconds: m.requestSeconds.WithLabelValues(k.route, k.method),
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[requestKey]requestChildren{}
	}
	c.m[k] = ch
	c.mu.Unlock()
	return ch
}
