package postgres

import (
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// TestRotateBatch: in one batch (rotateBatchSQL), each spend that matches
// its session's live generation rotates it and gets it back with its
// user, in its own place; of two spends of one session, one does; stale,
// revoked, expired and unknown ones rotate nothing.
func TestRotateBatch(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	u := &propusk.User{Login: "batch", PasswordHash: "x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c", "d", "f"} {
		exp := now.Add(time.Hour)
		if id == "d" {
			exp = now.Add(-time.Second)
		}
		if err := s.CreateSession(ctx, &propusk.Session{ID: id, UserID: u.ID, CreatedAt: now.Add(-time.Minute), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeSession(ctx, "c", 0, now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	spend := func(id string, gen int64) rotation {
		return rotation{session: id, generation: gen, at: now, expires: now.Add(2 * time.Hour), userAgent: "ua-" + id, ip: "192.0.2.1"}
	}
	batch := []rotation{spend("a", 0), spend("b", 5), spend("a", 0), spend("c", 0), spend("d", 0), spend("e", 0), spend("f", 0)}
	out, err := s.rotateBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(batch) {
		t.Fatalf("%d outcomes for %d spends", len(out), len(batch))
	}
	rotatedA := 0
	for i, o := range out {
		id := batch[i].session
		switch {
		case o.sess == nil:
			if id == "f" {
				t.Errorf("spend %d of f did not rotate", i)
			}
		case id != "a" && id != "f":
			t.Errorf("spend %d of %s rotated", i, id)
		case o.sess.ID != id || o.sess.Generation != 1 || !o.sess.ExpiresAt.Equal(now.Add(2*time.Hour)) || o.sess.UserAgent != "ua-"+id:
			t.Errorf("spend %d: session %+v", i, o.sess)
		case o.user == nil || o.user.ID != u.ID || o.user.Login != "batch":
			t.Errorf("spend %d: user %+v", i, o.user)
		default:
			if id == "a" {
				rotatedA++
			}
		}
	}
	if rotatedA != 1 {
		t.Errorf("session a rotated for %d of its two spends, want 1", rotatedA)
	}
	for id, gen := range map[string]int64{"a": 1, "b": 0, "c": 0, "d": 0, "f": 1} {
		sess, err := s.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Generation != gen {
			t.Errorf("session %s at generation %d, want %d", id, sess.Generation, gen)
		}
	}
}
