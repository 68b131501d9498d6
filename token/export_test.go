package token

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"time"
)

// The tests build key sets of their own; auth generates the keys it stores.

// GenerateAccessKey returns a new Ed25519 access key created at now.
func GenerateAccessKey(rand io.Reader, now time.Time) (AccessKey, error) {
	id, err := NewKeyID(rand)
	if err != nil {
		return AccessKey{}, err
	}
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return AccessKey{}, fmt.Errorf("token: generate access key: %w", err)
	}
	return AccessKey{ID: id, Private: priv, Public: pub, CreatedAt: now}, nil
}

// GenerateRefreshKey returns a new 32-byte refresh key created at now.
func GenerateRefreshKey(rand io.Reader, now time.Time) (RefreshKey, error) {
	id, err := NewKeyID(rand)
	if err != nil {
		return RefreshKey{}, err
	}
	s := make([]byte, 32)
	if _, err := io.ReadFull(rand, s); err != nil {
		return RefreshKey{}, fmt.Errorf("token: generate refresh key: %w", err)
	}
	return RefreshKey{ID: id, Secret: s, CreatedAt: now}, nil
}
