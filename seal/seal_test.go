package seal_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/propusk/propusk/seal"
)

func TestSeal(t *testing.T) {
	k1, _ := seal.NewKey(bytes.Repeat([]byte{1}, 32), rand.Reader)
	k2, _ := seal.NewKey(bytes.Repeat([]byte{2}, 32), rand.Reader)
	v, err := k1.Seal([]byte("1|secret"), []byte("users.api_token:1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "secret") {
		t.Fatal("sealed value carries the plain text")
	}
	if again, _ := k1.Seal([]byte("1|secret"), []byte("users.api_token:1")); again == v {
		t.Fatal("sealing twice gave the same value: nonces repeat")
	}
	flip := []byte(v)
	flip[len(flip)-3] ^= 1
	cases := []struct {
		name, sealed string
		key          *seal.Key
		ad           string
		ok           bool
	}{
		{"ok/same-key-and-place", v, k1, "users.api_token:1", true},
		{"fail/other-key", v, k2, "users.api_token:1", false},
		{"fail/other-row", v, k1, "users.api_token:2", false},
		{"fail/tampered", string(flip), k1, "users.api_token:1", false},
		{"fail/truncated", v[:10], k1, "users.api_token:1", false},
		{"fail/no-version", strings.TrimPrefix(v, "v1."), k1, "users.api_token:1", false},
		{"fail/empty", "", k1, "users.api_token:1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, err := c.key.Open(c.sealed, []byte(c.ad))
			if c.ok != (err == nil) || (c.ok && string(pt) != "1|secret") {
				t.Fatalf("Open: %q, %v", pt, err)
			}
		})
	}
	if _, err := seal.NewKey([]byte("short"), rand.Reader); err == nil {
		t.Fatal("a short key must be refused")
	}
}
