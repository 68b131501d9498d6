package web_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/internal/testenv"
)

// rawSQL runs a statement on a store's database beside the store, to plant a
// fault the store does not know of; it returns the statement's one integer,
// or 0 when it returns no rows.
type rawSQL func(t *testing.T, q string) int

// faultStores are the stores of the fault-injection tests. fault makes every
// write of one kind to a table fail, as a full disk would; clear removes it.
var faultStores = []struct {
	name         string
	open         func(t *testing.T) (propusk.Store, rawSQL)
	fault, clear func(table, when string) string
}{
	{
		name: "sqlite",
		open: func(t *testing.T) (propusk.Store, rawSQL) {
			s, path := testenv.SQLite(t)
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return s, func(t *testing.T, q string) int {
				t.Helper()
				var n int
				if err := db.QueryRow(q).Scan(&n); err != nil && err != sql.ErrNoRows {
					t.Fatalf("%s: %v", q, err)
				}
				return n
			}
		},
		fault: func(table, when string) string {
			return `CREATE TRIGGER fault ` + when + ` ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'injected fault'); END`
		},
		clear: func(string, string) string { return `DROP TRIGGER fault` },
	},
	{
		name: "postgres",
		open: func(t *testing.T) (propusk.Store, rawSQL) {
			s, dsn := testenv.Postgres(t)
			conn, err := pgx.Connect(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close(context.Background()) })
			run := func(t *testing.T, q string) int {
				t.Helper()
				var n int
				if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil && err != pgx.ErrNoRows {
					t.Fatalf("%s: %v", q, err)
				}
				return n
			}
			// 53100 is disk_full, the failure this guards against.
			run(t, `CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = '53100'; END $$`)
			return s, run
		},
		fault: func(table, when string) string {
			return `CREATE TRIGGER fault ` + when + ` ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION fault()`
		},
		clear: func(table, _ string) string { return `DROP TRIGGER fault ON ` + table },
	},
}

// TestRegisterAtomic: a registration whose database fails after the user row
// is written leaves nothing behind, so the client's retry succeeds with 201
// instead of finding its own half-made account taken (409).
func TestRegisterAtomic(t *testing.T) {
	faults := []struct {
		name, table, when string
	}{
		{"fail/session-insert", "sessions", "BEFORE INSERT"},
		{"fail/api-token-insert", "personal_access_tokens", "BEFORE INSERT"},
		{"fail/api-token-on-user", "users", "BEFORE UPDATE"},
	}
	for _, fs := range faultStores {
		t.Run(fs.name, func(t *testing.T) {
			for _, f := range faults {
				t.Run(f.name, func(t *testing.T) {
					t.Parallel()
					var db rawSQL
					e := newEnv(t, func(t *testing.T) propusk.Store {
						var s propusk.Store
						s, db = fs.open(t)
						return s
					})
					tables := []string{"users", "sessions", "personal_access_tokens", "events"}
					before := map[string]int{}
					for _, table := range tables {
						before[table] = db(t, "SELECT count(*) FROM "+table)
					}
					db(t, fs.fault(f.table, f.when))
					r := e.do(req{method: "POST", path: "/api/v1/user.register", body: `{"login":"alice","password":"correct horse"}`, header: xhr})
					if fs.name == "postgres" { // its fault is disk_full
						wantError(t, r, 503, propusk.EUNAVAILABLE)
					} else if r.StatusCode != 500 {
						t.Fatalf("register with failing writes to %s: %d %s, want 500", f.table, r.StatusCode, r.body)
					}
					for _, table := range tables {
						if n := db(t, "SELECT count(*) FROM "+table); n != before[table] {
							t.Errorf("after the failure %s has %d rows, want %d as before", table, n, before[table])
						}
					}
					db(t, fs.clear(f.table, f.when))
					p := e.register("alice", "correct horse") // 201, or it fails the test
					me := e.do(req{method: "GET", path: "/api/v1/user.me", header: map[string]string{"Authorization": "Bearer " + p.api}})
					if me.StatusCode != 200 {
						t.Fatalf("the retry's api-token: %d %s", me.StatusCode, me.body)
					}
				})
			}
		})
	}
}
