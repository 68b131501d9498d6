package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/propusk/propusk/internal/binarytest"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/internal/missing"
	"github.com/propusk/propusk/postgres/pgtest"
)

// docBlock is one ```sh block of a document, and the engine it is for
// ("" for every engine): a block whose first line is "# SQLite",
// "# PostgreSQL" or "# MySQL or MariaDB".
type docBlock struct {
	line   int // where it starts in the document
	engine string
	text   string
}

// docEngines are the first lines that make a block one engine's.
var docEngines = map[string]string{"# SQLite": "sqlite", "# PostgreSQL": "pgsql", "# MySQL or MariaDB": "mariadb"}

// shBlocks returns the ```sh blocks of the document at path, in order.
func shBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []docBlock
	var cur *docBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && line == "```sh":
			cur = &docBlock{line: n}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			if cur.text == "" {
				cur.engine = docEngines[line]
			}
			cur.text += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// docVariable finds the shell variables a document's blocks set, which the
// test carries from one block to the next as a reader's terminal does.
var docVariable = regexp.MustCompile(`(?m)^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=`)

// TestLaravelDoc runs docs/LARAVEL.md's ```sh blocks as written, in order,
// with bash, as a reader does in one terminal: on a copy of the database
// real Laravel and Sanctum 2 wrote (sanctum2-utc, whose settings are
// Laravel's defaults, the ones the page shows), with the real binary on
// PATH. The placeholders the page documents are the only thing replaced:
// the app's database, propusk's own database, /etc/propusk, the two
// addresses, and a fixture user's password and token. Every block must
// exit 0 (it runs under set -e -o pipefail). A "propusk serve" block runs
// in the background until the next one, as a reader stops one server
// before starting another, and is waited for on /healthz. Then the
// outcomes the page promises are checked on the blocks' output.
func TestLaravelDoc(t *testing.T) {
	blocks := shBlocks(t, filepath.Join("..", "..", "docs", "LARAVEL.md"))
	if len(blocks) < 10 {
		t.Fatalf("docs/LARAVEL.md has %d sh blocks; the test expects the whole walk-through", len(blocks))
	}
	for _, engine := range []string{"sqlite", "pgsql"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			runLaravelDoc(t, blocks, engine)
		})
	}
}

