package hmacpool_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/propusk/propusk/internal/hmacpool"
)

// TestSumIsHMAC: every Sum, however many run at once and whatever was
// written before to a pooled hash, is crypto/hmac's HMAC-SHA256.
func TestSumIsHMAC(t *testing.T) {
	secret := []byte("a secret of thirty-two bytes ...")
	k := hmacpool.New(secret)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				msg := bytes.Repeat([]byte{byte(g), byte(i)}, i%97)
				m := hmac.New(sha256.New, secret)
				m.Write(msg)
				want := m.Sum([]byte("prefix"))
				if got := k.Sum([]byte("prefix"), msg); !bytes.Equal(got, want) {
					t.Errorf("Sum of %d bytes = %x, want %x", len(msg), got, want)
					return
				}
				// A hash given back half-written must not leak into the next.
				h := k.Get()
				h.Write([]byte("left over"))
				k.Put(h)
			}
		}()
	}
	wg.Wait()
	if other := hmacpool.New([]byte("another secret of thirty-two b..")).Sum(nil, []byte("m")); bytes.Equal(other, k.Sum(nil, []byte("m"))) {
		t.Error("two keys give the same HMAC")
	}
}
