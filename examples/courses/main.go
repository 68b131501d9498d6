// Command courses is a small course platform that embeds propusk as a Go
// library, as the Laravel app of propusk's first seed note does with
// Sanctum: every page carries the user's api-token in
// <meta name="api-token">, propusk's bootstrap.js hands it to axios, and the
// page's own script calls the platform's protected JSON API with it.
// Registering, logging in, buying a course and paying the tariff each
// replace the api-token.
//
// Run it from the repository root, after `npm ci` (axios comes from npm):
//
//	go run ./examples/courses
//
// Everything lives in a temporary database, gone at exit.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/sqlite"
	"github.com/propusk/propusk/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	nodeModules := flag.String("node-modules", "node_modules", "the npm packages installed by `npm ci` in the repository root")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *nodeModules); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr, nodeModules string) error {
	if _, err := os.Stat(filepath.Join(nodeModules, axiosPath)); err != nil {
		return fmt.Errorf("axios not found under %s: run `npm ci` in the repository root first", nodeModules)
	}
	dir, err := os.MkdirTemp("", "courses")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "courses.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	// A fresh master key each run: the database is thrown away at exit too.
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := auth.New(ctx, auth.Config{Store: store, MasterKey: key})
	if err != nil {
		return err
	}
	go svc.Run(ctx)
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: New(svc, srv, nodeModules), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Shutdown(context.Background())
	}()
	log.Printf("courses: http://%s/", addr)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
