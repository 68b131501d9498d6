package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// ParseJWKS reads the access keys of a JSON Web Key Set as propusk publishes
// it (OKP keys on Ed25519, RFC 8037). Keys of any other type, curve or
// algorithm, or marked for a use other than "sig", are skipped: a relying
// party only ever needs propusk's EdDSA keys, and must not be talked into
// verifying with anything else. A set with no usable key is an error, as is
// a usable-looking key that does not decode.
func ParseJWKS(b []byte) ([]AccessKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("token: jwks: %w", err)
	}
	var keys []AccessKey
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Alg != "" && k.Alg != "EdDSA") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		x, err := base64.RawURLEncoding.Strict().DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("token: jwks: key %q: bad x", k.Kid)
		}
		if k.Kid == "" {
			return nil, fmt.Errorf("token: jwks: a key without a kid")
		}
		keys = append(keys, AccessKey{ID: k.Kid, Public: ed25519.PublicKey(x)})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("token: jwks: no Ed25519 signing key")
	}
	return keys, nil
}

// NewVerifyKeyset builds a Keyset that only verifies access tokens: the
// public keys a relying party read from the JWKS. Tokens using it cannot
// sign anything, and refuse every refresh token.
func NewVerifyKeyset(access []AccessKey) (*Keyset, error) {
	ks := &Keyset{
		access:  make(map[string]ed25519.PublicKey, len(access)),
		refresh: map[string][]byte{},
	}
	for _, k := range access {
		if len(k.Public) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("token: access key %q: bad public key", k.ID)
		}
		ks.access[k.ID] = k.Public
	}
	if len(ks.access) == 0 {
		return nil, fmt.Errorf("token: a keyset needs an access key")
	}
	ks.jwks = buildJWKS(access)
	return ks, nil
}

// errCannotSign answers a signing call on a Keyset built by NewVerifyKeyset.
var errCannotSign = fmt.Errorf("token: this keyset only verifies")
