// Package laraveltest gives tests real Laravel to work against: PHP with
// Illuminate from Debian's php-laravel-framework, small PHP scripts under
// its testdata, and the databases real Laravel and Sanctum wrote, in
// ../shared/fixtures/laravel beside the repository; and, as Suite, the
// tests every store passes in Laravel mode on them.
package laraveltest

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/missing"
)

// illuminate is where Debian's php-laravel-framework installs Laravel.
const illuminate = "/usr/share/php/Illuminate/autoload.php"

// PHP returns the php binary, or skips t (missing.Skip) when PHP or
// Illuminate is not installed.
func PHP(t testing.TB) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		missing.Skip(t, "PHP not found (apt-get install php-cli php-laravel-framework php-sqlite3 php-pgsql)")
	}
	if _, err := os.Stat(illuminate); err != nil {
		missing.Skip(t, "Laravel's Illuminate not found (apt-get install php-laravel-framework)")
	}
	return php
}

// Script runs testdata/<name> of this package with args and stdin, and
// returns its standard output. It fails t when the script fails.
func Script(t testing.TB, name, stdin string, args ...string) string {
	t.Helper()
	php := PHP(t)
	cmd := exec.Command(php, append([]string{filepath.Join(dir(), "testdata", name)}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("php %s %q: %v\n%s%s", name, args, err, out.String(), errb.String())
	}
	return out.String()
}

// dir is this package's directory.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// FixtureDir returns $PROPUSK_LARAVEL_FIXTURES, or else
// ../shared/fixtures/laravel relative to the module root, where CI clones
// shared/ beside the repository (a git worktree elsewhere sets the
// variable), or skips t.
func FixtureDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("PROPUSK_LARAVEL_FIXTURES")
	if d == "" {
		d = filepath.Join(dir(), "..", "..", "..", "shared", "fixtures", "laravel")
	}
	if _, err := os.Stat(filepath.Join(d, "manifest.json")); err != nil {
		missing.Skip(t, "the Laravel fixtures are not at "+d+" (clone shared/ beside the repository)")
	}
	return d
}

// Manifest is the fixtures' manifest.json (see its README).
type Manifest struct {
	Fixtures map[string]map[string]*Fixture `json:"fixtures"` // dataset → engine
}

// Fixture is one database that real Laravel wrote.
type Fixture struct {
	Dataset       string  `json:"dataset"`
	Engine        string  `json:"engine"` // sqlite, pgsql or mariadb
	File          string  `json:"file"`
	Timezone      string  `json:"timezone"`
	TokenableType string  `json:"tokenable_type"`
	TokenPrefix   *string `json:"token_prefix"`
	GeneratedAt   string  `json:"generated_at_utc"`
	Users         []User  `json:"users"`
	Tokens        []Token `json:"tokens"`
}

// User is a row of the fixture's users table, with its plaintext password.
type User struct {
	ID       int64  `json:"id"`
	Email    string `json:"email"`
	Password string `json:"password"`
	HashKind string `json:"hash_kind"`
	Name     string `json:"name"`
	Note     string `json:"note"`
	// CreatedAtLocal is users.created_at as stored: the app's wall clock.
	CreatedAtLocal *string `json:"created_at_local"`
}

// Token is a token Sanctum created, with its plaintext and state.
type Token struct {
	ID          int64    `json:"id"`
	Plaintext   string   `json:"plaintext"`
	OwnerUserID int64    `json:"owner_user_id"`
	Name        string   `json:"name"`
	Abilities   []string `json:"abilities"`
	State       string   `json:"state"` // valid, expired, deleted or replaced
	SHA256      string   `json:"sha256"`
	ExpiresAt   *string  `json:"expires_at_utc"`
	// LastUsedAtLocal is last_used_at as stored: the app's wall clock.
	LastUsedAtLocal *string `json:"last_used_at_local"`
}

// Load reads the manifest, or skips t when the fixtures are missing.
func Load(t testing.TB) (*Manifest, string) {
	t.Helper()
	d := FixtureDir(t)
	b, err := os.ReadFile(filepath.Join(d, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return &m, d
}
