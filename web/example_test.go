package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/sqlite"
	"github.com/propusk/propusk/web"
)

// An imageboard guards posting by board and level (anonymous clients may
// not post on /d/), and deleting by level too. Everything
// propusk serves (token.obtain, user.login, …) is mounted at "/"; the app's
// own routes are wrapped in Protect with the guards they need.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "propusk-example")
	defer os.RemoveAll(dir)

	store, err := sqlite.Open(ctx, filepath.Join(dir, "board.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	masterKey := make([]byte, 32) // in production: PROPUSK_MASTER_KEY or a key file
	rand.Read(masterKey)
	svc, err := auth.New(ctx, auth.Config{Store: store, MasterKey: masterKey})
	if err != nil {
		log.Fatal(err)
	}
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		log.Fatal(err)
	}

	board := func(r *http.Request) string { return r.PathValue("board") }
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.Handle("POST /boards/{board}/posts", srv.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := propusk.FromContext(r.Context())
		fmt.Fprintf(w, "posted on /%s/ by level %d", r.PathValue("board"), p.Level)
	}), web.RequireBoard(board), web.RequireLevel(propusk.LevelUser)))
	mux.Handle("DELETE /boards/{board}/posts/{id}", srv.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "deleted")
	}), web.RequireBoard(board), web.RequireLevel(propusk.LevelAdmin)))
	ts := httptest.NewServer(mux)
	defer ts.Close()

	// A moderator of /d/ only.
	if _, err := svc.CreateUser(ctx, "mod", "correct horse", propusk.LevelUser, []string{"d"}); err != nil {
		log.Fatal(err)
	}
	call := func(method, path, token, body string) (int, string) {
		r, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		r.Header.Set("X-Requested-With", "XMLHttpRequest")
		r.Header.Set("Content-Type", "application/json")
		if token != "" {
			r.Header.Set("X-Access-Token", token)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	var pair struct{ AccessToken string }
	_, body := call("POST", "/api/v1/user.login", "", `{"login":"mod","password":"correct horse"}`)
	json.Unmarshal([]byte(body), &pair)

	var anon struct{ AccessToken string }
	_, body = call("GET", "/api/v1/token.obtain", "", "")
	json.Unmarshal([]byte(body), &anon)

	fmt.Println(call("POST", "/boards/d/posts", "", ""))
	fmt.Println(call("POST", "/boards/d/posts", anon.AccessToken, ""))
	fmt.Println(call("POST", "/boards/d/posts", pair.AccessToken, ""))
	fmt.Println(call("POST", "/boards/b/posts", pair.AccessToken, ""))
	fmt.Println(call("DELETE", "/boards/d/posts/1", pair.AccessToken, ""))
	// Output:
	// 403 {"error":"token_required","message":"no token: send X-Access-Token, Authorization: Bearer, or the accessToken cookie"}
	// 403 {"error":"forbidden","message":"this needs level 10; the caller has 0"}
	// 200 posted on /d/ by level 10
	// 403 {"error":"forbidden","message":"the caller may not act on board \"b\""}
	// 403 {"error":"forbidden","message":"this needs level 30; the caller has 10"}
}
