package storetest

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

func testTokens(t *testing.T, open OpenFunc) {
	t.Run("ok/create-and-get", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{
			TokenableType: userType, TokenableID: u.ID, Name: "ci", Hash: hash64(1),
			Abilities: []string{"posts:read", "posts:write"}, ExpiresAt: s0.Add(24 * time.Hour),
			CreatedAt: s0, UpdatedAt: s0.Add(time.Second),
		}
		must(t, "create", s.CreateToken(ctxOf(t), tok))
		if tok.ID == 0 {
			t.Fatal("CreateToken left ID 0")
		}
		got, err := s.Token(ctxOf(t), tok.ID)
		must(t, "token", err)
		checkToken(t, got, tok)
		got, err = s.TokenByHash(ctxOf(t), hash64(1))
		must(t, "token by hash", err)
		checkToken(t, got, tok)
		if got.Expired(s0) || !got.Expired(s0.Add(24*time.Hour)) {
			t.Errorf("Expired: ExpiresAt %v read back wrong", got.ExpiresAt)
		}
	})
	t.Run("ok/defaults", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(1), CreatedAt: s0}
		must(t, "create", s.CreateToken(ctxOf(t), tok))
		got, err := s.Token(ctxOf(t), tok.ID)
		must(t, "token", err)
		if !slices.Equal(got.Abilities, []string{"*"}) || !got.ExpiresAt.IsZero() || !got.LastUsedAt.IsZero() {
			t.Errorf("token = %+v: want abilities [*], no expiry, never used", got)
		}
		sameTime(t, "UpdatedAt", got.UpdatedAt, s0)
		if got.Expired(s0.Add(100 * 365 * 24 * time.Hour)) {
			t.Error("a token without expiry expired")
		}
	})
	t.Run("fail/duplicate-hash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		newToken(t, s, u.ID, "one", hash64(1), s0)
		err := s.CreateToken(ctxOf(t), &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "two", Hash: hash64(1), CreatedAt: s0})
		wantCode(t, "second create", err, propusk.ECONFLICT)
	})
	t.Run("fail/not-found", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.Token(ctxOf(t), 42)
		wantCode(t, "token", err, propusk.ENOTFOUND)
		_, err = s.TokenByHash(ctxOf(t), hash64(42))
		wantCode(t, "token by hash", err, propusk.ENOTFOUND)
	})
	t.Run("ok/user-tokens", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		a := newToken(t, s, u.ID, "first", hash64(1), s0)
		newToken(t, s, other.ID, "bobs", hash64(2), s0)
		b := newToken(t, s, u.ID, "second", hash64(3), s0.Add(time.Second))
		// Another model's token with the same id must not show.
		must(t, "create team token", s.CreateToken(ctxOf(t), &propusk.PersonalAccessToken{TokenableType: `App\Models\Team`, TokenableID: u.ID, Name: "team", Hash: hash64(4), CreatedAt: s0}))

		list, err := s.UserTokens(ctxOf(t), userType, u.ID)
		must(t, "user tokens", err)
		if len(list) != 2 {
			t.Fatalf("user tokens = %d, want 2", len(list))
		}
		checkToken(t, list[0], a)
		checkToken(t, list[1], b)
		list, err = s.UserTokens(ctxOf(t), userType, other.ID+1000)
		must(t, "user tokens of nobody", err)
		if len(list) != 0 {
			t.Errorf("tokens of an unknown user = %d, want none", len(list))
		}
	})
	t.Run("ok/delete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := newToken(t, s, u.ID, "ci", hash64(1), s0)
		must(t, "delete", s.DeleteToken(ctxOf(t), userType, u.ID, tok.ID))
		_, err := s.Token(ctxOf(t), tok.ID)
		wantCode(t, "token after delete", err, propusk.ENOTFOUND)
		if got, want := kindRefs(events(t, s)), []string{propusk.EventPAT + ":" + strconv.FormatInt(tok.ID, 10)}; !slices.Equal(got, want) {
			t.Errorf("feed = %q, want %q", got, want)
		}
		wantCode(t, "delete again", s.DeleteToken(ctxOf(t), userType, u.ID, tok.ID), propusk.ENOTFOUND)
	})
	t.Run("fail/delete-not-owner", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "mallory")
		tok := newToken(t, s, u.ID, "ci", hash64(1), s0)
		wantCode(t, "delete by another user", s.DeleteToken(ctxOf(t), userType, other.ID, tok.ID), propusk.ENOTFOUND)
		wantCode(t, "delete by another model", s.DeleteToken(ctxOf(t), `App\Models\Team`, u.ID, tok.ID), propusk.ENOTFOUND)
		if _, err := s.Token(ctxOf(t), tok.ID); err != nil {
			t.Errorf("token after refused deletes: %v", err)
		}
		wantFeedLen(t, s, 0)
	})
}

