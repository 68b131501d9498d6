package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// The account page's forms follow post/redirect/get: a form that did its
// work answers 303 to /account with a flash (flash.go) that says what
// happened, so a reload never repeats it. A form that failed (a stale CSRF
// token, bad input, too many attempts) answers the page itself, with the
// message in place and the input kept, to a browser; a script (answerOf)
// still gets JSON. Destructive forms ask first: without confirm=yes they
// answer a confirmation page naming what they act on, and account.js turns
// that into a dialog.

// accountPage is what templates/account.html shows.
type accountPage struct {
	Anonymous    bool
	Login        string
	Level        int
	Boards       []string
	APIToken     string
	CSRF         string
	SessionID    string
	Tokens       []tokenRow
	Sessions     []sessionRow
	Abilities    []string // the checkboxes of a new token
	Error        string
	Expired      bool // the 419 page: a form from a stale page
	Flash        string
	NewToken     string
	NewTokenName string
	Form         url.Values // a failed form's input, passwords left out
	Confirm      *confirmation
}

// tokenRow is a token as the page lists it.
type tokenRow struct {
	ID                        int64
	Name                      string
	Abilities                 []string
	API                       bool // the api-token, replaced at each login
	Created, LastUsed, Expire when
}

// sessionRow is a session as the page lists it.
type sessionRow struct {
	ID, Device, UserAgent, IP string
	Current                   bool
	Created, Renewed          when
}

// confirmation is the page that asks before a destructive form acts.
type confirmation struct {
	Title, Text, Action, Button string
	// Password asks for the current password too: signing out other
	// devices needs it, not only the session (which may be a stolen one).
	Password bool
	// NewPassword asks for the current password and a new one, twice:
	// the password change's form.
	NewPassword bool
}

// renderAccount answers the account page with status.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, pg accountPage) error {
	p := propusk.FromContext(r.Context())
	if p == nil {
		// A refusal before the handler (the CSRF check): the caller is
		// known, but not in the context yet.
		if q, err := s.mw.Identify(r); err == nil {
			p = q
		}
	}
	binding := ""
	if p != nil {
		binding = p.SessionID
	} else if sid, ok := s.cookieSession(r); ok {
		binding = sid
	}
	pg.CSRF = s.tokens.token(binding)
	pg.Anonymous = p.Anonymous()
	if pg.Form == nil {
		pg.Form = url.Values{}
	}
	if !pg.Anonymous {
		if err := s.fillAccount(r, p, &pg); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "account.html", pg); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (s *Server) fillAccount(r *http.Request, p *propusk.Principal, pg *accountPage) error {
	ctx := r.Context()
	u, err := s.svc.Caller(ctx, p)
	if err != nil {
		return err
	}
	pg.Login, pg.Level, pg.Boards, pg.SessionID = u.Login, u.Level, u.Boards, p.SessionID
	if pg.APIToken, err = s.svc.APIToken(ctx, u.ID); err != nil {
		return err
	}
	now := s.svc.Now()
	ts, err := s.svc.Tokens(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		pg.Tokens = append(pg.Tokens, tokenRow{
			ID: t.ID, Name: t.Name, Abilities: t.Abilities, API: t.Name == auth.APITokenName,
			Created: whenOf(t.CreatedAt, now), LastUsed: whenOf(t.LastUsedAt, now), Expire: whenOf(t.ExpiresAt, now),
		})
	}
	ss, err := s.svc.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, x := range ss {
		pg.Sessions = append(pg.Sessions, sessionRow{
			ID: x.ID, Device: deviceName(x.UserAgent), UserAgent: x.UserAgent, IP: x.IP, Current: x.ID == p.SessionID,
			Created: whenOf(x.CreatedAt, now), Renewed: whenOf(x.RenewedAt, now),
		})
	}
	// This device first, the others newest first as the store lists them.
	slices.SortStableFunc(pg.Sessions, func(a, b sessionRow) int {
		switch {
		case a.Current && !b.Current:
			return -1
		case b.Current && !a.Current:
			return 1
		}
		return 0
	})
	pg.Abilities = s.abilityChoices()
	return nil
}

// abilityChoices are the abilities a new token may be given on the page:
// "*" first, then the configured ones, then propusk's own.
func (s *Server) abilityChoices() []string {
	l := []string{propusk.AllAbilities}
	for _, a := range append(slices.Clone(s.cfg.Abilities), propusk.AbilityTokensManage, propusk.AbilitySessionsManage) {
		if !slices.Contains(l, a) {
			l = append(l, a)
		}
	}
	return l
}

