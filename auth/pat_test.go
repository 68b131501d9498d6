package auth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for raw SQL as Laravel writes it

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/pat"
	"github.com/propusk/propusk/web"
)

// clock is the fake clock the tests move instead of sleeping.
type clock = testenv.Clock

func newClock() *clock { return testenv.NewClock(time.Time{}) }

// db is one database under test: the store, and a plain database/sql handle
// on the same database for what a Laravel app, or an attacker with a dump,
// would do with it.
type db struct {
	store propusk.Store
	raw   *sql.DB
	path  string // the SQLite file; "" for PostgreSQL
	// q rewrites a query with ? placeholders for this database.
	q func(string) string
}

var kinds = []struct {
	name string
	open func(t testing.TB) *db
}{
	{"sqlite", func(t testing.TB) *db {
		s, path := testenv.SQLite(t)
		raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return &db{store: s, raw: raw, path: path, q: func(q string) string { return q }}
	}},
	{"postgres", func(t testing.TB) *db {
		s, dsn := testenv.Postgres(t)
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return &db{store: s, raw: raw, q: dollars}
	}},
}

// dollars turns ? placeholders into PostgreSQL's $1, $2, ….
func dollars(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func forEachStore(t *testing.T, f func(t *testing.T, d *db)) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) { f(t, k.open(t)) })
	}
}