func testReplaceNamedToken(t *testing.T, open OpenFunc) {
	t.Run("ok/replaces", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		other := newUser(t, s, "bob")
		old1 := newToken(t, s, u.ID, "api-token", hash64(1), s0)
		manual := newToken(t, s, u.ID, "my script", hash64(2), s0)
		old2 := newToken(t, s, u.ID, "api-token", hash64(3), s0.Add(time.Second))
		bobs := newToken(t, s, other.ID, "api-token", hash64(4), s0)

		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(5), CreatedAt: s0.Add(time.Minute)}
		deleted, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed-v1")
		must(t, "replace", err)
		if tok.ID == 0 {
			t.Fatal("ReplaceNamedToken left ID 0")
		}
		slices.Sort(deleted)
		if want := []int64{old1.ID, old2.ID}; !slices.Equal(deleted, want) {
			t.Errorf("deleted = %v, want %v", deleted, want)
		}
		list, err := s.UserTokens(ctxOf(t), userType, u.ID)
		must(t, "user tokens", err)
		var ids []int64
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		if want := []int64{manual.ID, tok.ID}; !slices.Equal(ids, want) {
			t.Errorf("tokens after replace = %v, want %v", ids, want)
		}
		if _, err := s.Token(ctxOf(t), bobs.ID); err != nil {
			t.Errorf("another user's api-token: %v", err)
		}
		got, err := s.Token(ctxOf(t), tok.ID)
		must(t, "new token", err)
		checkToken(t, got, tok)
		user, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "user", err)
		if user.APIToken != "sealed-v1" {
			t.Errorf("users.api_token = %q, want %q", user.APIToken, "sealed-v1")
		}
		feed := kindRefs(events(t, s))
		slices.Sort(feed)
		want := []string{propusk.EventPAT + ":" + strconv.FormatInt(old1.ID, 10), propusk.EventPAT + ":" + strconv.FormatInt(old2.ID, 10)}
		slices.Sort(want)
		if !slices.Equal(feed, want) {
			t.Errorf("feed = %q, want %q", feed, want)
		}

		// Again: only the token just made goes.
		next := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(6), CreatedAt: s0.Add(2 * time.Minute)}
		deleted, err = s.ReplaceNamedToken(ctxOf(t), next, "sealed-v2")
		must(t, "replace again", err)
		if want := []int64{tok.ID}; !slices.Equal(deleted, want) {
			t.Errorf("deleted = %v, want %v", deleted, want)
		}
	})
	t.Run("ok/first", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(1), CreatedAt: s0}
		deleted, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed")
		must(t, "replace", err)
		if len(deleted) != 0 {
			t.Errorf("deleted = %v, want none", deleted)
		}
		wantFeedLen(t, s, 0)
	})
	t.Run("fail/unknown-user", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID + 1000, Name: "api-token", Hash: hash64(1), CreatedAt: s0}
		_, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed")
		wantCode(t, "replace", err, propusk.ENOTFOUND)
		_, err = s.TokenByHash(ctxOf(t), hash64(1))
		wantCode(t, "token of the failed replace", err, propusk.ENOTFOUND)
	})
	t.Run("fail/duplicate-hash", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		old := newToken(t, s, u.ID, "api-token", hash64(1), s0)
		newToken(t, s, u.ID, "other", hash64(2), s0)
		tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: u.ID, Name: "api-token", Hash: hash64(2), CreatedAt: s0}
		_, err := s.ReplaceNamedToken(ctxOf(t), tok, "sealed")
		wantCode(t, "replace", err, propusk.ECONFLICT)
		// Nothing of the transaction remains.
		if _, err := s.Token(ctxOf(t), old.ID); err != nil {
			t.Errorf("old token after failed replace: %v", err)
		}
		user, err := s.UserByID(ctxOf(t), u.ID)
		must(t, "user", err)
		if user.APIToken != "" {
			t.Errorf("users.api_token = %q after failed replace", user.APIToken)
		}
		wantFeedLen(t, s, 0)
	})
}

func testTouchTokens(t *testing.T, open OpenFunc) {
	t.Run("ok/touch", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		a := newToken(t, s, u.ID, "a", hash64(1), s0)
		b := newToken(t, s, u.ID, "b", hash64(2), s0)
		c := newToken(t, s, u.ID, "c", hash64(3), s0)
		used := map[int64]time.Time{a.ID: s0.Add(time.Minute), b.ID: s0.Add(2 * time.Minute), c.ID + 1000: s0}
		must(t, "touch", s.TouchTokens(ctxOf(t), used))
		for _, tok := range []*propusk.PersonalAccessToken{a, b, c} {
			got, err := s.Token(ctxOf(t), tok.ID)
			must(t, "token", err)
			sameTime(t, "LastUsedAt of "+tok.Name, got.LastUsedAt, used[tok.ID])
		}
	})
	t.Run("ok/empty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		must(t, "touch nothing", s.TouchTokens(ctxOf(t), nil))
	})
}

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
