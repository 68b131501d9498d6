package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/propusk/propusk"
)

// RFC 7662 (introspection) and RFC 7009 (revocation), for back ends that
// prefer asking propusk to verifying tokens themselves.

// introspection is the JSON of a token.introspect answer: RFC 7662's
// members, and propusk's claims. An inactive token is {"active":false} only.
type introspection struct {
	Active    bool     `json:"active"`
	TokenType string   `json:"token_type,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	UserID    int64    `json:"_id,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Jti       string   `json:"jti,omitempty"`
	Sid       string   `json:"sid,omitempty"`
	Level     *int     `json:"level,omitempty"`
	Boards    []string `json:"boards,omitempty"`
	Abilities []string `json:"abilities,omitempty"`
	Via       string   `json:"via,omitempty"`
}

var (
	errNoToken       = propusk.Errorf(propusk.EINVALID, "send the token in the field token")
	errRelyingCookie = propusk.Errorf(propusk.ETOKENINVALID,
		"this endpoint is for services: send Authorization: Bearer, not a cookie")
	errIntrospectAbility = propusk.Errorf(propusk.EFORBIDDEN,
		"introspection needs a personal access token with the ability %q, or an administrator's access token", propusk.AbilityTokensIntrospect)
)

// mayIntrospect reports whether the caller may introspect tokens: a
// personal access token with the ability (or "*"), or an administrator's
// access token. A user's access token carries every ability, so the
// ability alone would let every user in.
func mayIntrospect(p *propusk.Principal) bool {
	if p.Via == propusk.ViaAPIToken {
		return p.Can(propusk.AbilityTokensIntrospect)
	}
	return p.Level >= propusk.LevelAdmin
}

// introspect answers POST /api/v1/token.introspect (RFC 7662). The caller
// authenticates with a header credential; without a valid one, or without
// the right to introspect, the answer is 401 as RFC 7662 §2.1 asks, with
// RFC 6750's WWW-Authenticate.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	p, err := s.mw.Identify(r)
	if err == nil && p.Via == propusk.ViaCookie {
		err = errRelyingCookie
	}
	if err != nil {
		if logged(err) {
			return err
		}
		unauthorized(w, err, "invalid_token")
		return nil
	}
	if !mayIntrospect(p) {
		unauthorized(w, errIntrospectAbility, "insufficient_scope")
		return nil
	}
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	tok := in.str("token")
	if tok == "" {
		return errNoToken
	}
	res, err := s.svc.Introspect(r.Context(), tok)
	if err != nil {
		return err
	}
	if !res.Active {
		writeJSON(w, http.StatusOK, introspection{})
		return nil
	}
	q := res.Principal
	out := introspection{
		Active: true, TokenType: "Bearer", UserID: q.UserID, Iss: res.Issuer,
		Jti: q.TokenID, Sid: q.SessionID, Level: &q.Level, Boards: q.Boards,
		Abilities: q.Abilities, Via: q.Via,
	}
	if out.Abilities == nil {
		out.Abilities = []string{propusk.AllAbilities} // an access token has every ability
	}
	out.Scope = strings.Join(out.Abilities, " ")
	if q.UserID != 0 {
		out.Sub = strconv.FormatInt(q.UserID, 10)
	}
	if !q.ExpiresAt.IsZero() {
		out.Exp = q.ExpiresAt.Unix()
	}
	if !res.IssuedAt.IsZero() {
		out.Iat = res.IssuedAt.Unix()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revoke answers POST /api/v1/token.revoke (RFC 7009). Holding the token
// is the authority: no other credential is asked for, as the RFC allows
// for public clients, so a client can revoke what it holds whatever else
// it has lost. The answer is 200 {} for any token, known or not.
// token_type_hint is accepted and ignored: the kinds of token are told
// apart by their form, and RFC 7009 §2.1 says an invalid hint is ignored.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	tok := in.str("token")
	if tok == "" {
		return errNoToken
	}
	if err := s.svc.Revoke(r.Context(), tok); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// unauthorized answers 401 with err as the JSON body and RFC 6750's
// challenge; bearerError is left out when no credential came at all.
func unauthorized(w http.ResponseWriter, err error, bearerError string) {
	challenge := `Bearer realm="propusk"`
	if propusk.ErrorCode(err) != propusk.ETOKENREQUIRED {
		challenge += `, error="` + bearerError + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: propusk.ErrorCode(err), Message: propusk.ErrorMessage(err)})
}
