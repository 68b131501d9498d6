package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
)

// TestAuditRetention: PruneAudit, which Run calls hourly, deletes the
// entries older than AuditRetention (default 90 days) and keeps the rest.
func TestAuditRetention(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) propusk.Store
	}{
		{"sqlite", func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s }},
		{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
		{"mysql", func(t *testing.T) propusk.Store { s, _ := testenv.MySQL(t); return s }},
	}
	cases := []struct {
		name      string
		retention time.Duration
		kept      int // of entries 1, 30, 89, 91 and 200 days old
	}{
		{"ok/default-90-days", 0, 3},
		{"ok/one-week", 7 * 24 * time.Hour, 1},
		{"ok/one-year", 365 * 24 * time.Hour, 5},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					store := st.open(t)
					clk := newClock()
					svc := newService(t, store, clk, masterKey(), func(c *auth.Config) { c.AuditRetention = tc.retention })
					for _, days := range []int{1, 30, 89, 91, 200} {
						e := &propusk.AuditEntry{Kind: "test", At: clk.Now().Add(-time.Duration(days) * 24 * time.Hour)}
						if err := store.AddAudit(ctx, e); err != nil {
							t.Fatal(err)
						}
					}
					if err := svc.PruneAudit(ctx); err != nil {
						t.Fatal(err)
					}
					es, err := svc.Audit(ctx, propusk.AuditQuery{Kind: "test"})
					if err != nil {
						t.Fatal(err)
					}
					if len(es) != tc.kept {
						t.Errorf("%d entries kept, want %d", len(es), tc.kept)
					}
				})
			}
		})
	}
}

// TestAuditUserCreated: a user the operator creates (propusk user add, a
// library call) is in the audit log once, about the new user, in the
// transaction that created it: a refused creation records nothing.
func TestAuditUserCreated(t *testing.T) {
	for _, st := range []struct {
		name string
		open func(t *testing.T) propusk.Store
	}{
		{"sqlite", func(t *testing.T) propusk.Store { s, _ := testenv.SQLite(t); return s }},
		{"postgres", func(t *testing.T) propusk.Store { s, _ := testenv.Postgres(t); return s }},
		{"mysql", func(t *testing.T) propusk.Store { s, _ := testenv.MySQL(t); return s }},
	} {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			store := st.open(t)
			svc := newService(t, store, newClock(), masterKey())
			u, err := svc.CreateUser(ctx, "olga", "correct horse", propusk.LevelAdmin, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CreateUser(ctx, "OLGA", "correct horse", propusk.LevelUser, nil); propusk.ErrorCode(err) != propusk.ELOGINTAKEN {
				t.Fatalf("a look-alike login: %v, want login_taken", err)
			}
			es, err := svc.Audit(ctx, propusk.AuditQuery{Kind: propusk.AuditUserCreated})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].UserID != u.ID || es[0].ActorAuth != propusk.AuthOperator || es[0].Detail != "level=30 boards=*" {
				t.Fatalf("entries %+v, want one about user %d by the operator", es, u.ID)
			}
		})
	}
}
