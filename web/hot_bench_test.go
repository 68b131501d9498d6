package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
	"golang.org/x/crypto/argon2"
)

// BenchmarkServe is token.obtain, token.renew (on PostgreSQL) and a login
// (with the default argon2id parameters) through the handler chain of
// "propusk serve" (request ids, the request log formatted as text and
// written to nowhere), without a network, beside what each is held to: a
// bare JSON handler, the same plus one Ed25519 signature, and one argon2id
// hash. It is what the profiles of those paths are taken from:
//
//	go test ./web -run '^$' -bench Serve -count 5 -cpuprofile cpu.out
//
// Server CPU over HTTP, propusk and its limits each served by a process
// of its own, is what the load harness (go run ./internal/loadtest)
// measures.
func BenchmarkServe(b *testing.B) {
	ctx := context.Background()
	store, _ := testenv.Postgres(b)
	key := make([]byte, 32)
	rand.Read(key)
	discard := slog.New(slog.DiscardHandler)
	svc, err := auth.New(ctx, auth.Config{Store: store, MasterKey: key, Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := web.New(web.Config{Service: svc, Logger: discard})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(web.RequestLogHandler(io.Discard, false))
	h := web.RequestIDs(web.LogRequests(log, srv))
	if _, err := svc.Register(ctx, "alice", "correct horse", propusk.Client{}); err != nil {
		b.Fatal(err)
	}
	p, err := svc.Login(ctx, "alice", "correct horse", propusk.Client{})
	if err != nil {
		b.Fatal(err)
	}
	serve := func(b *testing.B, r *http.Request, want int) *httptest.ResponseRecorder {
		r.RemoteAddr = "127.0.0.1:4321"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			b.Fatalf("%s %s: %d %s", r.Method, r.URL, w.Code, w.Body)
		}
		return w
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	bare := func(w http.ResponseWriter, sign bool) {
		out := struct {
			OK  bool   `json:"ok"`
			Sig string `json:"sig,omitempty"`
		}{OK: true}
		if sign {
			out.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(strings.Repeat("x", 340))))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}
	b.Run("limit/bare", func(b *testing.B) {
		for b.Loop() {
			bare(httptest.NewRecorder(), false)
		}
	})
	b.Run("limit/bare+signature", func(b *testing.B) {
		for b.Loop() {
			bare(httptest.NewRecorder(), true)
		}
	})
	b.Run("token.obtain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("GET", "/api/v1/token.obtain", nil)
			r.Header.Set("X-Requested-With", "bench")
			serve(b, r, http.StatusOK)
		}
	})
	b.Run("token.obtain/browser", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(b, httptest.NewRequest("GET", "/api/v1/token.obtain", nil), http.StatusOK)
		}
	})
	// The chain of refresh tokens outlives one run of the sub-benchmark:
	// with -count, each run must go on from the last token, as spending
	// one twice revokes the session (and fails auth.verify after it).
	refresh := p.RefreshToken
	b.Run("token.renew", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("POST", "/api/v1/token.renew", strings.NewReader(`{"refreshToken":"`+refresh+`"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Requested-With", "bench")
			w := serve(b, r, http.StatusOK)
			var pair struct{ RefreshToken string }
			if err := json.Unmarshal(w.Body.Bytes(), &pair); err != nil {
				b.Fatal(err)
			}
			refresh = pair.RefreshToken
		}
	})
	b.Run("auth.verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("GET", "/api/v1/auth.verify?level=10", nil)
			r.Header.Set("X-Access-Token", p.AccessToken)
			r.Header.Set("X-Original-URI", "/page")
			serve(b, r, http.StatusOK)
		}
	})
	b.Run("limit/argon2id", func(b *testing.B) {
		for b.Loop() {
			salt := make([]byte, 16)
			rand.Read(salt)
			argon2.IDKey([]byte("correct horse"), salt, 2, 19*1024, 1, 32)
		}
	})
	b.Run("user.login", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest("POST", "/api/v1/user.login", strings.NewReader(`{"login":"alice","password":"correct horse"}`))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Requested-With", "bench")
			serve(b, r, http.StatusOK)
		}
	})
}
