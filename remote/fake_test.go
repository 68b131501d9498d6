package remote_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/propusk/propusk/remote"
	"github.com/propusk/propusk/token"
)

// fakePAT is the stream credential the fake propusk accepts.
const fakePAT = "1|fakefakefakefakefakefakefakefakefakefake"

// fake is a stand-in for propusk: its JWKS, and a revocation stream the
// test writes to, per the contract of docs/API.md. Tests against the real
// binary are in process_test.go.
type fake struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	keys     *token.Keyset
	signer   *token.Tokens
	key      token.AccessKey // the signing key
	jwksHits atomic.Int32
	hang     atomic.Bool // the JWKS and the stream never answer
	silent   atomic.Bool // the stream sends nothing, not even pings
	conns    chan *conn  // each stream connection, as it opens
	lastConn atomic.Pointer[conn]
}

// conn is one connection to the fake stream.
type conn struct {
	lastEventID, after string
	send               chan string   // raw SSE text to write
	drop               chan struct{} // closed: the server ends the response
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, conns: make(chan *conn, 100)}
	f.rotate(true)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.jwksHits.Add(1)
		if f.hang.Load() {
			<-r.Context().Done()
			return
		}
		f.mu.Lock()
		b := f.keys.JWKS()
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("GET /api/v1/revocations", func(w http.ResponseWriter, r *http.Request) {
		if f.hang.Load() {
			<-r.Context().Done()
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+fakePAT {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":"token_invalid","message":"the token is invalid"}`)
			return
		}
		c := &conn{lastEventID: r.Header.Get("Last-Event-ID"), after: r.URL.Query().Get("after"), send: make(chan string, 16), drop: make(chan struct{})}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fmt.Fprint(w, "retry: 20\n\n")
		w.(http.Flusher).Flush()
		f.lastConn.Store(c)
		f.conns <- c
		ping := time.NewTicker(50 * time.Millisecond)
		defer ping.Stop()
		for {
			select {
			case s := <-c.send:
				fmt.Fprint(w, s)
			case <-ping.C:
				if f.silent.Load() {
					continue
				}
				fmt.Fprint(w, ": ping\n\n")
			case <-c.drop:
				return
			case <-r.Context().Done():
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// rotate makes a new signing key; keepOld keeps the previous ones in the JWKS.
func (f *fake) rotate(keepOld bool) {
	f.t.Helper()
	now := time.Now()
	a, r := newKeys(f.t, now)
	access := []token.AccessKey{a}
	if keepOld && f.key.ID != "" {
		access = append(access, f.key)
	}
	ks, err := token.NewKeyset(access, []token.RefreshKey{r})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.keys, f.key = ks, a
	f.signer = token.New(ks, token.Config{Rand: rand.Reader})
	f.mu.Unlock()
}

// access signs an access token for user uid (0: anonymous) of session sid,
// issued at iat, living ttl.
func (f *fake) access(uid int64, level int, boards []string, sid string, iat time.Time, ttl time.Duration) string {
	f.t.Helper()
	f.mu.Lock()
	signer := f.signer
	f.mu.Unlock()
	s, err := signer.SignAccess(&token.AccessClaims{
		IssuedAt: token.NewNumericDate(iat), ExpiresAt: token.NewNumericDate(iat.Add(ttl)),
		SessionID: sid, UserID: uid, Level: level, Boards: boards,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// signRaw signs claims with the current key and the given typ and kid, for
// tokens propusk would never issue.
func (f *fake) signRaw(typ, kid string, claims jwt.MapClaims) string {
	f.mu.Lock()
	k := f.key
	f.mu.Unlock()
	if kid == "" {
		kid = k.ID
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["typ"], tok.Header["kid"] = typ, kid
	s, err := tok.SignedString(k.Private)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// nextConn waits for the next stream connection.
func (f *fake) nextConn() *conn {
	f.t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(10 * time.Second):
		f.t.Fatal("the verifier did not connect to the stream")
		return nil
	}
}

// start returns a running Verifier of f with cfg's timings, once it is ready,
// and the first stream connection.
func (f *fake) start(cfg remote.Config) (*remote.Verifier, *conn) {
	f.t.Helper()
	cfg.URL = f.srv.URL
	if cfg.Token == "" {
		cfg.Token = fakePAT
	}
	if cfg.RefetchInterval == 0 {
		cfg.RefetchInterval = 50 * time.Millisecond
	}
	v, err := remote.New(context.Background(), cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	f.t.Cleanup(func() { cancel(); <-done })
	c := f.nextConn()
	select {
	case <-v.Ready():
	case <-time.After(10 * time.Second):
		f.t.Fatal("the verifier did not become ready")
	}
	return v, c
}

// eventually polls cond every 10 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// newKeys makes an access and a refresh key created at now, as propusk's
// own key rotation does.
func newKeys(t testing.TB, now time.Time) (token.AccessKey, token.RefreshKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	aid, err := token.NewKeyID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rid, err := token.NewKeyID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	return token.AccessKey{ID: aid, Private: priv, Public: pub, CreatedAt: now},
		token.RefreshKey{ID: rid, Secret: secret, CreatedAt: now}
}
