package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/jsonstr"
)

var errNoRefresh = propusk.Errorf(propusk.ETOKENINVALID, "no refresh token: send refreshToken in the query, the body or the cookie")

// pairBody is the JSON of a token pair.
type pairBody struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	Expires      int64  `json:"expires"`
	APIToken     string `json:"apiToken,omitempty"`
}

// answerPair answers a request that produced a token pair. A script gets
// the JSON. A browser also gets cookies, and when it asked to be sent back
// somewhere, a 302 there instead of the JSON.
func (s *Server) answerPair(w http.ResponseWriter, r *http.Request, a answer, in input, p *auth.Pair, status int) error {
	if a == browser {
		s.setPairCookies(w, r, p)
		if target, ok := redirectParam(r, in); ok {
			a.redirect(w, r, SafeRedirect(target))
			return nil
		}
	}
	writePair(w, status, p)
	return nil
}

// writePair writes the JSON of a pair, with no cookies. It is the answer
// of every token.obtain and token.renew, so it is appended by hand rather
// than by encoding/json's reflection, in pairBody's spelling.
func writePair(w http.ResponseWriter, status int, p *auth.Pair) {
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(status)
	_, _ = w.Write(appendPair(make([]byte, 0, 96+len(p.AccessToken)+len(p.RefreshToken)+len(p.APIToken)), p)) // the client went away; nothing to do
}

// appendPair appends the JSON of p, as writeJSON would write its pairBody
// (a line ending in a newline).
func appendPair(b []byte, p *auth.Pair) []byte {
	b = append(b, `{"accessToken":`...)
	b = jsonstr.Append(b, p.AccessToken)
	b = append(b, `,"refreshToken":`...)
	b = jsonstr.Append(b, p.RefreshToken)
	b = append(b, `,"expires":`...)
	b = strconv.AppendInt(b, p.AccessExpiresAt.Unix(), 10)
	if p.APIToken != "" {
		b = append(b, `,"apiToken":`...)
		b = jsonstr.Append(b, p.APIToken)
	}
	return append(b, "}\n"...)
}

// redirectParam returns the redirect the client asked for, from the query
// or the body, and whether it asked at all.
func redirectParam(r *http.Request, in input) (string, bool) {
	if q := r.URL.Query(); q.Has("redirect") {
		return q.Get("redirect"), true
	}
	if in.has["redirect"] {
		return in.str("redirect"), true
	}
	return "", false
}

func (s *Server) obtain(w http.ResponseWriter, r *http.Request) error {
	a := answerOf(r)
	p, err := s.svc.Obtain(r.Context())
	if err != nil {
		return err
	}
	if a == script {
		return s.answerPair(w, r, a, input{}, p, http.StatusOK)
	}
	live, err := s.signedIn(r)
	if err != nil {
		return err
	}
	if live {
		// Any page, of any site or of this one showing user content, can
		// make a browser GET this URL (a link, an <img>): it must never
		// swap a signed-in visitor's cookies for anonymous ones. A browser
		// sent here with a redirect (its access cookie was refused) goes
		// through token.renew instead, which refreshes its own session, so
		// the redirect flow of protected routes cannot loop.
		if target, ok := redirectParam(r, input{}); ok {
			a.redirect(w, r, "/api/v1/token.renew?redirect="+url.QueryEscape(SafeRedirect(target)))
			return nil
		}
		writePair(w, http.StatusOK, p)
		return nil
	}
	return s.answerPair(w, r, a, input{}, p, http.StatusOK)
}

// signedIn reports whether the browser's refresh cookie belongs to a live
// user session. A store that cannot say is an error, not a no: guessing
// "no" would log the visitor out during an outage.
func (s *Server) signedIn(r *http.Request) (bool, error) {
	rt := cookie(r, s.name(CookieRefresh))
	if rt == "" {
		return false, nil
	}
	return s.svc.SignedIn(r.Context(), rt)
}

