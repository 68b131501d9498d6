package propusk

import (
	"context"
	"time"
)

// Budget is a number of attempts allowed to one key (a login, a client
// address) within a fixed window that starts at the key's first attempt.
type Budget struct {
	Key    string
	Limit  int
	Window time.Duration
}

// Budgets counts attempts against budgets. A store implements it so that
// every process sharing its database draws on the same budgets: counted in
// memory, N processes would allow N times each budget. Windows are fixed:
// a key's window starts at its first attempt and ends Window later, when
// the key's count starts again from zero.
type Budgets interface {
	// ReserveBudgets takes one attempt from each budget (of distinct keys)
	// at now, all or none, atomically across processes: of many concurrent reservations
	// no more are admitted than the budgets allow. When a budget is spent it
	// takes nothing and returns ok false and the end of the latest spent
	// window, when a retry may succeed.
	ReserveBudgets(ctx context.Context, bs []Budget, now time.Time) (ok bool, retry time.Time, err error)
	// ReleaseBudgets gives one attempt back to each key of giveBack (never
	// below zero) and forgets the keys of clear, at now.
	ReleaseBudgets(ctx context.Context, giveBack, clear []string, now time.Time) error
	// PruneBudgets deletes the counts whose windows ended before now.
	PruneBudgets(ctx context.Context, now time.Time) error
}
