// Command bare is the baseline of the load harness (internal/loadtest): a
// net/http server whose one handler answers every request with a small
// JSON object and does nothing else. It runs as its own process, as
// propusk does, so the harness measures both with the same client and
// reads their CPU time the same way; whatever propusk costs above it is
// propusk's own work.
//
//	bare [-addr 127.0.0.1:0]
//
// It writes "msg=listening addr=HOST:PORT" to standard error once it
// listens, the line "propusk serve" writes, and serves until SIGTERM or
// SIGINT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if err := serve(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// answer is what every request gets: about the size of user.me's answer,
// encoded per request as propusk encodes its own.
type answer struct {
	ID     int64    `json:"_id"`
	Login  string   `json:"login"`
	Level  int      `json:"level"`
	Boards []string `json:"boards"`
	Via    string   `json:"via"`
}

func serve(addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(answer{ID: 1, Login: "bare", Level: 10, Boards: []string{"*"}, Via: "access-token"})
	})
	// The timeouts of "propusk serve", so both servers keep connections alike.
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "msg=listening addr=%s\n", ln.Addr())
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
