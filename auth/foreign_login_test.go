package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/internal/testenv"
)

var cheapArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

// TestRehashForeign: a user whose hash PHP wrote logs in with it, and
// leaves with propusk's own argon2id, unless KeepHashes (Laravel mode).
func TestRehashForeign(t *testing.T) {
	const pw = "Laravel-Pa55-ü"
	own := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", cheapArgon2.Memory, cheapArgon2.Time, cheapArgon2.Threads)
	for _, driver := range []string{"bcrypt", "argon", "argon2id"} {
		php := laraveltest.Script(t, "hash.php", pw, "make", driver, "-")
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/keep=%v", driver, keep), func(t *testing.T) {
				store, _ := testenv.SQLite(t)
				svc, err := New(context.Background(), Config{Store: store, MasterKey: key(t), Argon2: cheapArgon2, KeepHashes: keep})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				u := &propusk.User{Login: "user@example.com", PasswordHash: php}
				if err := store.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				hashNow := func() string {
					got, err := store.UserByID(ctx, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					return got.PasswordHash
				}
				if _, err := svc.Login(ctx, u.Login, pw+"x", propusk.Client{}); propusk.ErrorCode(err) != propusk.ECREDENTIALS {
					t.Fatalf("wrong password: %v", err)
				}
				if h := hashNow(); h != php {
					t.Fatalf("a failed login changed the hash to %q", h)
				}
				for i := range 2 { // the second login checks the new hash
					if _, err := svc.Login(ctx, u.Login, pw, propusk.Client{}); err != nil {
						t.Fatalf("login %d: %v", i+1, err)
					}
					h := hashNow()
					if keep && h != php || !keep && !strings.HasPrefix(h, own) {
						t.Fatalf("login %d: hash %q (keep %v)", i+1, h, keep)
					}
				}
			})
		}
	}
}

// TestFailedLoginCost: a failed login costs the same whether the login is
// unknown, or its user has a bcrypt, argon2i, argon2id or unreadable hash.
// Before failCost, an unknown login cost one check of the cheap dummy
// hash, a bcrypt account's failure about a thousand times as much.
func TestFailedLoginCost(t *testing.T) {
	store, _ := testenv.SQLite(t)
	ctx := context.Background()
	svc, err := New(ctx, Config{Store: store, MasterKey: key(t), Argon2: cheapArgon2,
		LoginLimit: LimitConfig{PerLogin: 1000, PerIP: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{
		"unknown":    "",
		"bcrypt":     laraveltest.Script(t, "hash.php", "pw", "make", "bcrypt", "pw"),
		"argon2i":    laraveltest.Script(t, "hash.php", "pw", "make", "argon", "pw"),
		"argon2id":   laraveltest.Script(t, "hash.php", "pw", "make", "argon2id", "pw"),
		"unreadable": "$md5$not-a-hash",
	}
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
	for kind := range kinds { // the process has now seen every kind of hash
		fail(kind)
	}
	// Round-robin, so that a busy moment of the machine falls on every kind.
	const n = 9
	all := map[string][]time.Duration{}
	for range n {
		for kind := range kinds {
			all[kind] = append(all[kind], fail(kind))
		}
	}
	medians := map[string]time.Duration{}
	for kind, ds := range all {
		slices.Sort(ds)
		medians[kind] = ds[n/2]
	}
	// Every failure waits for the slowest check seen, bcrypt's here; a
	// busy machine only makes that slower, so the median failure of each
	// kind is at least most of the bcrypt one's.
	for kind, d := range medians {
		if d < medians["bcrypt"]*3/4 {
			t.Errorf("a failed login for %s took %v, against %v for bcrypt: %v", kind, d, medians["bcrypt"], medians)
		}
	}
	t.Logf("median failed login: %v", medians)
}
