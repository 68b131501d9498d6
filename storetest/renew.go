package storetest

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// renewSetup is the session every renew case starts from: generation 5,
// rotated at t0, expiring in an hour.
func renewSetup(t *testing.T, s propusk.Store) (*propusk.User, *propusk.Session) {
	t.Helper()
	u := newUser(t, s, "alice")
	sess := &propusk.Session{ID: "sid", UserID: u.ID, Generation: 5, RotatedAt: t0, CreatedAt: t0.Add(-time.Hour), RenewedAt: t0, ExpiresAt: t0.Add(time.Hour), UserAgent: "old-agent", IP: "192.0.2.1"}
	must(t, "create session", s.CreateSession(ctxOf(t), sess))
	return u, sess
}

func testRenew(t *testing.T, open OpenFunc) {
	const (
		grace = 10 * time.Second
		ttl   = 720 * time.Hour
	)
	client := propusk.Client{UserAgent: "new-agent", IP: "198.51.100.7"}
	type spend struct {
		gen int64
		at  time.Time
	}
	cases := []struct {
		name string
		// before runs after the setup and before the spend under test.
		before func(t *testing.T, s propusk.Store)
		// session is the id spent, if not the setup's "sid".
		session string
		spend   spend
		want    propusk.RenewOutcome
	}{
		{
			name:  "ok/rotated",
			spend: spend{5, t0.Add(time.Minute)},
			want:  propusk.RenewRotated,
		},
		{
			name: "ok/grace",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 5, t0.Add(time.Minute), propusk.RenewRotated)
			},
			spend: spend{5, t0.Add(time.Minute + grace - time.Millisecond)},
			want:  propusk.RenewGrace,
		},
		{
			name: "fail/reused-refresh",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 5, t0.Add(time.Minute), propusk.RenewRotated)
			},
			spend: spend{5, t0.Add(time.Minute + grace)},
			want:  propusk.RenewReused,
		},
		{
			name:  "fail/reused-older-generation",
			spend: spend{3, t0},
			want:  propusk.RenewReused,
		},
		{
			name: "fail/reused-twice-rotated",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 5, t0.Add(time.Minute), propusk.RenewRotated)
				renew(t, s, 6, t0.Add(time.Minute+time.Second), propusk.RenewRotated)
			},
			// Within grace of the last rotation, but two generations old.
			spend: spend{5, t0.Add(time.Minute + 2*time.Second)},
			want:  propusk.RenewReused,
		},
		{
			name: "fail/after-reuse",
			before: func(t *testing.T, s propusk.Store) {
				renew(t, s, 3, t0, propusk.RenewReused)
			},
			spend: spend{5, t0.Add(time.Second)},
			want:  propusk.RenewInvalid,
		},
		{
			name:    "fail/unknown-session",
			session: "no-such-session",
			spend:   spend{5, t0},
			want:    propusk.RenewInvalid,
		},
		{
			name: "fail/revoked",
			before: func(t *testing.T, s propusk.Store) {
				must(t, "revoke", s.RevokeSession(ctxOf(t), "sid", 0, t0))
			},
			spend: spend{5, t0.Add(time.Second)},
			want:  propusk.RenewInvalid,
		},
		{
			name:  "fail/expired",
			spend: spend{5, t0.Add(time.Hour)},
			want:  propusk.RenewInvalid,
		},
		{
			name:  "fail/future-generation",
			spend: spend{6, t0},
			want:  propusk.RenewInvalid,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			u, _ := renewSetup(t, s)
			if tc.before != nil {
				tc.before(t, s)
			}
			id := "sid"
			if tc.session != "" {
				id = tc.session
			}
			before, err := s.Session(ctxOf(t), "sid")
			must(t, "session before", err)
			feedBefore := events(t, s)

			r, err := s.RenewSession(ctxOf(t), propusk.Spend{Session: id, Generation: tc.spend.gen}, tc.spend.at, grace, ttl, client)
			must(t, "renew", err)
			out, sess, user := r.Outcome, r.Session, r.User
			if out != tc.want {
				t.Fatalf("outcome = %v, want %v", out, tc.want)
			}
			after, err := s.Session(ctxOf(t), "sid")
			must(t, "session after", err)
			feed := events(t, s)

			switch out {
			case propusk.RenewRotated:
				want := *before
				want.Generation = before.Generation + 1
				want.RotatedAt, want.RenewedAt = tc.spend.at, tc.spend.at
				want.ExpiresAt = tc.spend.at.Add(ttl)
				want.UserAgent, want.IP = client.UserAgent, client.IP
				checkSession(t, sess, &want)
				checkSession(t, after, &want)
				checkUser(t, user, u)
			case propusk.RenewGrace:
				checkSession(t, sess, before)
				checkSession(t, after, before)
				checkUser(t, user, u)
			case propusk.RenewReused:
				want := *before
				want.RevokedAt = tc.spend.at
				checkSession(t, sess, &want)
				checkSession(t, after, &want)
				if user != nil {
					t.Errorf("user = %+v, want nil", user)
				}
				if got, want := kindRefs(feed[len(feedBefore):]), []string{propusk.EventSession + ":sid"}; !slices.Equal(got, want) {
					t.Errorf("new feed entries = %q, want %q", got, want)
				} else {
					sameTime(t, "event.At", feed[len(feed)-1].At, tc.spend.at)
				}
			case propusk.RenewInvalid:
				if sess != nil || user != nil {
					t.Errorf("session, user = %+v, %+v; want nil, nil", sess, user)
				}
				checkSession(t, after, before)
			}
			if out != propusk.RenewReused && len(feed) != len(feedBefore) {
				t.Errorf("feed grew from %d to %d entries", len(feedBefore), len(feed))
			}
		})
	}
}

