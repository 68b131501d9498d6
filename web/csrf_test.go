package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// TestCSRFGuard is the one CSRF decision, row by row: the origin first,
// then a token bound to the session the cookies hold; a login's guard
// (ifSession) asks for the token only when there is a session.
func TestCSRFGuard(t *testing.T) {
	s := newTestServer(t, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	mine, err := s.svc.Obtain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := s.svc.Obtain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good, other := s.tokens.token(mine.SessionID), s.tokens.token(theirs.SessionID)
	cases := []struct {
		name      string
		ifSession bool
		method    string
		cookies   bool   // the browser holds my session
		header    string // X-XSRF-TOKEN
		form      string // _token of a form body
		site      string // Sec-Fetch-Site
		want      string // a fragment of the ECSRF message; "" for nil
	}{
		{name: "ok/safe-method", method: "GET", cookies: true},
		{name: "ok/header-token", method: "POST", cookies: true, header: good},
		{name: "ok/form-token", method: "POST", cookies: true, form: good},
		{name: "ok/same-origin", method: "POST", cookies: true, header: good, site: "same-origin"},
		{name: "fail/cross-site", method: "POST", cookies: true, header: good, site: "cross-site", want: "origin not first-party"},
		{name: "fail/missing", method: "POST", cookies: true, want: "missing"},
		{name: "fail/another-session", method: "DELETE", cookies: true, header: other, want: "mismatch"},
		{name: "fail/no-session", method: "POST", header: other, want: "no session"},
		{name: "fail/no-session-no-token", method: "POST", want: "missing"},
		{name: "ok/login-no-session", ifSession: true, method: "POST"},
		{name: "fail/login-cross-site", ifSession: true, method: "POST", site: "cross-site", want: "origin not first-party"},
		{name: "fail/login-session-missing", ifSession: true, method: "POST", cookies: true, want: "missing"},
		{name: "ok/login-session-token", ifSession: true, method: "POST", cookies: true, header: good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := s.csrf
			if c.ifSession {
				g = s.loginCSRF
			}
			var r *http.Request
			if c.form != "" {
				r = httptest.NewRequest(c.method, "/x", strings.NewReader(url.Values{"_token": {c.form}, "text": {"hi"}}.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				r = httptest.NewRequest(c.method, "/x", nil)
			}
			if c.cookies {
				r.AddCookie(&http.Cookie{Name: CookieRefresh, Value: mine.RefreshToken})
			}
			if c.header != "" {
				r.Header.Set("X-XSRF-TOKEN", c.header)
			}
			if c.site != "" {
				r.Header.Set("Sec-Fetch-Site", c.site)
			}
			err := g.Check(r)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.form != "" && r.PostForm.Get("text") != "hi" {
					t.Fatal("the form is not left in r.PostForm for the handler")
				}
				return
			}
			if propusk.ErrorCode(err) != propusk.ECSRF || !strings.Contains(propusk.ErrorMessage(err), c.want) {
				t.Fatalf("got %v, want %s naming %q", err, propusk.ECSRF, c.want)
			}

			// Handler answers the same refusal, and the handler never runs.
			w := httptest.NewRecorder()
			g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Fatal("the handler ran") })).ServeHTTP(w, r)
			if w.Code != 419 {
				t.Fatalf("Handler answered %d, want 419", w.Code)
			}
		})
	}
}
