package storetest

import (
	"testing"
)

// testLastTokenID: LastTokenID is 0 on an empty table, follows inserts, and
// never names an id a later insert reuses, even after the newest token is
// deleted (a deleted id must stay unknown: the service remembers unknown ids).
func testLastTokenID(t *testing.T, open OpenFunc) {
	s := open(t)
	ctx := ctxOf(t)
	last := func() int64 {
		t.Helper()
		id, err := s.LastTokenID(ctx)
		must(t, "LastTokenID", err)
		return id
	}
	if got := last(); got != 0 {
		t.Fatalf("empty table: LastTokenID = %d, want 0", got)
	}
	u := newUser(t, s, "alice")
	a := newToken(t, s, u.ID, "a", hash64(1), s0)
	b := newToken(t, s, u.ID, "b", hash64(2), s0)
	if got := last(); got != b.ID || b.ID <= a.ID {
		t.Fatalf("LastTokenID = %d, want %d (after %d)", got, b.ID, a.ID)
	}
	must(t, "DeleteToken", s.DeleteToken(ctx, userType, u.ID, b.ID))
	if got := last(); got > b.ID {
		t.Fatalf("after deleting the newest: LastTokenID = %d, above %d", got, b.ID)
	}
	c := newToken(t, s, u.ID, "c", hash64(3), s0)
	if c.ID <= b.ID {
		t.Fatalf("a deleted id was reused: %d after %d", c.ID, b.ID)
	}
	if got := last(); got != c.ID {
		t.Fatalf("LastTokenID = %d, want %d", got, c.ID)
	}
}
