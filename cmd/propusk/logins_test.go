package main

import (
	"bytes"
	"database/sql"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/binarytest"
)

// TestMigrateNamesCollidingLogins: upgrading a database whose logins
// collide once canonical exits non-zero, names every colliding row, and
// merges nothing; after the operator renames them it succeeds.
func TestMigrateNamesCollidingLogins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	migrate := func() (string, int) {
		var out bytes.Buffer
		cmd := exec.Command(binarytest.Binary(t), "migrate", "--db", "sqlite:"+path)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
	if out, code := migrate(); code != 0 {
		t.Fatalf("migrate a new database: exit %d: %s", code, out)
	}
	// Back to the schema before canonical logins, with the rows an older
	// propusk accepted.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`DROP INDEX users_login_key_unique`)
	exec(`ALTER TABLE users DROP COLUMN login_key`)
	exec(`DELETE FROM schema_migrations WHERE name = 'migrations/0004_login_key.sql'`)
	for _, l := range []string{"admin", "Admin", "\u0430dmin", "e\u0301lodie", "\u00e9lodie", "bob"} {
		exec(`INSERT INTO users (login, created_at, updated_at) VALUES (?, 0, 0)`, l)
	}

	out, code := migrate()
	if code == 0 {
		t.Fatalf("migrate over colliding logins exited 0: %s", out)
	}
	for _, want := range []string{
		`id 1 "admin", id 2 "Admin"`, "id 3 \"\u0430dmin\" (\"\\u0430dmin\")", "mixes Cyrillic and Latin",
		"id 4 \"e\u0301lodie\" (\"e\\u0301lodie\"), id 5 \"\u00e9lodie\" (\"\\u00e9lodie\")", "nothing was changed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal does not name %q:\n%s", want, out)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("users after the refusal: %d, %v; want all 6", n, err)
	}

	exec(`UPDATE users SET login = 'admin2' WHERE id = 2`)
	exec(`UPDATE users SET login = 'elodie2' WHERE id = 5`)
	exec(`DELETE FROM users WHERE id = 3`)
	if out, code := migrate(); code != 0 {
		t.Fatalf("migrate after renaming: exit %d: %s", code, out)
	}
}