var cheapArgon = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func masterKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// newService returns a service over store on clk, with cheap argon2.
func newService(t testing.TB, store propusk.Store, clk *clock, key []byte, mod ...func(*auth.Config)) *auth.Service {
	t.Helper()
	cfg := auth.Config{Store: store, MasterKey: key, Now: clk.Now, Argon2: cheapArgon}
	for _, f := range mod {
		f(&cfg)
	}
	svc, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// twoProcesses returns two services over one store with one master key and
// clock, as two processes of one deployment are.
func twoProcesses(t *testing.T, store propusk.Store, clk *clock) (*auth.Service, *auth.Service) {
	t.Helper()
	key := masterKey()
	return newService(t, store, clk, key), newService(t, store, clk, key)
}

// register registers login with the password "correct horse" through svc.
func register(t *testing.T, svc *auth.Service, login string) *auth.Pair {
	t.Helper()
	reg, err := svc.Register(context.Background(), login, "correct horse", propusk.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// bearer authenticates tok as the middleware does for Authorization: Bearer.
func bearer(svc *auth.Service, tok string) (*propusk.Principal, error) {
	return svc.Authenticate(context.Background(), tok, propusk.ViaAccessToken)
}

func mustWork(t *testing.T, svc *auth.Service, tok string) *propusk.Principal {
	t.Helper()
	p, err := bearer(svc, tok)
	if err != nil {
		t.Fatalf("token %s… refused: %v", tok[:min(len(tok), 6)], err)
	}
	if p.Via != propusk.ViaAPIToken {
		t.Fatalf("Via = %q, want %q", p.Via, propusk.ViaAPIToken)
	}
	return p
}

func mustFail(t *testing.T, svc *auth.Service, tok string) {
	t.Helper()
	p, err := bearer(svc, tok)
	if err == nil {
		t.Fatalf("token %s… accepted as user %d", tok[:min(len(tok), 6)], p.UserID)
	}
	if propusk.ErrorCode(err) != propusk.ETOKENINVALID {
		t.Fatalf("token refused with %v, want %s", err, propusk.ETOKENINVALID)
	}
}

func secretOf(tok string) string {
	_, s, _ := strings.Cut(tok, "|")
	return s
}

func names(ts []*propusk.PersonalAccessToken) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%d:%s", t.ID, t.Name))
	}
	return out
}

func TestAPITokenLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		svc := newService(t, d.store, clk, masterKey())

		reg := register(t, svc, "alice")
		a1 := reg.APIToken
		p := mustWork(t, svc, a1)
		uid := p.UserID
		if !slices.Equal(p.Abilities, []string{"*"}) || !p.ExpiresAt.IsZero() {
			t.Fatalf("api-token: abilities %v, expires %v; want [*] and never", p.Abilities, p.ExpiresAt)
		}

		// A token the user names by hand survives every reissue.
		jwt, err := svc.Authenticate(ctx, reg.AccessToken, propusk.ViaAccessToken)
		if err != nil {
			t.Fatal(err)
		}
		ci, err := svc.CreateToken(ctx, jwt, "ci", nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		mustWork(t, svc, ci.PlainText)

		clk.Advance(time.Minute)
		login, err := svc.Login(ctx, "alice", "correct horse", propusk.Client{})
		if err != nil {
			t.Fatal(err)
		}
		a2 := login.APIToken
		mustFail(t, svc, a1) // was cached: the reissue evicts it at once
		mustWork(t, svc, a2)

		tokens := []string{a2}
		for _, reason := range []string{auth.ReasonCoursePurchase, auth.ReasonTariffPayment} {
			clk.Advance(time.Minute)
			next, err := svc.ReissueAPIToken(ctx, uid, reason)
			if err != nil {
				t.Fatalf("%s: %v", reason, err)
			}
			mustFail(t, svc, tokens[len(tokens)-1])
			mustWork(t, svc, next)
			tokens = append(tokens, next)
		}
		current := tokens[len(tokens)-1]
		mustWork(t, svc, ci.PlainText)

		ts, err := svc.Tokens(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		var cur int64
		fmt.Sscan(strings.Split(current, "|")[0], &cur)
		want := []string{fmt.Sprintf("%d:ci", ci.Token.ID), fmt.Sprintf("%d:api-token", cur)}
		if got := names(ts); !slices.Equal(got, want) {
			t.Fatalf("tokens = %v, want %v", got, want)
		}
		if got, err := svc.APIToken(ctx, uid); err != nil || got != current {
			t.Fatalf("APIToken = %q, %v; want the latest, %q", got, err, current)
		}

		// A user deleting the api-token by hand leaves the page none.
		if err := svc.DeleteToken(ctx, uid, cur); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.APIToken(ctx, uid); err != nil || got != "" {
			t.Fatalf("APIToken after delete = %q, %v; want none", got, err)
		}

		t.Run("fail/unknown-user", func(t *testing.T) {
			_, err := svc.ReissueAPIToken(ctx, uid+1000, auth.ReasonCoursePurchase)
			if propusk.ErrorCode(err) != propusk.ENOTFOUND {
				t.Fatalf("err = %v, want ENOTFOUND", err)
			}
		})
		t.Run("fail/bad-reason", func(t *testing.T) {
			for _, r := range []string{"", "drop table", strings.Repeat("x", 65), "курс"} {
				if _, err := svc.ReissueAPIToken(ctx, uid, r); propusk.ErrorCode(err) != propusk.EINVALID {
					t.Fatalf("reason %q: err = %v, want EINVALID", r, err)
				}
			}
		})
		t.Run("ok/other-users-untouched", func(t *testing.T) {
			bob := register(t, svc, "bob")
			if _, err := svc.ReissueAPIToken(ctx, uid, auth.ReasonTariffPayment); err != nil {
				t.Fatal(err)
			}
			mustWork(t, svc, bob.APIToken)
		})
	})
}

// TestAPITokenTTL: --api-token-ttl gives reissued tokens an expiry.
func TestAPITokenTTL(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		clk := newClock()
		svc := newService(t, d.store, clk, masterKey(), func(c *auth.Config) { c.APITokenTTL = time.Hour })
		reg := register(t, svc, "alice")
		if p := mustWork(t, svc, reg.APIToken); !p.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
			t.Fatalf("ExpiresAt = %v, want now+1h", p.ExpiresAt)
		}
		clk.Advance(time.Hour)
		mustFail(t, svc, reg.APIToken)
	})
}

