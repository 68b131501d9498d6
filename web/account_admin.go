package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// The administrators' users page, /account/admin/users, is built as the
// account page is, on the admin API's service methods: forms that work
// without JavaScript, post/redirect/get with a flash, a confirmation page
// (a dialog with account.js) before disabling a user, resetting a password
// or ending sessions, and a failed form answered as the page with its
// message and input. The service enforces the level rules: no one is
// raised above, nor acted on from below, the administrator's level, and
// the last administrator is never demoted or disabled.

const adminUsersPath = "/account/admin/users"

// adminPage is what templates/admin.html shows: the users list, one user,
// or a confirmation.
type adminPage struct {
	CSRF    string
	Error   string
	Expired bool
	Flash   string
	Form    url.Values
	Confirm *confirmation
	Back    string // where a confirmation's Cancel goes

	// The list.
	Query string
	Users []userBody
	Next  string

	// One user.
	User     *userBody
	Sessions []sessionRow
	Tokens   []tokenRow
	Events   []auditRow
}

// auditRow is an audit event as the page lists it.
type auditRow struct {
	At                                     when
	Kind, Actor, Outcome, Detail, IP, Sess string
}

// adminEvents is how many of a user's latest audit events the page shows.
const adminEvents = 20

// isAdmin reports whether p is, read afresh, an enabled administrator.
func (s *Server) isAdmin(r *http.Request, p *propusk.Principal) bool {
	if p == nil || p.Anonymous() {
		return false
	}
	u, err := s.svc.User(r.Context(), p.UserID)
	return err == nil && u.Level >= propusk.LevelAdmin && !u.Disabled()
}

// principalOf is the request's caller, identified afresh when a refusal
// came before the handler.
func (s *Server) principalOf(r *http.Request) *propusk.Principal {
	if p := propusk.FromContext(r.Context()); p != nil {
		return p
	}
	if q, err := s.mw.Identify(r); err == nil {
		return q
	}
	return nil
}

// renderAdmin answers the admin page with status; pg.User's id, when set
// (or the path's), selects the user page.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, pg adminPage) error {
	p := s.principalOf(r)
	binding := ""
	if p != nil {
		binding = p.SessionID
	}
	pg.CSRF = s.tokens.token(binding)
	if pg.Form == nil {
		pg.Form = url.Values{}
	}
	if pg.Confirm == nil {
		if err := s.fillAdmin(r, &pg); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "admin.html", pg); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// fillAdmin reads the list, or the user of the path with their sessions,
// tokens and latest audit events.
func (s *Server) fillAdmin(r *http.Request, pg *adminPage) error {
	ctx := r.Context()
	if r.PathValue("id") == "" {
		q := propusk.UserQuery{Login: pg.Query, Limit: 51}
		if v := r.URL.Query().Get("cursor"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return propusk.Errorf(propusk.EINVALID, "the cursor is malformed")
			}
			q.After = n
		}
		us, err := s.svc.Users(ctx, q)
		if err != nil {
			return err
		}
		if len(us) > 50 {
			us = us[:50]
			pg.Next = strconv.FormatInt(us[49].ID, 10)
		}
		for _, u := range us {
			pg.Users = append(pg.Users, toUserBody(u))
		}
		return nil
	}
	id, err := userID(r)
	if err != nil {
		return err
	}
	u, err := s.svc.User(ctx, id)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return errNoUser
	}
	if err != nil {
		return err
	}
	b := toUserBody(u)
	pg.User = &b
	now := s.svc.Now()
	ss, err := s.svc.Sessions(ctx, id)
	if err != nil {
		return err
	}
	for _, x := range ss {
		pg.Sessions = append(pg.Sessions, sessionRow{
			ID: x.ID, Device: deviceName(x.UserAgent), UserAgent: x.UserAgent, IP: x.IP,
			Created: whenOf(x.CreatedAt, now), Renewed: whenOf(x.RenewedAt, now),
		})
	}
	ts, err := s.svc.Tokens(ctx, id)
	if err != nil {
		return err
	}
	for _, t := range ts {
		pg.Tokens = append(pg.Tokens, tokenRow{
			ID: t.ID, Name: t.Name, Abilities: t.Abilities, API: t.Name == auth.APITokenName,
			Created: whenOf(t.CreatedAt, now), LastUsed: whenOf(t.LastUsedAt, now), Expire: whenOf(t.ExpiresAt, now),
		})
	}
	es, err := s.svc.Audit(ctx, propusk.AuditQuery{UserID: id, Limit: adminEvents})
	if err != nil {
		return err
	}
	for _, e := range es {
		row := auditRow{At: whenOf(e.At, now), Kind: e.Kind, Outcome: e.Outcome, Detail: e.Detail, IP: e.IP}
		switch {
		case e.ActorID == id:
			row.Actor = "the user"
		case e.ActorID != 0:
			row.Actor = "user #" + strconv.FormatInt(e.ActorID, 10)
		case e.ActorAuth != "":
			row.Actor = e.ActorAuth
		}
		pg.Events = append(pg.Events, row)
	}
	return nil
}

