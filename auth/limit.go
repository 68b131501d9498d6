package auth

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/propusk/propusk"
)

// LimitConfig bounds failed logins. Zero values take the defaults.
type LimitConfig struct {
	PerLogin int           // failures allowed per login within Window; default 5
	PerIP    int           // failures allowed per client address within Window; default 50
	Window   time.Duration // default 15m
}

func (c *LimitConfig) fill() {
	if c.PerLogin <= 0 {
		c.PerLogin = 5
	}
	if c.PerIP <= 0 {
		c.PerIP = 50
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
}

// RegisterLimitConfig bounds registrations. Zero values take the defaults.
type RegisterLimitConfig struct {
	// PerIP is how many registrations a client address may try within
	// Window, counting those answered login_taken; default 30, enough for
	// an office behind one NAT.
	PerIP  int
	Window time.Duration // default 1h
}

func (c *RegisterLimitConfig) fill() {
	if c.PerIP <= 0 {
		c.PerIP = 30
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
}

// Budget keys. An address is keyed by addrKey, so that the spellings of one
// address, and the addresses of one IPv6 /64, share a budget.
func loginKey(login string) string { return "login:" + login }
func ipKey(ip string) string       { return "ip:" + addrKey(ip) }
func registerKey(ip string) string { return "register:" + addrKey(ip) }
func tooMany(msg string, d time.Duration) error {
	return &propusk.Error{Code: propusk.ETOOMANY, Message: msg, RetryAfter: d}
}

// addrKey is the unit a client address is limited by: an IPv4 address, or
// the /64 of an IPv6 one, since a single host or customer is routinely given
// a whole /64 and could otherwise draw on 2^64 budgets. An IPv4 address
// mapped into IPv6 is the IPv4 address. Anything that is not an address
// (a library caller's own identifier) is its own key.
func addrKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// limiter decides whether a login or a registration may be tried. It
// reserves an attempt before the password is hashed, so that guesses sent
// all at once cannot pass a check made while none of them had failed yet,
// and counts through propusk.Budgets: the store's when it has them (shared
// by every process on the database), else its own memory.
type limiter struct {
	login    LimitConfig
	register RegisterLimitConfig
	budgets  propusk.Budgets
}

func newLimiter(login LimitConfig, register RegisterLimitConfig, store propusk.Store) *limiter {
	b, ok := store.(propusk.Budgets)
	if !ok {
		b = newMemBudgets()
	}
	return &limiter{login: login, register: register, budgets: b}
}

// attempt reserves one try for login from ip. It returns ETOOMANY, with when
// to retry, when either budget is spent.
func (l *limiter) attempt(ctx context.Context, login, ip string, now time.Time) error {
	bs := []propusk.Budget{{Key: loginKey(login), Limit: l.login.PerLogin, Window: l.login.Window}}
	if ip != "" {
		bs = append(bs, propusk.Budget{Key: ipKey(ip), Limit: l.login.PerIP, Window: l.login.Window})
	}
	ok, retry, err := l.budgets.ReserveBudgets(ctx, bs, now)
	if err != nil {
		return err
	}
	if !ok {
		return tooMany("too many failed logins; try again later", retry.Sub(now))
	}
	return nil
}

// succeed forgets the login's failures and gives the address back the try
// that turned out not to be a failure.
func (l *limiter) succeed(ctx context.Context, login, ip string, now time.Time) error {
	var back []string
	if ip != "" {
		back = []string{ipKey(ip)}
	}
	return l.budgets.ReleaseBudgets(ctx, back, []string{loginKey(login)}, now)
}

// release gives back a try that ended neither in success nor in a wrong
// password (the store was down, the client went away).
func (l *limiter) release(ctx context.Context, login, ip string, now time.Time) error {
	back := []string{loginKey(login)}
	if ip != "" {
		back = append(back, ipKey(ip))
	}
	return l.budgets.ReleaseBudgets(ctx, back, nil, now)
}

// attemptRegister reserves one registration for ip. A registration stays
// counted whether it creates the user or finds the login taken, so that
// login_taken cannot be asked more often than registrations can be made.
func (l *limiter) attemptRegister(ctx context.Context, ip string, now time.Time) error {
	if ip == "" {
		return nil
	}
	ok, retry, err := l.budgets.ReserveBudgets(ctx,
		[]propusk.Budget{{Key: registerKey(ip), Limit: l.register.PerIP, Window: l.register.Window}}, now)
	if err != nil {
		return err
	}
	if !ok {
		return tooMany("too many registrations from this address; try again later", retry.Sub(now))
	}
	return nil
}

// releaseRegister gives back a registration that could not be decided (the
// store was down, the server too busy to hash).
func (l *limiter) releaseRegister(ctx context.Context, ip string, now time.Time) error {
	if ip == "" {
		return nil
	}
	return l.budgets.ReleaseBudgets(ctx, []string{registerKey(ip)}, nil, now)
}

func (l *limiter) prune(ctx context.Context, now time.Time) error {
	return l.budgets.PruneBudgets(ctx, now)
}

// memBudgets counts budgets in this process's memory, for stores that do
// not count them: behind N processes an attacker gets N times each budget.
type memBudgets struct {
	mu sync.Mutex
	m  map[string]*window
}

type window struct {
	end time.Time
	n   int
}

func newMemBudgets() *memBudgets { return &memBudgets{m: map[string]*window{}} }

// ReserveBudgets implements propusk.Budgets.
func (b *memBudgets) ReserveBudgets(_ context.Context, bs []propusk.Budget, now time.Time) (bool, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var retry time.Time
	for _, x := range bs {
		if w := b.m[x.Key]; w != nil && now.Before(w.end) && w.n >= x.Limit {
			retry = latest(retry, w.end)
		}
	}
	if !retry.IsZero() {
		return false, retry, nil
	}
	for _, x := range bs {
		w := b.m[x.Key]
		if w == nil || !now.Before(w.end) {
			w = &window{end: now.Add(x.Window)}
			b.m[x.Key] = w
		}
		w.n++
	}
	return true, time.Time{}, nil
}

// ReleaseBudgets implements propusk.Budgets.
func (b *memBudgets) ReleaseBudgets(_ context.Context, giveBack, clear []string, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range giveBack {
		if w := b.m[k]; w != nil && w.n > 0 {
			w.n--
		}
	}
	for _, k := range clear {
		delete(b.m, k)
	}
	return nil
}

// PruneBudgets implements propusk.Budgets.
func (b *memBudgets) PruneBudgets(_ context.Context, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, w := range b.m {
		if !now.Before(w.end) {
			delete(b.m, k)
		}
	}
	return nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
