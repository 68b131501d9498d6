package web

import (
	"net/http"

	"github.com/propusk/propusk"
)

// csrfCookie starts an SPA's cookie login, as Sanctum's route does: it sets
// XSRF-TOKEN, bound to the client's session. A client with no session yet
// gets anonymous tokens first, so there is something to bind to.
func (s *Server) csrfCookie(w http.ResponseWriter, r *http.Request) error {
	if sid, ok := s.cookieSession(r); ok {
		now := s.svc.Now()
		s.setCookieAt(w, r, CookieXSRF, s.tokens.token(sid), now.Add(s.svc.RefreshTTL()), now, false)
	} else {
		p, err := s.svc.Obtain(r.Context())
		if err != nil {
			return err
		}
		s.setPairCookies(w, r, p)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// spaLogin is user.login for an SPA, and answers with cookies. Its route
// puts it behind the CSRF guard: it always needs the X-XSRF-TOKEN header
// (or another CSRF token) bound to the client's session.
func (s *Server) spaLogin(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	p, err := s.svc.Login(r.Context(), in.str("login"), in.str("password"), s.clientOf(r))
	if err != nil {
		return err
	}
	s.setPairCookies(w, r, p)
	if target, ok := redirectParam(r, in); ok && answerOf(r).redirect(w, r, SafeRedirect(target)) {
		return nil
	}
	// The tokens stay in HttpOnly cookies, out of reach of the page's
	// scripts: the answer is the user, as /api/user gives it.
	u, err := s.svc.User(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	id := u.ID
	writeJSON(w, http.StatusOK, meBody{ID: &id, Login: u.Login, Level: u.Level, Boards: u.Boards, Via: propusk.ViaCookie})
	return nil
}