// renew spends gen at now with the suite's grace and ttl and checks the outcome.
func renew(t *testing.T, s propusk.Store, gen int64, now time.Time, want propusk.RenewOutcome) {
	t.Helper()
	r, err := s.RenewSession(ctxOf(t), propusk.Spend{Session: "sid", Generation: gen}, now, 10*time.Second, 720*time.Hour, propusk.Client{})
	must(t, "renew", err)
	if out := r.Outcome; out != want {
		t.Fatalf("renew gen %d at %v: outcome %v, want %v", gen, now, out, want)
	}
}

// testRenewConcurrent spends one generation from many goroutines at once,
// as tabs racing or clients retrying do: exactly one must rotate.
func testRenewConcurrent(t *testing.T, open OpenFunc) {
	const n = 50
	s := open(t)
	u, sess := renewSetup(t, s)
	now := t0.Add(time.Minute)
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		outcomes = make([]propusk.RenewOutcome, n)
		errs     = make([]error, n)
		users    = make([]*propusk.User, n)
		ctx      = ctxOf(t)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := s.RenewSession(ctx, propusk.Spend{Session: sess.ID, Generation: sess.Generation}, now, 10*time.Second, time.Hour, propusk.Client{UserAgent: "tab " + strconv.Itoa(i)})
			if errs[i] = err; err == nil {
				outcomes[i], users[i] = r.Outcome, r.User
			}
		})
	}
	close(start)
	wg.Wait()
	counts := map[propusk.RenewOutcome]int{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("spend %d: %v", i, errs[i])
			continue
		}
		counts[outcomes[i]]++
		if users[i] == nil || users[i].ID != u.ID {
			t.Errorf("spend %d: user %+v, want user %d", i, users[i], u.ID)
		}
	}
	if counts[propusk.RenewRotated] != 1 || counts[propusk.RenewGrace] != n-1 {
		t.Errorf("outcomes = %v, want 1 rotated (%d) and %d grace (%d)", counts, propusk.RenewRotated, n-1, propusk.RenewGrace)
	}
	got, err := s.Session(ctxOf(t), sess.ID)
	must(t, "session", err)
	if got.Generation != sess.Generation+1 || got.Revoked() {
		t.Errorf("session generation %d, revoked %v; want %d, live", got.Generation, got.Revoked(), sess.Generation+1)
	}
}

// testRenewManyConcurrent: many sessions, each renewed by a client of its
// own again and again, all at once (so a store that commits renewals
// together does so): every spend rotates its own session and gets that
// session and its user back, and each session ends at the generation its
// spends reached.
func testRenewManyConcurrent(t *testing.T, open OpenFunc) {
	const (
		clients = 24
		spends  = 8
	)
	s := open(t)
	ctx := ctxOf(t)
	users := make([]*propusk.User, clients)
	for i := range clients {
		users[i] = newUser(t, s, "many"+strconv.Itoa(i))
		sess := &propusk.Session{ID: "many-" + strconv.Itoa(i), UserID: users[i].ID, RotatedAt: t0, CreatedAt: t0, RenewedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		must(t, "create session", s.CreateSession(ctx, sess))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clients {
		wg.Go(func() {
			<-start
			id := "many-" + strconv.Itoa(i)
			for gen := range int64(spends) {
				now := t0.Add(time.Duration(gen+1) * time.Minute)
				r, err := s.RenewSession(ctx, propusk.Spend{Session: id, Generation: gen}, now, 10*time.Second, time.Hour, propusk.Client{UserAgent: id})
				switch {
				case err != nil:
					t.Errorf("%s generation %d: %v", id, gen, err)
					return
				case r.Outcome != propusk.RenewRotated:
					t.Errorf("%s generation %d: outcome %v, want rotated (%d)", id, gen, r.Outcome, propusk.RenewRotated)
					return
				case r.Session == nil || r.Session.ID != id || r.Session.Generation != gen+1 || r.Session.UserAgent != id:
					t.Errorf("%s generation %d: session %+v", id, gen, r.Session)
					return
				case r.User == nil || r.User.ID != users[i].ID:
					t.Errorf("%s generation %d: user %+v, want %d", id, gen, r.User, users[i].ID)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range clients {
		got, err := s.Session(ctx, "many-"+strconv.Itoa(i))
		must(t, "session", err)
		if got.Generation != spends {
			t.Errorf("session %s at generation %d, want %d", got.ID, got.Generation, spends)
		}
	}
}
