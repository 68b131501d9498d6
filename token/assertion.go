package token

import (
	"encoding/json"
	"strconv"

	"github.com/golang-jwt/jwt/v5"
)

// AssertionType is the JOSE typ of assertions: short-lived JWTs that
// propusk's forward-auth endpoint hands to an upstream behind a proxy. The
// access parser accepts only AccessType, so an assertion is never taken for
// an access token, by propusk or by a verifier that checks typ.
const AssertionType = "assertion+jwt"

// AssertionClaims are the claims of an assertion: who the caller of a gated
// request is, for one audience, for a minute at most.
type AssertionClaims struct {
	Issuer    string       `json:"iss"`
	Audience  string       `json:"aud"`
	Subject   string       `json:"sub"`
	ExpiresAt *NumericDate `json:"exp"`
	IssuedAt  *NumericDate `json:"iat"`
	ID        string       `json:"jti"`
	UserID    int64        `json:"_id"`
	Level     int          `json:"level"`
	Boards    []string     `json:"boards"`
	Abilities []string     `json:"abilities"`
	SessionID string       `json:"sid"`
	Via       string       `json:"via"`
}

// GetExpirationTime implements jwt.Claims.
func (c *AssertionClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return c.ExpiresAt.jwtDate(), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *AssertionClaims) GetIssuedAt() (*jwt.NumericDate, error) { return c.IssuedAt.jwtDate(), nil }

// GetNotBefore implements jwt.Claims.
func (c *AssertionClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *AssertionClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *AssertionClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *AssertionClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}

// SignAssertion fills in iss, sub and jti and returns the assertion signed
// with the current access key, so any verifier of the JWKS accepts its
// signature; its typ (AssertionType) tells it apart from an access token.
// The caller sets exp and iat.
func (t *Tokens) SignAssertion(c *AssertionClaims) (string, error) {
	ks := t.keys.Load()
	c.Issuer = t.cfg.Issuer
	c.Subject = strconv.FormatInt(c.UserID, 10)
	if c.ID == "" {
		id, err := NewID(t.cfg.Rand)
		if err != nil {
			return "", err
		}
		c.ID = id
	}
	if c.Boards == nil {
		c.Boards = []string{}
	}
	claims, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return signEdDSA(ks.assertionHead, claims, ks.signer.Private), nil
}
