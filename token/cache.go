package token

import (
	"encoding/base64"
	"sync"
)

// cache maps a verified access token, byte for byte, to its claims. Only
// tokens whose signature verified are put, so a forged token can never be
// found in it. When full it drops an arbitrary eighth of its entries (Go's map
// order is random), which costs less than LRU bookkeeping on every hit and is
// as good for tokens that live minutes.
type cache struct {
	mu  sync.RWMutex
	m   map[string]*AccessClaims
	max int
}

func newCache(max int) *cache {
	if max < 0 {
		return nil
	}
	return &cache{m: make(map[string]*AccessClaims), max: max}
}

func (c *cache) get(k string) (*AccessClaims, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *cache) put(k string, v *AccessClaims) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		drop := c.max/8 + 1
		for old := range c.m {
			delete(c.m, old)
			if drop--; drop == 0 {
				break
			}
		}
	}
	c.m[k] = v
	c.mu.Unlock()
}

func (c *cache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

func encodeID(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
