package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// auditOf is an entry of kind as the service would hand a store write.
func auditOf(kind string) *propusk.AuditEntry {
	return &propusk.AuditEntry{Kind: kind, ActorID: 7, ActorPAT: 9, ActorAuth: propusk.AuthPAT, UserID: 42,
		IP: "203.0.113.5", UserAgent: "audit-agent", Outcome: "ok", Detail: "why", At: t0}
}

// auditKinds returns the kinds of every entry of the log, oldest first.
func auditKinds(t *testing.T, s propusk.Store) []string {
	t.Helper()
	es, err := s.Audit(ctxOf(t), propusk.AuditQuery{Limit: 1000})
	must(t, "audit", err)
	var kinds []string
	for i := len(es) - 1; i >= 0; i-- {
		kinds = append(kinds, es[i].Kind)
	}
	return kinds
}

// testAudit: a write whose context carries an audit entry records it once,
// in its own transaction, so a write that fails records nothing; reading
// filters and pages; pruning deletes old entries.
func testAudit(t *testing.T, open OpenFunc) {
	// Each write records the entry its context carries exactly once, and
	// keeps it whole.
	writes := []struct {
		name string
		// setup runs without an entry; write runs with one and returns its error.
		setup func(t *testing.T, s propusk.Store)
		write func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error
		// check looks at the entry as stored, for what the write filled in.
		check func(t *testing.T, s propusk.Store, got *propusk.AuditEntry)
	}{
		{name: "register", write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			r := registration("alice", hash64(1), nil)
			e.UserIDOf = &r.User.ID
			return s.Register(propusk.WithAudit(ctxOf(t), e), r)
		}, check: func(t *testing.T, s propusk.Store, got *propusk.AuditEntry) {
			u, err := s.UserByLogin(ctxOf(t), "alice")
			must(t, "user", err)
			if got.UserID != u.ID {
				t.Errorf("entry's user = %d, want the new user's id %d", got.UserID, u.ID)
			}
		}},
		{name: "create-session", setup: func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") },
			write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
				sess := &propusk.Session{ID: "sid", UserID: 1, Generation: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
				return s.CreateSession(propusk.WithAudit(ctxOf(t), e), sess)
			}},
		{name: "revoke-session", setup: func(t *testing.T, s propusk.Store) {
			u := newUser(t, s, "alice")
			newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
		}, write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.RevokeSession(propusk.WithAudit(ctxOf(t), e), "sid", 0, t0)
		}},
		{name: "create-token", setup: func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") },
			write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
				tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: 1, Name: "ci", Hash: hash64(2), Abilities: []string{"*"}, CreatedAt: s0}
				e.TokenIDOf = &tok.ID
				return s.CreateToken(propusk.WithAudit(ctxOf(t), e), tok)
			}, check: func(t *testing.T, s propusk.Store, got *propusk.AuditEntry) {
				tok, err := s.TokenByHash(ctxOf(t), hash64(2))
				must(t, "token", err)
				if got.TokenID != tok.ID {
					t.Errorf("entry's token = %d, want the new token's id %d", got.TokenID, tok.ID)
				}
			}},
		{name: "delete-token", setup: func(t *testing.T, s propusk.Store) {
			u := newUser(t, s, "alice")
			newToken(t, s, u.ID, "ci", hash64(3), s0)
		}, write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.DeleteToken(propusk.WithAudit(ctxOf(t), e), userType, 1, 1)
		}},
		{name: "replace-named-token", setup: func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") },
			write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
				tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: 1, Name: "api-token", Hash: hash64(4), Abilities: []string{"*"}, CreatedAt: s0}
				_, err := s.ReplaceNamedToken(propusk.WithAudit(ctxOf(t), e), tok, "sealed")
				return err
			}},
		{name: "update-user", setup: func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") },
			write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
				level := 20
				_, err := s.UpdateUser(propusk.WithAudit(ctxOf(t), e), 1, propusk.UserChange{Level: &level}, userType, t0)
				return err
			}},
		{name: "delete-user", setup: func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") },
			write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
				return s.DeleteUser(propusk.WithAudit(ctxOf(t), e), 1, userType, t0)
			}},
		{name: "set-password", setup: func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") },
			write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
				return s.SetPassword(propusk.WithAudit(ctxOf(t), e), 1, "$argon2id$new", "", t0)
			}},
		{name: "end-user-sessions", setup: func(t *testing.T, s propusk.Store) {
			u := newUser(t, s, "alice")
			newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
		}, write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			_, err := s.EndUserSessions(propusk.WithAudit(ctxOf(t), e), 1, "", t0)
			return err
		}},
		{name: "add-keys", write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.AddKeys(propusk.WithAudit(ctxOf(t), e), &propusk.Key{ID: "k1", Use: propusk.KeyUseAccess, Sealed: []byte("x"), Public: []byte("p"), CreatedAt: t0})
		}},
		{name: "delete-keys", setup: func(t *testing.T, s propusk.Store) {
			must(t, "add keys", s.AddKeys(ctxOf(t), &propusk.Key{ID: "k1", Use: propusk.KeyUseAccess, Sealed: []byte("x"), Public: []byte("p"), CreatedAt: t0}))
		}, write: func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.DeleteKeys(propusk.WithAudit(ctxOf(t), e), "k1")
		}},
	}
	for _, w := range writes {
		t.Run("ok/"+w.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if w.setup != nil {
				w.setup(t, s)
			}
			if got := auditKinds(t, s); len(got) != 0 {
				t.Fatalf("writes without an entry recorded %q", got)
			}
			e := auditOf("kind-" + w.name)
			must(t, w.name, w.write(t, s, e))
			es, err := s.Audit(ctxOf(t), propusk.AuditQuery{})
			must(t, "audit", err)
			if len(es) != 1 {
				t.Fatalf("%d entries, want exactly 1: %+v", len(es), es)
			}
			got := es[0]
			want := e.Prepared(t0)
			want.ID, want.UserIDOf, want.TokenIDOf = got.ID, nil, nil
			if w.check == nil && (*got != *want) {
				t.Errorf("entry = %+v, want %+v", got, want)
			}
			if got.Kind != want.Kind || got.ActorID != 7 || got.ActorPAT != 9 || got.IP != want.IP || got.UserAgent != want.UserAgent || got.Detail != "why" {
				t.Errorf("entry = %+v, want %+v", got, want)
			}
			sameTime(t, "entry.At", got.At, t0.Truncate(time.Millisecond))
			if w.check != nil {
				w.check(t, s, got)
			}
		})
	}

	// A write that fails records nothing: the entry is in its transaction.
	fails := []struct {
		name  string
		setup func(t *testing.T, s propusk.Store)
		write func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error
	}{
		{"register-seal-fails", nil, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			// The user, session and token rows are written before the seal fails.
			r := registration("alice", hash64(1), errors.New("seal fails"))
			e.UserIDOf = &r.User.ID
			return s.Register(propusk.WithAudit(ctxOf(t), e), r)
		}},
		{"register-login-taken", func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") }, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.Register(propusk.WithAudit(ctxOf(t), e), registration("alice", hash64(1), nil))
		}},
		{"create-session-taken-id", func(t *testing.T, s propusk.Store) {
			u := newUser(t, s, "alice")
			newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
		}, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.CreateSession(propusk.WithAudit(ctxOf(t), e), &propusk.Session{ID: "sid", UserID: 1, Generation: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		}},
		{"revoke-other-users-session", func(t *testing.T, s propusk.Store) {
			u := newUser(t, s, "alice")
			newUser(t, s, "bob")
			newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
		}, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.RevokeSession(propusk.WithAudit(ctxOf(t), e), "sid", 2, t0)
		}},
		{"create-token-taken-hash", func(t *testing.T, s propusk.Store) {
			u := newUser(t, s, "alice")
			newToken(t, s, u.ID, "ci", hash64(3), s0)
		}, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: 1, Name: "ci2", Hash: hash64(3), Abilities: []string{"*"}, CreatedAt: s0}
			return s.CreateToken(propusk.WithAudit(ctxOf(t), e), tok)
		}},
		{"delete-missing-token", func(t *testing.T, s propusk.Store) { newUser(t, s, "alice") }, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.DeleteToken(propusk.WithAudit(ctxOf(t), e), userType, 1, 99)
		}},
		{"replace-token-missing-user", nil, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			tok := &propusk.PersonalAccessToken{TokenableType: userType, TokenableID: 99, Name: "api-token", Hash: hash64(4), Abilities: []string{"*"}, CreatedAt: s0}
			_, err := s.ReplaceNamedToken(propusk.WithAudit(ctxOf(t), e), tok, "sealed")
			return err
		}},
		{"demote-last-admin", func(t *testing.T, s propusk.Store) { newAdmin(t, s, "root") }, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			level := propusk.LevelUser
			_, err := s.UpdateUser(propusk.WithAudit(ctxOf(t), e), 1, propusk.UserChange{Level: &level}, userType, t0)
			return err
		}},
		{"delete-last-admin", func(t *testing.T, s propusk.Store) { newAdmin(t, s, "root") }, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.DeleteUser(propusk.WithAudit(ctxOf(t), e), 1, userType, t0)
		}},
		{"set-password-missing-user", nil, func(t *testing.T, s propusk.Store, e *propusk.AuditEntry) error {
			return s.SetPassword(propusk.WithAudit(ctxOf(t), e), 99, "$argon2id$new", "", t0)
		}},
	}
	for _, f := range fails {
		t.Run("fail/"+f.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if f.setup != nil {
				f.setup(t, s)
			}
			if err := f.write(t, s, auditOf("kind-"+f.name)); err == nil {
				t.Fatalf("%s succeeded, want an error", f.name)
			}
			if got := auditKinds(t, s); len(got) != 0 {
				t.Errorf("a failed write recorded %q", got)
			}
		})
	}

	t.Run("ok/revoke-revoked-records-nothing", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u := newUser(t, s, "alice")
		newSession(t, s, "sid", u.ID, t0, t0.Add(time.Hour))
		for range 2 {
			must(t, "revoke", s.RevokeSession(propusk.WithAudit(ctxOf(t), auditOf(propusk.AuditLogoff)), "sid", 0, t0))
		}
		if got := auditKinds(t, s); !slices.Equal(got, []string{propusk.AuditLogoff}) {
			t.Errorf("two logoffs of one session recorded %q, want one", got)
		}
	})

	t.Run("ok/renewal-reuse", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		u, _ := renewSetup(t, s)
		c := propusk.Client{UserAgent: "thief-agent", IP: "198.51.100.9"}
		// A rotation records nothing; the reuse records one entry; spending
		// the revoked session again records nothing more.
		spends := []struct {
			gen  int64
			want propusk.RenewOutcome
		}{{5, propusk.RenewRotated}, {3, propusk.RenewReused}, {3, propusk.RenewInvalid}}
		for i, sp := range spends {
			r, err := s.RenewSession(ctxOf(t), propusk.Spend{Session: "sid", Generation: sp.gen}, t0.Add(time.Duration(i)*time.Minute), 10*time.Second, time.Hour, c)
			must(t, "renew", err)
			if r.Outcome != sp.want {
				t.Fatalf("spend %d: outcome %v, want %v", i, r.Outcome, sp.want)
			}
		}
		es, err := s.Audit(ctxOf(t), propusk.AuditQuery{})
		must(t, "audit", err)
		if len(es) != 1 {
			t.Fatalf("%d entries, want the reuse's only: %+v", len(es), es)
		}
		e := es[0]
		if e.Kind != propusk.AuditReuse || e.UserID != u.ID || e.Session != "sid" || e.IP != c.IP || e.UserAgent != c.UserAgent {
			t.Errorf("reuse entry = %+v", e)
		}
	})

	t.Run("ok/query", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// 30 entries: users 1, 2 and 3 in turn, kinds a and b in turn, a minute apart.
		var all []*propusk.AuditEntry
		for i := range 30 {
			e := &propusk.AuditEntry{Kind: []string{"a", "b"}[i%2], UserID: int64(i%3 + 1), At: t0.Add(time.Duration(i) * time.Minute), Outcome: "ok"}
			must(t, "add audit", s.AddAudit(ctxOf(t), e))
			if e.ID == 0 {
				t.Fatal("AddAudit set no id")
			}
			all = append(all, e)
		}
		ids := func(es []*propusk.AuditEntry) []int64 {
			var out []int64
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		want := func(keep func(i int, e *propusk.AuditEntry) bool) []int64 {
			var out []int64
			for i := len(all) - 1; i >= 0; i-- {
				if keep(i, all[i]) {
					out = append(out, all[i].ID)
				}
			}
			return out
		}
		cases := []struct {
			name string
			q    propusk.AuditQuery
			want []int64
		}{
			{"all-newest-first", propusk.AuditQuery{}, want(func(int, *propusk.AuditEntry) bool { return true })},
			{"user", propusk.AuditQuery{UserID: 2}, want(func(_ int, e *propusk.AuditEntry) bool { return e.UserID == 2 })},
			{"kind", propusk.AuditQuery{Kind: "b"}, want(func(_ int, e *propusk.AuditEntry) bool { return e.Kind == "b" })},
			{"time-range", propusk.AuditQuery{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)}, want(func(i int, _ *propusk.AuditEntry) bool { return i >= 10 && i < 20 })},
			{"user-and-kind", propusk.AuditQuery{UserID: 1, Kind: "a"}, want(func(_ int, e *propusk.AuditEntry) bool { return e.UserID == 1 && e.Kind == "a" })},
			{"limit", propusk.AuditQuery{Limit: 5}, want(func(i int, _ *propusk.AuditEntry) bool { return i >= 25 })},
			{"cursor", propusk.AuditQuery{Before: all[10].ID, Limit: 3}, want(func(i int, _ *propusk.AuditEntry) bool { return i >= 7 && i < 10 })},
		}
		for _, tc := range cases {
			es, err := s.Audit(ctxOf(t), tc.q)
			must(t, tc.name, err)
			if got := ids(es); !slices.Equal(got, tc.want) {
				t.Errorf("%s: ids %v, want %v", tc.name, got, tc.want)
			}
		}
		// Paging with the cursor visits every entry once.
		var seen []int64
		for before := int64(0); ; {
			es, err := s.Audit(ctxOf(t), propusk.AuditQuery{Before: before, Limit: 7})
			must(t, "page", err)
			if len(es) == 0 {
				break
			}
			seen = append(seen, ids(es)...)
			before = es[len(es)-1].ID
		}
		if w := want(func(int, *propusk.AuditEntry) bool { return true }); !slices.Equal(seen, w) {
			t.Errorf("pages = %v, want %v", seen, w)
		}
	})

	t.Run("ok/prune", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for i := range 5 {
			must(t, "add audit", s.AddAudit(ctxOf(t), &propusk.AuditEntry{Kind: "a", At: t0.Add(time.Duration(i) * time.Hour)}))
		}
		n, err := s.PruneAudit(ctxOf(t), t0.Add(2*time.Hour))
		must(t, "prune audit", err)
		if n != 2 {
			t.Errorf("pruned %d, want 2", n)
		}
		es, err := s.Audit(ctxOf(t), propusk.AuditQuery{})
		must(t, "audit", err)
		if len(es) != 3 {
			t.Fatalf("%d entries left, want 3", len(es))
		}
		for _, e := range es {
			if e.At.Before(t0.Add(2 * time.Hour)) {
				t.Errorf("entry at %v survived the prune", e.At)
			}
		}
	})
}
