package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/sqlite"
)

func openSQLite(t *testing.T) propusk.Store {
	s, _ := testenv.SQLite(t)
	return s
}

func key(t *testing.T) []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func TestPasswordHash(t *testing.T) {
	var p Argon2Params
	p.fill()
	h, err := hashPassword(rand.Reader, p, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	cases := []struct {
		name, hash, password string
		ok                   bool
		err                  bool
	}{
		{"ok/right", h, "correct horse", true, false},
		{"fail/wrong", h, "correct horse ", false, false},
		{"fail/empty", h, "", false, false},
		{"fail/argon2d", "$argon2d$v=19$m=1,t=1,p=1$AAAA$AAAA", "x", false, true},
		{"fail/garbage", "plaintext", "plaintext", false, true},
		{"fail/huge-memory", "$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := checkPassword(c.hash, c.password)
			if ok != c.ok || (err != nil) != c.err {
				t.Fatalf("ok %v err %v", ok, err)
			}
		})
	}
}

func TestMasterKeyMismatch(t *testing.T) {
	store := openSQLite(t)
	if _, err := New(context.Background(), Config{Store: store, MasterKey: key(t)}); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), Config{Store: store, MasterKey: key(t)})
	if err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("a second master key must be refused clearly: %v", err)
	}
	if _, err := New(context.Background(), Config{Store: store, MasterKey: []byte("short")}); err == nil {
		t.Fatal("a short master key must be refused")
	}
}

// TestKeysAtRest: the stored keys are sealed, and the process that starts
// second on a store uses the keys the first one made.
func TestKeysAtRest(t *testing.T) {
	store := openSQLite(t)
	k := key(t)
	a, err := New(context.Background(), Config{Store: store, MasterKey: k})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(context.Background(), Config{Store: store, MasterKey: k})
	if err != nil {
		t.Fatal(err)
	}
	if string(a.JWKS()) != string(b.JWKS()) || string(a.DeriveKey("test")) != string(b.DeriveKey("test")) {
		t.Fatal("two processes on one store disagree on keys")
	}
	keys, _ := store.Keys(context.Background())
	if len(keys) != 3 {
		t.Fatalf("%d keys stored, want access, refresh, seal", len(keys))
	}
	for _, sk := range keys {
		if !strings.HasPrefix(string(sk.Sealed), "v1.") {
			t.Fatalf("key %s is not sealed", sk.ID)
		}
	}
}

// budgetStores are the places attempts are counted: this process's memory
// (stores without propusk.Budgets) and the database, shared by processes.
func budgetStores() []struct {
	name string
	open func(t *testing.T) propusk.Store
} {
	return []struct {
		name string
		open func(t *testing.T) propusk.Store
	}{
		{"memory", func(t *testing.T) propusk.Store { return nil }},
		{"sqlite", openSQLite},
		{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
	}
}

func TestLoginLimiter(t *testing.T) {
	for _, st := range budgetStores() {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			testLoginLimiter(t, st.open(t))
		})
	}
}

