package propusk_test

import (
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// TestJudgeUserImport: which rows an import writes, and with what.
func TestJudgeUserImport(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(48 * time.Hour)
	src := func(login, hash string, updated time.Time) *propusk.User {
		return &propusk.User{ID: 7, Login: login, PasswordHash: hash, CreatedAt: t0, UpdatedAt: updated, APIToken: "plain text of the app"}
	}
	dst := func(id int64, login, hash string, updated time.Time) *propusk.User {
		return &propusk.User{ID: id, Login: login, PasswordHash: hash, Level: propusk.LevelAdmin, CreatedAt: t0, UpdatedAt: updated}
	}
	for _, tc := range []struct {
		name       string
		u, id, key *propusk.User
		want       propusk.ImportOutcome
		wantHash   string
		wantLevel  int
	}{
		{"ok/new", src("a@x", "h1", t0), nil, nil, propusk.ImportNew, "h1", propusk.LevelUser},
		{"ok/unchanged", src("a@x", "h1", t0), dst(7, "a@x", "h1", t0), dst(7, "a@x", "h1", t0), propusk.ImportUnchanged, "", 0},
		{"ok/updated-when-the-source-is-newer", src("a@x", "h2", t0.Add(time.Hour)), dst(7, "a@x", "h1", t0), dst(7, "a@x", "h1", t0), propusk.ImportUpdated, "h2", propusk.LevelAdmin},
		{"ok/login-case-changed", src("A@x", "h1", t0.Add(time.Hour)), dst(7, "a@x", "h1", t0), dst(7, "a@x", "h1", t0), propusk.ImportUpdated, "h1", propusk.LevelAdmin},
		{"ok/kept-when-propusk-changed-it-later", src("a@x", "h1", t0), dst(7, "a@x", "rehashed", t0.Add(time.Hour)), dst(7, "a@x", "rehashed", t0.Add(time.Hour)), propusk.ImportKept, "", 0},
		{"ok/kept-when-the-source-time-is-null", src("a@x", "h2", time.Time{}), dst(7, "a@x", "h1", t0), dst(7, "a@x", "h1", t0), propusk.ImportKept, "", 0},
		{"fail/id-taken", src("a@x", "h1", t0), dst(7, "b@x", "h1", t0), nil, propusk.ImportClash, "", 0},
		{"fail/login-taken", src("a@x", "h1", t0), nil, dst(9, "a@x", "h1", t0), propusk.ImportClash, "", 0},
		{"fail/both-taken-by-others", src("a@x", "h1", t0), dst(7, "b@x", "h1", t0), dst(9, "a@x", "h1", t0), propusk.ImportClash, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, why := propusk.JudgeUserImport(tc.u, tc.id, tc.key, now)
			if got != tc.want {
				t.Fatalf("outcome %d, want %d (%s)", got, tc.want, why)
			}
			if (tc.want == propusk.ImportClash) != (why != "") {
				t.Errorf("reason %q for outcome %d", why, got)
			}
			if (n != nil) != (tc.wantHash != "") {
				t.Fatalf("write %+v, want one: %v", n, tc.wantHash != "")
			}
			if n == nil {
				return
			}
			if n.PasswordHash != tc.wantHash || n.Level != tc.wantLevel || n.ID != 7 || n.APIToken != "" {
				t.Errorf("writes %+v", n)
			}
		})
	}

	// NULL times in the source become the import time.
	_, n, _ := propusk.JudgeUserImport(&propusk.User{ID: 1, Login: "a@x", PasswordHash: "h"}, nil, nil, now)
	if !n.CreatedAt.Equal(now) || !n.UpdatedAt.Equal(now) {
		t.Errorf("NULL times became %s and %s, want %s", n.CreatedAt, n.UpdatedAt, now)
	}
	if n.Level != propusk.LevelUser || len(n.Boards) != 1 || n.Boards[0] != propusk.AllBoards {
		t.Errorf("a user without level and boards gets %d and %q, want the defaults", n.Level, n.Boards)
	}
}

// TestJudgeTokenImport: which tokens an import writes.
func TestJudgeTokenImport(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := func(id, owner int64, hash string, updated, used time.Time) *propusk.PersonalAccessToken {
		return &propusk.PersonalAccessToken{ID: id, TokenableType: "T", TokenableID: owner, Name: "n", Hash: hash,
			Abilities: []string{"*"}, CreatedAt: t0, UpdatedAt: updated, LastUsedAt: used}
	}
	later := t0.Add(time.Hour)
	for _, tc := range []struct {
		name     string
		t, id, h *propusk.PersonalAccessToken
		want     propusk.ImportOutcome
		wantUsed time.Time
	}{
		{"ok/new", tok(1, 5, "h", t0, t0), nil, nil, propusk.ImportNew, t0},
		{"ok/unchanged", tok(1, 5, "h", t0, t0), tok(1, 5, "h", t0, t0), tok(1, 5, "h", t0, t0), propusk.ImportUnchanged, time.Time{}},
		{"ok/later-use-in-the-source", tok(1, 5, "h", t0, later), tok(1, 5, "h", t0, t0), tok(1, 5, "h", t0, t0), propusk.ImportUpdated, later},
		{"ok/later-use-in-propusk-kept", tok(1, 5, "h", t0, t0), tok(1, 5, "h", t0, later), tok(1, 5, "h", t0, later), propusk.ImportUnchanged, time.Time{}},
		{"fail/id-taken", tok(1, 5, "h", t0, t0), tok(1, 5, "other", t0, t0), nil, propusk.ImportClash, time.Time{}},
		{"fail/hash-taken", tok(1, 5, "h", t0, t0), nil, tok(2, 5, "h", t0, t0), propusk.ImportClash, time.Time{}},
		{"fail/another-owner", tok(1, 5, "h", t0, t0), tok(1, 6, "h", t0, t0), tok(1, 6, "h", t0, t0), propusk.ImportClash, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, why := propusk.JudgeTokenImport(tc.t, tc.id, tc.h, later)
			if got != tc.want {
				t.Fatalf("outcome %d, want %d (%s)", got, tc.want, why)
			}
			if n != nil && !n.LastUsedAt.Equal(tc.wantUsed) {
				t.Errorf("last_used_at %s, want %s", n.LastUsedAt, tc.wantUsed)
			}
		})
	}
}
