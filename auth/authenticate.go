package auth

import (
	"context"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/pat"
	"github.com/propusk/propusk/token"
)

var errRevoked = propusk.Errorf(propusk.ETOKENINVALID, "the token's session has been revoked")

// Authenticate identifies the caller by a presented token: an access token
// (JWT) or a personal access token. via is how it came (propusk.ViaAccessToken
// or propusk.ViaCookie); a personal access token is always ViaAPIToken. Errors
// are *propusk.Error whose message names the failed check. The Principal is
// read-only: that of a personal access token is shared by its requests.
func (s *Service) Authenticate(ctx context.Context, tok, via string) (p *propusk.Principal, err error) {
	kind := propusk.ViaAccessToken
	defer func() {
		if err != nil {
			s.cfg.Observer.TokenChecked(kind, checkOutcome(err))
		}
	}()
	if pat.Looks(tok) {
		kind = propusk.ViaAPIToken
		// A personal access token is a header credential only. From a cookie
		// it would come back as ViaAPIToken and skip the CSRF check that
		// cookie authentication needs.
		if via == propusk.ViaCookie {
			if _, _, err := pat.Split(tok, s.cfg.TokenPrefix); err != nil {
				return nil, errPATMalformed
			}
			return nil, errPATCookie
		}
		return s.authenticatePAT(ctx, tok)
	}
	c, err := s.tokens.VerifyAccess(tok)
	if err != nil {
		return nil, err
	}
	if s.revoked.has(c.SessionID) {
		return nil, errRevoked
	}
	s.cfg.Observer.TokenChecked(kind, "verified")
	return &propusk.Principal{
		UserID: c.UserID, Level: c.Level, Boards: c.Boards, SessionID: c.SessionID,
		Via: via, TokenID: c.ID, ExpiresAt: c.ExpiresAt.Time,
	}, nil
}

// SignAssertion signs c, an identity asserted to a service behind a proxy
// (forward-auth), with the current access key: any JWKS verifier accepts
// it, and its typ keeps propusk from taking it for an access token.
func (s *Service) SignAssertion(c *token.AssertionClaims) (string, error) {
	return s.tokens.SignAssertion(c)
}
