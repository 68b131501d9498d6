package auth

import (
	"context"
	"testing"

	"github.com/propusk/propusk"
)

// TestLoginLimitLookAlikes: the per-login limit counts guesses at one
// account however its login is spelt, so case and width variants do not
// multiply an attacker's budget.
func TestLoginLimitLookAlikes(t *testing.T) {
	svc, err := New(context.Background(), Config{Store: openSQLite(t), MasterKey: key(t), Argon2: Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(context.Background(), "victim", "password1", propusk.LevelUser, nil); err != nil {
		t.Fatal(err)
	}
	// Each guess from its own address, so only the per-login limit applies.
	for i, l := range []string{"victim", "Victim", "VICTIM", "ｖｉｃｔｉｍ", "vIcTiM"} {
		_, err := svc.Login(context.Background(), l, "wrong guess", propusk.Client{IP: "10.0.0." + string(rune('1'+i))})
		if propusk.ErrorCode(err) != propusk.ECREDENTIALS {
			t.Fatalf("guess %d (%s): %v; want invalid_credentials", i+1, l, err)
		}
	}
	_, err = svc.Login(context.Background(), "ＶＩＣＴＩＭ", "password1", propusk.Client{IP: "10.0.1.1"})
	if propusk.ErrorCode(err) != propusk.ETOOMANY {
		t.Fatalf("a sixth spelling within the window: %v; want too_many_attempts", err)
	}
}
