// Command board is a small imageboard (boards /b/ and /d/) that embeds
// propusk as a library, as Foxtan does: anonymous visitors get tokens on
// their first request and may read and post on /b/; posting on /d/ needs a
// user whose boards include "d", and deleting a post needs level 30. It
// works without JavaScript (cookies and redirects) and with it (propusk.js).
//
// Everything lives in memory and a temporary database, gone at exit.
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
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	ttl := flag.Duration("access-ttl", 15*time.Minute, "lifetime of access tokens (try 30s to watch them renew)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *ttl); err != nil {
		log.Fatal(err)
	}
}

// demoUsers are created at start, so there is someone to log in as.
var demoUsers = []struct {
	login, password string
	level           int
	boards          []string
}{
	{"admin", "admin-password", 30, []string{"*"}}, // may delete posts anywhere
	{"dasha", "dasha-password", 10, []string{"d"}}, // may post on /d/
}

func run(ctx context.Context, addr string, accessTTL time.Duration) error {
	dir, err := os.MkdirTemp("", "board")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "board.db"))
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
	svc, err := auth.New(ctx, auth.Config{Store: store, MasterKey: key, AccessTTL: accessTTL})
	if err != nil {
		return err
	}
	go svc.Run(ctx)
	for _, u := range demoUsers {
		if _, err := svc.CreateUser(ctx, u.login, u.password, u.level, u.boards); err != nil {
			return err
		}
	}
	srv, err := web.New(web.Config{Service: svc})
	if err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: New(svc, srv), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Shutdown(context.Background())
	}()
	fmt.Printf("board on http://%s/ — log in as admin/admin-password or dasha/dasha-password\n", addr)
	if err := hs.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
