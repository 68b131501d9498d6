package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

func testSessions(t *testing.T, open OpenFunc) {
	t.Run("ok/create-and-get", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		want := newSession(t, s, "sid-1", u.ID, t0, t0.Add(720*time.Hour))
		got, err := s.Session(ctxOf(t), "sid-1")
		must(t, "session", err)
		checkSession(t, got, want)
		if got.Revoked() {
			t.Error("new session is revoked")
		}
	})
	t.Run("fail/duplicate-id", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		newSession(t, s, "sid-1", u.ID, t0, t0.Add(time.Hour))
		err := s.CreateSession(ctxOf(t), &propusk.Session{ID: "sid-1", UserID: u.ID, Generation: 1, CreatedAt: t0, RotatedAt: t0, RenewedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		wantCode(t, "second create", err, propusk.ECONFLICT)
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.Session(ctxOf(t), "nope")
		wantCode(t, "unknown session", err, propusk.ENOTFOUND)
	})
	t.Run("ok/list", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		now := t0.Add(time.Hour)
		oldest := newSession(t, s, "oldest", u.ID, t0, t0.Add(48*time.Hour))
		newest := newSession(t, s, "newest", u.ID, t0.Add(2*time.Minute), t0.Add(48*time.Hour))
		middle := newSession(t, s, "middle", u.ID, t0.Add(time.Minute), t0.Add(48*time.Hour))
		newSession(t, s, "expired", u.ID, t0.Add(3*time.Minute), now)
		newSession(t, s, "revoked", u.ID, t0.Add(4*time.Minute), t0.Add(48*time.Hour))
		must(t, "revoke", s.RevokeSession(ctxOf(t), "revoked", u.ID, t0.Add(5*time.Minute)))
		newSession(t, s, "other-user", other.ID, t0.Add(6*time.Minute), t0.Add(48*time.Hour))

		list, err := s.UserSessions(ctxOf(t), u.ID, now)
		must(t, "user sessions", err)
		var ids []string
		for _, sess := range list {
			ids = append(ids, sess.ID)
		}
		if want := []string{"newest", "middle", "oldest"}; !slices.Equal(ids, want) {
			t.Fatalf("user sessions = %q, want %q", ids, want)
		}
		checkSession(t, list[0], newest)
		checkSession(t, list[1], middle)
		checkSession(t, list[2], oldest)

		list, err = s.UserSessions(ctxOf(t), other.ID+1000, now)
		must(t, "user sessions of nobody", err)
		if len(list) != 0 {
			t.Errorf("sessions of an unknown user = %d, want none", len(list))
		}
	})
}

func testRevoke(t *testing.T, open OpenFunc) {
	setup := func(t *testing.T) (propusk.Store, *propusk.User, *propusk.Session) {
		s := open(t)
		u := newUser(t, s, "alice")
		return s, u, newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
	}
	at := t0.Add(time.Minute)
	t.Run("ok/owner", func(t *testing.T) {
		t.Parallel()
		s, u, sess := setup(t)
		must(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, u.ID, at))
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		want := *sess
		want.RevokedAt = at
		checkSession(t, got, &want)
		feed := events(t, s)
		if got, want := kindRefs(feed), []string{propusk.EventSession + ":sid"}; !slices.Equal(got, want) {
			t.Fatalf("feed = %q, want %q", got, want)
		}
		sameTime(t, "event.At", feed[0].At, at)
	})
	t.Run("ok/any-owner", func(t *testing.T) {
		t.Parallel()
		s, _, sess := setup(t)
		must(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, 0, at))
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		sameTime(t, "RevokedAt", got.RevokedAt, at)
	})
	t.Run("ok/idempotent", func(t *testing.T) {
		t.Parallel()
		s, u, sess := setup(t)
		must(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, u.ID, at))
		must(t, "revoke again", s.RevokeSession(ctxOf(t), sess.ID, u.ID, at.Add(time.Minute)))
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		sameTime(t, "RevokedAt", got.RevokedAt, at)
		wantFeedLen(t, s, 1)
	})
	t.Run("fail/not-owner", func(t *testing.T) {
		t.Parallel()
		s, _, sess := setup(t)
		other := newUser(t, s, "mallory")
		wantCode(t, "revoke", s.RevokeSession(ctxOf(t), sess.ID, other.ID, at), propusk.ENOTFOUND)
		got, err := s.Session(ctxOf(t), sess.ID)
		must(t, "session", err)
		if got.Revoked() {
			t.Error("another user revoked the session")
		}
		wantFeedLen(t, s, 0)
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s, u, _ := setup(t)
		wantCode(t, "revoke", s.RevokeSession(ctxOf(t), "nope", u.ID, at), propusk.ENOTFOUND)
		wantCode(t, "revoke as admin", s.RevokeSession(ctxOf(t), "nope", 0, at), propusk.ENOTFOUND)
	})
	t.Run("ok/revoked-since", func(t *testing.T) {
		t.Parallel()
		s, u, _ := setup(t)
		for i, id := range []string{"s1", "s2", "s3"} {
			newSession(t, s, id, u.ID, t0, t0.Add(time.Hour))
			must(t, "revoke", s.RevokeSession(ctxOf(t), id, u.ID, t0.Add(time.Duration(i+1)*time.Second)))
		}
		ids, err := s.RevokedSince(ctxOf(t), t0.Add(2*time.Second))
		must(t, "revoked since", err)
		slices.Sort(ids)
		if want := []string{"s2", "s3"}; !slices.Equal(ids, want) {
			t.Errorf("revoked since = %q, want %q", ids, want)
		}
		ids, err = s.RevokedSince(ctxOf(t), t0.Add(time.Hour))
		must(t, "revoked since", err)
		if len(ids) != 0 {
			t.Errorf("revoked since later = %q, want none", ids)
		}
	})
}
