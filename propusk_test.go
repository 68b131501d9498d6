package propusk_test

import (
	"testing"

	"github.com/propusk/propusk"
)

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