// TestAPITokenSealed: users.api_token never holds the secret, and opens only
// under the sealing key of this database, for the user it was sealed for.
func TestAPITokenSealed(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		key := masterKey()
		svc := newService(t, d.store, clk, key)
		alice := register(t, svc, "alice")
		bob := register(t, svc, "bob")
		aliceID := mustWork(t, svc, alice.APIToken).UserID
		bobID := mustWork(t, svc, bob.APIToken).UserID

		var column string
		if err := d.raw.QueryRow(d.q(`SELECT api_token FROM users WHERE id = ?`), aliceID).Scan(&column); err != nil {
			t.Fatal(err)
		}
		secret := secretOf(alice.APIToken)
		if column == "" || strings.Contains(column, secret) || strings.Contains(column, secret[:40]) {
			t.Fatalf("users.api_token = %q holds the secret", column)
		}

		// Another process with the same master key reads it back.
		other := newService(t, d.store, clk, key)
		if got, err := other.APIToken(ctx, aliceID); err != nil || got != alice.APIToken {
			t.Fatalf("APIToken under the same key = %q, %v; want %q", got, err, alice.APIToken)
		}
		// A wrong master key cannot even start on this database, let alone
		// unseal the sealing key.
		if _, err := auth.New(ctx, auth.Config{Store: d.store, MasterKey: masterKey(), Now: clk.Now, Argon2: cheapArgon}); err == nil {
			t.Fatal("a service with another master key started on the database")
		}

		// Copied to another user's row, the value does not open: it is
		// bound to the row it was sealed for.
		if _, err := d.raw.Exec(d.q(`UPDATE users SET api_token = ? WHERE id = ?`), column, bobID); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.APIToken(ctx, bobID); err != nil || got != "" {
			t.Fatalf("alice's sealed api_token on bob's row opened as %q, %v", got, err)
		}
		// Tampered with, it does not open.
		i := len(column) - 5
		flipped := column[:i] + string(column[i]^1) + column[i+1:]
		if _, err := d.raw.Exec(d.q(`UPDATE users SET api_token = ? WHERE id = ?`), flipped, aliceID); err != nil {
			t.Fatal(err)
		}
		if got, err := svc.APIToken(ctx, aliceID); err != nil || got != "" {
			t.Fatalf("a tampered api_token opened as %q, %v", got, err)
		}
	})
}

