package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"path/filepath"
	"slices"
	"sync"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/web"
)

//go:embed courses.html courses.js
var files embed.FS

var page = template.Must(template.New("courses.html").
	Funcs(template.FuncMap{"has": slices.Contains[[]string]}).
	ParseFS(files, "courses.html"))

// axiosPath is the browser build of axios inside node_modules.
const axiosPath = "axios/dist/axios.min.js"

// Course is one course on sale.
type Course struct {
	ID, Title string
	Price     int // roubles
}

var catalog = []Course{
	{"go", "Go for PHP developers", 4900},
	{"sql", "PostgreSQL in depth", 3900},
	{"js", "Axios and friends", 1900},
}

// App is the course platform. Purchases live in memory: this example is
// about the tokens, not about shop keeping.
type App struct {
	svc *auth.Service
	srv *web.Server

	mu     sync.Mutex
	owned  map[int64][]string // user id → course ids bought
	tariff map[int64]bool     // user id → tariff paid
}

// New returns the platform's handler: its pages and API, and propusk's own
// routes (/api/v1/…, /assets/bootstrap.js) beside them. axios is served from
// nodeModules, where `npm ci` put it.
func New(svc *auth.Service, srv *web.Server, nodeModules string) http.Handler {
	a := &App{svc: svc, srv: srv, owned: map[int64][]string{}, tariff: map[int64]bool{}}
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	// Pages: anyone may look (a visitor without tokens is sent through
	// token.obtain first), buying needs a user. Forms are authenticated by
	// the cookies, so propusk's middleware checks their CSRF token.
	mux.Handle("GET /{$}", srv.Protect(http.HandlerFunc(a.home)))
	// The visitor's forms: propusk's user.register and user.login behind
	// them, and a refusal shown on the page (forms.go).
	mux.Handle("POST /register", a.signInForm("/api/v1/user.register"))
	mux.Handle("POST /login", a.signInForm("/api/v1/user.login"))
	mux.Handle("POST /courses/{id}/buy", srv.Protect(http.HandlerFunc(a.buy), web.RequireUser()))
	mux.Handle("POST /tariff/pay", srv.Protect(http.HandlerFunc(a.pay), web.RequireUser()))
	// The JSON API the page's axios calls with the api-token.
	mux.Handle("GET /api/my-courses", srv.Protect(http.HandlerFunc(a.myCourses),
		web.RequireUser(), web.RequireAbility("courses:read")))
	mux.HandleFunc("GET /vendor/axios.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(nodeModules, axiosPath))
	})
	mux.HandleFunc("GET /courses.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "courses.js")
	})
	return mux
}

// view is what courses.html shows.
type view struct {
	Login    string // "" for a visitor
	APIToken string
	CSRF     string
	Courses  []Course
	Owned    []string
	Tariff   bool
	// A refused form: which one ("register" or "signin"), propusk's
	// message, and the login typed (never the password).
	Failed, Error, FormLogin string
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, view{})
}

// render answers the page with status: v, with the caller's own part
// filled in.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	p := propusk.FromContext(r.Context())
	v.CSRF, v.Courses = a.srv.CSRFToken(r), catalog
	if !p.Anonymous() {
		u, err := a.svc.User(r.Context(), p.UserID)
		if err != nil {
			http.Error(w, "cannot read the user", http.StatusInternalServerError)
			return
		}
		// As the seed's Blade template does with Auth::user()->api_token;
		// propusk keeps it sealed and opens it here.
		if v.APIToken, err = a.svc.APIToken(r.Context(), u.ID); err != nil {
			http.Error(w, "cannot read the api-token", http.StatusInternalServerError)
			return
		}
		v.Login = u.Login
		a.mu.Lock()
		v.Owned, v.Tariff = slices.Clone(a.owned[u.ID]), a.tariff[u.ID]
		a.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // the page carries a token
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// buy records a purchase and, as the seed asks, replaces the api-token.
func (a *App) buy(w http.ResponseWriter, r *http.Request) {
	p := propusk.FromContext(r.Context())
	id := r.PathValue("id")
	if !slices.ContainsFunc(catalog, func(c Course) bool { return c.ID == id }) {
		http.NotFound(w, r)
		return
	}
	a.mu.Lock()
	if !slices.Contains(a.owned[p.UserID], id) {
		a.owned[p.UserID] = append(a.owned[p.UserID], id)
	}
	a.mu.Unlock()
	a.reissue(w, r, auth.ReasonCoursePurchase)
}

// pay records the tariff payment and replaces the api-token.
func (a *App) pay(w http.ResponseWriter, r *http.Request) {
	p := propusk.FromContext(r.Context())
	a.mu.Lock()
	a.tariff[p.UserID] = true
	a.mu.Unlock()
	a.reissue(w, r, auth.ReasonTariffPayment)
}

// reissue replaces the caller's api-token (older ones stop working at once)
// and sends the browser back to the page, which renders the new one.
func (a *App) reissue(w http.ResponseWriter, r *http.Request, reason string) {
	p := propusk.FromContext(r.Context())
	if _, err := a.svc.ReissueAPIToken(r.Context(), p.UserID, reason); err != nil {
		http.Error(w, "cannot reissue the api-token", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// myCourses is the protected JSON API: what the caller owns.
func (a *App) myCourses(w http.ResponseWriter, r *http.Request) {
	p := propusk.FromContext(r.Context())
	u, err := a.svc.User(r.Context(), p.UserID)
	if err != nil {
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	a.mu.Lock()
	owned, tariff := slices.Clone(a.owned[p.UserID]), a.tariff[p.UserID]
	a.mu.Unlock()
	if owned == nil {
		owned = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"login": u.Login, "courses": owned, "tariff": tariff, "via": p.Via})
}
