package remote_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/remote"
	"github.com/propusk/propusk/web"
)

// An orders API on its own host trusts the propusk at auth.example.com. It
// verifies access tokens itself, asks propusk nothing per request, and
// refuses a logged-off session within a second. PROPUSK_STREAM_TOKEN is a
// personal access token with ability revocations:read, made once by an
// operator (POST /api/v1/tokens).
func Example() {
	ctx := context.Background()
	v, err := remote.New(ctx, remote.Config{
		URL:   "https://auth.example.com",
		Token: os.Getenv("PROPUSK_STREAM_TOKEN"),
	})
	if err != nil {
		log.Fatal(err)
	}
	go v.Run(ctx) // follows the revocation stream, reconnecting by itself

	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := propusk.FromContext(r.Context())
		fmt.Fprintf(w, "orders of user %d", p.UserID)
	}), web.RequireUser()))
	mux.Handle("DELETE /boards/{board}/posts/{id}", v.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "deleted")
	}), web.RequireLevel(propusk.LevelAdmin), web.RequireBoard(func(r *http.Request) string { return r.PathValue("board") })))
	log.Fatal(http.ListenAndServe("127.0.0.1:8090", mux))
}