// TestAbilitiesNarrow: a token can only hand on abilities it has.
func TestAbilitiesNarrow(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		svc := newService(t, d.store, newClock(), masterKey())
		reg := register(t, svc, "alice")
		full := mustWork(t, svc, reg.APIToken)
		read, err := svc.CreateToken(ctx, full, "reader", []string{"read"}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		rp := mustWork(t, svc, read.PlainText)
		if !rp.Can("read") || rp.Can("write") || rp.Can("*") {
			t.Fatalf("reader's abilities %v", rp.Abilities)
		}
		tests := []struct {
			name      string
			p         *propusk.Principal
			abilities []string
			code      string
		}{
			{"fail/read-to-star", rp, []string{"*"}, propusk.EFORBIDDEN},
			{"fail/read-to-write", rp, []string{"write"}, propusk.EFORBIDDEN},
			{"fail/read-to-read-write", rp, []string{"read", "write"}, propusk.EFORBIDDEN},
			{"fail/read-default-is-star", rp, nil, propusk.EFORBIDDEN},
			{"ok/read-to-read", rp, []string{"read"}, ""},
			{"ok/star-to-anything", full, []string{"write", "tokens:reissue"}, ""},
			{"fail/empty-ability", full, []string{""}, propusk.EINVALID},
			{"fail/control-char", full, []string{"a\nb"}, propusk.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				nt, err := svc.CreateToken(ctx, tt.p, "child", tt.abilities, time.Time{})
				if propusk.ErrorCode(err) != tt.code && !(tt.code == "" && err == nil) {
					t.Fatalf("CreateToken(%v) = %v, want %q", tt.abilities, err, tt.code)
				}
				if err == nil && !slices.Equal(nt.Token.Abilities, tt.abilities) {
					t.Fatalf("abilities = %v, want %v", nt.Token.Abilities, tt.abilities)
				}
			})
		}
		t.Run("fail/anonymous", func(t *testing.T) {
			if _, err := svc.CreateToken(ctx, &propusk.Principal{Level: 0}, "x", nil, time.Time{}); propusk.ErrorCode(err) != propusk.EFORBIDDEN {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

// TestDeleteStopsCachedToken: a deleted token stops at once in this process,
// and in another as soon as it reads the feed (Run does that within the poll
// interval; SyncFeed does it now).
func TestDeleteStopsCachedToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		svc, other := twoProcesses(t, d.store, clk)
		reg := register(t, svc, "alice")
		p := mustWork(t, svc, reg.APIToken)
		nt, err := svc.CreateToken(ctx, p, "ci", nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		mustWork(t, svc, nt.PlainText)
		mustWork(t, other, nt.PlainText)
		mustWork(t, other, secretOf(nt.PlainText)) // cached by hash too

		if err := svc.DeleteToken(ctx, p.UserID, nt.Token.ID); err != nil {
			t.Fatal(err)
		}
		mustFail(t, svc, nt.PlainText)
		mustFail(t, svc, secretOf(nt.PlainText))
		if err := other.SyncFeed(ctx); err != nil {
			t.Fatal(err)
		}
		mustFail(t, other, nt.PlainText)
		mustFail(t, other, secretOf(nt.PlainText))

		if err := svc.DeleteToken(ctx, p.UserID, nt.Token.ID); propusk.ErrorCode(err) != propusk.ENOTFOUND {
			t.Fatalf("second delete: %v, want ENOTFOUND", err)
		}
		bob := register(t, svc, "bob")
		mustWork(t, svc, bob.APIToken)
		if err := svc.DeleteToken(ctx, p.UserID, mustID(t, bob.APIToken)); propusk.ErrorCode(err) != propusk.ENOTFOUND {
			t.Fatalf("deleting another user's token: %v, want ENOTFOUND", err)
		}
		mustWork(t, svc, bob.APIToken)
	})
}

func mustID(t *testing.T, tok string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(strings.Split(tok, "|")[0], &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestExpiredTokenRefused: expiry holds for a cached token too.
func TestExpiredTokenRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		key := masterKey()
		svc := newService(t, d.store, clk, key)
		reg := register(t, svc, "alice")
		p := mustWork(t, svc, reg.APIToken)
		if _, err := svc.CreateToken(ctx, p, "past", nil, clk.Now()); propusk.ErrorCode(err) != propusk.EINVALID {
			t.Fatalf("a token expiring now: %v, want EINVALID", err)
		}
		nt, err := svc.CreateToken(ctx, p, "day", nil, clk.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		mustWork(t, svc, nt.PlainText)
		clk.Advance(24*time.Hour - time.Second)
		mustWork(t, svc, nt.PlainText)
		clk.Advance(time.Second)
		mustFail(t, svc, nt.PlainText)
		// A fresh process, with nothing cached, refuses it as well.
		mustFail(t, newService(t, d.store, clk, key), nt.PlainText)
	})
}

// TestLaravelRow: a row inserted the way Laravel Sanctum writes it (no
// prefix, no checksum, tokenable_type App\Models\User, Laravel's timestamp
// format) authenticates, as "<id>|<secret>" and as the bare secret.
func TestLaravelRow(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		svc := newService(t, d.store, clk, masterKey())
		u, err := svc.CreateUser(ctx, "taylor", "correct horse", propusk.LevelUser, nil)
		if err != nil {
			t.Fatal(err)
		}
		insert := func(typ, secret, abilities string, expires any) int64 {
			sum := sha256.Sum256([]byte(secret))
			var id int64
			err := d.raw.QueryRow(d.q(`INSERT INTO personal_access_tokens
				(tokenable_type, tokenable_id, name, token, abilities, last_used_at, expires_at, created_at, updated_at)
				VALUES (?, ?, 'laravel', ?, ?, NULL, ?, '2024-05-01 10:00:00', '2024-05-01 10:00:00') RETURNING id`),
				typ, u.ID, hex.EncodeToString(sum[:]), abilities, expires).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			return id // works here at once: no clock moves
		}
		// Str::random(40), as Sanctum 2 and 3 made them.
		const secret = "Xk2fQ9bLm3Np7Rt1Vw5Yz8Ac4Ed6Gh0Jk2Mn4PqR"
		id := insert(`App\Models\User`, secret, `["*"]`, nil)

		for _, tok := range []string{fmt.Sprintf("%d|%s", id, secret), secret} {
			p := mustWork(t, svc, tok)
			if p.UserID != u.ID || !slices.Equal(p.Abilities, []string{"*"}) || p.TokenID != fmt.Sprint(id) {
				t.Fatalf("%s: principal %+v", tok, p)
			}
		}
		ts, err := svc.Tokens(ctx, u.ID)
		if err != nil || len(ts) != 1 || ts[0].ID != id || !ts[0].CreatedAt.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("Tokens = %v, %v", ts, err)
		}

		// Abilities as Laravel stores them narrow here too.
		const readSecret = "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3A"
		rid := insert(`App\Models\User`, readSecret, `["read"]`, "2099-01-01 00:00:00")
		if p := mustWork(t, svc, fmt.Sprintf("%d|%s", rid, readSecret)); !p.Can("read") || p.Can("write") ||
			!p.ExpiresAt.Equal(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("abilities %v, expires %v", p.Abilities, p.ExpiresAt)
		}
		const pastSecret = "Zz1Yy2Xx3Ww4Vv5Uu6Tt7Ss8Rr9Qq0Pp1Oo2Nn3M"
		pid := insert(`App\Models\User`, pastSecret, `["*"]`, "2020-01-01 00:00:00")
		mustFail(t, svc, fmt.Sprintf("%d|%s", pid, pastSecret))

		// A token of another Eloquent model is not a user's.
		const adminSecret = "Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Q"
		aid := insert(`App\Models\Admin`, adminSecret, `["*"]`, nil)
		mustFail(t, svc, fmt.Sprintf("%d|%s", aid, adminSecret))
		mustFail(t, svc, adminSecret)
		// The right id with another token's secret is refused.
		mustFail(t, svc, fmt.Sprintf("%d|%s", id, readSecret))
	})
}

