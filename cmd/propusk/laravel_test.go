package main

import (
	"io"
	"strings"
	"testing"

	"github.com/propusk/propusk"
)

// TestLaravelFlags: what an operator types for Laravel mode, and the
// settings it makes or the usage error it gets.
func TestLaravelFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want *propusk.Laravel // nil: not Laravel mode
		zone string
		err  string // a substring of the error; "" for none
	}{
		{"ok/off", nil, []string{"migrate"}, nil, "", ""},
		{"ok/defaults", nil, []string{"serve", "--laravel"},
			&propusk.Laravel{LoginColumn: "email", TokenableType: `App\Models\User`, Hash: "bcrypt"}, "UTC", ""},
		{"ok/every-flag", nil, []string{"migrate", "--laravel", "--laravel-login-column", "username", "--laravel-timezone", "Europe/Moscow",
			"--laravel-tokenable-type", `App\User`, "--laravel-hash", "argon2id"},
			&propusk.Laravel{LoginColumn: "username", TokenableType: `App\User`, Hash: "argon2id"}, "Europe/Moscow", ""},
		{"ok/from-the-environment", map[string]string{"PROPUSK_LARAVEL": "true", "PROPUSK_LARAVEL_TIMEZONE": "Asia/Tokyo", "PROPUSK_LARAVEL_TOKENABLE_TYPE": "user"},
			[]string{"serve"}, &propusk.Laravel{LoginColumn: "email", TokenableType: "user", Hash: "bcrypt"}, "Asia/Tokyo", ""},
		{"ok/user-commands-take-them", nil, []string{"user", "add", "--login", "a@example.com", "--laravel", "--laravel-hash", "argon2id"},
			&propusk.Laravel{LoginColumn: "email", TokenableType: `App\Models\User`, Hash: "argon2id"}, "UTC", ""},
		{"ok/import-reads-laravel-without-the-switch", nil, []string{"import", "laravel", "--from", "sqlite:app.db", "--laravel-timezone", "Europe/Moscow"},
			&propusk.Laravel{LoginColumn: "email", TokenableType: `App\Models\User`, Hash: "bcrypt"}, "Europe/Moscow", ""},
		{"fail/laravel-flag-without-laravel", nil, []string{"serve", "--laravel-timezone", "Europe/Moscow"}, nil, "",
			"--laravel-timezone only apply in Laravel mode: add --laravel"},
		{"fail/laravel-variable-without-laravel", map[string]string{"PROPUSK_LARAVEL_HASH": "argon2id"}, []string{"migrate"}, nil, "",
			"--laravel-hash only apply in Laravel mode"},
		{"fail/unknown-zone", nil, []string{"serve", "--laravel", "--laravel-timezone", "Mars/Olympus"}, nil, "",
			`--laravel-timezone "Mars/Olympus" is not a time zone`},
		{"fail/local-zone", nil, []string{"serve", "--laravel", "--laravel-timezone", "Local"}, nil, "", "an IANA name such as UTC or Europe/Moscow"},
		{"fail/hash", nil, []string{"serve", "--laravel", "--laravel-hash", "md5"}, nil, "", `the Laravel hash "md5" is neither bcrypt nor argon2id`},
		{"fail/login-column", nil, []string{"migrate", "--laravel", "--laravel-login-column", "email; drop table users"}, nil, "",
			"is not a plain column name"},
		{"fail/tokenable-type", nil, []string{"migrate", "--laravel", "--laravel-tokenable-type", "App\\User\n"}, nil, "",
			"--laravel-tokenable-type must name the user model"},
		{"fail/import-without-from", nil, []string{"import", "laravel"}, nil, "", "give the Laravel app's database with --from"},
		{"fail/import-has-no-switch", nil, []string{"import", "laravel", "--from", "sqlite:app.db", "--laravel"}, nil, "",
			"flag provided but not defined: -laravel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			m := NewMain(strings.NewReader(""), io.Discard, io.Discard)
			err := m.ParseFlags(tc.args)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "":
				return
			}
			got := m.laravel.settings
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("settings %+v, want %+v", got, tc.want)
			}
			if got == nil {
				return
			}
			if got.LoginColumn != tc.want.LoginColumn || got.TokenableType != tc.want.TokenableType || got.Hash != tc.want.Hash ||
				got.Location == nil || got.Location.String() != tc.zone {
				t.Errorf("settings %+v (zone %v), want %+v (zone %s)", got, got.Location, tc.want, tc.zone)
			}
		})
	}
}

// TestLaravelUsageErrorExits2: a bad --laravel-timezone is a usage error,
// and the binary says so with exit code 2 before it opens anything.
func TestLaravelUsageErrorExits2(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runBinary(t, dir, nil, "", "migrate", "--db", "sqlite:app.db", "--laravel", "--laravel-timezone", "Europe/Atlantis")
	if code != 2 || !strings.Contains(stderr, "is not a time zone") {
		t.Fatalf("exit %d, stderr %q; want 2 and the zone refused", code, stderr)
	}
	code, _, stderr = runBinary(t, dir, nil, "", "serve", "--laravel-hash", "argon2id")
	if code != 2 || !strings.Contains(stderr, "only apply in Laravel mode") {
		t.Fatalf("exit %d, stderr %q; want 2 and Laravel mode asked for", code, stderr)
	}
}
