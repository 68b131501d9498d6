package web

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/propusk/propusk/auth"
)

// Cookie names, as in docs/API.md.
const (
	CookieAccess  = "accessToken"
	CookieRefresh = "refreshToken"
	CookieXSRF    = "XSRF-TOKEN"
)

// hostPrefix is the cookie-name prefix of Config.HostCookies. A browser
// keeps a __Host- cookie only when it is Secure, has Path=/ and no Domain,
// so no other host (a sibling subdomain, a plain-HTTP man in the middle) can
// plant or overwrite one: cookie tossing cannot sign a visitor in.
const hostPrefix = "__Host-"

// cookieName is the name a cookie goes by under prefix. XSRF-TOKEN keeps its
// name, which axios and Angular read; it is no credential (the CSRF check
// verifies the header's HMAC, never compares it with the cookie), so a
// planted one gains nothing.
func cookieName(prefix, name string) string {
	if name == CookieXSRF {
		return name
	}
	return prefix + name
}

// name is cookieName under this Server's prefix.
func (s *Server) name(base string) string { return cookieName(s.mw.CookiePrefix, base) }

// secure decides the Secure attribute: "true", "false", or "auto" (the
// default), which sets it when the request came over TLS.
func (s *Server) secure(r *http.Request) bool {
	if s.cfg.HostCookies {
		return true
	}
	switch s.cfg.CookieSecure {
	case "true":
		return true
	case "false":
		return false
	default:
		return r.TLS != nil
	}
}

// setPairCookies hands a browser its tokens, with lifetimes equal to the
// tokens', and a CSRF token bound to the pair's session.
func (s *Server) setPairCookies(w http.ResponseWriter, r *http.Request, p *auth.Pair) {
	now := s.svc.Now()
	s.setCookieAt(w, r, CookieAccess, p.AccessToken, p.AccessExpiresAt, now, true)
	s.setCookieAt(w, r, CookieRefresh, p.RefreshToken, p.RefreshExpiresAt, now, true)
	s.setCookieAt(w, r, CookieXSRF, s.tokens.token(p.SessionID), p.RefreshExpiresAt, now, false)
}

// setCookieAt is setCookie with Max-Age computed on the service's clock.
func (s *Server) setCookieAt(w http.ResponseWriter, r *http.Request, name, value string, expires, now time.Time, httpOnly bool) {
	c := http.Cookie{
		Name: s.name(name), Value: value, Path: "/",
		Expires: expires, MaxAge: max(1, int(expires.Sub(now).Seconds())),
		HttpOnly: httpOnly, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	}
	w.Header().Add("Set-Cookie", cookieLine(&c))
}

// cookieByte holds the bytes net/http writes in a cookie's value as they
// are, unquoted: printable ASCII but for space, '"', ';', '\\' and ','.
var cookieByte = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = !strings.ContainsRune(`";\,`, c)
	}
	return t
}()

// cookieLine is c.String() for the cookies setCookieAt makes, written
// without net/http's general checks when the value needs none: every
// browser's token.obtain and token.renew sets three. A value that would
// need quoting or sanitising (never one of propusk's tokens) goes through
// c.String().
func cookieLine(c *http.Cookie) string {
	for i := 0; i < len(c.Value); i++ {
		if !cookieByte[c.Value[i]] {
			return c.String()
		}
	}
	if c.Path != "/" || c.Domain != "" || c.Partitioned || c.Quoted || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 || c.Expires.Year() < 1601 {
		return c.String()
	}
	b := make([]byte, 0, len(c.Name)+len(c.Value)+110)
	b = append(b, c.Name...)
	b = append(b, '=')
	b = append(b, c.Value...)
	b = append(b, "; Path=/; Expires="...)
	b = appendHTTPDate(b, c.Expires)
	b = append(b, "; Max-Age="...)
	b = strconv.AppendInt(b, int64(c.MaxAge), 10)
	if c.HttpOnly {
		b = append(b, "; HttpOnly"...)
	}
	if c.Secure {
		b = append(b, "; Secure"...)
	}
	b = append(b, "; SameSite=Lax"...)
	return string(b)
}

// httpDate is the Expires spelling of one second.
type httpDate struct {
	unix int64
	text string
}

// httpDates hold the spellings of recent Expires seconds: the cookies of
// every pair issued in one second expire in the same two seconds, so they
// are spelled once a second rather than three times a pair. A slot holds
// one second; two seconds sharing a slot only spell themselves again.
var httpDates [8]atomic.Pointer[httpDate]

// appendHTTPDate appends t as http.TimeFormat spells it in UTC.
func appendHTTPDate(b []byte, t time.Time) []byte {
	u := t.Unix()
	slot := &httpDates[uint64(u)*0x9e3779b97f4a7c15>>61] // Fibonacci hashing: seconds a month apart part
	if d := slot.Load(); d != nil && d.unix == u {
		return append(b, d.text...)
	}
	d := &httpDate{unix: u, text: t.UTC().Format(http.TimeFormat)}
	slot.Store(d)
	return append(b, d.text...)
}

// clearCookies drops the client's tokens, and its CSRF token too: that one
// is bound to the session just ended and could never verify again.
func (s *Server) clearCookies(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{CookieAccess, CookieRefresh, CookieXSRF} {
		http.SetCookie(w, &http.Cookie{
			Name: s.name(name), Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name != CookieXSRF, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
		})
	}
}

func cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
