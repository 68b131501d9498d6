// Package hmacpool computes HMAC-SHA256 under a long-lived key without
// keying a new hash.Hash each time. crypto/hmac.New hashes the padded key
// into fresh inner and outer states on every call, six allocations and two
// SHA-256 blocks; a keyed hash.Hash that is Reset keeps them. propusk signs
// or checks a refresh token or a CSRF token on every token.obtain and
// token.renew, so it keeps keyed hashes in a pool per key.
package hmacpool

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Key is an HMAC-SHA256 key and its pool of keyed hashes. It is safe for
// concurrent use.
type Key struct {
	pool sync.Pool
}

// New returns the Key of secret, which it keeps: the caller must not
// change secret afterwards.
func New(secret []byte) *Key {
	k := &Key{}
	k.pool.New = func() any { return hmac.New(sha256.New, secret) }
	return k
}

// Get returns a hash keyed with k, ready to write to. Give it back with Put
// once its Sum is taken.
func (k *Key) Get() hash.Hash {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	return h
}

// Put returns h, from Get, to k's pool.
func (k *Key) Put(h hash.Hash) { k.pool.Put(h) }

// Sum appends to dst the HMAC of msg under k.
func (k *Key) Sum(dst, msg []byte) []byte {
	h := k.Get()
	h.Write(msg)
	dst = h.Sum(dst)
	k.Put(h)
	return dst
}
