package propusk

// LoginMatch is a user a store in Laravel mode found for a typed login,
// and whether propusk keyed that user with the typed login's canonical
// key (package logins): propusk wrote the row, so no other row it wrote
// has that key.
type LoginMatch struct {
	User  *User
	Keyed bool
}

// PickLogin returns the user a typed login names, of those a store in
// Laravel mode found for it: rows whose login is the typed one in any
// letter case, or whose canonical key is the typed login's. A Laravel app
// may hold two rows whose logins differ only in case, which propusk never
// writes, so the rule is, in order: the row whose login is exactly the
// typed one; the row propusk keyed; the row with the lowest id. It returns
// nil when ms is empty.
func PickLogin(login string, ms []LoginMatch) *User {
	var best *LoginMatch
	rank := func(m *LoginMatch) int {
		switch {
		case m.User.Login == login:
			return 0
		case m.Keyed:
			return 1
		}
		return 2
	}
	for i := range ms {
		m := &ms[i]
		if best == nil || rank(m) < rank(best) || rank(m) == rank(best) && m.User.ID < best.User.ID {
			best = m
		}
	}
	if best == nil {
		return nil
	}
	return best.User
}