// countingStore counts the calls that write, and the ones that read
// personal access tokens, passing everything on.
type countingStore struct {
	propusk.Store
	writes  atomic.Int64
	reads   atomic.Int64
	touches atomic.Int64 // TouchTokens calls
	mu      sync.Mutex
	touched []map[int64]time.Time
}

func (c *countingStore) w() { c.writes.Add(1) }

func (c *countingStore) CreateUser(ctx context.Context, u *propusk.User) error {
	c.w()
	return c.Store.CreateUser(ctx, u)
}
func (c *countingStore) CreateSession(ctx context.Context, s *propusk.Session) error {
	c.w()
	return c.Store.CreateSession(ctx, s)
}
func (c *countingStore) RenewSession(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, cl propusk.Client) (*propusk.Renewal, error) {
	c.w()
	return c.Store.RenewSession(ctx, sp, now, grace, ttl, cl)
}
func (c *countingStore) RevokeSession(ctx context.Context, id string, userID int64, now time.Time) error {
	c.w()
	return c.Store.RevokeSession(ctx, id, userID, now)
}
func (c *countingStore) CreateToken(ctx context.Context, t *propusk.PersonalAccessToken) error {
	c.w()
	return c.Store.CreateToken(ctx, t)
}
func (c *countingStore) DeleteToken(ctx context.Context, typ string, userID, id int64) error {
	c.w()
	return c.Store.DeleteToken(ctx, typ, userID, id)
}
func (c *countingStore) ReplaceNamedToken(ctx context.Context, t *propusk.PersonalAccessToken, sealed string) ([]int64, error) {
	c.w()
	return c.Store.ReplaceNamedToken(ctx, t, sealed)
}
func (c *countingStore) TouchTokens(ctx context.Context, used map[int64]time.Time) error {
	c.w()
	c.touches.Add(1)
	c.mu.Lock()
	c.touched = append(c.touched, used)
	c.mu.Unlock()
	return c.Store.TouchTokens(ctx, used)
}
func (c *countingStore) AddKeys(ctx context.Context, keys ...*propusk.Key) error {
	c.w()
	return c.Store.AddKeys(ctx, keys...)
}
func (c *countingStore) DeleteKeys(ctx context.Context, ids ...string) error {
	c.w()
	return c.Store.DeleteKeys(ctx, ids...)
}
func (c *countingStore) Prune(ctx context.Context, before time.Time) error {
	c.w()
	return c.Store.Prune(ctx, before)
}
func (c *countingStore) SetMetaOnce(ctx context.Context, name, value string) (string, error) {
	c.w()
	return c.Store.SetMetaOnce(ctx, name, value)
}
func (c *countingStore) Token(ctx context.Context, id int64) (*propusk.PersonalAccessToken, error) {
	c.reads.Add(1)
	return c.Store.Token(ctx, id)
}
func (c *countingStore) TokenByHash(ctx context.Context, hash string) (*propusk.PersonalAccessToken, error) {
	c.reads.Add(1)
	return c.Store.TokenByHash(ctx, hash)
}

