package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/postgres/pgtest"
)

// runBinary runs the built propusk with args in dir and returns its exit
// code, standard output and standard error.
func runBinary(t *testing.T, dir string, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binarytest.Binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestCommandLine: what an operator types, and what the binary answers:
// help and version exit 0, bad values are refused with an example of a good
// one, each error is printed once, and nothing is created by a command that
// fails before it could start.
func TestCommandLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout string // a substring of standard output
		stderr string // a substring of standard error
	}{
		{"ok/help", nil, []string{"help"}, 0, "propusk serve", ""},
		{"ok/--help", nil, []string{"--help"}, 0, "propusk serve", ""},
		{"ok/serve-help", nil, []string{"serve", "--help"}, 0, "-access-ttl", ""},
		{"ok/user-help", nil, []string{"user", "--help"}, 0, "user add", ""},
		{"ok/user-add-help", nil, []string{"user", "add", "--help"}, 0, "-password-stdin", ""},
		{"ok/keys-help", nil, []string{"keys", "--help"}, 0, "keys rotate", ""},
		{"ok/keys-rotate-help", nil, []string{"keys", "rotate", "-h"}, 0, "-db", ""},
		{"ok/version", nil, []string{"version"}, 0, "propusk ", ""},
		{"ok/--version", nil, []string{"--version"}, 0, "propusk ", ""},
		{"fail/no-command", nil, nil, 2, "", "no command"},
		{"fail/unknown-command", nil, []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"fail/unknown-flag", nil, []string{"serve", "--frob"}, 2, "", "--help lists the flags"},
		{"fail/log-format", nil, []string{"serve", "--log-format", "xml"}, 2, "", "--log-format must be text or json"},
		{"fail/level", nil, []string{"user", "add", "--login", "a", "--level", "99", "--password-stdin"}, 2, "", "--level must be from 1 to 30"},
		{"fail/duration-without-unit", nil, []string{"serve", "--access-ttl", "15"}, 2, "", "use a unit, e.g. 15m"},
		{"fail/duration-without-unit-env", []string{"PROPUSK_RENEW_GRACE=10"}, []string{"serve"}, 2, "", "PROPUSK_RENEW_GRACE: \"10\" has no unit: use a unit, e.g. 10m"},
		{"fail/negative-duration", nil, []string{"serve", "--refresh-ttl", "-1h"}, 2, "", "is negative"},
		{"fail/cookie-secure", nil, []string{"serve", "--cookie-secure", "yes"}, 2, "", "--cookie-secure must be auto, true or false"},
		{"fail/port-in-use", nil, []string{"serve", "--addr", busy.Addr().String()}, 1, "", "choose another with --addr"},
		{"fail/missing-directory", nil, []string{"migrate", "--db", "sqlite:no/such/dir/p.db"}, 1, "", "mkdir -p no/such/dir"},
		{"fail/unreachable-postgres", nil, []string{"migrate", "--db", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"}, 1, "", "cannot reach the PostgreSQL server"},
		{"ok/unknown-variable-warned", []string{"PROPUSK_ACESS_TTL=5m"}, []string{"migrate"}, 0, "schema is up to date", "variable=PROPUSK_ACESS_TTL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := runBinary(t, dir, tc.env, "", tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout ∋ %q, stderr ∋ %q", code, tc.code, out, errs, tc.stdout, tc.stderr)
			}
			if lines := strings.Split(strings.TrimSpace(errs), "\n"); len(lines) > 1 && lines[len(lines)-1] == lines[len(lines)-2] {
				t.Fatalf("a line printed twice:\n%s", errs)
			}
			if code != 0 && !strings.HasPrefix(tc.name, "fail/port") {
				if entries, _ := os.ReadDir(dir); len(entries) > 0 {
					t.Fatalf("a failed command left %v behind", entries)
				}
			}
		})
	}
}

// TestPortInUseCreatesNothing: serve binds its port before it opens the
// database or writes a key file.
func TestPortInUseCreatesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	if code, _, _ := runBinary(t, dir, nil, "", "serve", "--addr", busy.Addr().String()); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Fatalf("serve on a busy port created %v", entries)
	}
}

// TestMissingMasterKeyFile: once the database holds sealed keys, a missing
// key file is an error that says so, and no new key is written in its
// place.
func TestMissingMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runBinary(t, dir, nil, "", "keys", "rotate"); code != 0 {
		t.Fatalf("first keys rotate: %d %s", code, errs)
	}
	keyFile := filepath.Join(dir, "propusk.db.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"keys", "rotate"}, {"serve", "--addr", "127.0.0.1:0"}} {
		code, _, errs := runBinary(t, dir, nil, "", args...)
		if code != 1 || !strings.Contains(errs, "master key file propusk.db.key is missing") || !strings.Contains(errs, "restore the file") {
			t.Fatalf("%v without its key file: exit %d\n%s", args, code, errs)
		}
		if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
			t.Fatalf("%v wrote a new key file: %v", args, err)
		}
	}
}

// TestMissingPostgresDatabase: the answer names the database and the
// statement that makes it, once.
func TestMissingPostgresDatabase(t *testing.T) {
	pgtest.DSN(t) // skips (or fails under CI) without a server
	dsn := strings.Replace(pgtest.BaseDSN(), "/test?", "/propusk_no_such_db?", 1)
	if dsn == pgtest.BaseDSN() {
		missing.Skip(t, "PROPUSK_TEST_POSTGRES does not name its database as /test?: cannot derive a missing one")
	}
	code, _, errs := runBinary(t, t.TempDir(), nil, "", "migrate", "--db", dsn)
	if code != 1 || !strings.Contains(errs, `CREATE DATABASE "propusk_no_such_db"`) || strings.Count(errs, "does not exist") != 1 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
}

// TestUserAddSaysWhatItCreated: the id on standard output for scripts, and
// the user's login, level and boards in the log.
func TestUserAddSaysWhatItCreated(t *testing.T) {
	code, out, errs := runBinary(t, t.TempDir(), nil, "a long password\n", "user", "add", "--login", "admin", "--level", "30", "--boards", "b,d", "--password-stdin")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("exit %d, stdout %q\n%s", code, out, errs)
	}
	for _, want := range []string{"created user", "login=admin", "level=30", "boards=b,d"} {
		if !strings.Contains(errs, want) {
			t.Fatalf("the log does not say %q:\n%s", want, errs)
		}
	}
}

// TestShutdownSaysWhatItDid: SIGTERM logs the drain and the flush.
func TestShutdownSaysWhatItDid(t *testing.T) {
	p := startServer(t, t.TempDir(), nil)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	logs := p.logs.String()
	for _, want := range []string{"draining requests in flight", "flushed last_used_at", "stopped"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("shutdown log lacks %q:\n%s", want, logs)
		}
	}
}
