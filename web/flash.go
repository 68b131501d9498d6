package web

import (
	"encoding/json"
	"net/http"

	"github.com/propusk/propusk/seal"
)

// flashCookie carries what the account page says once, after the redirect
// that ends every form (post/redirect/get): what happened, and a new
// token's secret. It is sealed (encrypted and authenticated) and bound to
// the session it was made for, lives for minutes, reaches /account only,
// and is cleared by the page that shows it: a reload shows the page
// without it, and the secret is never in a URL, a log or a cache.
const flashCookie = "propusk-flash"

// flashAge is how long a flash waits for the page that shows it.
const flashAge = 300 // seconds

// flash is one message of the account page.
type flash struct {
	Message   string `json:"m"`
	Token     string `json:"t,omitempty"`  // a new token's secret, shown once
	TokenName string `json:"tn,omitempty"` // and its name
}

func (s *Server) flashKey() (*seal.Key, error) {
	return seal.NewKey(s.svc.DeriveKey("propusk http flash v1"), s.svc.Rand())
}

// setFlash sets f for the next account page of the session sid ("" when
// the request ends the session: a flash without a secret).
func (s *Server) setFlash(w http.ResponseWriter, r *http.Request, sid string, f flash) error {
	k, err := s.flashKey()
	if err != nil {
		return err
	}
	if sid == "" {
		f.Token, f.TokenName = "", ""
	}
	b, _ := json.Marshal(f)
	v, err := k.Seal(b, []byte("flash\x00"+sid))
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: v, Path: "/account", MaxAge: flashAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// takeFlash returns the flash the request carries for session sid, and
// clears it. A flash of another session, or one that fails to open, is
// dropped unread.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request, sid string) flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return flash{}
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: "", Path: "/account", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
	k, err := s.flashKey()
	if err != nil {
		return flash{}
	}
	var f flash
	for _, ad := range []string{sid, ""} {
		if b, err := k.Open(c.Value, []byte("flash\x00"+ad)); err == nil && json.Unmarshal(b, &f) == nil {
			if ad == "" {
				f.Token, f.TokenName = "", ""
			}
			return f
		}
		if sid == "" {
			break
		}
	}
	return flash{}
}