func (c *countingStore) LastTokenID(ctx context.Context) (int64, error) {
	c.reads.Add(1)
	return c.Store.LastTokenID(ctx)
}

// madeUp returns a personal access token for id with a fresh secret whose
// checksum is right, as anyone can make one.
func madeUp(t testing.TB, id int64) string {
	t.Helper()
	secret, err := pat.NewSecret(rand.Reader, "")
	if err != nil {
		t.Fatal(err)
	}
	return pat.Format(id, secret)
}

// TestMadeUpTokensNoReads: a flood of personal access tokens with a valid
// checksum and an id that does not exist costs the store no more as it
// grows. Ids above the highest (far above, the very next ones to be issued,
// the same one over and over, the largest) each wait for a read of the
// highest id that began after they arrived, and share it: the reads are
// bounded by the pacing, at most one per patReadEvery of the flood's real
// time (100 a second) plus two, not by the number of tokens. A deleted id
// costs one read, then none, and so does one bare secret (no "<id>|") sent
// over and over.
func TestMadeUpTokensNoReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		cs := &countingStore{Store: d.store}
		svc := newService(t, cs, clk, masterKey())
		reg := register(t, svc, "alice")
		alice := mustWork(t, svc, reg.APIToken)
		next := mustID(t, reg.APIToken) + 1
		var deleted []int64
		for i := range 20 {
			nt, err := svc.CreateToken(ctx, alice, fmt.Sprint("gone", i), nil, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.DeleteToken(ctx, alice.UserID, nt.Token.ID); err != nil {
				t.Fatal(err)
			}
			deleted = append(deleted, nt.Token.ID)
			next = nt.Token.ID + 1
		}
		// A deleted token still in use, sent without its "<id>|".
		gone, err := svc.CreateToken(ctx, alice, "gone-bare", nil, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteToken(ctx, alice.UserID, gone.Token.ID); err != nil {
			t.Fatal(err)
		}
		next = gone.Token.ID + 1
		same := madeUp(t, next+7)

		const paced = -1 // reads bounded by the flood's duration, not a count
		floods := []struct {
			name     string
			token    func(i int) string
			maxReads int64
		}{
			{"far-above", func(i int) string { return madeUp(t, 1_000_000_000_000+int64(i)) }, paced},
			{"next-ids", func(i int) string { return madeUp(t, next+int64(i)) }, paced},
			{"same-id", func(int) string { return same }, paced},
			{"huge-id", func(i int) string { return madeUp(t, math.MaxInt64-int64(i)) }, paced},
			{"deleted-ids", func(i int) string { return madeUp(t, deleted[i%len(deleted)]) }, int64(len(deleted))},
			{"same-bare-secret", func(int) string { return secretOf(same) }, 1},
			{"deleted-bare-secret", func(int) string { return secretOf(gone.PlainText) }, 1},
		}
		for _, f := range floods {
			clk.Advance(time.Minute) // nothing remembered from the flood before
			reads := cs.reads.Load()
			start := time.Now()
			refuse := func(i int) bool {
				if _, err := bearer(svc, f.token(i)); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
					t.Errorf("%s: made-up token %d: %v, want ETOKENINVALID", f.name, i, err)
					return false
				}
				return true
			}
			if f.maxReads == paced {
				// Each waits about patReadEvery: 200 callers, 25 each.
				var wg sync.WaitGroup
				for g := range 200 {
					wg.Go(func() {
						for i := range 25 {
							if !refuse(g*25 + i) {
								return
							}
						}
					})
				}
				wg.Wait()
			} else {
				for i := range 5000 {
					if !refuse(i) {
						break
					}
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			most := f.maxReads
			if most == paced {
				most = int64(time.Since(start)/auth.PATReadEvery) + 2
			}
			got := cs.reads.Load() - reads
			if got > most {
				t.Fatalf("%s: 5000 made-up tokens read the store %d times, want at most %d", f.name, got, most)
			}
			t.Logf("%s: 5000 made-up tokens, %d reads in %v", f.name, got, time.Since(start).Round(time.Millisecond))
		}
	})
}

