package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/mysql/mytest"
	"github.com/propusk/propusk/postgres/pgtest"
)

// TestImportLaravelFixtures: propusk import laravel copies the databases
// real Laravel and Sanctum wrote into propusk's database of every engine.
// There every fixture user logs in with their password, every valid token
// authenticates as its owner and every expired, deleted or replaced one is
// refused; a dry run writes nothing, a second run reports nothing new;
// users with NULL times and Sanctum 2's table without expires_at are
// handled.
//
// The sources are the SQLite fixtures; the stores' own Laravel-mode tests
// load the PostgreSQL and MariaDB dumps, and can add them here.
func TestImportLaravelFixtures(t *testing.T) {
	manifest, dir := laraveltest.Load(t)
	dests := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "propusk.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
		{"mysql", func(t *testing.T) string { return mytest.DSN(t) }},
	}
	for _, dataset := range []string{"sanctum2-utc", "sanctum4-moscow"} {
		fx := manifest.Fixtures[dataset]["sqlite"]
		for _, to := range dests {
			t.Run(dataset+"/sqlite-to-"+to.name, func(t *testing.T) {
				src := filepath.Join(t.TempDir(), "app.sqlite")
				b, err := os.ReadFile(filepath.Join(dir, fx.File))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(src, b, 0o600); err != nil {
					t.Fatal(err)
				}
				testImportFixture(t, fx, "sqlite:"+src, to.dsn(t))
			})
		}
	}
}

func testImportFixture(t *testing.T, fx *laraveltest.Fixture, from, to string) {
	ctx := context.Background()
	run := func(extra ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		m := NewMain(strings.NewReader(""), &out, io.Discard)
		args := append([]string{"import", "laravel", "--from", from, "--db", to,
			"--laravel-timezone", fx.Timezone, "--laravel-tokenable-type", fx.TokenableType, "--batch", "3"}, extra...)
		if err := m.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		return out.String(), err
	}
	rows := 0
	for _, tk := range fx.Tokens {
		if tk.State == "valid" || tk.State == "expired" {
			rows++
		}
	}
	nulls := false
	for _, u := range fx.Users {
		nulls = nulls || strings.Contains(u.Note, "NULL")
	}
	wantNew := []string{
		"users: " + strconv.Itoa(len(fx.Users)) + " new, 0 updated, 0 unchanged, 0 kept, 0 clashes, 0 skipped",
		"tokens: " + strconv.Itoa(rows) + " new, 0 updated, 0 unchanged, 0 kept, 0 clashes, 0 skipped",
	}

	// A dry run into a database that does not exist yet creates nothing.
	if path, ok := sqlitePath(to); ok {
		out, err := run("--dry-run")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range append(wantNew, "dry run: nothing was written") {
			if !strings.Contains(out, w) {
				t.Errorf("dry run: the report lacks %q:\n%s", w, out)
			}
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("the dry run created the destination")
		}
	}

	out, err := run()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, w := range wantNew {
		if !strings.Contains(out, w) {
			t.Errorf("the report lacks %q:\n%s", w, out)
		}
	}
	if nulls != strings.Contains(out, "had no created_at or updated_at in the source") {
		t.Errorf("the report's note on NULL times (the fixture has them: %v):\n%s", nulls, out)
	}

	// Running it again, or a dry run, writes nothing and finds nothing new.
	for _, extra := range [][]string{{"--dry-run"}, nil} {
		out, err := run(extra...)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"users: 0 new, 0 updated, " + strconv.Itoa(len(fx.Users)) + " unchanged", "tokens: 0 new, 0 updated, " + strconv.Itoa(rows) + " unchanged"} {
			if !strings.Contains(out, w) {
				t.Errorf("run again %q: the report lacks %q:\n%s", extra, w, out)
			}
		}
	}

	store, err := openStore(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	at, err := time.Parse(time.DateTime, fx.GeneratedAt)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(ctx, auth.Config{Store: store, MasterKey: make([]byte, 32), Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens first: a login replaces its user's api-token.
	for _, tk := range fx.Tokens {
		p, err := svc.Authenticate(ctx, tk.Plaintext, propusk.ViaAccessToken)
		switch {
		case tk.State == "valid" && err != nil:
			t.Errorf("token %d (valid): %v", tk.ID, err)
		case tk.State == "valid" && p.UserID != tk.OwnerUserID:
			t.Errorf("token %d authenticates user %d, want %d", tk.ID, p.UserID, tk.OwnerUserID)
		case tk.State != "valid" && err == nil:
			t.Errorf("token %d (%s) authenticates", tk.ID, tk.State)
		}
	}
	for _, u := range fx.Users {
		p, err := svc.Login(ctx, strings.ToUpper(u.Email), u.Password, propusk.Client{IP: "192.0.2.1"})
		if err != nil {
			t.Errorf("user %d %s (%s, %s): %v", u.ID, u.Email, u.HashKind, u.Note, err)
			continue
		}
		if p.UserID != u.ID {
			t.Errorf("%s logged in as user %d, want %d", u.Email, p.UserID, u.ID)
		}
	}
}