// otherSession reports whether the browser's refresh cookie is of a live
// user session other than the one refresh token rt belongs to.
func (s *Server) otherSession(r *http.Request, rt string) (bool, error) {
	live, err := s.signedIn(r)
	if err != nil || !live {
		return false, err
	}
	mine, _ := s.svc.SessionOf(cookie(r, s.name(CookieRefresh)))
	theirs, ok := s.svc.SessionOf(rt)
	return !ok || theirs != mine, nil
}

// renew spends the refresh token from the query, the body or the cookie.
// A browser whose refresh token is unusable is sent to token.obtain, and
// then on to where it was going, as an anonymous client.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) error {
	a := answerOf(r)
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	rt := r.URL.Query().Get("refreshToken")
	if rt == "" {
		rt = in.str("refreshToken")
	}
	fromCookie := false
	if rt == "" {
		if rt = cookie(r, s.name(CookieRefresh)); rt != "" {
			// The cookie is the credential: a state change needs the
			// CSRF token.
			if err := s.csrf.Check(r); err != nil {
				return err
			}
		}
		fromCookie = rt != ""
	}
	// A token from the URL or body becomes cookies only on a same-origin
	// page load, and even then never in place of another live session: a
	// link posted on a page that shows user content is same-origin too, and
	// must not sign the visitor out of their account and into the poster's.
	cookies := fromCookie || a == script
	if !cookies && rt != "" && s.origins.topLevelNavigation(r) {
		other, err := s.otherSession(r, rt)
		if err != nil {
			return err
		}
		cookies = !other
	}
	var p *auth.Pair
	if rt == "" {
		err = errNoRefresh
	} else {
		p, err = s.svc.Renew(r.Context(), rt, s.clientOf(r))
	}
	if err != nil {
		switch code := propusk.ErrorCode(err); {
		case code == propusk.EUNAVAILABLE || code == propusk.EINTERNAL || code == propusk.ECSRF:
			return err
		case a == browser:
			target, _ := redirectParam(r, in)
			a.redirect(w, r, "/api/v1/token.obtain?redirect="+url.QueryEscape(SafeRedirect(target)))
			return nil
		default:
			return err
		}
	}
	if fromCookie && a == script {
		// The cookie's refresh token is spent now: a script renewing a
		// cookie session (an SPA) must get the new pair in its cookies too,
		// or its next renewal would replay the old token and, after the
		// grace period, have the session revoked as stolen.
		s.setPairCookies(w, r, p)
	}
	if !cookies {
		// A refresh token from the URL or the body of anything but a
		// same-origin page load (another site's link or form, an <img> on a
		// page that shows user content), or of another session than the
		// browser's live one, must not become the browser's cookies: that
		// would sign the visitor into whoever's session the token is (login
		// CSRF). The pair goes back as JSON only.
		writePair(w, http.StatusOK, p)
		return nil
	}
	return s.answerPair(w, r, a, in, p, http.StatusOK)
}