// TestNewTokenAfterMadeUpFlood: a negative answer never outlives the
// token's creation. Right after a flood of the very ids about to be
// issued, a token created in this process works at once, however it was
// made (CreateToken, the api-token lifecycle, registration, login), and so
// it does at once in another process, though the flood has just made that
// one read the highest id, and no clock moves.
func TestNewTokenAfterMadeUpFlood(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		svc, other := twoProcesses(t, d.store, clk)
		reg := register(t, svc, "alice")
		alice := mustWork(t, svc, reg.APIToken)
		flood := func(svc *auth.Service) {
			t.Helper()
			last, err := d.store.LastTokenID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range int64(50) {
				tok := madeUp(t, last+1+i)
				wg.Go(func() {
					if _, err := bearer(svc, tok); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
						t.Errorf("made-up token %d: %v, want ETOKENINVALID", last+1+i, err)
					}
				})
			}
			wg.Wait()
		}
		made := map[string]func() string{
			"CreateToken": func() string {
				nt, err := svc.CreateToken(ctx, alice, "ci", nil, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				return nt.PlainText
			},
			"ReissueAPIToken": func() string {
				tok, err := svc.ReissueAPIToken(ctx, alice.UserID, auth.ReasonCoursePurchase)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			},
			"Register": func() string {
				p, err := svc.Register(ctx, fmt.Sprint("user", clk.Now().UnixNano()), "correct horse", propusk.Client{})
				if err != nil {
					t.Fatal(err)
				}
				return p.APIToken
			},
			"Login": func() string {
				p, err := svc.Login(ctx, "alice", "correct horse", propusk.Client{})
				if err != nil {
					t.Fatal(err)
				}
				return p.APIToken
			},
		}
		for name, mk := range made {
			t.Run(name, func(t *testing.T) {
				clk.Advance(time.Minute)
				flood(svc)
				flood(other)
				tok := mk()
				mustWork(t, svc, tok)
				mustWork(t, svc, secretOf(tok))
				mustWork(t, other, tok)
				mustWork(t, other, secretOf(tok))
			})
		}
	})
}

