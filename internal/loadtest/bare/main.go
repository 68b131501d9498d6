// Command bare is the baseline of the load harness (internal/loadtest): a
// net/http server whose handler answers every request with a small JSON
// object and does nothing else, and which also serves the limits propusk's
// costliest paths are held to. It runs as its own process, as propusk
// does, so the harness measures both with the same client and reads their
// CPU time the same way; whatever propusk costs above it is propusk's own
// work.
//
//	bare [-addr 127.0.0.1:0] [-argon2 m=19456,t=2,p=1] [-gc "GOGC=100 GOMEMLIMIT=541MiB reserve=95MiB"]
//
// Its routes:
//
//   - / (any other path too): the small JSON object;
//   - GET /sign: the same plus one Ed25519 signature of a 300-byte
//     message (an access token's header and claims), the signature in the
//     answer: the limit of token.obtain, whose anonymous pair is one
//     signature (its refresh token is an HMAC);
//   - POST /hash with {"password": "…"}: the same plus one argon2id hash
//     of the password with a fresh salt and the parameters of -argon2 (as
//     a PHC string names them), at most 2×GOMAXPROCS at once as propusk's
//     logins: the limit of a login or a registration. Served only when
//     -argon2 is given.
//
// Its garbage collector is set by -gc, a policy as "propusk serve" logs
// the one it chose for itself (internal/gctune): the harness passes it, so
// that the hashes of both allocate under the same policy. Without -gc, as
// GOGC and GOMEMLIMIT in the environment set it.
//
// It writes "msg=listening addr=HOST:PORT" to standard error once it
// listens, the line "propusk serve" writes, and serves until SIGTERM or
// SIGINT.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/propusk/propusk/internal/gctune"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	params := flag.String("argon2", "", "argon2id parameters of POST /hash, as a PHC string names them (m=KiB,t=passes,p=lanes); without it, /hash is not served")
	gc := flag.String("gc", "", "garbage collector policy, as propusk serve logs it (gc=\"GOGC=… GOMEMLIMIT=…MiB reserve=…MiB\"); without it, as GOGC and GOMEMLIMIT set it")
	flag.Parse()
	h, err := handler(*params)
	if err == nil && *gc != "" {
		var p gctune.Policy
		if p, err = gctune.Parse(*gc); err == nil {
			gctune.Apply(p, func(string) string { return "" })
		}
	}
	if err == nil {
		err = serve(*addr, h)
	}
	if err != nil {
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

// limitAnswer is a limit route's answer: the same object and what the
// route computed, so that the work cannot be skipped and its result is
// written as propusk writes a token.
type limitAnswer struct {
	answer
	Result string `json:"result"`
}

// messageSize is the length of an access token's header and claims, the
// message token.obtain signs.
const messageSize = 300

// handler returns the routes; argon2Params, when not "", enables /hash.
// They are told apart by two string comparisons rather than a ServeMux, so
// that / costs what it cost when it was the only route.
func handler(argon2Params string) (http.Handler, error) {
	write := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(v)
	}
	// Built per request, as before the limits came: / allocates what it did.
	bare := func() answer {
		return answer{ID: 1, Login: "bare", Level: 10, Boards: []string{"*"}, Via: "access-token"}
	}

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	msg := make([]byte, messageSize)
	rand.Read(msg)
	sign := func(w http.ResponseWriter) {
		sig := ed25519.Sign(key, msg)
		write(w, limitAnswer{bare(), base64.RawURLEncoding.EncodeToString(sig)})
	}

	var hash func(w http.ResponseWriter, r *http.Request)
	if argon2Params != "" {
		var m, t uint32
		var p uint8
		if n, err := fmt.Sscanf(argon2Params, "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 || m == 0 || t == 0 || p == 0 {
			return nil, fmt.Errorf("-argon2 %q: want m=KiB,t=passes,p=lanes, each above 0", argon2Params)
		}
		// As many hashes at once as propusk's logins may compute by default
		// (auth.Config.MaxHashing): more would hold more memory than its
		// garbage collector's limit allows for, and cost the collector
		// what propusk never pays.
		slots := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
		hash = func(w http.ResponseWriter, r *http.Request) {
			var in struct {
				Password string `json:"password"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Password == "" {
				http.Error(w, `want {"password": "…"}`, http.StatusBadRequest)
				return
			}
			salt := make([]byte, 16)
			rand.Read(salt)
			slots <- struct{}{}
			key := argon2.IDKey([]byte(in.Password), salt, t, m, p, 32)
			<-slots
			write(w, limitAnswer{bare(), base64.RawStdEncoding.EncodeToString(key)})
		}
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/sign" && r.Method == http.MethodGet:
			sign(w)
		case r.URL.Path == "/hash" && r.Method == http.MethodPost && hash != nil:
			hash(w, r)
		default:
			write(w, bare())
		}
	}), nil
}

func serve(addr string, h http.Handler) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
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
