package auth

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/internal/testenv"
)

// The hashes Laravel's drivers write with the skeleton's options, as
// PHP's password_hash writes them: bcrypt $2y$ cost 10; argon2id with a
// 16-byte salt and a 32-byte hash (22 and 43 characters of base64).
var laravelHash = map[string]*regexp.Regexp{
	propusk.HashBcrypt:   regexp.MustCompile(`^\$2y\$10\$[./A-Za-z0-9]{53}$`),
	propusk.HashArgon2id: regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=4,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`),
}

// phpAccepts reports whether Laravel's Hash::check accepts password for hash.
func phpAccepts(t *testing.T, hash, password string) bool {
	t.Helper()
	return laraveltest.Script(t, "hash.php", password, "check", hash, "-") == "1"
}

// TestLaravelModeWritesTheAppsHashes: in Laravel mode every hash propusk
// writes (registration, a password change by the user or the operator, a
// user created on the command line) is one the Laravel app verifies with
// Hash::check, of the algorithm --laravel-hash names; a login keeps the
// app's hash instead of rehashing it; tokens carry the app's tokenable type.
func TestLaravelModeWritesTheAppsHashes(t *testing.T) {
	// Non-ASCII, and longer than the 72 bytes bcrypt reads: PHP and
	// propusk both drop the rest.
	const pw = "Пароль-ü-" + "long enough to pass the 72 bytes bcrypt reads, and then some"
	const next = "a new password, ünïcode"
	for _, alg := range []string{propusk.HashBcrypt, propusk.HashArgon2id} {
		t.Run(alg, func(t *testing.T) {
			laraveltest.PHP(t)
			store, _ := testenv.SQLite(t)
			ctx := context.Background()
			svc, err := New(ctx, Config{Store: store, MasterKey: key(t),
				Laravel: &propusk.Laravel{Hash: alg, TokenableType: `App\User`}})
			if err != nil {
				t.Fatal(err)
			}
			if !laravelHash[alg].MatchString(svc.dummy) {
				t.Errorf("the dummy hash of unknown logins is %.30q…, not the app's algorithm", svc.dummy)
			}
			hashOf := func(id int64) string {
				u, err := store.UserByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return u.PasswordHash
			}
			check := func(what string, id int64, password string) string {
				t.Helper()
				h := hashOf(id)
				if !laravelHash[alg].MatchString(h) {
					t.Fatalf("%s wrote %q, not what Laravel's %s driver writes", what, h, alg)
				}
				if !phpAccepts(t, h, password) {
					t.Fatalf("%s: Laravel's Hash::check refuses the hash propusk wrote", what)
				}
				return h
			}

			p, err := svc.Register(ctx, "reg@example.com", pw, propusk.Client{IP: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			h := check("registration", p.UserID, pw)

			// A login keeps the app's hash, which the app can verify.
			if _, err := svc.Login(ctx, "reg@example.com", pw, propusk.Client{IP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
			if got := hashOf(p.UserID); got != h {
				t.Errorf("a login rehashed the app's hash to %.30q…", got)
			}
			ts, err := store.UserTokens(ctx, `App\User`, p.UserID)
			if err != nil || len(ts) != 1 || ts[0].Name != APITokenName {
				t.Errorf("the api-token is not the app's App\\User's: %v %v", ts, err)
			}

			principal, err := svc.Authenticate(ctx, p.AccessToken, propusk.ViaAccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.ChangePassword(ctx, principal, pw, next, propusk.Client{IP: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
			check("a password change", p.UserID, next)

			if err := svc.SetUserPassword(ctx, nil, p.UserID, pw); err != nil {
				t.Fatal(err)
			}
			check("propusk user passwd", p.UserID, pw)

			u, err := svc.CreateUser(ctx, "added@example.com", next, propusk.LevelUser, nil)
			if err != nil {
				t.Fatal(err)
			}
			check("propusk user add", u.ID, next)
		})
	}
}

// TestOutsideLaravelModeHashesStayPropusks: without Laravel, propusk
// writes its own argon2id, and the dummy hash is of it.
func TestOutsideLaravelModeHashesStayPropusks(t *testing.T) {
	store, _ := testenv.SQLite(t)
	ctx := context.Background()
	svc, err := New(ctx, Config{Store: store, MasterKey: key(t)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Register(ctx, "own@example.com", "a long password", propusk.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.UserByID(ctx, p.UserID)
	if err != nil {
		t.Fatal(err)
	}
	const own = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(u.PasswordHash, own) || !strings.HasPrefix(svc.dummy, own) {
		t.Errorf("hash %.40q…, dummy %.40q…; want propusk's argon2id", u.PasswordHash, svc.dummy)
	}
}

// TestFailedLoginCostLaravel: with the app's bcrypt as the configured
// algorithm, a failed login costs the same whether the login is unknown
// or its user has the app's bcrypt hash: unknown logins check a bcrypt
// dummy, as costly as a user's hash from the first failure on.
func TestFailedLoginCostLaravel(t *testing.T) {
	store, _ := testenv.SQLite(t)
	ctx := context.Background()
	svc, err := New(ctx, Config{Store: store, MasterKey: key(t), Laravel: &propusk.Laravel{},
		LoginLimit: LimitConfig{PerLogin: 1000, PerIP: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	bcryptHash, err := hashBcrypt("pw")
	if err != nil {
		t.Fatal(err)
	}
	// The app's argon2id hashes are padded to by failCost, as on main
	// (TestFailedLoginCost); here the dummy alone must match bcrypt.
	kinds := map[string]string{"unknown": "", "bcrypt": bcryptHash}
	for kind, hash := range kinds {
		if hash != "" {
			if err := store.CreateUser(ctx, &propusk.User{Login: kind, PasswordHash: hash}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fail := func(kind string) time.Duration {
		began := time.Now()
		if _, err := svc.Login(ctx, kind, "wrong", propusk.Client{}); propusk.ErrorCode(err) != propusk.ECREDENTIALS {
			t.Fatalf("%s: %v", kind, err)
		}
		return time.Since(began)
	}
	for kind := range kinds {
		fail(kind)
	}
	const n = 9
	all := map[string][]time.Duration{}
	for range n {
		for kind := range kinds {
			all[kind] = append(all[kind], fail(kind))
		}
	}
	medians := map[string]time.Duration{}
	slowest := time.Duration(0)
	for kind, ds := range all {
		slices.Sort(ds)
		medians[kind] = ds[n/2]
		slowest = max(slowest, ds[n/2])
	}
	// Every failure waits for the slowest check seen; a busy machine only
	// makes that slower, so each kind's median is most of the slowest's.
	for kind, d := range medians {
		if d < slowest*3/4 {
			t.Errorf("a failed login for %s took %v, against %v for the slowest: %v", kind, d, slowest, medians)
		}
	}
	t.Logf("median failed login: %v", medians)
}

// nameStore records the user Register writes: outside Laravel mode the
// stores keep no name, so the test reads what auth handed them.
type nameStore struct {
	propusk.Store
	names []string
}

func (s *nameStore) Register(ctx context.Context, r *propusk.Registration) error {
	s.names = append(s.names, r.User.Name)
	return s.Store.Register(ctx, r)
}

// TestRegisterName: in Laravel mode a registration may give the user's
// name (users.name); without one the store takes the login. A bad name is
// refused before anything is written. Outside Laravel mode the name is
// ignored.
func TestRegisterName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		laravel bool
		given   string
		want    string // the name handed to the store
		code    string // the error's code, "" for none
	}{
		{"ok/laravel-no-name", true, "", "", ""},
		{"ok/laravel-name", true, "Алиса Петрова", "Алиса Петрова", ""},
		{"ok/laravel-255-characters", true, strings.Repeat("ю", 255), strings.Repeat("ю", 255), ""},
		{"fail/laravel-256-characters", true, strings.Repeat("ю", 256), "", propusk.EINVALID},
		{"fail/laravel-control-character", true, "Alice\nBob", "", propusk.EINVALID},
		{"fail/laravel-invalid-utf8", true, "Alice\xff", "", propusk.EINVALID},
		{"ok/propusk-ignores-a-name", false, "Alice\x00", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			real, _ := testenv.SQLite(t)
			store := &nameStore{Store: real}
			cfg := Config{Store: store, MasterKey: key(t), Argon2: cheapArgon2}
			if tc.laravel {
				cfg.Laravel = &propusk.Laravel{Hash: propusk.HashBcrypt}
			}
			ctx := context.Background()
			svc, err := New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.RegisterNamed(ctx, "user@example.com", "a long password", tc.given, propusk.Client{IP: "192.0.2.1"})
			if got := propusk.ErrorCode(err); got != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("error %v, want code %q", err, tc.code)
			}
			if tc.code != "" {
				if len(store.names) != 0 {
					t.Errorf("a refused registration reached the store")
				}
				if _, err := real.UserByLogin(ctx, "user@example.com"); propusk.ErrorCode(err) != propusk.ENOTFOUND {
					t.Errorf("a refused registration left a user: %v", err)
				}
				return
			}
			if len(store.names) != 1 || store.names[0] != tc.want {
				t.Errorf("the store got names %q, want [%q]", store.names, tc.want)
			}
		})
	}
}
