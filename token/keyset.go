package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/propusk/propusk/internal/hmacpool"
)

// AccessKey is an Ed25519 key that signs access tokens. Private may be nil
// for a key that only verifies, as for a relying party that has the JWKS.
type AccessKey struct {
	ID        string
	Private   ed25519.PrivateKey
	Public    ed25519.PublicKey
	CreatedAt time.Time
}

// RefreshKey is an HMAC-SHA256 secret that signs refresh tokens. It is never
// published: only the server can mint or accept a refresh token, so no
// relying party holding the JWKS can be fooled into taking one for an access
// token.
type RefreshKey struct {
	ID        string
	Secret    []byte
	CreatedAt time.Time
}

// Keyset is an immutable set of keys: the newest of each use signs, all verify.
type Keyset struct {
	access     map[string]ed25519.PublicKey
	signer     AccessKey
	refresh    map[string][]byte
	refreshKey RefreshKey
	jwks       []byte

	// The header segments of tokens signed with these keys, built once
	// (see sign.go): of the signing keys, and of every key for the fast
	// path of verification.
	accessHead, refreshHead, assertionHead string
	accessHeads                            map[string]ed25519.PublicKey
	refreshHeads                           map[string]*hmacpool.Key
	refreshMAC                             *hmacpool.Key // of refreshKey
}

// NewKeyset builds a Keyset. The newest access key with a private half and
// the newest refresh key sign; every key verifies. It needs at least one of each.
func NewKeyset(access []AccessKey, refresh []RefreshKey) (*Keyset, error) {
	ks := &Keyset{
		access:       make(map[string]ed25519.PublicKey, len(access)),
		refresh:      make(map[string][]byte, len(refresh)),
		accessHeads:  make(map[string]ed25519.PublicKey, len(access)),
		refreshHeads: make(map[string]*hmacpool.Key, len(refresh)),
	}
	sort.SliceStable(access, func(i, j int) bool { return access[i].CreatedAt.Before(access[j].CreatedAt) })
	sort.SliceStable(refresh, func(i, j int) bool { return refresh[i].CreatedAt.Before(refresh[j].CreatedAt) })
	for _, k := range access {
		if len(k.Public) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("token: access key %q: bad public key", k.ID)
		}
		ks.access[k.ID] = k.Public
		ks.accessHeads[headerSegment("EdDSA", k.ID, AccessType)] = k.Public
		if len(k.Private) == ed25519.PrivateKeySize {
			ks.signer = k
		}
	}
	for _, k := range refresh {
		if len(k.Secret) < 32 {
			return nil, fmt.Errorf("token: refresh key %q: secret under 32 bytes", k.ID)
		}
		ks.refresh[k.ID] = k.Secret
		ks.refreshMAC = hmacpool.New(k.Secret)
		ks.refreshHeads[headerSegment("HS256", k.ID, "JWT")] = ks.refreshMAC
		ks.refreshKey = k
	}
	if ks.signer.Private == nil || ks.refreshKey.Secret == nil {
		return nil, fmt.Errorf("token: a keyset needs an access signing key and a refresh key")
	}
	ks.jwks = buildJWKS(access)
	ks.accessHead = headerSegment("EdDSA", ks.signer.ID, AccessType)
	ks.assertionHead = headerSegment("EdDSA", ks.signer.ID, AssertionType)
	ks.refreshHead = headerSegment("HS256", ks.refreshKey.ID, "JWT")
	return ks, nil
}

// JWKS returns the public access keys as a JSON Web Key Set (RFC 7517, OKP
// keys per RFC 8037). Refresh keys are never in it.
func (ks *Keyset) JWKS() []byte { return ks.jwks }

// SigningKeyID returns the kid that new access tokens carry.
func (ks *Keyset) SigningKeyID() string { return ks.signer.ID }

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func buildJWKS(access []AccessKey) []byte {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range access {
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", Kid: k.ID, Alg: "EdDSA", Use: "sig",
			X: base64.RawURLEncoding.EncodeToString(k.Public),
		})
	}
	b, _ := json.Marshal(set) // plain strings: cannot fail
	return b
}

// NewKeyID returns a random key id: 16 URL-safe characters, so a kid is never
// a path or anything a store or log could misread.
func NewKeyID(rand io.Reader) (string, error) {
	b := make([]byte, 12)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("token: key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
