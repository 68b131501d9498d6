package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// TestFullDisk: a database that cannot grow (here, SQLite's max_page_count,
// which fails writes with SQLITE_FULL as a full disk does) answers
// EUNAVAILABLE, a condition of the server rather than of the request, and
// works again once there is room.
func TestFullDisk(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	owner := &propusk.User{Login: "owner", PasswordHash: "x"}
	if err := s.CreateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10) // more than the free room in any page
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	writes := []struct {
		name  string
		write func(i int) error
	}{
		{"create-user", func(i int) error {
			return s.CreateUser(ctx, &propusk.User{Login: fmt.Sprintf("u%d", i), PasswordHash: big})
		}},
		{"create-session", func(i int) error {
			return s.CreateSession(ctx, &propusk.Session{ID: fmt.Sprintf("s%d", i), UserID: owner.ID, UserAgent: big, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}},
		{"set-meta", func(i int) error { _, err := s.SetMetaOnce(ctx, fmt.Sprintf("m%d", i), big); return err }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			var err error
			for i := 0; i < 100 && err == nil; i++ {
				err = w.write(i)
			}
			if code := propusk.ErrorCode(err); code != propusk.EUNAVAILABLE {
				t.Fatalf("write to a full database: %v (%s), want %s", err, code, propusk.EUNAVAILABLE)
			}
		})
	}
	if _, err := s.db.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &propusk.User{Login: "after", PasswordHash: "x"}); err != nil {
		t.Fatalf("once there is room: %v", err)
	}
}
