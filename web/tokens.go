package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
)

// tokenBody is a personal access token as listed: never its secret or hash.
type tokenBody struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Abilities  []string   `json:"abilities"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func toTokenBody(t *propusk.PersonalAccessToken) tokenBody {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return tokenBody{
		ID: t.ID, Name: t.Name, Abilities: t.Abilities,
		LastUsedAt: opt(t.LastUsedAt), ExpiresAt: opt(t.ExpiresAt), CreatedAt: t.CreatedAt.UTC(),
	}
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	ts, err := s.svc.Tokens(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	out := make([]tokenBody, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTokenBody(t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// newTokenBody is the answer to a token's creation, the only one that
// carries its secret.
type newTokenBody struct {
	tokenBody
	Token string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	nt, err := s.newToken(r, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newTokenBody{tokenBody: toTokenBody(nt.Token), Token: nt.PlainText})
	return nil
}

// newToken creates a token from the fields name, abilities and expires_at
// (RFC 3339, or empty for never).
func (s *Server) newToken(r *http.Request, in input) (*auth.NewToken, error) {
	p := propusk.FromContext(r.Context())
	abilities, _ := in.list("abilities")
	var exp time.Time
	if v := in.str("expires_at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, propusk.Errorf(propusk.EINVALID, "expires_at must be an RFC 3339 time, such as 2030-01-02T15:04:05Z")
		}
		exp = t
	}
	return s.svc.CreateToken(r.Context(), p, in.str("name"), abilities, exp)
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteCallerToken(r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteCallerToken deletes the caller's token named by the path's {id}.
func (s *Server) deleteCallerToken(r *http.Request) error {
	p := propusk.FromContext(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return propusk.Errorf(propusk.ENOTFOUND, "no such token")
	}
	return s.svc.DeleteToken(r.Context(), p.UserID, id)
}

// reissue is the back end's hook for business events (course purchase,
// tariff payment): a new api-token for the user, older ones deleted.
func (s *Server) reissue(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return propusk.Errorf(propusk.ENOTFOUND, "no such user")
	}
	tok, err := s.svc.ReissueAPITokenAs(r.Context(), propusk.FromContext(r.Context()), id, in.str("reason"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"apiToken": tok})
	return nil
}
