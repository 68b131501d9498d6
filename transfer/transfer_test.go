package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/pat"
	"github.com/propusk/propusk/transfer"
)

// store is what the tests need of every engine.
type store interface {
	propusk.Store
	propusk.ImportStore
	propusk.TokenLister
}

// normalSource reads a store of propusk's own as an import source, for
// tests that write the source between runs through the store's methods.
// A Laravel-mode store reads the same rows (TestImportFixtures).
type normalSource struct{ store }

func (s normalSource) AppUsers(ctx context.Context, after int64, limit int) ([]*propusk.User, error) {
	return s.Users(ctx, propusk.UserQuery{After: after, Limit: limit})
}

var engines = []struct {
	name string
	open func(t testing.TB) store
}{
	{"sqlite", func(t testing.TB) store { s, _ := testenv.SQLite(t); return s }},
	{"postgres", func(t testing.TB) store { s, _ := testenv.Postgres(t); return s }},
	{"mysql", func(t testing.TB) store { s, _ := testenv.MySQL(t); return s }},
}

const (
	laravelUser = `App\User` // the source's tokenable type, as an older Laravel app has it
	secretOne   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// bcryptOf is a bcrypt hash as PHP writes it.
func bcryptOf(t *testing.T, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "$2y$" + string(h[4:])
}

func hashOf(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func secretOf(i int) string { return fmt.Sprintf("%s%02d", secretOne[:38], i) }

// seed fills src as a Laravel app would have it, and dst with two users
// already there that the import must not touch.
func seed(t *testing.T, src, dst store) {
	ctx := context.Background()
	user := func(id int64, login, pw string) *propusk.User {
		return &propusk.User{ID: id, Login: login, PasswordHash: bcryptOf(t, pw), Level: propusk.LevelUser,
			Boards: []string{propusk.AllBoards}, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	}
	var us []propusk.UserImport
	for _, u := range []*propusk.User{
		user(1, "alice@example.com", "alice password"),
		user(2, "Bob@Example.com", "bob password"),
		user(3, "mallory@example.com", "mallory password"), // dst has another user with id 3
		user(4, "CAROL@example.com", "carol password"),     // dst has carol@example.com as id 50
		user(70, "dave@example.com", "dave password"),
	} {
		us = append(us, propusk.UserImport{New: u})
	}
	if err := src.ImportUsers(ctx, us); err != nil {
		t.Fatal(err)
	}
	tok := func(id, owner int64, typ string, secret int, expires time.Time) propusk.TokenImport {
		return propusk.TokenImport{New: &propusk.PersonalAccessToken{ID: id, TokenableType: typ, TokenableID: owner,
			Name: "ci", Hash: hashOf(secretOf(secret)), Abilities: []string{"*"}, ExpiresAt: expires,
			LastUsedAt: t0.Add(2 * time.Hour), CreatedAt: t0, UpdatedAt: t0}}
	}
	if err := src.ImportTokens(ctx, []propusk.TokenImport{
		tok(10, 1, laravelUser, 10, time.Time{}),
		tok(11, 1, laravelUser, 11, t0.Add(time.Minute)), // expired
		tok(12, 2, laravelUser, 12, time.Time{}),
		tok(13, 3, laravelUser, 13, time.Time{}),        // its owner clashes
		tok(14, 1, `App\Models\Admin`, 14, time.Time{}), // not a user's
		tok(15, 999, laravelUser, 15, time.Time{}),      // its owner is gone
		tok(90, 70, laravelUser, 90, time.Time{}),
	}); err != nil {
		t.Fatal(err)
	}
	if err := dst.ImportUsers(ctx, []propusk.UserImport{
		{New: user(3, "someone@example.com", "someone password")},
		{New: user(50, "carol@example.com", "carol's own password")},
	}); err != nil {
		t.Fatal(err)
	}
}

// snapshot is every user and token of s.
func snapshot(t *testing.T, s store) ([]*propusk.User, []*propusk.PersonalAccessToken) {
	ctx := context.Background()
	us, err := s.Users(ctx, propusk.UserQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.TokensAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return us, ts
}

func report(t *testing.T, rep *transfer.Report) string {
	var b bytes.Buffer
	if _, err := rep.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestImportBetweenEngines: a Laravel app's users and tokens, copied into
// propusk's database of every engine from every engine, log in and
// authenticate there with what they had; clashes are reported and never
// overwritten; a dry run and a second run write nothing; ids handed out
// afterwards never collide with imported ones.
func TestImportBetweenEngines(t *testing.T) {
	for _, from := range engines {
		for _, to := range engines {
			t.Run(from.name+"-to-"+to.name, func(t *testing.T) {
				testImport(t, from.open(t), to.open(t))
			})
		}
	}
}

func testImport(t *testing.T, src, dst store) {
	ctx := context.Background()
	seed(t, src, dst)
	before, beforeTokens := snapshot(t, dst)
	at := t0.Add(24 * time.Hour)
	cfg := transfer.Config{From: normalSource{src}, To: dst, FromTokenableType: laravelUser, Batch: 2, Now: func() time.Time { return at }}

	// A dry run reports what the run will do, and writes nothing.
	dry := cfg
	dry.DryRun = true
	rep, err := transfer.Run(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	want := transfer.Counts{New: 3, Clashes: 2}
	wantTokens := transfer.Counts{New: 4, Skipped: 3}
	if rep.Users != want || rep.Tokens != wantTokens {
		t.Fatalf("dry run: users %+v, tokens %+v; want %+v, %+v\n%s", rep.Users, rep.Tokens, want, wantTokens, report(t, rep))
	}
	if !strings.Contains(report(t, rep), "dry run: nothing was written") {
		t.Errorf("the dry run's report does not say it wrote nothing:\n%s", report(t, rep))
	}
	if us, ts := snapshot(t, dst); !reflect.DeepEqual(us, before) || !reflect.DeepEqual(ts, beforeTokens) {
		t.Fatalf("the dry run wrote: users %d → %d, tokens %d → %d", len(before), len(us), len(beforeTokens), len(ts))
	}

	rep, err = transfer.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := report(t, rep)
	if rep.Users != want || rep.Tokens != wantTokens {
		t.Fatalf("import: users %+v, tokens %+v; want %+v, %+v\n%s", rep.Users, rep.Tokens, want, wantTokens, text)
	}
	for _, line := range []string{
		`user 3 "mallory@example.com": clash, not written: its id is taken by another login, "someone@example.com"`,
		`user 4 "CAROL@example.com": clash, not written: its login is taken by user 50 "carol@example.com"`,
		"token 13: skipped: its owner, user 3, was not imported",
		`token 14: skipped: its owner is a "App\\Models\\Admin", not a user`,
		"token 15: skipped: its owner, user 999, is not a user of the source",
		"users: 3 new, 0 updated, 0 unchanged, 0 kept, 2 clashes, 0 skipped",
		"tokens: 4 new, 0 updated, 0 unchanged, 0 kept, 0 clashes, 3 skipped",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("the report lacks %q:\n%s", line, text)
		}
	}

	// The clashing rows of the destination are as they were.
	for _, id := range []int64{3, 50} {
		u, err := dst.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Login != map[int64]string{3: "someone@example.com", 50: "carol@example.com"}[id] {
			t.Errorf("user %d was overwritten: %q", id, u.Login)
		}
	}

	// Every imported user logs in with their password, and every
	// imported token authenticates as its owner, or is refused as expired.
	svc, err := auth.New(ctx, auth.Config{Store: dst, MasterKey: make([]byte, 32), Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		login, password string
		id              int64
	}{{"alice@example.com", "alice password", 1}, {"bob@example.com", "bob password", 2}, {"dave@example.com", "dave password", 70}} {
		p, err := svc.Login(ctx, c.login, c.password, propusk.Client{IP: "192.0.2.1"})
		if err != nil {
			t.Fatalf("login %s: %v", c.login, err)
		}
		if p.UserID != c.id {
			t.Errorf("login %s: user %d, want %d", c.login, p.UserID, c.id)
		}
	}
	for _, c := range []struct {
		id     int64
		secret int
		owner  int64 // 0: refused
	}{{10, 10, 1}, {11, 11, 0}, {12, 12, 2}, {90, 90, 70}, {13, 13, 0}, {14, 14, 0}, {15, 15, 0}} {
		p, err := svc.Authenticate(ctx, pat.Format(c.id, secretOf(c.secret)), propusk.ViaAccessToken)
		switch {
		case c.owner == 0 && err == nil:
			t.Errorf("token %d authenticates as user %d; want it refused", c.id, p.UserID)
		case c.owner != 0 && err != nil:
			t.Errorf("token %d: %v", c.id, err)
		case c.owner != 0 && p.UserID != c.owner:
			t.Errorf("token %d authenticates as user %d, want %d", c.id, p.UserID, c.owner)
		}
	}

	// Ids handed out later are above every imported one.
	u := &propusk.User{Login: "new@example.com", PasswordHash: bcryptOf(t, "new password")}
	if err := dst.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID <= 70 {
		t.Errorf("a user created after the import got id %d, not above the imported 70", u.ID)
	}
	tk := &propusk.PersonalAccessToken{TokenableType: propusk.DefaultLaravelTokenableType, TokenableID: u.ID, Name: "ci", Hash: hashOf("new")}
	if err := dst.CreateToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if tk.ID <= 90 {
		t.Errorf("a token created after the import got id %d, not above the imported 90", tk.ID)
	}

	// A second run changes nothing: what propusk did meanwhile (the
	// logins above rehashed the passwords) is kept.
	after, afterTokens := snapshot(t, dst)
	rep, err = transfer.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users.New != 0 || rep.Tokens.New != 0 || rep.Users.Updated != 0 || rep.Tokens.Updated != 0 {
		t.Fatalf("second run: users %+v, tokens %+v; want nothing new or updated\n%s", rep.Users, rep.Tokens, report(t, rep))
	}
	if us, ts := snapshot(t, dst); !reflect.DeepEqual(us, after) || !reflect.DeepEqual(ts, afterTokens) {
		t.Fatal("the second run wrote")
	}

	// A password changed in the app later than in propusk is copied.
	if err := src.SetPassword(ctx, 1, bcryptOf(t, "alice's new password"), "", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rep, err = transfer.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users.Updated != 1 {
		t.Fatalf("after a password change in the source: users %+v, want 1 updated\n%s", rep.Users, report(t, rep))
	}
	if _, err := svc.Login(ctx, "alice@example.com", "alice's new password", propusk.Client{IP: "192.0.2.1"}); err != nil {
		t.Errorf("login with the password changed in the source: %v", err)
	}
}
