package transfer_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/transfer"
)

// fixtureSource reads a Laravel SQLite fixture as a transfer.Source, for
// testing package transfer on what real Laravel wrote: NULL times, local
// times in the app's zone, and Sanctum 2's table without expires_at.
// propusk import laravel reads through the stores' Laravel mode instead
// (cmd/propusk's TestImportLaravelFixtures); this stands in for it here
// and is no part of propusk.
type fixtureSource struct {
	db      *sql.DB
	loc     *time.Location
	expires bool // Sanctum 4's table has expires_at
}

func openFixture(t *testing.T, path, zone string) *fixtureSource {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('personal_access_tokens') WHERE name = 'expires_at'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return &fixtureSource{db: db, loc: loc, expires: n == 1}
}

func (f *fixtureSource) time(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	// The driver hands a datetime column back as RFC 3339 in UTC; the
	// wall clock in it is Laravel's, in the app's zone.
	t, err := time.Parse(time.RFC3339, s.String)
	if err != nil {
		t, err = time.Parse(time.DateTime, s.String)
	}
	if err != nil {
		panic(err)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, f.loc).UTC()
}

func (f *fixtureSource) Users(ctx context.Context, q propusk.UserQuery) ([]*propusk.User, error) {
	rows, err := f.db.QueryContext(ctx, `SELECT id, email, name, password, created_at, updated_at FROM users WHERE id > ? ORDER BY id LIMIT ?`, q.After, q.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var us []*propusk.User
	for rows.Next() {
		u := &propusk.User{Level: propusk.LevelUser, Boards: []string{propusk.AllBoards}}
		var created, updated sql.NullString
		if err := rows.Scan(&u.ID, &u.Login, &u.Name, &u.PasswordHash, &created, &updated); err != nil {
			return nil, err
		}
		u.CreatedAt, u.UpdatedAt = f.time(created), f.time(updated)
		us = append(us, u)
	}
	return us, rows.Err()
}

func (f *fixtureSource) TokensAfter(ctx context.Context, after int64, limit int) ([]*propusk.PersonalAccessToken, error) {
	expires := "NULL"
	if f.expires {
		expires = "expires_at"
	}
	rows, err := f.db.QueryContext(ctx, `SELECT id, tokenable_type, tokenable_id, name, token, abilities, last_used_at, `+expires+`, created_at, updated_at
		FROM personal_access_tokens WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []*propusk.PersonalAccessToken
	for rows.Next() {
		var t propusk.PersonalAccessToken
		var abilities, used, exp, created, updated sql.NullString
		if err := rows.Scan(&t.ID, &t.TokenableType, &t.TokenableID, &t.Name, &t.Hash, &abilities, &used, &exp, &created, &updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(abilities.String), &t.Abilities); err != nil {
			return nil, err
		}
		t.LastUsedAt, t.ExpiresAt, t.CreatedAt, t.UpdatedAt = f.time(used), f.time(exp), f.time(created), f.time(updated)
		ts = append(ts, &t)
	}
	return ts, rows.Err()
}

// TestImportFixtures: what real Laravel and Sanctum wrote, imported into
// every engine: every user logs in with their password (bcrypt, argon2id,
// over 72 bytes, non-ASCII), every valid token authenticates as its owner
// and every expired, deleted or replaced one is refused, users with NULL
// times get the import time, and a second run finds nothing new.
func TestImportFixtures(t *testing.T) {
	manifest, dir := laraveltest.Load(t)
	for _, dataset := range []string{"sanctum2-utc", "sanctum4-moscow"} {
		fx := manifest.Fixtures[dataset]["sqlite"]
		for _, to := range engines {
			t.Run(dataset+"/to-"+to.name, func(t *testing.T) {
				ctx := context.Background()
				src, dst := openFixture(t, filepath.Join(dir, fx.File), fx.Timezone), to.open(t)
				at, err := time.Parse(time.DateTime, fx.GeneratedAt)
				if err != nil {
					t.Fatal(err)
				}
				cfg := transfer.Config{From: src, To: dst, FromTokenableType: fx.TokenableType, Batch: 4, Now: func() time.Time { return at }}
				rep, err := transfer.Run(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				rows, nulls := 0, 0
				for _, tk := range fx.Tokens {
					if tk.State == "valid" || tk.State == "expired" {
						rows++
					}
				}
				for _, u := range fx.Users {
					if strings.Contains(u.Note, "NULL") {
						nulls++
					}
				}
				if want := (transfer.Counts{New: len(fx.Users)}); rep.Users != want {
					t.Errorf("users %+v, want %+v\n%s", rep.Users, want, report(t, rep))
				}
				if want := (transfer.Counts{New: rows}); rep.Tokens != want {
					t.Errorf("tokens %+v, want %+v\n%s", rep.Tokens, want, report(t, rep))
				}
				if rep.NullTimes != nulls || nulls == 0 {
					t.Errorf("%d users with NULL times reported, the fixture has %d", rep.NullTimes, nulls)
				}
				rep, err = transfer.Run(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Users.New+rep.Users.Updated+rep.Tokens.New+rep.Tokens.Updated != 0 {
					t.Errorf("a second run: users %+v, tokens %+v", rep.Users, rep.Tokens)
				}

				svc, err := auth.New(ctx, auth.Config{Store: dst, MasterKey: make([]byte, 32), Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range fx.Tokens { // before the logins, which replace api-tokens
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
						t.Errorf("user %d %s (%s; %s): %v", u.ID, u.Email, u.HashKind, u.Note, err)
						continue
					}
					if p.UserID != u.ID {
						t.Errorf("%s logged in as user %d, want %d", u.Email, p.UserID, u.ID)
					}
				}
			})
		}
	}
}
