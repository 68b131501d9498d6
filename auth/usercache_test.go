package auth

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// checkRing checks the cache's invariants: every cached id is at its
// position in the ring, the ring holds nothing else, and the bound holds.
func checkRing(t *testing.T, c *userCache) {
	t.Helper()
	if len(c.ring) != len(c.m) || len(c.m) > c.max {
		t.Fatalf("ring %v, %d entries, max %d", c.ring, len(c.m), c.max)
	}
	for id, e := range c.m {
		if c.ring[e.pos] != id {
			t.Fatalf("id %d at position %d, where the ring has %d", id, e.pos, c.ring[e.pos])
		}
	}
}

// cached returns the ids c holds, sorted.
func cached(c *userCache) []int64 {
	var ids []int64
	for id := range c.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TestUserCacheBound: the cache never holds more than its bound, and when
// full it keeps the users called since the hand last passed (CLOCK).
func TestUserCacheBound(t *testing.T) {
	cases := []struct {
		name string
		ops  string // p<id> puts, g<id> gets, d<id> drops, in order
		want []int64
	}{
		{"ok/fills-up-to-the-bound", "p1 p2 p3 p4", []int64{1, 2, 3, 4}},
		{"ok/unused-leave-first", "p1 p2 p3 p4 g1 g2 p5", []int64{1, 2, 4, 5}},
		{"ok/second-chance-then-the-oldest", "p1 p2 p3 p4 g1 g2 g3 g4 p5", []int64{2, 3, 4, 5}},
		{"ok/a-dropped-place-is-reused", "p1 p2 p3 p4 d2 p5", []int64{1, 3, 4, 5}},
		{"ok/drop-the-last-then-fill", "p1 p2 p3 p4 d4 d1 p5 p6 g5 p7", []int64{2, 5, 6, 7}},
		{"ok/put-again-replaces", "p1 p1 p1", []int64{1}},
		{"ok/drop-unknown", "p1 d9", []int64{1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uc := newUserCache(4)
			for _, op := range splitOps(c.ops) {
				id := op.id
				switch op.kind {
				case 'p':
					uc.put(&propusk.User{ID: id, Login: fmt.Sprint("u", id)}, uc.stamp(id))
				case 'g':
					if uc.get(id) == nil {
						t.Fatalf("%s: %d is not cached", c.ops, id)
					}
				case 'd':
					uc.drop(id)
				}
				checkRing(t, uc)
			}
			if got := cached(uc); !slices.Equal(got, c.want) {
				t.Fatalf("%s: cached %v, want %v", c.ops, got, c.want)
			}
		})
	}
}

type cacheOp struct {
	kind byte
	id   int64
}

func splitOps(s string) []cacheOp {
	var ops []cacheOp
	for _, f := range strings.Fields(s) {
		id, err := strconv.ParseInt(f[1:], 10, 64)
		if err != nil {
			panic(err)
		}
		ops = append(ops, cacheOp{f[0], id})
	}
	return ops
}

// TestUserCacheStaleRead: a row read before its user's drop is not cached
// after it, so an old level or a disabled user cannot come back; a drop of
// another stripe's user refuses nothing.
func TestUserCacheStaleRead(t *testing.T) {
	const id = 7
	cases := []struct {
		name   string
		during func(c *userCache) // between the read's stamp and its put
		cached bool
	}{
		{"ok/nothing-happened", func(*userCache) {}, true},
		{"ok/another-stripe-dropped", func(c *userCache) { c.drop(id + 1) }, true},
		{"fail/dropped", func(c *userCache) { c.drop(id) }, false},
		{"fail/same-stripe-dropped", func(c *userCache) { c.drop(id + userStripes) }, false},
		{"fail/cleared", func(c *userCache) { c.clear() }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uc := newUserCache(16)
			st := uc.stamp(id)
			c.during(uc)
			uc.put(&propusk.User{ID: id}, st)
			if got := uc.get(id) != nil; got != c.cached {
				t.Fatalf("cached %v, want %v", got, c.cached)
			}
		})
	}
}

// TestShownHoldsNoSecret: the cache keeps what handlers show, never the
// password hash or the sealed api-token, and its own copy of the boards.
func TestShownHoldsNoSecret(t *testing.T) {
	u := &propusk.User{ID: 1, Login: "alice", PasswordHash: "$argon2id$…", APIToken: "sealed", Level: 20, Boards: []string{"b"}}
	v := shown(u)
	if v.PasswordHash != "" || v.APIToken != "" || v.Login != "alice" || v.Level != 20 || !slices.Equal(v.Boards, u.Boards) {
		t.Fatalf("shown %+v", v)
	}
	u.Boards[0] = "changed"
	if v.Boards[0] != "b" {
		t.Fatal("the cached boards share the store's slice")
	}
}