func testLoginLimiter(t *testing.T, store propusk.Store) {
	ctx := t.Context()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(LimitConfig{PerLogin: 3, PerIP: 5, Window: time.Minute}, RegisterLimitConfig{PerIP: 2, Window: time.Hour}, store)
	tries := func(login, ip string, n int) (allowed int) {
		for i := 0; i < n; i++ {
			err := l.attempt(ctx, login, ip, now)
			switch propusk.ErrorCode(err) {
			case "":
				allowed++
			case propusk.ETOOMANY:
				var e *propusk.Error
				if errors.As(err, &e); e.RetryAfter <= 0 || e.RetryAfter > time.Minute {
					t.Fatalf("refused with Retry-After %v, want within the window", e.RetryAfter)
				}
			default:
				t.Fatal(err)
			}
		}
		return allowed
	}
	cases := []struct {
		name      string
		login, ip string
		n, want   int
	}{
		{"ok/under-login-limit", "a", "1.1.1.1", 2, 2},
		{"fail/login-limit", "b", "2.2.2.2", 5, 3},
		{"ok/other-login-same-ip", "c", "2.2.2.2", 1, 1},
		{"fail/ip-limit-across-logins", "d", "2.2.2.2", 3, 1}, // 3 for b, 1 for c, 1 left
		{"fail/ip-limit-mapped-spelling", "e", "::ffff:2.2.2.2", 1, 0},
		{"ok/ipv6", "f", "2001:db8:1:2::1", 3, 3},
		{"fail/ipv6-same-64", "g", "2001:db8:1:2:ffff::7", 3, 2}, // 3 for f, 5 per /64
		{"ok/ipv6-next-64", "h", "2001:db8:1:3::1", 3, 3},
	}
	for _, c := range cases {
		if got := tries(c.login, c.ip, c.n); got != c.want {
			t.Fatalf("%s: %d of %d tries allowed, want %d", c.name, got, c.n, c.want)
		}
	}
	if err := l.attempt(ctx, "b", "9.9.9.9", now.Add(time.Minute)); err != nil {
		t.Fatalf("the window did not end: %v", err)
	}
	// A success forgets the login's failures and gives the address its try back.
	must(t, l.succeed(ctx, "a", "1.1.1.1", now))
	if got := tries("a", "1.1.1.1", 5); got != 3 {
		t.Fatalf("after a success %d tries allowed, want the login's 3", got)
	}
	if got := tries("z", "1.1.1.1", 5); got != 1 {
		t.Fatalf("after a success %d tries allowed from the address, want 1 (5 - 1 - 3)", got)
	}
	// A release gives back what was taken, and nothing that was not.
	must(t, l.release(ctx, "y", "3.3.3.3", now))
	if got := tries("y", "3.3.3.3", 4); got != 3 {
		t.Fatalf("release of an unknown key counted: %d tries allowed, want 3", got)
	}
	// Registrations have a budget of their own per address.
	for i, want := range []string{"", "", propusk.ETOOMANY} {
		if err := l.attemptRegister(ctx, "4.4.4.4", now); propusk.ErrorCode(err) != want {
			t.Fatalf("registration %d: %v, want %q", i+1, err, want)
		}
	}
	must(t, l.releaseRegister(ctx, "4.4.4.4", now))
	if err := l.attemptRegister(ctx, "4.4.4.4", now); err != nil {
		t.Fatalf("a released registration was not given back: %v", err)
	}
	must(t, l.prune(ctx, now.Add(2*time.Hour)))
	if err := l.attemptRegister(ctx, "4.4.4.4", now.Add(2*time.Hour)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoginLimitConcurrent: guesses sent all at once cannot slip past the
// limit while the first of them are still being hashed.
func TestLoginLimitConcurrent(t *testing.T) {
	svc, err := New(context.Background(), Config{Store: openSQLite(t), MasterKey: key(t), Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(context.Background(), "victim", "password1", propusk.LevelUser, nil); err != nil {
		t.Fatal(err)
	}
	codes := make(chan string, 40)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Login(context.Background(), "victim", "wrong guess", propusk.Client{IP: "6.6.6.6"})
			codes <- propusk.ErrorCode(err)
		}()
	}
	wg.Wait()
	close(codes)
	n := map[string]int{}
	for c := range codes {
		n[c]++
	}
	if n[propusk.ECREDENTIALS] != 5 || n[propusk.ETOOMANY] != 35 {
		t.Fatalf("40 concurrent guesses: %v, want 5 checked and 35 refused", n)
	}
}

func TestReissueReasons(t *testing.T) {
	store := openSQLite(t)
	svc, err := New(context.Background(), Config{Store: store, MasterKey: key(t), Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(context.Background(), "olga", "password1", propusk.LevelUser, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		reason string
		code   string
	}{
		{ReasonCoursePurchase, ""}, {ReasonTariffPayment, ""}, {"", propusk.EINVALID},
		{"drop table", propusk.EINVALID}, {strings.Repeat("x", 65), propusk.EINVALID},
	} {
		_, err := svc.ReissueAPIToken(context.Background(), u.ID, c.reason)
		if propusk.ErrorCode(err) != c.code {
			t.Errorf("reason %q: %v, want %q", c.reason, err, c.code)
		}
	}
	if _, err := svc.ReissueAPIToken(context.Background(), 999, ReasonCoursePurchase); propusk.ErrorCode(err) != propusk.ENOTFOUND {
		t.Fatalf("unknown user: %v", err)
	}
}

// swapStore lets a test point a service at another database mid-flight, as a
// failover to a replica that lost the last transactions does.
type swapStore struct{ propusk.Store }

// TestFeedRegression: when the feed's numbering goes back (a restored backup,
// a promoted replica that lost transactions), a process must not wait for
// numbers it has already seen and miss the revocations made since.
func TestFeedRegression(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	primary, backup := filepath.Join(dir, "primary.db"), filepath.Join(dir, "backup.db")
	mk := key(t)
	cheap := Argon2Params{Memory: 64, Time: 1, Threads: 1}
	open := func(path string) propusk.Store {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	// Set up users and sessions, then take the "backup".
	s1 := open(primary)
	setup, err := New(ctx, Config{Store: s1, MasterKey: mk, Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.CreateUser(ctx, "pia", "password1", propusk.LevelUser, nil); err != nil {
		t.Fatal(err)
	}
	var pairs []*Pair
	for i := 0; i < 4; i++ {
		p, err := setup.Login(ctx, "pia", "password1", propusk.Client{})
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
	}
	s1.Close()
	copyFile(t, primary, backup)

	s1, s2 := open(primary), open(backup)
	w := &swapStore{Store: s1}
	b, err := New(ctx, Config{Store: w, MasterKey: mk, Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, Config{Store: s1, MasterKey: mk, Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs[:3] { // three feed entries on the primary
		if err := a.Logoff(ctx, p.SessionID); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SyncFeed(ctx); err != nil {
		t.Fatal(err)
	}
	// Failover: the backup knows none of that, and a logoff lands there.
	w.Store = s2
	if err := s2.RevokeSession(ctx, pairs[3].SessionID, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, pairs[3].AccessToken, propusk.ViaAccessToken); err != nil {
		t.Fatalf("before the sync the token still works here: %v", err)
	}
	if err := b.SyncFeed(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, pairs[3].AccessToken, propusk.ViaAccessToken); propusk.ErrorCode(err) != propusk.ETOKENINVALID {
		t.Fatalf("a logoff after the feed went back was missed: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfigRefused(t *testing.T) {
	store := openSQLite(t)
	for name, cfg := range map[string]Config{
		"prefix-with-bar":        {TokenPrefix: "a|b"},
		"prefix-too-long":        {TokenPrefix: strings.Repeat("p", 33)},
		"refresh-under-access":   {AccessTTL: time.Hour, RefreshTTL: time.Minute},
		"negative-api-token-ttl": {APITokenTTL: -time.Second},
	} {
		cfg.Store, cfg.MasterKey = store, key(t)
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPruneKeys: a rotated-out key is deleted once every token it signed
// has expired, and not before; tokens it signed verify until then.
func TestPruneKeys(t *testing.T) {
	ctx := context.Background()
	clk := testenv.NewClock(time.Time{})
	store, mk := openSQLite(t), key(t)
	svc, err := New(ctx, Config{Store: store, MasterKey: mk, Now: clk.Now, Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, "wes", "password1", propusk.LevelUser, nil); err != nil {
		t.Fatal(err)
	}
	before, err := svc.Login(ctx, "wes", "password1", propusk.Client{})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := RotateKeys(ctx, store, mk, clk.Now(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncFeed(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(use string) int {
		keys, _ := store.Keys(ctx)
		n := 0
		for _, k := range keys {
			if k.Use == use {
				n++
			}
		}
		return n
	}
	steps := []struct {
		name            string
		advance         time.Duration
		access, refresh int
	}{
		{"ok/kept-while-its-access-tokens-live", 10 * time.Minute, 2, 2},
		{"ok/access-key-pruned", 20 * time.Minute, 1, 2},
		{"ok/refresh-key-pruned", 721 * time.Hour, 1, 1},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if err := svc.PruneKeys(ctx); err != nil {
			t.Fatal(err)
		}
		if a, r := count(propusk.KeyUseAccess), count(propusk.KeyUseRefresh); a != st.access || r != st.refresh {
			t.Fatalf("%s: %d access and %d refresh keys, want %d and %d", st.name, a, r, st.access, st.refresh)
		}
		if st.name == "ok/kept-while-its-access-tokens-live" {
			if _, err := svc.Authenticate(ctx, before.AccessToken, propusk.ViaAccessToken); err != nil {
				t.Fatalf("a token of the old key before pruning: %v", err)
			}
		}
	}
	if count(propusk.KeyUseSeal) != 1 {
		t.Fatal("the sealing key was pruned")
	}
}

// TestRegistrationsHashApart: registrations hash passwords in slots of their
// own, so however many are in flight, logins still find theirs; and a
// registration that finds its share taken answers busy rather than borrowing
// a login's slot.
func TestRegistrationsHashApart(t *testing.T) {
	ctx := t.Context()
	svc, err := New(ctx, Config{Store: openSQLite(t), MasterKey: key(t), MaxHashing: 4, Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, "ann", "password1", propusk.LevelUser, nil); err != nil {
		t.Fatal(err)
	}
	// Registrations in flight hold every slot registrations may have.
	for len(svc.registering) < cap(svc.registering) {
		svc.registering <- struct{}{}
	}
	if cap(svc.registering) >= cap(svc.hashing) {
		t.Fatalf("registrations may hash %d at once, logins %d", cap(svc.registering), cap(svc.hashing))
	}
	if _, err := svc.Login(ctx, "ann", "password1", propusk.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("a login while registrations hold their slots: %v", err)
	}
	_, err = svc.Register(ctx, "bob", "password1", propusk.Client{IP: "192.0.2.2"})
	if propusk.ErrorCode(err) != propusk.EUNAVAILABLE {
		t.Fatalf("a registration beyond its share: %v, want busy", err)
	}
	// Its try was given back: the address may register its whole budget.
	for len(svc.registering) > 0 {
		<-svc.registering
	}
	for i := range 30 {
		if _, err := svc.Register(ctx, fmt.Sprintf("user%d", i), "password1", propusk.Client{IP: "192.0.2.2"}); err != nil {
			t.Fatalf("registration %d: %v", i+1, err)
		}
	}
	if _, err := svc.Register(ctx, "one-more", "password1", propusk.Client{IP: "192.0.2.2"}); propusk.ErrorCode(err) != propusk.ETOOMANY {
		t.Fatalf("registration 31 in an hour: %v, want too_many_attempts", err)
	}
}
