package propusk

import "testing"

func TestPickLogin(t *testing.T) {
	u := func(id int64, login string) *User { return &User{ID: id, Login: login} }
	cases := []struct {
		name  string
		login string
		ms    []LoginMatch
		want  int64
	}{
		{"ok/none", "bob", nil, 0},
		{"ok/one", "BOB", []LoginMatch{{u(3, "bob"), false}}, 3},
		{"ok/exact-wins", "Bob", []LoginMatch{{u(1, "bob"), true}, {u(2, "Bob"), false}, {u(3, "BOB"), false}}, 2},
		{"ok/keyed-before-app-rows", "BOB", []LoginMatch{{u(1, "Bob"), false}, {u(5, "bob"), true}}, 5},
		{"ok/lowest-id", "BOB", []LoginMatch{{u(7, "bOb"), false}, {u(4, "Bob"), false}}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := PickLogin(c.login, c.ms)
			if (got == nil) != (c.want == 0) || got != nil && got.ID != c.want {
				t.Fatalf("PickLogin(%q) = %+v, want id %d", c.login, got, c.want)
			}
		})
	}
}
