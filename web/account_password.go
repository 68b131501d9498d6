package web

import (
	"net/http"

	"github.com/propusk/propusk"
)

// accountChangePassword is the page's password change, on the self-service
// API's ChangePassword: the current password is required, and every other
// device is signed out, which the form, its confirmation and the flash all
// say. Without confirm=yes it answers the confirmation page, which asks for
// the passwords again: a page never carries one back in a hidden field.
func (s *Server) accountChangePassword(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	p := propusk.FromContext(r.Context())
	if in.str("confirm") != "yes" {
		return s.ask(w, r, confirmation{
			Title:  "Change your password?",
			Text:   "Changing your password signs out all your other devices: they will have to sign in again with the new password. This device stays signed in.",
			Action: r.URL.Path, Button: "Change password and sign out other devices", NewPassword: true,
		})
	}
	next := in.str("new_password")
	if next != in.str("new_password_confirmation") {
		return propusk.Errorf(propusk.EINVALID, "the two new passwords differ")
	}
	if err := s.svc.ChangePassword(r.Context(), p, in.str("current_password"), next, s.clientOf(r)); err != nil {
		return err
	}
	return s.done(w, r, p.SessionID, flash{Message: "Password changed. Your other devices were signed out and must sign in with the new password."})
}