// adminUsersPage is the list, searched by a part of the login.
func (s *Server) adminUsersPage(w http.ResponseWriter, r *http.Request) error {
	f := s.takeFlash(w, r, propusk.FromContext(r.Context()).SessionID)
	return s.renderAdmin(w, r, http.StatusOK, adminPage{Flash: f.Message, Query: strings.TrimSpace(r.URL.Query().Get("login"))})
}

// adminUserPage is one user.
func (s *Server) adminUserPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := userID(r); err != nil {
		return err
	}
	f := s.takeFlash(w, r, propusk.FromContext(r.Context()).SessionID)
	return s.renderAdmin(w, r, http.StatusOK, adminPage{Flash: f.Message})
}

// adminFailed answers a failed admin form as the user page (or the list),
// with the message and the input, to an administrator; anyone else gets
// the account page with the message.
func (s *Server) adminFailed(w http.ResponseWriter, r *http.Request, status int, err error) error {
	if !s.isAdmin(r, s.principalOf(r)) || propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return s.renderAccount(w, r, status, failedForm(r, err))
	}
	fp := failedForm(r, err)
	return s.renderAdmin(w, r, status, adminPage{Error: fp.Error, Expired: fp.Expired, Form: fp.Form})
}

// adminTargetOf reads the user of the path, for a form's confirmation.
func (s *Server) adminTargetOf(r *http.Request) (*propusk.User, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	u, err := s.svc.User(r.Context(), id)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return nil, errNoUser
	}
	return u, err
}

func userPath(u *propusk.User) string { return adminUsersPath + "/" + strconv.FormatInt(u.ID, 10) }

// adminDone ends an admin form that did its work: the flash, and 303 to
// the user's page.
func (s *Server) adminDone(w http.ResponseWriter, r *http.Request, to string, msg string) error {
	if err := s.setFlash(w, r, propusk.FromContext(r.Context()).SessionID, flash{Message: msg}); err != nil {
		return err
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// adminAsk answers the confirmation page of an admin form.
func (s *Server) adminAsk(w http.ResponseWriter, r *http.Request, u *propusk.User, c confirmation) error {
	return s.renderAdmin(w, r, http.StatusOK, adminPage{Confirm: &c, Back: userPath(u)})
}

// accountAdminUpdate sets a user's level and boards.
func (s *Server) accountAdminUpdate(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	u, err := s.adminTargetOf(r)
	if err != nil {
		return err
	}
	var ch propusk.UserChange
	if v := strings.TrimSpace(in.str("level")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return propusk.Errorf(propusk.EINVALID, "the level must be a whole number")
		}
		ch.Level = &n
	}
	if v := in.str("boards"); v != "" || r.PostForm.Has("boards") {
		var boards []string
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				boards = append(boards, b)
			}
		}
		if len(boards) == 0 {
			return propusk.Errorf(propusk.EINVALID, `boards must name at least one board, or "*"`)
		}
		ch.Boards = boards
	}
	if ch.Level == nil && ch.Boards == nil {
		return propusk.Errorf(propusk.EINVALID, "give a level or boards")
	}
	if _, err := s.svc.UpdateUser(r.Context(), propusk.FromContext(r.Context()), u.ID, ch); err != nil {
		return err
	}
	return s.adminDone(w, r, userPath(u), "Saved "+u.Login+"'s level and boards.")
}

