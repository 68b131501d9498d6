package web

import (
	"net/http"
	"net/url"
)

// answer is how a request is answered, decided once per request by
// answerOf. Foxtan tells the two clients apart by X-Requested-With: a
// script sends it and acts on JSON and 403s (it renews and retries); a
// browser, maybe without JavaScript, does not, and is answered with cookies
// and redirects so that a page keeps working.
type answer int

const (
	browser answer = iota // cookies and redirects
	script                // JSON and 403s
)

// answerOf decides how r is answered. It is the only reader of
// X-Requested-With: a handler asks once and passes the answer on.
func answerOf(r *http.Request) answer {
	if _, ok := r.Header["X-Requested-With"]; ok {
		return script
	}
	return browser
}

// redirect sends a browser to target and reports true; a script is not
// redirected (it gets JSON from the caller), and redirect reports false.
func (a answer) redirect(w http.ResponseWriter, r *http.Request, target string) bool {
	if a != browser {
		return false
	}
	http.Redirect(w, r, target, http.StatusFound)
	return true
}

// redirectBack sends a browser to path with redirect= the original request,
// so it can get tokens there and come back.
func (a answer) redirectBack(w http.ResponseWriter, r *http.Request, path string) bool {
	return a.redirect(w, r, path+"?redirect="+url.QueryEscape(r.URL.RequestURI()))
}