// laravelDocOutcomes are what the page says its blocks print: for the
// first block that holds key, a pattern its output must match.
var laravelDocOutcomes = []struct{ key, want string }{
	{`propusk migrate --db "$APP_DB" --laravel`, `schema is up to date`},
	{`/healthz`, `"status":"ok"`},
	// The app's token authenticates its owner; the app's user signs in in another letter case.
	{`| tee pair.json`, `(?s)"_id":1,.*"via":"api-token".*"accessToken":".*"apiToken":"`},
	// The login replaced the app's api-token; the new one works.
	{`-w '%{http_code}\n' -H 'X-Requested-With: curl' \` + "\n" + `  -H 'Authorization: Bearer`, `(?s)^403\n.*"_id":1,.*"via":"api-token"`},
	{`"name":"New User"`, `"apiToken":"`},
	{`token.renew`, `(?s)"accessToken":.*"_id":1,.*"via":"access-token"`},
	{`"name":"deploy-script"`, `"token":"\d+\|`},
	{`sanctum/csrf-cookie`, `(?s)"via":"cookie".*"via":"cookie"`},
	{`auth.verify`, `^200\n401\n$`},
	{`/metrics`, `propusk_logins_total\{outcome="ok"\} [1-9]`},
	{`propusk audit`, `"kind":"login"`},
	{`--dry-run`, `users: 8 new, 0 updated, 0 unchanged, 0 kept, 0 clashes, 0 skipped\ntokens: \d+ new, 0 updated, 0 unchanged, 0 kept, 0 clashes, 0 skipped`},
	{`propusk import laravel --from "$APP_DB" --db "$NEW_DB" \` + "\n" + `  --laravel-timezone UTC --laravel-tokenable-type 'App\Models\User' --laravel-login-column email` + "\n" + `propusk import laravel`,
		`(?s)users: 8 new, 0 updated.*tokens: \d+ new, 0 updated.*users: 0 new, 0 updated, 8 unchanged.*tokens: 0 new, 0 updated, \d+ unchanged`},
	{`"password":"her-password"}' http://127.0.0.1:8080/api/v1/user.login` + "\n", `(?s)"_id":1,.*"via":"api-token".*\n200\n$`},
}

func runLaravelDoc(t *testing.T, blocks []docBlock, engine string) {
	if _, err := exec.LookPath("curl"); err != nil {
		missing.Skip(t, "curl not found (apt-get install curl)")
	}
	manifest, _ := laraveltest.Load(t)
	fx := manifest.Fixtures[laraveltest.Sanctum2UTC][engine]
	var appDB, newDB string
	switch engine {
	case "sqlite":
		appDB = "sqlite:" + laraveltest.SQLiteDB(t, fx.Dataset, true)
		newDB = "sqlite:" + filepath.Join(t.TempDir(), "propusk.db")
	case "pgsql":
		appDB, newDB = laraveltest.PostgresSchema(t, fx.Dataset, true), pgtest.DSN(t)
	}
	var password, token string
	for _, u := range fx.Users {
		if u.ID == 1 {
			password = u.Password
		}
	}
	for _, tk := range fx.Tokens {
		if tk.ID == 4 && tk.OwnerUserID == 1 && tk.State == "valid" && tk.Name == "api-token" {
			token = tk.Plaintext
		}
	}
	if password == "" || token == "" {
		t.Fatal("the fixture has no user 1 with a valid api-token 4: the placeholders have nothing to stand for")
	}
	addr, metrics := freeLocalAddr(t), freeLocalAddr(t)
	work, keys := t.TempDir(), t.TempDir()
	placeholders := strings.NewReplacer(
		"sqlite:/srv/app/database/database.sqlite", appDB,
		"postgres://laravel:secret@127.0.0.1:5432/laravel", appDB,
		"postgres://propusk:secret@127.0.0.1:5432/propusk", newDB,
		"/etc/propusk", keys,
		"127.0.0.1:8080", addr,
		"127.0.0.1:9090", metrics,
		"her-password", password,
		"4|the-token-the-app-gave-her", token,
	)
	var names []string
	seen := map[string]bool{}
	for _, b := range blocks {
		for _, m := range docVariable.FindAllStringSubmatch(b.text, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
	}
	state := filepath.Join(work, ".doc-state")
	if err := os.WriteFile(state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+filepath.Dir(binarytest.Binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	env = withoutPropuskVariables(env)

	outputs := map[int]string{} // block index → output
	var server *exec.Cmd
	stop := func() {
		if server == nil {
			return
		}
		server.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- server.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			server.Process.Kill()
			<-done
		}
		server = nil
	}
	t.Cleanup(stop)
	for i, b := range blocks {
		if b.engine != "" && b.engine != engine {
			continue
		}
		text := placeholders.Replace(b.text)
		if strings.HasPrefix(strings.TrimSpace(b.text), "propusk serve ") {
			stop()
			var logs strings.Builder
			server = exec.Command("bash", "-c", "source "+state+"\nexec "+strings.TrimSpace(text))
			server.Dir, server.Env = work, env
			server.Stdout, server.Stderr = &logs, &logs
			if err := server.Start(); err != nil {
				t.Fatal(err)
			}
			if err := waitHealthy("http://"+addr+"/healthz", 60*time.Second); err != nil {
				t.Fatalf("docs/LARAVEL.md:%d: propusk serve did not answer /healthz: %v\n%s\n%s", b.line, err, text, logs.String())
			}
			continue
		}
		script := "set -e -o pipefail\nsource " + state + "\n" + text + "\ndeclare -p " + strings.Join(names, " ") + " >" + state + " 2>/dev/null || true\n"
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("docs/LARAVEL.md:%d: the block failed: %v\n%s\noutput:\n%s", b.line, err, text, out)
		}
		outputs[i] = string(out)
	}
	stop()
	for _, o := range laravelDocOutcomes {
		i := -1
		for j, b := range blocks {
			if _, ran := outputs[j]; ran && strings.Contains(b.text, o.key) {
				i = j
				break
			}
		}
		if i < 0 {
			t.Errorf("docs/LARAVEL.md has no block with %q any more: the outcome %q is not shown", o.key, o.want)
			continue
		}
		if !regexp.MustCompile(o.want).MatchString(outputs[i]) {
			t.Errorf("docs/LARAVEL.md:%d printed\n%s\nwant a match of %q", blocks[i].line, outputs[i], o.want)
		}
	}
}

// withoutPropuskVariables drops PROPUSK_* from env: the page's commands
// must work with what the page sets, not with the tester's environment.
func withoutPropuskVariables(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PROPUSK_") {
			out = append(out, kv)
		}
	}
	return out
}

// freeLocalAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeLocalAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHealthy polls url until it answers 200 or d passes.
func waitHealthy(url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = &http.ProtocolError{ErrorString: res.Status}
			}
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