// accountAdminDisable disables a user, after a confirmation.
func (s *Server) accountAdminDisable(w http.ResponseWriter, r *http.Request) error {
	return s.adminSetDisabled(w, r, true)
}

// accountAdminEnable enables a disabled user.
func (s *Server) accountAdminEnable(w http.ResponseWriter, r *http.Request) error {
	return s.adminSetDisabled(w, r, false)
}

func (s *Server) adminSetDisabled(w http.ResponseWriter, r *http.Request, disable bool) error {
	if _, err := readInput(w, r, s.cfg.MaxBodyBytes); err != nil {
		return err
	}
	u, err := s.adminTargetOf(r)
	if err != nil {
		return err
	}
	if disable && !confirmed(r) {
		return s.adminAsk(w, r, u, confirmation{
			Title:  "Disable " + u.Login + "?",
			Text:   u.Login + " will not be able to sign in, and every session and token of " + u.Login + " ends now. You can enable the account again later.",
			Action: r.URL.Path, Button: "Disable " + u.Login,
		})
	}
	if _, err := s.svc.UpdateUser(r.Context(), propusk.FromContext(r.Context()), u.ID, propusk.UserChange{Disabled: &disable}); err != nil {
		return err
	}
	if disable {
		return s.adminDone(w, r, userPath(u), "Disabled "+u.Login+": their sessions and tokens have ended.")
	}
	return s.adminDone(w, r, userPath(u), "Enabled "+u.Login+".")
}

// accountAdminPassword resets a user's password, after a confirmation that
// asks for the new password (a page never carries one back hidden).
func (s *Server) accountAdminPassword(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	u, err := s.adminTargetOf(r)
	if err != nil {
		return err
	}
	if !confirmed(r) {
		return s.adminAsk(w, r, u, confirmation{
			Title:  "Reset " + u.Login + "'s password?",
			Text:   "Resetting the password signs " + u.Login + " out everywhere: they must sign in with the new password.",
			Action: r.URL.Path, Button: "Reset " + u.Login + "'s password", NewPassword: true,
		})
	}
	next := in.str("new_password")
	if next != in.str("new_password_confirmation") {
		return propusk.Errorf(propusk.EINVALID, "the two new passwords differ")
	}
	if err := s.svc.SetUserPassword(r.Context(), propusk.FromContext(r.Context()), u.ID, next); err != nil {
		return err
	}
	return s.adminDone(w, r, userPath(u), "Reset "+u.Login+"'s password: they were signed out everywhere.")
}

// accountAdminEndSession ends one session of a user ({sid}), or all of
// them, after a confirmation.
func (s *Server) accountAdminEndSession(w http.ResponseWriter, r *http.Request) error {
	if _, err := readInput(w, r, s.cfg.MaxBodyBytes); err != nil {
		return err
	}
	u, err := s.adminTargetOf(r)
	if err != nil {
		return err
	}
	sid := r.PathValue("sid")
	what := "all of " + u.Login + "'s devices"
	if sid != "" {
		ss, err := s.svc.Sessions(r.Context(), u.ID)
		if err != nil {
			return err
		}
		what = ""
		for _, x := range ss {
			if x.ID == sid {
				what = u.Login + "'s " + deviceName(x.UserAgent)
				if x.IP != "" {
					what += " (" + x.IP + ")"
				}
			}
		}
		if what == "" {
			return propusk.Errorf(propusk.ENOTFOUND, "no such session: it may have ended already")
		}
	}
	if !confirmed(r) {
		return s.adminAsk(w, r, u, confirmation{
			Title: "Sign out " + what + "?", Text: u.Login + " will have to sign in again there.",
			Action: r.URL.Path, Button: "Sign out " + what,
		})
	}
	if err := s.svc.EndUserSessions(r.Context(), propusk.FromContext(r.Context()), u.ID, sid); err != nil {
		return err
	}
	return s.adminDone(w, r, userPath(u), "Signed out "+what+".")
}