// form wraps a page form's handler: an error it returns is answered to a
// browser as the page, with the message in place and the input kept; a
// script, and the server's own failures, get the usual JSON answer.
func (s *Server) form(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err == nil || !pageError(r, err) {
			return err
		}
		setRetryAfter(w, err)
		return s.renderFailed(w, r, Status(err), err)
	}
}

// renderFailed answers a failed page form: the admin page for the admin
// forms, the account page for the others.
func (s *Server) renderFailed(w http.ResponseWriter, r *http.Request, status int, err error) error {
	if strings.HasPrefix(r.URL.Path, adminUsersPath) {
		return s.adminFailed(w, r, status, err)
	}
	return s.renderAccount(w, r, status, failedForm(r, err))
}

// formDenied answers a page form that the middleware refused before its
// handler ran (a stale page's CSRF token, a missing ability) as form does,
// and reports whether it did.
func (s *Server) formDenied(w http.ResponseWriter, r *http.Request, err error) bool {
	// The admin pages' refusal of a non-administrator is a page too.
	adminGet := strings.HasPrefix(r.URL.Path, adminUsersPath) && propusk.ErrorCode(err) == propusk.EFORBIDDEN
	if !strings.HasPrefix(r.URL.Path, "/account/") || (safeMethod(r.Method) && !adminGet) || !pageError(r, err) {
		return false
	}
	switch propusk.ErrorCode(err) {
	case propusk.ECSRF, propusk.EFORBIDDEN:
	default:
		return false // no token: the browser is sent to get one
	}
	hw := harden(w)
	if rerr := s.renderFailed(hw, r, Status(err), err); rerr != nil && !hw.wrote {
		s.fail(hw, r, rerr)
	}
	return true
}

// pageError reports whether err is answered as the page: a browser's own
// mistake, not the server's failure and not a script's.
func pageError(r *http.Request, err error) bool {
	code := propusk.ErrorCode(err)
	return answerOf(r) == browser && code != propusk.EINTERNAL && code != propusk.EUNAVAILABLE
}

// expiredMessage is the 419 page's word, as Laravel's "page expired".
const expiredMessage = "This page expired: it was open too long, or you signed in or out in another tab. Here is a fresh one; please send the form again."

// failedForm is the page for a form that failed with err: the message,
// and the form's fields but passwords and the CSRF token.
func failedForm(r *http.Request, err error) accountPage {
	pg := accountPage{Error: propusk.ErrorMessage(err), Form: url.Values{}}
	if propusk.ErrorCode(err) == propusk.ECSRF {
		pg.Error, pg.Expired = expiredMessage, true
	}
	for k, v := range r.PostForm {
		if k != "_token" && !strings.Contains(k, "password") && k != "current" && k != "new" {
			pg.Form[k] = v
		}
	}
	return pg
}

// done ends a page form that did its work: the flash for the session sid,
// and 303 to the page.
func (s *Server) done(w http.ResponseWriter, r *http.Request, sid string, f flash) error {
	if err := s.setFlash(w, r, sid, f); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// accountLogin is the page's login form: like user.login, but a failure
// renders the page again with the reason instead of a JSON error.
func (s *Server) accountLogin(w http.ResponseWriter, r *http.Request) error {
	in, err := s.credentials(w, r)
	if err != nil {
		return err
	}
	p, err := s.svc.Login(r.Context(), in.str("login"), in.str("password"), s.clientOf(r))
	if err != nil {
		return err
	}
	s.setPairCookies(w, r, p)
	return s.done(w, r, p.SessionID, flash{Message: "Signed in."})
}

// accountRegister is the page's registration form.
func (s *Server) accountRegister(w http.ResponseWriter, r *http.Request) error {
	in, err := s.credentials(w, r)
	if err != nil {
		return err
	}
	if in.str("password") != in.str("password_confirmation") {
		return propusk.Errorf(propusk.EINVALID, "the two passwords differ")
	}
	p, err := s.svc.Register(r.Context(), in.str("login"), in.str("password"), s.clientOf(r))
	if err != nil {
		return err
	}
	s.setPairCookies(w, r, p)
	return s.done(w, r, p.SessionID, flash{Message: "Welcome! Your account is ready, and you are signed in."})
}

func (s *Server) accountCreateToken(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	p := propusk.FromContext(r.Context())
	name := in.str("name")
	if t := strings.TrimSpace(name); t != "" {
		name = t
	}
	abilities, _ := in.list("abilities")
	if len(abilities) == 0 {
		return propusk.Errorf(propusk.EINVALID, "choose at least one ability")
	}
	exp, err := expiryOf(in, s.svc.Now())
	if err != nil {
		return err
	}
	nt, err := s.svc.CreateToken(r.Context(), p, name, abilities, exp)
	if err != nil {
		return err
	}
	return s.done(w, r, p.SessionID, flash{Message: "Token “" + nt.Token.Name + "” created.", Token: nt.PlainText, TokenName: nt.Token.Name})
}

// expiryOf reads the page's expiry choice: 7, 30 or 90 days, "date" with
// expires_on (YYYY-MM-DD, the token expires as that day ends, UTC), or
// "never". A form without the choice may send expires_at (RFC 3339).
func expiryOf(in input, now time.Time) (time.Time, error) {
	switch v := in.str("expires"); v {
	case "7", "30", "90":
		d, _ := strconv.Atoi(v)
		return now.AddDate(0, 0, d), nil
	case "never":
		return time.Time{}, nil
	case "date":
		d, err := time.Parse("2006-01-02", in.str("expires_on"))
		if err != nil {
			return time.Time{}, propusk.Errorf(propusk.EINVALID, "choose the day the token expires")
		}
		return d.AddDate(0, 0, 1), nil
	case "":
		if v := in.str("expires_at"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return time.Time{}, propusk.Errorf(propusk.EINVALID, "expires_at must be an RFC 3339 time, such as 2030-01-02T15:04:05Z")
			}
			return t, nil
		}
		return time.Time{}, nil
	}
	return time.Time{}, propusk.Errorf(propusk.EINVALID, "choose when the token expires: in 7, 30 or 90 days, on a date, or never")
}

