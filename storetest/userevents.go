package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// testUserEvents: every write that changes what a process caches of a user
// (login, level, boards, disabled, the row itself, the password) appends
// exactly one EventUser for that user, in its transaction, beside the
// entries it appended before; the writes that change nothing a process
// caches of the user (the rehash after a login, ending sessions, a new
// api-token, a new user) append none.
func testUserEvents(t *testing.T, open OpenFunc) {
	ctx := ctxOf(t)
	later := t0.Add(time.Minute)
	yes, no := true, false
	lvl := func(n int) *int { return &n }
	user := func(u *propusk.User) string { return fmt.Sprintf("user:%d", u.ID) }
	pat := func(tok *propusk.PersonalAccessToken) string { return fmt.Sprintf("pat:%d", tok.ID) }

	cases := []struct {
		name string
		// write changes u, who has session "s1" and the token tok.
		write func(s propusk.Store, u *propusk.User, tok *propusk.PersonalAccessToken) error
		want  func(u *propusk.User, tok *propusk.PersonalAccessToken) []string
		code  string // the write's error code; "" for none
	}{
		{
			"ok/level",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.UpdateUser(ctx, u.ID, propusk.UserChange{Level: lvl(20)}, userType, later)
				return err
			},
			func(u *propusk.User, tok *propusk.PersonalAccessToken) []string { return []string{pat(tok), user(u)} },
			"",
		},
		{
			"ok/boards",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.UpdateUser(ctx, u.ID, propusk.UserChange{Boards: []string{"b"}}, userType, later)
				return err
			},
			func(u *propusk.User, tok *propusk.PersonalAccessToken) []string { return []string{pat(tok), user(u)} },
			"",
		},
		{
			"ok/disable",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.UpdateUser(ctx, u.ID, propusk.UserChange{Disabled: &yes}, userType, later)
				return err
			},
			func(u *propusk.User, tok *propusk.PersonalAccessToken) []string {
				return []string{pat(tok), "session:s1", user(u)}
			},
			"",
		},
		{
			"ok/enable",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.UpdateUser(ctx, u.ID, propusk.UserChange{Disabled: &no}, userType, later)
				return err
			},
			func(u *propusk.User, _ *propusk.PersonalAccessToken) []string { return []string{user(u)} },
			"",
		},
		{
			"ok/delete",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				return s.DeleteUser(ctx, u.ID, userType, later)
			},
			func(u *propusk.User, tok *propusk.PersonalAccessToken) []string {
				return []string{pat(tok), "session:s1", user(u)}
			},
			"",
		},
		{
			"ok/set-password",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				return s.SetPassword(ctx, u.ID, "new-hash", "", later)
			},
			func(u *propusk.User, _ *propusk.PersonalAccessToken) []string { return []string{"session:s1", user(u)} },
			"",
		},
		{
			"ok/set-password-keeps-caller-session",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				return s.SetPassword(ctx, u.ID, "new-hash", "s1", later)
			},
			func(u *propusk.User, _ *propusk.PersonalAccessToken) []string { return []string{user(u)} },
			"",
		},
		{
			"none/rehash",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				return s.SetPasswordHash(ctx, u.ID, u.PasswordHash, "$argon2id$new", later)
			},
			func(*propusk.User, *propusk.PersonalAccessToken) []string { return nil },
			"",
		},
		{
			"none/end-sessions",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.EndUserSessions(ctx, u.ID, "", later)
				return err
			},
			func(*propusk.User, *propusk.PersonalAccessToken) []string { return []string{"session:s1"} },
			"",
		},
		{
			"none/new-api-token",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.ReplaceNamedToken(ctx, &propusk.PersonalAccessToken{
					TokenableType: userType, TokenableID: u.ID, Name: "t", Hash: hash64(2), CreatedAt: s0, UpdatedAt: s0,
				}, "sealed")
				return err
			},
			func(_ *propusk.User, tok *propusk.PersonalAccessToken) []string { return []string{pat(tok)} },
			"",
		},
		{
			"none/new-user",
			func(s propusk.Store, _ *propusk.User, _ *propusk.PersonalAccessToken) error {
				return s.CreateUser(ctx, &propusk.User{Login: "bob", PasswordHash: "x", CreatedAt: t0})
			},
			func(*propusk.User, *propusk.PersonalAccessToken) []string { return nil },
			"",
		},
		{
			"fail/unknown-user",
			func(s propusk.Store, u *propusk.User, _ *propusk.PersonalAccessToken) error {
				_, err := s.UpdateUser(ctx, u.ID+100, propusk.UserChange{Level: lvl(20)}, userType, later)
				return err
			},
			func(*propusk.User, *propusk.PersonalAccessToken) []string { return nil },
			propusk.ENOTFOUND,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			newAdmin(t, s, "root") // so that alice is never the last administrator
			u := newUser(t, s, "alice")
			newSession(t, s, "s1", u.ID, t0, t0.Add(time.Hour))
			tok := newToken(t, s, u.ID, "t", hash64(1), s0)
			seq := lastSeq(t, s)
			if err := c.write(s, u, tok); c.code == "" {
				must(t, c.name, err)
			} else {
				wantCode(t, c.name, err, c.code)
			}
			want := c.want(u, tok)
			slices.Sort(want)
			if got := feedSince(t, s, seq); !slices.Equal(got, want) {
				t.Fatalf("feed %v, want %v", got, want)
			}
		})
	}
}
