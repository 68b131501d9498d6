package web

import (
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
	"join":     strings.Join,
	"selected": selected,
	"checked":  checked,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}).ParseFS(templateFS, "templates/*.html"))

// account renders the account page: a login and a registration form for
// an anonymous visitor; for a user, their tokens and sessions, with forms
// that work without JavaScript, and the api-token in a meta tag for
// bootstrap.js. It shows, once, the flash the last form left (account.go).
func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	sid := ""
	if p := propusk.FromContext(r.Context()); p != nil {
		sid = p.SessionID
	}
	f := s.takeFlash(w, r, sid)
	return s.renderAccount(w, r, http.StatusOK, accountPage{Flash: f.Message, NewToken: f.Token, NewTokenName: f.TokenName})
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