// confirmed reports whether the form says yes to its confirmation.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

// ask answers the confirmation page.
func (s *Server) ask(w http.ResponseWriter, r *http.Request, c confirmation) error {
	return s.renderAccount(w, r, http.StatusOK, accountPage{Confirm: &c})
}

func (s *Server) accountDeleteToken(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return propusk.Errorf(propusk.ENOTFOUND, "no such token")
	}
	ts, err := s.svc.Tokens(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ts, func(t *propusk.PersonalAccessToken) bool { return t.ID == id })
	if i < 0 {
		return propusk.Errorf(propusk.ENOTFOUND, "no such token: it may have been revoked already")
	}
	name := ts[i].Name
	if !confirmed(r) {
		text := "Programs that use the token “" + name + "” will be refused from now on. This cannot be undone."
		if name == auth.APITokenName {
			text += " The app's pages use this one: they get a new one at your next sign-in."
		}
		return s.ask(w, r, confirmation{Title: "Revoke token " + name + "?", Text: text, Action: r.URL.Path, Button: "Revoke token " + name})
	}
	if err := s.svc.DeleteToken(r.Context(), p.UserID, id); err != nil {
		return err
	}
	return s.done(w, r, p.SessionID, flash{Message: "Token “" + name + "” revoked."})
}

func (s *Server) accountEndSession(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	id := r.PathValue("id")
	ss, err := s.svc.Sessions(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ss, func(x *propusk.Session) bool { return x.ID == id })
	if i < 0 {
		return propusk.Errorf(propusk.ENOTFOUND, "no such session: it may have ended already")
	}
	device := deviceName(ss[i].UserAgent)
	if ss[i].IP != "" {
		device += " (" + ss[i].IP + ")"
	}
	current := id == p.SessionID
	if !confirmed(r) {
		c := confirmation{Title: "Sign out " + device + "?", Text: "That device will have to sign in again.", Action: r.URL.Path, Button: "Sign out " + device}
		if current {
			c.Title = "Sign out this device?"
			c.Text = "This is the device you are using now: ending its session signs you out here."
			c.Button = "Sign out this device"
		}
		return s.ask(w, r, c)
	}
	if err := s.svc.EndSession(r.Context(), p.UserID, id); err != nil {
		return err
	}
	if current {
		s.clearCookies(w, r)
		return s.done(w, r, "", flash{Message: "You are signed out: this device's session has ended."})
	}
	return s.done(w, r, p.SessionID, flash{Message: "Signed out " + device + "."})
}

// accountEndOthers is "sign out other devices".
func (s *Server) accountEndOthers(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	if !confirmed(r) {
		return s.ask(w, r, confirmation{
			Title: "Sign out all other devices?", Text: "Every device but this one will have to sign in again.",
			Action: r.URL.Path, Button: "Sign out all other devices", Password: true,
		})
	}
	n, err := s.svc.EndOtherSessions(r.Context(), p, r.PostFormValue("password"), s.clientOf(r))
	if err != nil {
		return err
	}
	return s.done(w, r, p.SessionID, flash{Message: "Signed out " + plural(n, "other device") + "."})
}

// selected and checked keep a failed form's choices (templates).
func selected(form url.Values, name, value, dflt string) bool {
	if v, ok := form[name]; ok {
		return slices.Contains(v, value)
	}
	return value == dflt
}

func checked(form url.Values, name, value string) bool {
	return slices.Contains(form[name], value)
}
