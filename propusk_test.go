package propusk_test

import (
	"testing"
	"time"

	"github.com/propusk/propusk"
)

func TestJudgeSpend(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	live := propusk.Session{Generation: 5, RotatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	revoked := live
	revoked.RevokedAt = t0
	cases := []struct {
		name string
		s    propusk.Session
		gen  int64
		at   time.Duration
		want propusk.RenewOutcome
	}{
		{"ok/grace-previous", live, 4, 9 * time.Second, propusk.RenewGrace},
		{"fail/reused-after-grace", live, 4, 10 * time.Second, propusk.RenewReused},
		{"fail/reused-older", live, 2, time.Second, propusk.RenewReused},
		{"fail/never-issued", live, 7, time.Second, propusk.RenewInvalid},
		{"fail/revoked", revoked, 4, time.Second, propusk.RenewInvalid},
		{"fail/expired", live, 4, time.Hour, propusk.RenewInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.JudgeSpend(c.gen, t0.Add(c.at), 10*time.Second); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	cases := []struct {
		name          string
		p             *propusk.Principal
		board, able   string
		canB, canA, a bool
	}{
		{"jwt-all-boards", &propusk.Principal{UserID: 1, Boards: []string{"*"}}, "d", "tokens:reissue", true, true, false},
		{"jwt-one-board", &propusk.Principal{UserID: 1, Boards: []string{"b"}}, "d", "x", false, true, false},
		{"pat-narrow", &propusk.Principal{UserID: 1, Boards: []string{"*"}, Abilities: []string{"read"}}, "d", "write", true, false, false},
		{"pat-star", &propusk.Principal{UserID: 1, Abilities: []string{"*"}}, "d", "write", false, true, false},
		{"anonymous", &propusk.Principal{Boards: []string{"*"}}, "b", "x", true, true, true},
		{"nil", nil, "b", "x", false, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.p.CanBoard(c.board) != c.canB || c.p.Can(c.able) != c.canA || c.p.Anonymous() != c.a {
				t.Fatalf("CanBoard %v Can %v Anonymous %v", c.p.CanBoard(c.board), c.p.Can(c.able), c.p.Anonymous())
			}
		})
	}
}
