package web

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/propusk/propusk"
)

// userBody is a user as an administrator sees it: never the password
// hash nor the sealed api-token.
type userBody struct {
	ID         int64      `json:"id"`
	Login      string     `json:"login"`
	Level      int        `json:"level"`
	Boards     []string   `json:"boards"`
	Disabled   bool       `json:"disabled"`
	DisabledAt *time.Time `json:"disabledAt"`
	CreatedAt  time.Time  `json:"created"`
	UpdatedAt  time.Time  `json:"updated"`
}

func toUserBody(u *propusk.User) userBody {
	b := userBody{
		ID: u.ID, Login: u.Login, Level: u.Level, Boards: u.Boards, Disabled: u.Disabled(),
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
	if u.Disabled() {
		t := u.DisabledAt.UTC()
		b.DisabledAt = &t
	}
	return b
}

// usersPage is a page of the users list; Next is the cursor of the next
// page, "" on the last.
type usersPage struct {
	Users []userBody `json:"users"`
	Next  string     `json:"next"`
}

var errNoUser = propusk.Errorf(propusk.ENOTFOUND, "no such user")

// userID is the {id} of an administration route.
func userID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNoUser
	}
	return id, nil
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request) error {
	q := propusk.UserQuery{Login: r.URL.Query().Get("login"), Limit: 50}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return propusk.Errorf(propusk.EINVALID, "limit must be 1 to 500")
		}
		q.Limit = n
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return propusk.Errorf(propusk.EINVALID, "the cursor is malformed")
		}
		q.After = n
	}
	// One more than asked tells whether there is a next page.
	limit := q.Limit
	q.Limit++
	us, err := s.svc.Users(r.Context(), q)
	if err != nil {
		return err
	}
	page := usersPage{Users: []userBody{}}
	if len(us) > limit {
		us = us[:limit]
		page.Next = strconv.FormatInt(us[limit-1].ID, 10)
	}
	for _, u := range us {
		page.Users = append(page.Users, toUserBody(u))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) adminUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	u, err := s.svc.User(r.Context(), id)
	if propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return errNoUser
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserBody(u))
	return nil
}

// readObject decodes a JSON object body into v, refusing fields v lacks.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errMediaType
	}
	body, err := readAll(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		return propusk.Errorf(propusk.EINVALID, "the body must be a JSON object of the documented fields")
	}
	return nil
}

func (s *Server) adminPatchUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	var in struct {
		Level    *int     `json:"level"`
		Boards   []string `json:"boards"`
		Disabled *bool    `json:"disabled"`
	}
	if err := s.readObject(w, r, &in); err != nil {
		return err
	}
	if in.Boards != nil && len(in.Boards) == 0 {
		return propusk.Errorf(propusk.EINVALID, `boards must name at least one board, or "*"`)
	}
	u, err := s.svc.UpdateUser(r.Context(), propusk.FromContext(r.Context()), id,
		propusk.UserChange{Level: in.Level, Boards: in.Boards, Disabled: in.Disabled})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toUserBody(u))
	return nil
}

func (s *Server) adminDeleteUser(w http.ResponseWriter, r *http.Request) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteUser(r.Context(), propusk.FromContext(r.Context()), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

func (s *Server) adminSetPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	if err := s.svc.SetUserPassword(r.Context(), propusk.FromContext(r.Context()), id, in.str("password")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"changed": true})
	return nil
}

func (s *Server) adminSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.User(r.Context(), id); propusk.ErrorCode(err) == propusk.ENOTFOUND {
		return errNoUser
	} else if err != nil {
		return err
	}
	ss, err := s.svc.Sessions(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]sessionBody, 0, len(ss))
	for _, x := range ss {
		out = append(out, sessionBody{
			ID: x.ID, CreatedAt: x.CreatedAt.UTC(), RenewedAt: x.RenewedAt.UTC(), ExpiresAt: x.ExpiresAt.UTC(),
			UserAgent: x.UserAgent, IP: x.IP,
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminEndSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	if err := s.svc.EndUserSessions(r.Context(), propusk.FromContext(r.Context()), id, r.PathValue("sid")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ended": true})
	return nil
}

// changePassword is the caller's own password change, which needs the
// current password; every other session of the caller ends.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	p := propusk.FromContext(r.Context())
	if err := s.svc.ChangePassword(r.Context(), p, in.str("current"), in.str("new"), s.clientOf(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"changed": true})
	return nil
}

// endOtherSessions ends every session of the caller but the current one;
// it needs the current password.
func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	p := propusk.FromContext(r.Context())
	n, err := s.svc.EndOtherSessions(r.Context(), p, in.str("password"), s.clientOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": n})
	return nil
}
