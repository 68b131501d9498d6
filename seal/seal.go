// Package seal encrypts small secrets at rest with AES-256-GCM: signing keys
// under the master key, and users.api_token under the sealing key.
//
// A sealed value is "v1." + base64url(nonce || ciphertext || tag). The caller
// passes associated data that names where the value lives (for example
// "users.api_token:42"), so a sealed value copied to another row or column
// does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeySize is the length of a key in bytes.
const KeySize = 32

const version = "v1."

// ErrOpen is returned when a sealed value does not open: it is malformed,
// was sealed under another key, or was tampered with.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Key seals and opens values. It is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
	rand io.Reader
}

// NewKey returns a Key for the 32-byte secret k, drawing nonces from rand.
func NewKey(k []byte, rand io.Reader) (*Key, error) {
	if len(k) != KeySize {
		return nil, fmt.Errorf("seal: key is %d bytes, want %d", len(k), KeySize)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Key{aead: aead, rand: rand}, nil
}

// Seal encrypts plaintext bound to ad.
func (k *Key) Seal(plaintext, ad []byte) (string, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return "", fmt.Errorf("seal: read nonce: %w", err)
	}
	out := k.aead.Seal(nonce, nonce, plaintext, ad)
	return version + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with the same key and ad.
func (k *Key) Open(sealed string, ad []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, version)
	if !ok {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, ErrOpen
	}
	ns := k.aead.NonceSize()
	pt, err := k.aead.Open(nil, raw[:ns], raw[ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
