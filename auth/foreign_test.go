package auth

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/propusk/propusk/internal/laraveltest"
)

// TestForeignHashes checks hashes that PHP wrote through Laravel's own
// Hashing component: every driver a Laravel app can configure, with
// ASCII, UTF-8 and over-72-byte passwords.
func TestForeignHashes(t *testing.T) {
	long := strings.Repeat("ü", 40) + "tail" // 84 bytes; bcrypt reads the first 72
	type want struct {
		password string
		ok       bool
	}
	for _, driver := range []string{"bcrypt", "argon", "argon2id"} {
		for _, pw := range []string{"correct horse", "пароль-Ünïcödé", long} {
			hash := laraveltest.Script(t, "hash.php", pw, "make", driver, "-")
			hashes := []string{hash}
			if driver == "bcrypt" {
				// Other libraries write $2a$ and $2b$: the same algorithm.
				hashes = append(hashes, "$2a$"+hash[4:], "$2b$"+hash[4:])
			}
			cases := []want{{pw, true}, {pw + "x", driver == "bcrypt" && pw == long}, {strings.ToUpper(pw), false}, {"", false}}
			if pw == long && driver == "bcrypt" {
				cases = append(cases, want{pw[:72], true}, want{pw[:71], false})
			}
			for _, h := range hashes {
				for _, c := range cases {
					name := "ok/" + h[:4]
					if !c.ok {
						name = "fail/" + h[:4]
					}
					t.Run(name, func(t *testing.T) {
						ok, err := checkPassword(h, c.password)
						if err != nil || ok != c.ok {
							t.Fatalf("check(%q, %q) = %v, %v; want %v", h, c.password, ok, err, c.ok)
						}
					})
				}
			}
		}
	}
}

// TestFixtureHashes checks the password of every user of every SQLite
// fixture that real Laravel wrote, against the hash as stored.
func TestFixtureHashes(t *testing.T) {
	m, dir := laraveltest.Load(t)
	for dataset, engines := range m.Fixtures {
		f := engines["sqlite"]
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, f.File)+"?mode=ro&immutable=1")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, u := range f.Users {
			t.Run(dataset+"/"+u.Email, func(t *testing.T) {
				var hash string
				if err := db.QueryRow(`SELECT password FROM users WHERE id = ?`, u.ID).Scan(&hash); err != nil {
					t.Fatal(err)
				}
				if ok, err := checkPassword(hash, u.Password); !ok || err != nil {
					t.Fatalf("%s hash %.12s…: ok %v, err %v", u.HashKind, hash, ok, err)
				}
				if ok, err := checkPassword(hash, "!"+u.Password); ok || err != nil {
					t.Fatalf("a wrong password: ok %v, err %v", ok, err)
				}
			})
		}
	}
}
