package transfer_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/laraveltest"
	"github.com/propusk/propusk/mysql"
	"github.com/propusk/propusk/postgres"
	"github.com/propusk/propusk/sqlite"
	"github.com/propusk/propusk/transfer"
)

// sources open each engine's copy of a fixture dataset as propusk import
// laravel does: in Laravel mode, never migrated, so the test also shows
// that the import reads a Laravel database propusk never served.
var sources = []struct {
	name string
	open func(t *testing.T, dataset string, l propusk.Laravel) transfer.Source
}{
	{"sqlite", func(t *testing.T, dataset string, l propusk.Laravel) transfer.Source {
		return closing[*sqlite.Store](t)(sqlite.OpenLaravel(t.Context(), laraveltest.SQLiteDB(t, dataset, true), l))
	}},
	{"postgres", func(t *testing.T, dataset string, l propusk.Laravel) transfer.Source {
		return closing[*postgres.Store](t)(postgres.OpenLaravel(t.Context(), laraveltest.PostgresSchema(t, dataset, true), l))
	}},
	{"mysql", func(t *testing.T, dataset string, l propusk.Laravel) transfer.Source {
		return closing[*mysql.Store](t)(mysql.OpenLaravel(t.Context(), laraveltest.MariaDB(t, dataset, true), l))
	}},
}

// closing fails t on an open error and closes the store when t ends.
func closing[S interface {
	transfer.Source
	Close() error
}](t *testing.T) func(S, error) transfer.Source {
	return func(s S, err error) transfer.Source {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestImportFixtures: what real Laravel and Sanctum wrote, on each engine,
// imported into every engine: every user logs in with their password (bcrypt, argon2id,
// over 72 bytes, non-ASCII), every valid token authenticates as its owner
// and every expired, deleted or replaced one is refused, users with NULL
// times get the import time, and a second run finds nothing new.
func TestImportFixtures(t *testing.T) {
	manifest, _ := laraveltest.Load(t)
	for _, dataset := range []string{"sanctum2-utc", "sanctum4-moscow"} {
		for _, from := range sources {
			fx := manifest.Fixtures[dataset][map[string]string{"sqlite": "sqlite", "postgres": "pgsql", "mysql": "mariadb"}[from.name]]
			for _, to := range engines {
				t.Run(dataset+"/"+from.name+"-to-"+to.name, func(t *testing.T) {
					ctx := context.Background()
					loc, err := time.LoadLocation(fx.Timezone)
					if err != nil {
						t.Fatal(err)
					}
					l := propusk.Laravel{Location: loc, TokenableType: fx.TokenableType}.WithDefaults()
					src, dst := from.open(t, dataset, l), to.open(t)
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
}
