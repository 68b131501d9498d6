package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/propusk/propusk"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}).ParseFS(templateFS, "templates/*.html"))

// accountPage is what templates/account.html shows.
type accountPage struct {
	Anonymous    bool
	Login        string
	Level        int
	Boards       []string
	APIToken     string
	CSRF         string
	SessionID    string
	Tokens       []*propusk.PersonalAccessToken
	Sessions     []*propusk.Session
	Error        string
	NewToken     string
	NewTokenName string
}

// account renders the account page: a login form for an anonymous visitor;
// for a user, their tokens and sessions, with forms that work without
// JavaScript, and the api-token in a meta tag for bootstrap.js.
func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, accountPage{})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, pg accountPage) error {
	p := propusk.FromContext(r.Context())
	binding := ""
	if p != nil {
		binding = p.SessionID
	} else if sid, ok := s.cookieSession(r); ok {
		binding = sid
	}
	pg.CSRF = s.tokens.token(binding)
	pg.Anonymous = p.Anonymous()
	if !pg.Anonymous {
		u, err := s.svc.User(r.Context(), p.UserID)
		if err != nil {
			return err
		}
		pg.Login, pg.Level, pg.Boards, pg.SessionID = u.Login, u.Level, u.Boards, p.SessionID
		if pg.APIToken, err = s.svc.APIToken(r.Context(), u.ID); err != nil {
			return err
		}
		if pg.Tokens, err = s.svc.Tokens(r.Context(), u.ID); err != nil {
			return err
		}
		if pg.Sessions, err = s.svc.Sessions(r.Context(), u.ID); err != nil {
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

// accountLogin is the page's login form: like user.login, but a failure
// renders the page again with the reason instead of a JSON error.
func (s *Server) accountLogin(w http.ResponseWriter, r *http.Request) error {
	in, err := s.credentials(w, r)
	if err != nil {
		return err
	}
	p, err := s.svc.Login(r.Context(), in.str("login"), in.str("password"), s.clientOf(r))
	if err != nil {
		code := propusk.ErrorCode(err)
		if code != propusk.ECREDENTIALS && code != propusk.ETOOMANY && code != propusk.EINVALID && code != propusk.ECONFLICT {
			return err
		}
		setRetryAfter(w, err)
		return s.renderAccount(w, r, Status(err), accountPage{Error: propusk.ErrorMessage(err)})
	}
	s.setPairCookies(w, r, p)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (s *Server) accountCreateToken(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	// The form sends abilities as one comma-separated field.
	if v, ok := in.vals["abilities"]; ok && in.lists["abilities"] == nil {
		var l []string
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				l = append(l, a)
			}
		}
		delete(in.vals, "abilities")
		if l != nil {
			in.lists["abilities"] = l
		}
	}
	nt, err := s.newToken(r, in)
	if err != nil {
		if code := propusk.ErrorCode(err); code == propusk.EINVALID || code == propusk.EFORBIDDEN || code == propusk.ECONFLICT {
			return s.renderAccount(w, r, Status(err), accountPage{Error: propusk.ErrorMessage(err)})
		}
		return err
	}
	// Rendered, not redirected: the secret must not travel in a URL.
	return s.renderAccount(w, r, http.StatusCreated, accountPage{NewToken: nt.PlainText, NewTokenName: nt.Token.Name})
}

func (s *Server) accountDeleteToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.deleteCallerToken(r); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

func (s *Server) accountEndSession(w http.ResponseWriter, r *http.Request) error {
	p := propusk.FromContext(r.Context())
	if err := s.svc.EndSession(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	if r.PathValue("id") == p.SessionID {
		s.clearCookies(w, r)
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// asset serves the scripts embedded in the binary. They change only with the
// binary, so a browser may keep them an hour without asking again.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	b, err := fs.ReadFile(assetFS, "assets/"+path.Base(name))
	if err != nil || path.Base(name) != name {
		return propusk.Errorf(propusk.ENOTFOUND, "no such asset")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write(b)
	return err
}
