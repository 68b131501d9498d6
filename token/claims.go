package token

import "github.com/golang-jwt/jwt/v5"

// The methods below let the JWT library validate exp and iss; propusk tokens
// carry no aud. iat and nbf are checked by checkNotYet, with Leeway, so the
// library is not shown nbf (it would check it with no leeway).

// GetExpirationTime implements jwt.Claims.
func (c *AccessClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.jwtDate(), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *AccessClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt.jwtDate(), nil }

// GetNotBefore implements jwt.Claims.
func (c *AccessClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *AccessClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *AccessClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *AccessClaims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// GetExpirationTime implements jwt.Claims.
func (c *RefreshClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.jwtDate(), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *RefreshClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt.jwtDate(), nil }

// GetNotBefore implements jwt.Claims.
func (c *RefreshClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *RefreshClaims) GetIssuer() (string, error) { return "", nil }

// GetSubject implements jwt.Claims.
func (c *RefreshClaims) GetSubject() (string, error) { return "", nil }

// GetAudience implements jwt.Claims.
func (c *RefreshClaims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }
