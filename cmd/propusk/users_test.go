package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk/mysql/mytest"
)

// TestUserAdminFlags: the administration commands' help exits 0, and each
// bad or missing flag is refused (exit 2) with what to write instead,
// before anything is created.
func TestUserAdminFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"ok/user-help", nil, []string{"user", "--help"}, 0, "propusk user passwd", ""},
		{"ok/list-help", nil, []string{"user", "list", "--help"}, 0, "-limit", ""},
		{"ok/show-help", nil, []string{"user", "show", "-h"}, 0, "-id", ""},
		{"ok/set-help", nil, []string{"user", "set", "--help"}, 0, "-boards", ""},
		{"ok/disable-help", nil, []string{"user", "disable", "--help"}, 0, "-login", ""},
		{"ok/enable-help", nil, []string{"user", "enable", "--help"}, 0, "-login", ""},
		{"ok/delete-help", nil, []string{"user", "delete", "--help"}, 0, "-yes", ""},
		{"ok/passwd-help", nil, []string{"user", "passwd", "--help"}, 0, "-password-stdin", ""},
		{"fail/no-user", nil, []string{"user", "show"}, 2, "", "name the user with --id N or --login L"},
		{"fail/no-user-env-db", []string{"PROPUSK_DB=sqlite:x.db"}, []string{"user", "disable"}, 2, "", "name the user with --id N or --login L"},
		{"fail/id-and-login", nil, []string{"user", "disable", "--id", "1", "--login", "a"}, 2, "", "give --id or --login, not both"},
		{"fail/negative-id", nil, []string{"user", "delete", "--id", "-3", "--yes"}, 2, "", "--id must be a user's id"},
		{"fail/id-not-a-number", nil, []string{"user", "show", "--id", "bob"}, 2, "", "--help lists the flags"},
		{"fail/set-nothing", nil, []string{"user", "set", "--id", "1"}, 2, "", "nothing to change"},
		{"fail/set-level-range", nil, []string{"user", "set", "--id", "1", "--level", "2000"}, 2, "", "--level must be from 0 to 1000"},
		{"fail/set-level-word", nil, []string{"user", "set", "--id", "1", "--level", "admin"}, 2, "", `"admin" is not a whole number`},
		{"fail/set-boards-empty", nil, []string{"user", "set", "--id", "1", "--boards", " , "}, 2, "", "--boards must name at least one board"},
		{"fail/passwd-without-stdin", nil, []string{"user", "passwd", "--id", "1"}, 2, "", "--password-stdin (never as a flag)"},
		{"fail/list-limit", nil, []string{"user", "list", "--limit", "-1"}, 2, "", "--limit must be 0"},
		{"fail/positional-login", nil, []string{"user", "show", "bob"}, 2, "", "unexpected arguments"},
		{"fail/no-database", nil, []string{"user", "list"}, 2, "", "the database sqlite:propusk.db does not exist: give the one the servers use with --db"},
		{"fail/no-database-path", nil, []string{"user", "disable", "--id", "1", "--db", "elsewhere/p.db"}, 2, "", "the database elsewhere/p.db does not exist"},
		{"fail/unknown-user-command", nil, []string{"user", "frob"}, 2, "", `unknown command "user frob"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := runBinary(t, dir, tc.env, "", tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout ∋ %q, stderr ∋ %q", code, tc.code, out, errs, tc.stdout, tc.stderr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Fatalf("the command left %v behind", entries)
			}
		})
	}
}

// cliUserJSON is a line of user list or show, decoded.
type cliUserJSON struct {
	ID         int64    `json:"id"`
	Login      string   `json:"login"`
	Level      int      `json:"level"`
	Boards     []string `json:"boards"`
	Disabled   bool     `json:"disabled"`
	DisabledAt *string  `json:"disabledAt"`
}

// userLines decodes standard output of user list or show, a JSON object a
// line, and checks each has exactly the fields of the API's user.
func userLines(t *testing.T, out string) []cliUserJSON {
	t.Helper()
	want := []string{"boards", "created", "disabled", "disabledAt", "id", "level", "login", "updated"}
	var us []cliUserJSON
	for line := range strings.Lines(out) {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		var keys []string
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("a user line has the fields %v, want %v: %s", keys, want, line)
		}
		var u cliUserJSON
		json.Unmarshal([]byte(line), &u)
		us = append(us, u)
	}
	return us
}

// TestUserCommands runs each administration command on SQLite, one after
// another on the same database, and checks its output and what it left:
// JSON lines for list and show, the last administrator kept, delete asking
// for --yes, and passwd setting the password a server then accepts.
func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []struct{ login, level string }{{"root", "30"}, {"bob", "10"}, {"carol", "10"}} {
		if code, _, errs := runBinary(t, dir, nil, "password-1\n", "user", "add", "--login", u.login, "--level", u.level, "--password-stdin"); code != 0 {
			t.Fatalf("user add %s: %d\n%s", u.login, code, errs)
		}
	}
	const newPassword = "a new long password"
	for _, step := range []struct {
		name   string
		env    []string
		stdin  string
		args   []string
		code   int
		logins []string // of the users printed, in order
		check  func(t *testing.T, us []cliUserJSON)
		stderr string // a substring of standard error
	}{
		{name: "ok/list", args: []string{"list"}, logins: []string{"root", "bob", "carol"}},
		{name: "ok/list-login", args: []string{"list", "--login", "B"}, logins: []string{"bob"}},
		{name: "ok/list-limit", args: []string{"list", "--limit", "2"}, logins: []string{"root", "bob"}},
		{name: "ok/list-none", args: []string{"list", "--login", "zed"}},
		{name: "ok/show-login", args: []string{"show", "--login", "BOB"}, logins: []string{"bob"}},
		{name: "ok/show-id", args: []string{"show", "--id", "3"}, logins: []string{"carol"}},
		{name: "fail/show-missing-id", args: []string{"show", "--id", "99"}, code: 1, stderr: "no user with id 99 (propusk user list shows them)"},
		{name: "fail/show-missing-login", args: []string{"show", "--login", "zed"}, code: 1, stderr: `no user with login "zed"`},
		{name: "ok/set", args: []string{"set", "--login", "bob", "--level", "20", "--boards", "a, b"}, logins: []string{"bob"},
			check: func(t *testing.T, us []cliUserJSON) {
				if us[0].Level != 20 || !slices.Equal(us[0].Boards, []string{"a", "b"}) {
					t.Fatalf("set printed %+v", us[0])
				}
			}},
		{name: "ok/set-keeps-what-is-not-given", args: []string{"set", "--login", "bob", "--level", "15"}, logins: []string{"bob"},
			check: func(t *testing.T, us []cliUserJSON) {
				if us[0].Level != 15 || !slices.Equal(us[0].Boards, []string{"a", "b"}) {
					t.Fatalf("set printed %+v", us[0])
				}
			}},
		{name: "ok/disable", args: []string{"disable", "--login", "bob"}, logins: []string{"bob"},
			check: func(t *testing.T, us []cliUserJSON) {
				if !us[0].Disabled || us[0].DisabledAt == nil {
					t.Fatalf("disable printed %+v", us[0])
				}
			}},
		{name: "ok/enable", args: []string{"enable", "--id", "2"}, logins: []string{"bob"},
			check: func(t *testing.T, us []cliUserJSON) {
				if us[0].Disabled || us[0].DisabledAt != nil || us[0].Level != 15 {
					t.Fatalf("enable printed %+v", us[0])
				}
			}},
		{name: "fail/delete-without-yes", args: []string{"delete", "--login", "carol"}, code: 1, stderr: `deletes user 3 "carol"`},
		{name: "fail/delete-yes-from-env", env: []string{"PROPUSK_YES=true"}, args: []string{"delete", "--login", "carol"}, code: 1, stderr: "run it again with --yes"},
		{name: "ok/still-there", args: []string{"show", "--login", "carol"}, logins: []string{"carol"}},
		{name: "ok/delete", args: []string{"delete", "--login", "carol", "--yes"}, stderr: "deleted user"},
		{name: "fail/deleted", args: []string{"show", "--id", "3"}, code: 1, stderr: "no user with id 3"},
		{name: "fail/delete-again", args: []string{"delete", "--id", "3", "--yes"}, code: 1, stderr: "no user with id 3"},
		{name: "fail/demote-last-admin", args: []string{"set", "--login", "root", "--level", "10"}, code: 1, stderr: "last administrator"},
		{name: "fail/disable-last-admin", args: []string{"disable", "--login", "root"}, code: 1, stderr: "last administrator"},
		{name: "fail/delete-last-admin", args: []string{"delete", "--login", "root", "--yes"}, code: 1, stderr: "make another user an administrator"},
		{name: "ok/last-admin-kept", args: []string{"show", "--login", "root"}, logins: []string{"root"},
			check: func(t *testing.T, us []cliUserJSON) {
				if us[0].Level != 30 || us[0].Disabled {
					t.Fatalf("the last administrator changed: %+v", us[0])
				}
			}},
		{name: "ok/second-admin", args: []string{"set", "--login", "bob", "--level", "30"}, logins: []string{"bob"}},
		{name: "ok/demote-once-not-last", args: []string{"set", "--login", "root", "--level", "10"}, logins: []string{"root"}},
		{name: "fail/passwd-short", stdin: "short\n", args: []string{"passwd", "--login", "bob", "--password-stdin"}, code: 1, stderr: "at least 8 characters"},
		{name: "fail/passwd-empty", args: []string{"passwd", "--login", "bob", "--password-stdin"}, code: 1, stderr: "at least 8 characters"},
		{name: "ok/passwd", stdin: newPassword + "\n", args: []string{"passwd", "--login", "bob", "--password-stdin"}, stderr: "every session of the user is ended"},
	} {
		t.Run(step.name, func(t *testing.T) {
			code, out, errs := runBinary(t, dir, step.env, step.stdin, append([]string{"user"}, step.args...)...)
			if code != step.code || !strings.Contains(errs, step.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stderr ∋ %q", code, step.code, out, errs, step.stderr)
			}
			if strings.Contains(out+errs, newPassword) || strings.Contains(out+errs, "password-1") {
				t.Fatalf("a password was printed:\n%s\n%s", out, errs)
			}
			us := userLines(t, out)
			var logins []string
			for _, u := range us {
				logins = append(logins, u.Login)
			}
			if !slices.Equal(logins, step.logins) {
				t.Fatalf("printed the users %v, want %v:\n%s", logins, step.logins, out)
			}
			if step.check != nil {
				step.check(t, us)
			}
		})
	}

	// A server on the same database takes the new password, and not the old.
	p := startServer(t, dir, nil)
	for _, tc := range []struct {
		password string
		status   int
	}{{newPassword, 200}, {"password-1", 401}} {
		if s := p.call("POST", "/api/v1/user.login", nil, fmt.Sprintf(`{"login":"bob","password":%q}`, tc.password), nil); s != tc.status {
			t.Errorf("login with %q after passwd: %d, want %d", tc.password, s, tc.status)
		}
	}
}

// TestTwoProcessesUserCLI: the administration commands, run as a third
// process on the database two servers share, end a user's access on both
// within a second of the command's exit: disable, passwd and delete. Their
// JSON is the API's.
func TestTwoProcessesUserCLI(t *testing.T) { testTwoProcessesUserCLI(t, startCluster) }

// TestTwoProcessesUserCLIMySQL is TestTwoProcessesUserCLI on MySQL/MariaDB,
// whose servers poll the feed.
func TestTwoProcessesUserCLIMySQL(t *testing.T) {
	testTwoProcessesUserCLI(t, func(t *testing.T) *cluster { return startClusterOn(t, mytest.DSN(t)) })
}

func testTwoProcessesUserCLI(t *testing.T, start func(t *testing.T) *cluster) {
	c := start(t)
	a, b := c.a, c.b
	// cli runs "propusk user ARGS…" on the cluster's database and returns
	// its standard output and when it exited.
	cli := func(stdin string, args ...string) (string, time.Time) {
		t.Helper()
		began := time.Now()
		code, out, errs := runBinary(t, t.TempDir(), c.env, stdin, append([]string{"user"}, append(args, "--db", c.dsn)...)...)
		done := time.Now()
		if code != 0 {
			t.Fatalf("user %v: exit %d\n%s%s", args, code, out, errs)
		}
		t.Logf("user %s (a third process) took %v", args[0], done.Sub(began).Round(time.Millisecond))
		return out, done
	}

	registerUser(t, a, "root")
	cli("", "set", "--login", "root", "--level", "30")
	root := loginUser(t, a, "root")

	t.Run("json is the API's", func(t *testing.T) {
		out, _ := cli("", "show", "--login", "root")
		us := userLines(t, out)
		var fromCLI, fromAPI map[string]any
		json.Unmarshal([]byte(out), &fromCLI)
		r := send(http.DefaultClient, b.URL, "GET", fmt.Sprintf("/api/v1/admin/users/%d", us[0].ID), accessHeader(root.AccessToken), "")
		if r.status != 200 {
			t.Fatalf("GET admin/users: %s", r)
		}
		json.Unmarshal(r.body, &fromAPI)
		if !reflect.DeepEqual(fromCLI, fromAPI) {
			t.Fatalf("user show printed\n%s\nthe API answers\n%s", out, r.body)
		}
	})

	// accepted checks that both servers accept the access token and the
	// api-token of p, the second time from their caches. A server that
	// cached the user disabled learns of "user enable" from the feed, so
	// it has the same second to catch up.
	accepted := func(p tokenPair) {
		t.Helper()
		start := time.Now()
		for _, s := range []*proc{a, b, a, b} {
			for _, h := range []map[string]string{accessHeader(p.AccessToken), {"Authorization": "Bearer " + p.APIToken}} {
				for r := userMe(s, h); r.status != 200; r = userMe(s, h) {
					if time.Since(start) > revocationBound {
						t.Fatalf("%s refuses a live token %v after it was issued: %s", s.URL, time.Since(start), r)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}
	}
	vera := registerUser(t, a, "vera")
	for _, step := range []struct {
		name  string
		stdin string
		args  []string
		pat   bool // the api-token is refused too
		login string
	}{
		{"disable", "", []string{"disable", "--login", "vera"}, true, ""},
		{"passwd", "a new long password\n", []string{"passwd", "--login", "vera", "--password-stdin"}, false, "a new long password"},
		{"delete", "", []string{"delete", "--login", "vera", "--yes"}, true, ""},
	} {
		t.Run(step.name, func(t *testing.T) {
			accepted(vera)
			_, done := cli(step.stdin, step.args...)
			for _, s := range []*proc{b, a} {
				name := map[*proc]string{a: "A", b: "B"}[s]
				waitRefused(t, "user "+step.name+", access token on "+name, done, revocationBound, func() reply { return userMe(s, accessHeader(vera.AccessToken)) })
				if step.pat {
					waitRefused(t, "user "+step.name+", api-token on "+name, done, revocationBound, func() reply {
						return userMe(s, map[string]string{"Authorization": "Bearer " + vera.APIToken})
					})
				}
				if r := send(http.DefaultClient, s.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+vera.RefreshToken+`"}`); r.status == 200 {
					t.Fatalf("%s renews the refresh token after user %s: %s", name, step.name, r)
				}
			}
			if step.name == "disable" {
				if s := b.call("POST", "/api/v1/user.login", nil, `{"login":"vera","password":"password-1"}`, nil); s != 403 {
					t.Fatalf("a disabled user signs in: %d", s)
				}
				cli("", "enable", "--login", "vera")
			}
			if step.name == "passwd" {
				if s := b.call("POST", "/api/v1/user.login", nil, `{"login":"vera","password":"password-1"}`, nil); s != 401 {
					t.Fatalf("the old password still signs in: %d", s)
				}
				// The next step needs a live session again.
				vera = tokenPair{}
				if s := b.call("POST", "/api/v1/user.login", nil, `{"login":"vera","password":"`+step.login+`"}`, &vera); s != 200 {
					t.Fatalf("the new password does not sign in: %d", s)
				}
			}
			if step.name == "disable" {
				vera = loginUser(t, a, "vera")
			}
		})
	}
}

// TestUserListPages: user list reads the users a page at a time and prints
// each once, in id order, whatever the page size, --login and --limit.
func TestUserListPages(t *testing.T) {
	dir := t.TempDir()
	logins := []string{"ann", "bob", "cat", "dan", "bea"}
	for _, l := range logins {
		if code, _, errs := runBinary(t, dir, nil, "password-1\n", "user", "add", "--login", l, "--password-stdin"); code != 0 {
			t.Fatalf("user add %s: %d\n%s", l, code, errs)
		}
	}
	for _, tc := range []struct {
		name string
		page int
		args []string
		want []string
	}{
		{"ok/pages-of-2", 2, nil, logins},
		{"ok/pages-of-1", 1, nil, logins},
		{"ok/one-page", 0, nil, logins},
		{"ok/page-equals-all", 5, nil, logins},
		{"ok/limit-across-pages", 2, []string{"--limit", "3"}, logins[:3]},
		{"ok/limit-above-all", 2, []string{"--limit", "9"}, logins},
		{"ok/login-across-pages", 1, []string{"--login", "b"}, []string{"bob", "bea"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errs strings.Builder
			m := NewMain(strings.NewReader(""), &out, &errs)
			if err := m.ParseFlags(append([]string{"user", "list", "--db", "sqlite:" + dir + "/propusk.db"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			m.admin.page = tc.page
			err := m.Run(t.Context())
			if cerr := m.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, errs.String())
			}
			var got []string
			for _, u := range userLines(t, out.String()) {
				got = append(got, u.Login)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("listed %v, want %v", got, tc.want)
			}
		})
	}
}
