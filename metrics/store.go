package metrics

import (
	"context"
	"time"

	"github.com/propusk/propusk"
)

// Store returns s with every call timed and its failures counted by
// operation. The store's optional interfaces that the service looks for
// (propusk.Budgets, propusk.Notifier) stay visible through it; a Notifier's
// Wait is not timed, as it blocks until the feed moves.
func (m *Metrics) Store(s propusk.Store) propusk.Store {
	t := &timedStore{s: s, m: m}
	b, budgets := s.(propusk.Budgets)
	n, notifies := s.(propusk.Notifier)
	switch {
	case budgets && notifies:
		return &struct {
			*timedStore
			timedBudgets
			propusk.Notifier
		}{t, timedBudgets{b, m}, n}
	case budgets:
		return &struct {
			*timedStore
			timedBudgets
		}{t, timedBudgets{b, m}}
	case notifies:
		return &struct {
			*timedStore
			propusk.Notifier
		}{t, n}
	}
	return t
}

// done records one store call that began at start.
func (m *Metrics) done(op string, start time.Time, err error) {
	m.storeSeconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		code := propusk.ErrorCode(err)
		switch code {
		case propusk.ENOTFOUND, propusk.ECONFLICT, propusk.ELOGINTAKEN, propusk.EINVALID:
			return // answers, not failures of the store
		}
		m.storeErrors.WithLabelValues(op, code).Inc()
	}
}

type timedStore struct {
	s propusk.Store
	m *Metrics
}

func (t *timedStore) Close() error { return t.s.Close() }

func (t *timedStore) CreateUser(ctx context.Context, u *propusk.User) error {
	start := time.Now()
	err := t.s.CreateUser(ctx, u)
	t.m.done("create_user", start, err)
	return err
}

func (t *timedStore) Register(ctx context.Context, r *propusk.Registration) error {
	start := time.Now()
	err := t.s.Register(ctx, r)
	t.m.done("register", start, err)
	return err
}

func (t *timedStore) UserByID(ctx context.Context, id int64) (*propusk.User, error) {
	start := time.Now()
	v, err := t.s.UserByID(ctx, id)
	t.m.done("user_by_id", start, err)
	return v, err
}

func (t *timedStore) UserByLogin(ctx context.Context, login string) (*propusk.User, error) {
	start := time.Now()
	v, err := t.s.UserByLogin(ctx, login)
	t.m.done("user_by_login", start, err)
	return v, err
}

func (t *timedStore) CreateSession(ctx context.Context, s *propusk.Session) error {
	start := time.Now()
	err := t.s.CreateSession(ctx, s)
	t.m.done("create_session", start, err)
	return err
}

func (t *timedStore) Session(ctx context.Context, id string) (*propusk.Session, error) {
	start := time.Now()
	v, err := t.s.Session(ctx, id)
	t.m.done("session", start, err)
	return v, err
}

func (t *timedStore) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*propusk.Session, error) {
	start := time.Now()
	v, err := t.s.UserSessions(ctx, userID, now)
	t.m.done("user_sessions", start, err)
	return v, err
}

func (t *timedStore) RenewSession(ctx context.Context, sp propusk.Spend, now time.Time, grace, ttl time.Duration, c propusk.Client) (*propusk.Renewal, error) {
	start := time.Now()
	v, err := t.s.RenewSession(ctx, sp, now, grace, ttl, c)
	t.m.done("renew_session", start, err)
	return v, err
}

func (t *timedStore) RevokeSession(ctx context.Context, id string, userID int64, now time.Time) error {
	start := time.Now()
	err := t.s.RevokeSession(ctx, id, userID, now)
	t.m.done("revoke_session", start, err)
	return err
}

func (t *timedStore) RevokedSince(ctx context.Context, at time.Time) ([]string, error) {
	start := time.Now()
	v, err := t.s.RevokedSince(ctx, at)
	t.m.done("revoked_since", start, err)
	return v, err
}

func (t *timedStore) CreateToken(ctx context.Context, tok *propusk.PersonalAccessToken) error {
	start := time.Now()
	err := t.s.CreateToken(ctx, tok)
	t.m.done("create_token", start, err)
	return err
}

func (t *timedStore) Token(ctx context.Context, id int64) (*propusk.PersonalAccessToken, error) {
	start := time.Now()
	v, err := t.s.Token(ctx, id)
	t.m.done("token", start, err)
	return v, err
}

func (t *timedStore) TokenByHash(ctx context.Context, hash string) (*propusk.PersonalAccessToken, error) {
	start := time.Now()
	v, err := t.s.TokenByHash(ctx, hash)
	t.m.done("token_by_hash", start, err)
	return v, err
}

