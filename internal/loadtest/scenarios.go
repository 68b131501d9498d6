package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one kind of request the harness sends, over and over.
type scenario struct {
	Name  string // its name on the page and in the plots
	About string // what one request is, for the page
	// accounts: each worker signs in as a user of its own first, and
	// sends that user's tokens.
	accounts bool
	// limit, if any, is what the scenario's cost is held to, served by
	// the bare process: its rounds alternate with the scenario's as the
	// bare handler's do.
	limit *scenario
	// hashes: each request computes a password hash, some 30 ms of CPU,
	// so a round lasts hashRounds rounds' length, or it would hold too
	// few requests (and too few 10 ms ticks of CPU time) to say much.
	hashes bool
	do     func(ctx context.Context, t *target, w int) (outcome, error)
}

// hashRounds is how many rounds' length a round of a hashing scenario
// lasts.
const hashRounds = 3

// length is how long a round of sc lasts when rounds last round.
func (sc scenario) length(round time.Duration) time.Duration {
	if sc.hashes {
		return hashRounds * round
	}
	return round
}

// scenarios are measured in this order, each beside the bare handler.
var scenarios = []scenario{
	{Name: "token.obtain", About: "`GET /api/v1/token.obtain` with no credentials: an anonymous pair, nothing written", limit: &signScenario, do: obtain},
	{Name: "token.renew", About: "`POST /api/v1/token.renew`, each worker renewing its own session's refresh token: one rotation, a new pair", accounts: true, do: renew},
	{Name: "user.me (JWT)", About: "`GET /api/v1/user.me` with the worker's access token in `X-Access-Token`", accounts: true, do: meJWT},
	{Name: "user.me (PAT)", About: "`GET /api/v1/user.me` with the worker's api-token (a personal access token) as `Authorization: Bearer`", accounts: true, do: mePAT},
	{Name: "auth.verify", About: "`GET /api/v1/auth.verify?level=10` with the worker's access token and `X-Original-URI`, as nginx `auth_request` sends it", accounts: true, do: verify},
	{Name: "user.login", About: "`POST /api/v1/user.login` as a random seeded user: one argon2id check, a new session and api-token", limit: &hashScenario, hashes: true, do: login},
	{Name: "user.register", About: "`POST /api/v1/user.register` of a new login: one argon2id hash, a user, a session and an api-token", limit: &hashScenario, hashes: true, do: register},
}

// bareScenario is the bare handler's request: the baseline of every round.
var bareScenario = scenario{Name: "bare", About: "`GET /` on a bare `net/http` handler that encodes a small JSON object", do: bare}

// signScenario and hashScenario are the limits, served by the bare
// process beside its handler: nothing answers token.obtain with less work
// than bare + one signature (its refresh token is an HMAC), nor a login or
// a registration with less than one hash.
var (
	signScenario = scenario{Name: "sign", About: "`GET /sign` on the bare process: the bare answer plus one Ed25519 signature of a 300-byte message (an access token's header and claims)", do: signLimit}
	hashScenario = scenario{Name: "hash", About: "`POST /hash` on the bare process with a password: the bare answer plus one argon2id hash with propusk's parameters, read from a hash it wrote", hashes: true, do: hashLimit}
)

// limits are the limit scenarios, in the order the page lists them.
var limits = []scenario{signScenario, hashScenario}

func scenarioNamed(name string) scenario {
	s, ok := lookupScenario(name)
	if !ok {
		panic("no scenario " + name)
	}
	return s
}

// lookupScenario returns the scenario of the main table called name.
func lookupScenario(name string) (scenario, bool) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// target is one propusk server under load and what its workers hold.
type target struct {
	base     string // http://127.0.0.1:port of propusk
	bareURL  string // of the bare process: its handler and the limits
	client   *http.Client
	password string // of every seeded user
	*accountSet

	loginLo, loginHi int // seeded users user.login picks from: [lo, hi)
	regPrefix        string
	regN             atomic.Int64
}

// accountSet is what the workers of a target hold. Two processes serving
// one database may share it: each accepts what the other signed, and
// signing a user in again would revoke the api-token the other holds.
type accountSet struct {
	mu       sync.Mutex
	accounts []*account // worker w's, made when first needed
	first    int        // worker w signs in as seeded user first+w
}

// account is a worker's signed-in user.
type account struct {
	access, refresh, pat string
}

