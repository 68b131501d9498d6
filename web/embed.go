package web

import (
	"net/http"

	"github.com/propusk/propusk"
)

// CSRFToken returns a CSRF token for a form on the page r is rendering, to
// put in its hidden _token field: a page that works without JavaScript posts
// with cookies, and Protect refuses such posts without one. The token is
// bound to the session of the client's cookies, or else to the caller in r's
// context. It is "" for a client with no session yet; serve pages with forms
// behind Protect, whose redirects give every browser a session first.
func (s *Server) CSRFToken(r *http.Request) string {
	sid, ok := s.cookieSession(r)
	if !ok {
		if p := propusk.FromContext(r.Context()); p != nil {
			sid = p.SessionID
		}
	}
	if sid == "" {
		return ""
	}
	return s.tokens.token(sid)
}