func (t *timedStore) LastTokenID(ctx context.Context) (int64, error) {
	start := time.Now()
	v, err := t.s.LastTokenID(ctx)
	t.m.done("last_token_id", start, err)
	return v, err
}

func (t *timedStore) UserTokens(ctx context.Context, typ string, userID int64) ([]*propusk.PersonalAccessToken, error) {
	start := time.Now()
	v, err := t.s.UserTokens(ctx, typ, userID)
	t.m.done("user_tokens", start, err)
	return v, err
}

func (t *timedStore) DeleteToken(ctx context.Context, typ string, userID, id int64) error {
	start := time.Now()
	err := t.s.DeleteToken(ctx, typ, userID, id)
	t.m.done("delete_token", start, err)
	return err
}

func (t *timedStore) ReplaceNamedToken(ctx context.Context, tok *propusk.PersonalAccessToken, sealed string) ([]int64, error) {
	start := time.Now()
	v, err := t.s.ReplaceNamedToken(ctx, tok, sealed)
	t.m.done("replace_named_token", start, err)
	return v, err
}

func (t *timedStore) TouchTokens(ctx context.Context, used map[int64]time.Time) error {
	start := time.Now()
	err := t.s.TouchTokens(ctx, used)
	t.m.done("touch_tokens", start, err)
	return err
}

func (t *timedStore) Keys(ctx context.Context) ([]*propusk.Key, error) {
	start := time.Now()
	v, err := t.s.Keys(ctx)
	t.m.done("keys", start, err)
	return v, err
}

func (t *timedStore) AddKeys(ctx context.Context, keys ...*propusk.Key) error {
	start := time.Now()
	err := t.s.AddKeys(ctx, keys...)
	t.m.done("add_keys", start, err)
	return err
}

func (t *timedStore) DeleteKeys(ctx context.Context, ids ...string) error {
	start := time.Now()
	err := t.s.DeleteKeys(ctx, ids...)
	t.m.done("delete_keys", start, err)
	return err
}

func (t *timedStore) AddMissingKeys(ctx context.Context, keys ...*propusk.Key) ([]*propusk.Key, error) {
	start := time.Now()
	v, err := t.s.AddMissingKeys(ctx, keys...)
	t.m.done("add_missing_keys", start, err)
	return v, err
}

func (t *timedStore) Events(ctx context.Context, after int64, limit int) ([]propusk.Event, error) {
	start := time.Now()
	v, err := t.s.Events(ctx, after, limit)
	t.m.done("events", start, err)
	return v, err
}

func (t *timedStore) LastEvent(ctx context.Context) (int64, error) {
	start := time.Now()
	v, err := t.s.LastEvent(ctx)
	t.m.done("last_event", start, err)
	return v, err
}

func (t *timedStore) Prune(ctx context.Context, before time.Time) error {
	start := time.Now()
	err := t.s.Prune(ctx, before)
	t.m.done("prune", start, err)
	return err
}

func (t *timedStore) SetMetaOnce(ctx context.Context, name, value string) (string, error) {
	start := time.Now()
	v, err := t.s.SetMetaOnce(ctx, name, value)
	t.m.done("set_meta_once", start, err)
	return v, err
}

type timedBudgets struct {
	b propusk.Budgets
	m *Metrics
}

func (t timedBudgets) ReserveBudgets(ctx context.Context, bs []propusk.Budget, now time.Time) (bool, time.Time, error) {
	start := time.Now()
	ok, retry, err := t.b.ReserveBudgets(ctx, bs, now)
	t.m.done("reserve_budgets", start, err)
	return ok, retry, err
}

func (t timedBudgets) ReleaseBudgets(ctx context.Context, giveBack, clear []string, now time.Time) error {
	start := time.Now()
	err := t.b.ReleaseBudgets(ctx, giveBack, clear, now)
	t.m.done("release_budgets", start, err)
	return err
}

func (t timedBudgets) PruneBudgets(ctx context.Context, now time.Time) error {
	start := time.Now()
	err := t.b.PruneBudgets(ctx, now)
	t.m.done("prune_budgets", start, err)
	return err
}

// storeOps are the operations the store metrics are labelled with.
var storeOps = []string{"create_user", "register", "user_by_id", "user_by_login", "create_session", "session", "user_sessions", "renew_session", "revoke_session", "revoked_since", "create_token", "token", "token_by_hash", "last_token_id", "user_tokens", "delete_token", "replace_named_token", "touch_tokens", "keys", "add_keys", "delete_keys", "add_missing_keys", "events", "last_event", "prune", "set_meta_once", "reserve_budgets", "release_budgets", "prune_budgets"}