// ensureAccounts signs workers 0…n-1 in, each as seeded user first+w,
// unless it already is.
func (t *target) ensureAccounts(ctx context.Context, n int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.accounts) < n {
		t.accounts = append(t.accounts, nil)
	}
	for w := range n {
		if t.accounts[w] != nil && t.accounts[w].refresh != "" {
			continue
		}
		p, err := t.signIn(ctx, seedLogin(t.first+w))
		if err != nil {
			return fmt.Errorf("sign worker %d in: %w", w, err)
		}
		t.accounts[w] = p
	}
	return nil
}

// signIn logs login in and returns its tokens.
func (t *target) signIn(ctx context.Context, login string) (*account, error) {
	status, body, err := t.call(ctx, "POST", t.base+"/api/v1/user.login", jsonBody{"login": login, "password": t.password}, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("user.login %s: %d %s", login, status, body)
	}
	var p struct{ AccessToken, RefreshToken, APIToken string }
	if err := json.Unmarshal(body, &p); err != nil || p.AccessToken == "" || p.APIToken == "" {
		return nil, fmt.Errorf("user.login %s: unreadable answer %.200s", login, body)
	}
	return &account{access: p.AccessToken, refresh: p.RefreshToken, pat: p.APIToken}, nil
}

type jsonBody map[string]string

// call sends one request with X-Requested-With, as a script does, so that
// propusk answers JSON and never a redirect.
func (t *target) call(ctx context.Context, method, url string, body jsonBody, header map[string]string) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Requested-With", "loadtest")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := t.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, b, nil
}

// expect turns an answer into an outcome.
func expect(want, status int, body []byte) outcome {
	if status == want {
		return outcome{ok: true}
	}
	return outcome{detail: fmt.Sprintf("%d %.300s", status, body)}
}

func bare(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "GET", t.bareURL+"/", nil, nil)
	return expect(http.StatusOK, status, body), err
}

func signLimit(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "GET", t.bareURL+"/sign", nil, nil)
	return expect(http.StatusOK, status, body), err
}

func hashLimit(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "POST", t.bareURL+"/hash", jsonBody{"password": t.password}, nil)
	return expect(http.StatusOK, status, body), err
}

func obtain(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "GET", t.base+"/api/v1/token.obtain", nil, nil)
	return expect(http.StatusOK, status, body), err
}

func renew(ctx context.Context, t *target, w int) (outcome, error) {
	a := t.accounts[w]
	status, body, err := t.call(ctx, "POST", t.base+"/api/v1/token.renew", jsonBody{"refreshToken": a.refresh}, nil)
	if err != nil {
		return outcome{}, err
	}
	o := expect(http.StatusOK, status, body)
	if !o.ok {
		a.refresh = "" // spent or refused: sign in again before the next round
		o.stop = true
		return o, nil
	}
	var p struct{ AccessToken, RefreshToken string }
	if err := json.Unmarshal(body, &p); err != nil || p.RefreshToken == "" {
		return outcome{}, fmt.Errorf("token.renew: unreadable answer %.200s", body)
	}
	a.access, a.refresh = p.AccessToken, p.RefreshToken
	return o, nil
}

func meJWT(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "GET", t.base+"/api/v1/user.me", nil, map[string]string{"X-Access-Token": t.accounts[w].access})
	return expect(http.StatusOK, status, body), err
}

func mePAT(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "GET", t.base+"/api/v1/user.me", nil, map[string]string{"Authorization": "Bearer " + t.accounts[w].pat})
	return expect(http.StatusOK, status, body), err
}

func verify(ctx context.Context, t *target, w int) (outcome, error) {
	status, body, err := t.call(ctx, "GET", t.base+"/api/v1/auth.verify?level=10", nil,
		map[string]string{"X-Access-Token": t.accounts[w].access, "X-Original-URI": "/app/page", "X-Original-Method": "GET"})
	return expect(http.StatusOK, status, body), err
}

func login(ctx context.Context, t *target, w int) (outcome, error) {
	i := t.loginLo + rand.IntN(t.loginHi-t.loginLo)
	status, body, err := t.call(ctx, "POST", t.base+"/api/v1/user.login", jsonBody{"login": seedLogin(i), "password": t.password}, nil)
	return expect(http.StatusOK, status, body), err
}

func register(ctx context.Context, t *target, w int) (outcome, error) {
	l := fmt.Sprintf("%s%d", t.regPrefix, t.regN.Add(1))
	status, body, err := t.call(ctx, "POST", t.base+"/api/v1/user.register", jsonBody{"login": l, "password": t.password}, nil)
	return expect(http.StatusCreated, status, body), err
}