// check reports whether the access token sent is usable, and for how long.
func (s *Server) check(w http.ResponseWriter, r *http.Request) error {
	type body struct {
		IsActive bool   `json:"isActive"`
		Expires  *int64 `json:"expires"`
	}
	tok, via := s.mw.extract(r)
	if tok == "" {
		writeJSON(w, http.StatusOK, body{})
		return nil
	}
	p, err := s.svc.Authenticate(r.Context(), tok, via)
	if code := propusk.ErrorCode(err); code == propusk.EUNAVAILABLE || code == propusk.EINTERNAL {
		return err
	}
	if err != nil {
		writeJSON(w, http.StatusOK, body{})
		return nil
	}
	out := body{IsActive: true}
	if !p.ExpiresAt.IsZero() {
		left := max(0, int64(p.ExpiresAt.Sub(s.svc.Now())/time.Second))
		out.Expires = &left
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// credentials reads login and password, refusing cross-site form posts and,
// for a browser that already holds session cookies, requests without a CSRF
// token (login CSRF).
func (s *Server) credentials(w http.ResponseWriter, r *http.Request) (input, error) {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return in, err
	}
	if !headerToken(r) {
		if err := s.loginCSRF.Check(r); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	in, err := s.credentials(w, r)
	if err != nil {
		return err
	}
	p, err := s.svc.RegisterNamed(r.Context(), in.str("login"), in.str("password"), in.str("name"), s.clientOf(r))
	if err != nil {
		return err
	}
	return s.answerPair(w, r, answerOf(r), in, p, http.StatusCreated)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	in, err := s.credentials(w, r)
	if err != nil {
		return err
	}
	p, err := s.svc.Login(r.Context(), in.str("login"), in.str("password"), s.clientOf(r))
	if err != nil {
		return err
	}
	return s.answerPair(w, r, answerOf(r), in, p, http.StatusOK)
}

// logoff ends the caller's session, found from any token it sent (an
// expired access token will do), and clears its cookies. It is idempotent.
func (s *Server) logoff(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	sid, ok := "", false
	if tok, via := s.mw.extract(r); tok != "" && via != propusk.ViaCookie {
		sid, ok = s.svc.SessionOf(tok)
	}
	if !ok {
		// Without a header token (which no page of another site can make
		// a browser send) this is a browser's request, and clearing its
		// cookies is a state change like any other: a page of another site
		// may not ask for it, and one of this site must prove it with the
		// CSRF token of the session the cookies hold, whatever session a
		// refresh token in the body names. A refused request changes
		// nothing, cookies included.
		if err := s.loginCSRF.Check(r); err != nil {
			return err
		}
		csid, hasCookies := s.cookieSession(r)
		if rt := in.str("refreshToken"); rt != "" {
			sid, ok = s.svc.SessionOf(rt)
		}
		if !ok && hasCookies {
			sid, ok = csid, true
		}
	}
	if ok {
		if err := s.svc.Logoff(r.Context(), sid); err != nil {
			return err
		}
	}
	s.clearCookies(w, r)
	if target, asked := redirectParam(r, in); asked && answerOf(r).redirect(w, r, SafeRedirect(target)) {
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]bool{"loggedOff": true})
	return nil
}

// meBody is the JSON of user.me and /api/user.
type meBody struct {
	ID     *int64   `json:"_id,omitempty"`
	Login  string   `json:"login,omitempty"`
	Level  int      `json:"level"`
	Boards []string `json:"boards"`
	Via    string   `json:"via"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	out := meBody{Level: p.Level, Boards: p.Boards, Via: p.Via}
	if !p.Anonymous() {
		u, err := s.svc.Caller(r.Context(), p)
		if err != nil {
			return err
		}
		out.ID, out.Login = &u.ID, u.Login
	}
	writeMe(w, &out)
	return nil
}

// sessionBody is one entry of the sessions list.
type sessionBody struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created"`
	RenewedAt time.Time `json:"lastRenewed"`
	UserAgent string    `json:"userAgent"`
	IP        string    `json:"ip"`
	Current   bool      `json:"current"`
	ExpiresAt time.Time `json:"expires"`
}

func (s *Server) sessions(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	ss, err := s.svc.Sessions(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	out := make([]sessionBody, 0, len(ss))
	for _, x := range ss {
		out = append(out, sessionBody{
			ID: x.ID, CreatedAt: x.CreatedAt.UTC(), RenewedAt: x.RenewedAt.UTC(), ExpiresAt: x.ExpiresAt.UTC(),
			UserAgent: x.UserAgent, IP: x.IP, Current: x.ID == p.SessionID,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	if err := s.svc.EndSession(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	if r.PathValue("id") == p.SessionID && p.Via == propusk.ViaCookie {
		s.clearCookies(w, r)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ended": true})
	return nil
}

// cookieSession returns the session id named by the client's cookies, even
// when the access cookie has expired.
func (s *Server) cookieSession(r *http.Request) (string, bool) {
	for _, name := range []string{CookieAccess, CookieRefresh} {
		if t := cookie(r, s.name(name)); t != "" {
			if sid, ok := s.svc.SessionOf(t); ok {
				return sid, true
			}
		}
	}
	return "", false
}
