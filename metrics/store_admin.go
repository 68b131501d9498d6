package metrics

import (
	"context"
	"time"

	"github.com/propusk/propusk"
)

// The user administration and password methods, timed like the rest.

func (t *timedStore) Users(ctx context.Context, q propusk.UserQuery) ([]*propusk.User, error) {
	start := time.Now()
	v, err := t.s.Users(ctx, q)
	t.m.done("users", start, err)
	return v, err
}

func (t *timedStore) UpdateUser(ctx context.Context, id int64, ch propusk.UserChange, typ string, now time.Time) (*propusk.User, error) {
	start := time.Now()
	v, err := t.s.UpdateUser(ctx, id, ch, typ, now)
	t.m.done("update_user", start, err)
	return v, err
}

func (t *timedStore) DeleteUser(ctx context.Context, id int64, typ string, now time.Time) error {
	start := time.Now()
	err := t.s.DeleteUser(ctx, id, typ, now)
	t.m.done("delete_user", start, err)
	return err
}

func (t *timedStore) SetPassword(ctx context.Context, id int64, hash, keep string, now time.Time) error {
	start := time.Now()
	err := t.s.SetPassword(ctx, id, hash, keep, now)
	t.m.done("set_password", start, err)
	return err
}

func (t *timedStore) EndUserSessions(ctx context.Context, userID int64, keep string, now time.Time) ([]string, error) {
	start := time.Now()
	v, err := t.s.EndUserSessions(ctx, userID, keep, now)
	t.m.done("end_user_sessions", start, err)
	return v, err
}

func (t *timedStore) SetPasswordHash(ctx context.Context, id int64, old, hash string, at time.Time) error {
	start := time.Now()
	err := t.s.SetPasswordHash(ctx, id, old, hash, at)
	t.m.done("set_password_hash", start, err)
	return err
}

func (t *timedStore) AddAudit(ctx context.Context, e *propusk.AuditEntry) error {
	start := time.Now()
	err := t.s.AddAudit(ctx, e)
	t.m.done("add_audit", start, err)
	return err
}

func (t *timedStore) Audit(ctx context.Context, q propusk.AuditQuery) ([]*propusk.AuditEntry, error) {
	start := time.Now()
	v, err := t.s.Audit(ctx, q)
	t.m.done("audit", start, err)
	return v, err
}

func (t *timedStore) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	start := time.Now()
	v, err := t.s.PruneAudit(ctx, before)
	t.m.done("prune_audit", start, err)
	return v, err
}
