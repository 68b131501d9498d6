package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/pat"
)

// Introspection is what propusk says of a presented token (RFC 7662).
type Introspection struct {
	// Active is true for a token propusk would accept on its protected
	// routes now: a genuine access token whose session is live (an
	// anonymous one included), or a personal access token that exists and
	// has not expired. A refresh token is never active: it is good for
	// token.renew only, and no relying service may accept it.
	Active bool
	// Principal is whom the token stands for, when Active.
	Principal *propusk.Principal
	IssuedAt  time.Time // an access token's iat; zero for a personal access token
	Issuer    string    // an access token's iss; "" for a personal access token
}

// serverSide reports whether err is the server's failure (the store or the
// keys cannot be read) rather than a verdict on the token.
func serverSide(err error) bool {
	code := propusk.ErrorCode(err)
	return code == propusk.EUNAVAILABLE || code == propusk.EINTERNAL
}

// Introspect says whether tok is active and for whom. A token that is
// malformed, forged, expired, revoked or a refresh token is inactive, with
// no error; errors are the server's (EUNAVAILABLE).
func (s *Service) Introspect(ctx context.Context, tok string) (*Introspection, error) {
	if tok == "" {
		return &Introspection{}, nil
	}
	p, err := s.Authenticate(ctx, tok, propusk.ViaAccessToken)
	if err != nil {
		if serverSide(err) {
			return nil, fmt.Errorf("auth: introspect: %w", err)
		}
		return &Introspection{}, nil
	}
	in := &Introspection{Active: true, Principal: p}
	if p.Via != propusk.ViaAPIToken {
		// Authenticate verified it a moment ago: this is the cache.
		if c, err := s.tokens.VerifyAccess(tok); err == nil {
			in.IssuedAt, in.Issuer = c.IssuedAt.Time, c.Issuer
		}
	}
	return in, nil
}

// Revoke revokes tok for its holder (RFC 7009): a personal access token is
// deleted; a user's refresh token or access token (even an expired one)
// ends its session, as a logoff does, here at once and on every process
// through the feed. Anything else (an unknown, forged or already revoked
// token, an anonymous one) changes nothing and is no error, as the RFC
// asks. Errors are the server's (EUNAVAILABLE).
func (s *Service) Revoke(ctx context.Context, tok string) error {
	if tok == "" {
		return nil
	}
	if pat.Looks(tok) {
		p, err := s.authenticatePAT(ctx, tok)
		if err != nil {
			if serverSide(err) {
				return fmt.Errorf("auth: revoke: %w", err)
			}
			return nil
		}
		id, err := strconv.ParseInt(p.TokenID, 10, 64)
		if err != nil {
			return fmt.Errorf("auth: revoke: token id %q: %w", p.TokenID, err)
		}
		if err := s.DeleteToken(ctx, p.UserID, id); err != nil && propusk.ErrorCode(err) != propusk.ENOTFOUND {
			return err
		}
		return nil
	}
	var sid string
	if c, err := s.tokens.VerifyRefresh(tok); err == nil {
		if c.UserID != 0 {
			sid = c.SessionID
		}
	} else if serverSide(err) {
		return fmt.Errorf("auth: revoke: %w", err)
	} else if c, err := s.tokens.ParseExpiredAccess(tok); err == nil {
		if c.UserID != 0 {
			sid = c.SessionID
		}
	} else if serverSide(err) {
		return fmt.Errorf("auth: revoke: %w", err)
	}
	if sid == "" {
		return nil // anonymous sessions live only in their tokens: nothing to end
	}
	return s.Logoff(ctx, sid)
}
