package storetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// registration is a Registration of login whose api-token seals to
// "sealed-<id>", or fails with sealErr.
func registration(login, hash string, sealErr error) *propusk.Registration {
	return &propusk.Registration{
		User: &propusk.User{Login: login, PasswordHash: "x", CreatedAt: t0},
		Session: &propusk.Session{ID: "sid-" + login, Generation: 1, CreatedAt: t0,
			ExpiresAt: t0.Add(time.Hour), UserAgent: "ua", IP: "192.0.2.1"},
		Token: &propusk.PersonalAccessToken{TokenableType: userType, Name: "api-token", Hash: hash,
			Abilities: []string{"*"}, CreatedAt: s0},
		SealAPIToken: func(id int64) (string, error) {
			if sealErr != nil {
				return "", sealErr
			}
			return "sealed-" + strconv.FormatInt(id, 10), nil
		},
	}
}

// testRegister: a registration is written whole, or not at all.
func testRegister(t *testing.T, open OpenFunc) {
	t.Run("ok/written-whole", func(t *testing.T) {
		s := open(t)
		r := registration("alice", hash64(1), nil)
		must(t, "register", s.Register(ctxOf(t), r))
		if r.User.ID == 0 || r.Session.UserID != r.User.ID || r.Token.TokenableID != r.User.ID || r.Token.ID == 0 {
			t.Fatalf("ids not set: user %d, session's user %d, token %d of %d", r.User.ID, r.Session.UserID, r.Token.ID, r.Token.TokenableID)
		}
		u, err := s.UserByLogin(ctxOf(t), "alice")
		must(t, "user", err)
		if u.ID != r.User.ID || u.APIToken != r.User.APIToken || u.APIToken == "" {
			t.Errorf("user api_token = %q, registration's %q", u.APIToken, r.User.APIToken)
		}
		sess, err := s.Session(ctxOf(t), r.Session.ID)
		must(t, "session", err)
		checkSession(t, sess, r.Session)
		tok, err := s.Token(ctxOf(t), r.Token.ID)
		must(t, "token", err)
		checkToken(t, tok, r.Token)
	})
	cases := []struct {
		name string
		// before runs first; then the registration of "bob" must fail with
		// code, and write nothing. taken names what before made.
		before  func(t *testing.T, s propusk.Store)
		taken   string
		sealErr error
		code    string
	}{
		{"fail/login-taken", func(t *testing.T, s propusk.Store) { newUser(t, s, "bob") }, "user", nil, propusk.ECONFLICT},
		{"fail/session-id-taken", func(t *testing.T, s propusk.Store) {
			newSession(t, s, "sid-bob", newUser(t, s, "carol").ID, t0, t0.Add(time.Hour))
		},
			"session", nil, propusk.ECONFLICT},
		{"fail/token-hash-taken", func(t *testing.T, s propusk.Store) { newToken(t, s, newUser(t, s, "carol").ID, "x", hash64(2), s0) },
			"token", nil, propusk.ECONFLICT},
		{"fail/seal", func(*testing.T, propusk.Store) {}, "", errors.New("sealing failed"), propusk.EINTERNAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.before(t, s)
			before := events(t, s)
			wantCode(t, "register", s.Register(ctxOf(t), registration("bob", hash64(2), tc.sealErr)), tc.code)
			if tc.taken != "user" {
				_, err := s.UserByLogin(ctxOf(t), "bob")
				wantCode(t, "the failed registration's user", err, propusk.ENOTFOUND)
			}
			if tc.taken != "session" {
				_, err := s.Session(ctxOf(t), "sid-bob")
				wantCode(t, "the failed registration's session", err, propusk.ENOTFOUND)
			}
			if tc.taken != "token" {
				_, err := s.TokenByHash(ctxOf(t), hash64(2))
				wantCode(t, "the failed registration's token", err, propusk.ENOTFOUND)
			}
			if after := events(t, s); len(after) != len(before) {
				t.Errorf("feed grew from %d to %d entries", len(before), len(after))
			}
			if tc.taken == "" { // the cause is gone: the retry is written whole
				must(t, "retry", s.Register(ctxOf(t), registration("bob", hash64(2), nil)))
			}
		})
	}
}
