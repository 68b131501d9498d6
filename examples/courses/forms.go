package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// maxForm is the most a sign-in or registration form may send.
const maxForm = 64 << 10

// signInForm answers the page's registration or sign-in form by handing it
// to propusk's own route api (user.register or user.login, which check
// the CSRF token, set the cookies and redirect): done, the browser gets
// that answer; refused, it gets the page again with propusk's message in
// place and the login kept, never a JSON error. This uses only propusk's
// public routes, as an app that embeds it would.
func (a *App) signInForm(api string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxForm))
		if err != nil {
			http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
			return
		}
		form, _ := url.ParseQuery(string(body))
		fwd := r.Clone(r.Context())
		fwd.URL.Path, fwd.RequestURI = api, ""
		fwd.Body, fwd.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, fwd)
		if rec.Code < 400 {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		var e struct{ Error, Message string }
		json.Unmarshal(rec.Body.Bytes(), &e)
		msg := e.Message
		switch {
		case e.Error == "csrf_token_mismatch" || rec.Code == 419:
			msg = "This page expired: it was open too long, or you signed in or out in another tab. Please send the form again."
		case msg == "":
			msg = http.StatusText(rec.Code)
		}
		if v := rec.Header().Get("Retry-After"); v != "" {
			w.Header().Set("Retry-After", v)
		}
		which := "signin"
		if api == "/api/v1/user.register" {
			which = "register"
		}
		a.render(w, r, rec.Code, view{Failed: which, Error: msg, FormLogin: form.Get("login")})
	}
}
