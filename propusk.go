// Package propusk is the vocabulary of the propusk authentication service:
// the domain types (users, sessions, personal access tokens, signing keys),
// the store interface every database adapter implements, the caller's
// Principal and the one error type.
//
// # Layout
//
// This package imports only the standard library. The work is done elsewhere:
//
//   - token: signs and verifies JWT access and refresh tokens, publishes the JWKS
//   - pat: the Sanctum personal access token format
//   - seal: authenticated encryption of secrets at rest
//   - auth: the service (register, login, renew, logoff, tokens), store-agnostic
//   - sqlite, postgres: the stores
//   - web: handlers, pages and the middleware a Go web app mounts
//   - cmd/propusk: the binary
//
// A Go web app embeds propusk by building an auth.Service over a store and
// mounting the web package's Server, or only its Middleware.
package propusk

import (
	"context"
	"slices"
	"time"
)

// Levels of a caller, as in Foxtan.
const (
	LevelAnonymous = 0  // a client holding anonymous tokens
	LevelUser      = 10 // a registered user (the default)
	LevelAdmin     = 30 // an administrator
)

// AllBoards in a Principal's Boards means every board.
const AllBoards = "*"

// AllAbilities in a token's abilities means every ability the user has.
const AllAbilities = "*"

// Abilities that propusk's own routes require of a personal access token
// (an access token has every ability). A token without them can still call
// the app's routes it was made for, but not manage the account.
const (
	AbilityTokensManage   = "tokens:manage"   // create and delete personal access tokens
	AbilitySessionsManage = "sessions:manage" // end sessions
	AbilityTokensReissue  = "tokens:reissue"  // the admin hook that reissues a user's api-token
)

// How a Principal authenticated; the values of user.me's "via".
const (
	ViaAccessToken = "access-token" // an access token in X-Access-Token or Authorization
	ViaAPIToken    = "api-token"    // a personal access token in Authorization
	ViaCookie      = "cookie"       // an access token in the accessToken cookie
)

// Principal is whoever is calling: an anonymous client, a user through an
// access token, or a user through a personal access token.
type Principal struct {
	UserID    int64    // 0 for an anonymous client
	Level     int      // LevelAnonymous, LevelUser, LevelAdmin or anything between
	Boards    []string // boards the caller may act on; "*" is every board
	SessionID string   // the session of a JWT; "" for a personal access token
	Abilities []string // nil for a JWT (every ability); a PAT's abilities otherwise
	Via       string   // ViaAccessToken, ViaAPIToken or ViaCookie
	TokenID   string   // the access token's jti, or the PAT's id
	ExpiresAt time.Time
}

// Anonymous reports whether the caller is not a signed-in user.
func (p *Principal) Anonymous() bool { return p == nil || p.UserID == 0 }

// CanBoard reports whether the caller may act on board b.
func (p *Principal) CanBoard(b string) bool {
	if p == nil {
		return false
	}
	return slices.Contains(p.Boards, AllBoards) || slices.Contains(p.Boards, b)
}

// Can reports whether the caller's token carries ability a. A JWT carries
// every ability; a personal access token carries those it was created with.
// Abilities only narrow: they never grant what the user's level does not.
func (p *Principal) Can(a string) bool {
	if p == nil {
		return false
	}
	if p.Abilities == nil {
		return true
	}
	return slices.Contains(p.Abilities, AllAbilities) || slices.Contains(p.Abilities, a)
}

type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the Principal in ctx, or nil when there is none.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Client describes where a request came from, recorded on the sessions it
// creates or renews so a user can recognise their devices.
type Client struct {
	UserAgent string
	IP        string
}