// TestNoWritesOnRequestPath: 10,000 requests authenticated by a personal
// access token, through the HTTP middleware, write nothing to the database;
// Flush then records last_used_at once, coalesced. (Laravel Sanctum updates
// the row on every request.)
func TestNoWritesOnRequestPath(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		cs := &countingStore{Store: d.store}
		svc := newService(t, cs, clk, masterKey())
		srv, err := web.New(web.Config{Service: svc})
		if err != nil {
			t.Fatal(err)
		}
		reg := register(t, svc, "alice")
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		writes, reads := cs.writes.Load(), cs.reads.Load()

		const n = 10000
		var last time.Time
		for i := range n {
			clk.Advance(time.Millisecond)
			last = clk.Now()
			r := httptest.NewRequest("GET", "/api/v1/user.me", nil)
			r.Header.Set("Authorization", "Bearer "+reg.APIToken)
			r.Header.Set("X-Requested-With", "XMLHttpRequest")
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"via":"api-token"`) {
				t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
			}
		}
		if got := cs.writes.Load() - writes; got != 0 {
			t.Fatalf("%d requests made %d store writes, want 0", n, got)
		}
		if got := cs.reads.Load() - reads; got > 1 {
			t.Fatalf("%d requests read the token %d times, want at most 1 (cache)", n, got)
		}

		touches := cs.touches.Load()
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := cs.touches.Load() - touches; got != 1 {
			t.Fatalf("Flush called TouchTokens %d times, want 1", got)
		}
		used := cs.touched[len(cs.touched)-1]
		id := mustID(t, reg.APIToken)
		// last_used_at is kept to the second, as Laravel keeps it.
		if len(used) != 1 || !used[id].Truncate(time.Second).Equal(last.Truncate(time.Second)) {
			t.Fatalf("Flush wrote %v, want {%d: %v}", used, id, last)
		}
		tok, err := d.store.Token(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !tok.LastUsedAt.Equal(last.Truncate(time.Second)) {
			t.Fatalf("last_used_at = %v, want %v", tok.LastUsedAt, last.Truncate(time.Second))
		}
		// Nothing new: nothing written.
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := cs.touches.Load() - touches; got != 1 {
			t.Fatalf("an idle Flush wrote (%d TouchTokens calls)", got)
		}
	})
}

// TestNoSecretAtRest runs a full lifecycle on SQLite and PostgreSQL and
// searches everything stored for every secret handed out: the SQLite files'
// bytes (database, WAL, shared memory), and every row of every PostgreSQL
// table.
func TestNoSecretAtRest(t *testing.T) {
	forEachStore(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		clk := newClock()
		svc := newService(t, d.store, clk, masterKey())
		var issued []string
		reg := register(t, svc, "alice")
		issued = append(issued, reg.APIToken)
		p := mustWork(t, svc, reg.APIToken)
		login, err := svc.Login(ctx, "alice", "correct horse", propusk.Client{})
		if err != nil {
			t.Fatal(err)
		}
		issued = append(issued, login.APIToken)
		for _, name := range []string{"ci", "deploy"} {
			nt, err := svc.CreateToken(ctx, p, name, []string{"read"}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			issued = append(issued, nt.PlainText)
			mustWork(t, svc, nt.PlainText)
		}
		if err := svc.DeleteToken(ctx, p.UserID, mustID(t, issued[len(issued)-1])); err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{auth.ReasonCoursePurchase, auth.ReasonTariffPayment} {
			tok, err := svc.ReissueAPIToken(ctx, p.UserID, r)
			if err != nil {
				t.Fatal(err)
			}
			issued = append(issued, tok)
			mustWork(t, svc, tok)
		}
		if _, err := svc.APIToken(ctx, p.UserID); err != nil {
			t.Fatal(err)
		}
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}

		var dump []byte
		if d.path != "" {
			// Read the files as they are (the WAL holds recent pages), then
			// again after closing, which checkpoints into the main file.
			dump = sqliteFiles(t, d.path)
			d.raw.Close()
			if err := d.store.Close(); err != nil {
				t.Fatal(err)
			}
			dump = append(dump, sqliteFiles(t, d.path)...)
		} else {
			dump = pgDump(t, d.raw)
		}
		// The dump is real: it holds each current token's hash.
		if !bytes.Contains(dump, []byte(hashOf(secretOf(issued[len(issued)-1])))) {
			t.Fatal("the dump lacks the current api-token's hash: it is not the database")
		}
		for _, tok := range issued {
			secret := secretOf(tok)
			for _, needle := range []string{secret, secret[:40], secret[8:]} {
				if bytes.Contains(dump, []byte(needle)) {
					t.Fatalf("the database holds the plain-text secret of %s…", tok[:4])
				}
			}
		}
	})
}

func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func sqliteFiles(t *testing.T, path string) []byte {
	t.Helper()
	var out []byte
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	if len(out) == 0 {
		t.Fatal("no database file")
	}
	return out
}

// pgDump returns every row of every table in the test's schema as JSON text.
func pgDump(t *testing.T, raw *sql.DB) []byte {
	t.Helper()
	rows, err := raw.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatal("no tables in the schema")
	}
	var out []byte
	for _, tb := range tables {
		rows, err := raw.Query(`SELECT row_to_json(x)::text FROM "` + tb + `" x`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s...)
			out = append(out, '\n')
		}
		rows.Close()
	}
	return out
}
