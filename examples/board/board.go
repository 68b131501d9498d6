package main

import (
	"embed"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/web"
)

//go:embed board.html board.js
var files embed.FS

var page = template.Must(template.New("board.html").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
}).ParseFS(files, "board.html"))

// A board is open when anyone, anonymous visitors too, may post on it; on a
// closed board only users whose boards include it may post.
var boards = []struct {
	Name, Title string
	Open        bool
}{
	{"b", "Random", true},
	{"d", "Discussion of the board", false},
}

// Post is one message; a thread is its first post and the replies to it.
type Post struct {
	ID, Thread int
	Board      string
	Author     string // a login, or "" for an anonymous visitor
	Text       string
	At         time.Time
}

// Board is the imageboard: posts in memory, every route behind propusk.
type Board struct {
	svc *auth.Service
	srv *web.Server
	mw  web.Middleware

	mu    sync.Mutex
	posts []*Post // in order of id
	next  int
}

// New returns the board's handler: its own pages, and propusk's routes
// (token.obtain, user.login, /assets/propusk.js…) under the same origin.
func New(svc *auth.Service, srv *web.Server) http.Handler {
	b := &Board{svc: svc, srv: srv, mw: *srv.Middleware(), next: 1}
	// A browser without JavaScript refused for its level or board, or for
	// CSRF, gets a page rather than JSON; the rest (token redirects, JSON
	// for scripts) is propusk's default.
	deny := b.mw.OnError
	if deny == nil {
		deny = web.DenyDefault
	}
	b.mw.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
		code := propusk.ErrorCode(err)
		if r.Header.Get("X-Requested-With") == "" && (code == propusk.EFORBIDDEN || code == propusk.ECSRF) {
			if b.refused(w, r, err) {
				return
			}
			b.render(w, r, web.Status(err), view{Error: propusk.ErrorMessage(err)})
			return
		}
		deny(w, r, err)
	}

	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.Handle("GET /{$}", http.RedirectHandler("/b/", http.StatusFound))
	mux.HandleFunc("GET /board.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeFileFS(w, r, files, "board.js")
	})
	for _, bd := range boards {
		name := bd.Name
		post := []web.Guard{}
		if !bd.Open {
			post = append(post, web.RequireUser(), web.RequireBoard(func(*http.Request) string { return name }))
		}
		mux.Handle("GET /"+name+"/{$}", b.mw.Protect(b.show(name)))
		mux.Handle("GET /"+name+"/{thread}", b.mw.Protect(b.show(name)))
		mux.Handle("POST /"+name+"/{$}", b.mw.Protect(b.post(name), post...))
		mux.Handle("POST /"+name+"/{thread}", b.mw.Protect(b.post(name), post...))
		// Foxtan's level is what the caller may do on its boards: deleting
		// takes an administrator of this board.
		mux.Handle("POST /"+name+"/posts/{post}/delete", b.mw.Protect(b.remove(name),
			web.RequireLevel(propusk.LevelAdmin), web.RequireBoard(func(*http.Request) string { return name })))
	}
	return mux
}

// view is what board.html shows.
type view struct {
	Board   string
	Title   string
	Thread  int      // 0 on a board's page
	Threads [][]Post // a board's threads, or the one thread, each OP first
	Who     string   // the caller's login, "" when anonymous
	Level   int
	Boards  string
	Path    string // where forms send the visitor back to
	CSRF    string
	Error   string
	Text    string // a refused post's text, kept in the form
}

func (b *Board) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	if p := propusk.FromContext(r.Context()); p != nil {
		v.Level, v.Boards = p.Level, strings.Join(p.Boards, ", ")
		if !p.Anonymous() {
			if u, err := b.svc.User(r.Context(), p.UserID); err == nil {
				v.Who = u.Login
			}
		}
	}
	v.Path, v.CSRF = r.URL.Path, b.srv.CSRFToken(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		http.Error(w, "template: "+err.Error(), http.StatusInternalServerError)
	}
}

// show renders a board's threads, or one thread.
func (b *Board) show(board string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := view{Board: board}
		for _, bd := range boards {
			if bd.Name == board {
				v.Title = bd.Title
			}
		}
		if s := r.PathValue("thread"); s != "" {
			v.Thread, _ = strconv.Atoi(s)
		}
		v.Threads = b.threads(board, v.Thread)
		if v.Thread != 0 && len(v.Threads) == 0 {
			b.render(w, r, http.StatusNotFound, view{Board: board, Error: "no such thread"})
			return
		}
		b.render(w, r, http.StatusOK, v)
	}
}

// threads returns the threads of board, newest first, or only thread.
func (b *Board) threads(board string, thread int) [][]Post {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out [][]Post
	idx := map[int]int{}
	for _, p := range b.posts {
		if p.Board != board || (thread != 0 && p.Thread != thread) {
			continue
		}
		i, ok := idx[p.Thread]
		if !ok {
			i = len(out)
			idx[p.Thread] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], *p)
	}
	slices.Reverse(out)
	return out
}

// post starts a thread, or replies to the thread in the path.
func (b *Board) post(board string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		text := strings.TrimSpace(r.PostFormValue("text"))
		if text == "" || len(text) > 4000 {
			b.render(w, r, http.StatusBadRequest, view{Board: board, Error: "a post needs 1 to 4000 characters of text"})
			return
		}
		p := &Post{Board: board, Text: text, At: b.svc.Now()}
		if c := propusk.FromContext(r.Context()); !c.Anonymous() {
			if u, err := b.svc.User(r.Context(), c.UserID); err == nil {
				p.Author = u.Login
			}
		}
		thread, _ := strconv.Atoi(r.PathValue("thread"))
		b.mu.Lock()
		if thread != 0 && !slices.ContainsFunc(b.posts, func(q *Post) bool { return q.Board == board && q.ID == thread }) {
			b.mu.Unlock()
			b.render(w, r, http.StatusNotFound, view{Board: board, Error: "no such thread"})
			return
		}
		p.ID, p.Thread = b.next, thread
		if thread == 0 {
			p.Thread = p.ID
		}
		b.next++
		b.posts = append(b.posts, p)
		b.mu.Unlock()
		// See Other: the browser (or fetch) loads the thread with GET, and
		// a reload does not post twice.
		http.Redirect(w, r, "/"+board+"/"+strconv.Itoa(p.Thread)+"#p"+strconv.Itoa(p.ID), http.StatusSeeOther)
	}
}

// remove deletes a post, or a whole thread when it is the first post.
func (b *Board) remove(board string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("post"))
		b.mu.Lock()
		thread := 0
		b.posts = slices.DeleteFunc(b.posts, func(p *Post) bool {
			if p.Board == board && p.ID == id {
				thread = p.Thread
			}
			return p.Board == board && (p.ID == id || p.Thread == id)
		})
		b.mu.Unlock()
		to := "/" + board + "/"
		if thread != 0 && thread != id {
			to += strconv.Itoa(thread)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}
