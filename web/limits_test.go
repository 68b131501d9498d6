package web_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/propusk/propusk"
	"github.com/propusk/propusk/auth"
	"github.com/propusk/propusk/internal/testenv"
	"github.com/propusk/propusk/web"
)

// behindProxy configures the client address header and small budgets.
func behindProxy(header string, login auth.LimitConfig, register int) func(*auth.Config, *web.Config) {
	return func(a *auth.Config, h *web.Config) {
		h.ClientIPHeader = header
		a.LoginLimit = login
		a.RegisterLimit = auth.RegisterLimitConfig{PerIP: register, Window: time.Hour}
	}
}

func (e *env) registerFrom(addr, login, password string) *resp {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/api/v1/user.register",
		body:   fmt.Sprintf(`{"login":%q,"password":%q}`, login, password),
		header: withXHR(map[string]string{"X-Real-IP": addr})})
}

func (e *env) loginFrom(addr, login, password string) *resp {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/api/v1/user.login",
		body:   fmt.Sprintf(`{"login":%q,"password":%q}`, login, password),
		header: withXHR(map[string]string{"X-Real-IP": addr})})
}

func wantRetryAfter(t *testing.T, r *resp, want string) {
	t.Helper()
	if got := r.Header.Get("Retry-After"); got != want {
		t.Fatalf("%s: Retry-After %q, want %q", r.Request.URL.Path, got, want)
	}
}

// TestRegisterBudget: an address may try a bounded number of registrations
// an hour, login_taken answers included, so registration is neither a flood
// of accounts nor an unlimited oracle of which logins exist.
func TestRegisterBudget(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open, behindProxy("X-Real-IP", auth.LimitConfig{}, 3))
		const a = "198.51.100.1"
		if r := e.registerFrom(a, "ann", "password1"); r.StatusCode != 201 {
			t.Fatalf("register: %d %s", r.StatusCode, r.body)
		}
		wantError(t, e.registerFrom(a, "ann", "password1"), 409, "login_taken")
		// Bad input is refused before it costs a registration.
		for _, body := range []string{`{"login":"","password":"password1"}`, `{"login":"bob","password":"short"}`, `{"login":" bob","password":"password1"}`} {
			r := e.do(req{method: "POST", path: "/api/v1/user.register", body: body, header: withXHR(map[string]string{"X-Real-IP": a})})
			wantError(t, r, 400, "invalid_input")
		}
		if r := e.registerFrom(a, "bob", "password1"); r.StatusCode != 201 {
			t.Fatalf("third registration: %d %s", r.StatusCode, r.body)
		}
		e.clock.Advance(10 * time.Minute)
		cases := []struct{ name, addr, login string }{
			{"fail/over-budget", a, "cid"},
			{"fail/login-taken-is-no-oracle-either", a, "ann"},
			{"fail/mapped-spelling", "::ffff:" + a, "cid"},
			{"fail/with-port", a + ":40000", "cid"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.registerFrom(c.addr, c.login, "password1")
				wantError(t, r, 429, "too_many_attempts")
				wantRetryAfter(t, r, "3000")
			})
		}
		if r := e.registerFrom("198.51.100.2", "dora", "password1"); r.StatusCode != 201 {
			t.Fatalf("another address: %d %s", r.StatusCode, r.body)
		}
		e.clock.Advance(50 * time.Minute)
		// The refused registration created nothing: its login is free.
		if r := e.registerFrom(a, "cid", "password1"); r.StatusCode != 201 {
			t.Fatalf("after the window: %d %s", r.StatusCode, r.body)
		}
	})
}

// TestLoginRetryAfter: a login refused for too many failures says when to
// come back, on the API and on the account page.
func TestLoginRetryAfter(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		e := newEnv(t, open, behindProxy("X-Real-IP", auth.LimitConfig{PerLogin: 2, PerIP: 50, Window: 15 * time.Minute}, 0))
		e.registerFrom("192.0.2.1", "eve", "password1")
		for range 2 {
			r := e.loginFrom("192.0.2.1", "eve", "wrong password")
			wantError(t, r, 401, "invalid_credentials")
			wantRetryAfter(t, r, "")
		}
		e.clock.Advance(90 * time.Second)
		r := e.loginFrom("192.0.2.1", "eve", "password1")
		wantError(t, r, 429, "too_many_attempts")
		wantRetryAfter(t, r, "810")
		e.clock.Advance(500 * time.Millisecond)
		r = e.loginFrom("192.0.2.1", "eve", "password1")
		wantRetryAfter(t, r, "810") // rounded up: waiting that long is enough
	})
}

// TestClientAddressBudgets: the spellings of one address, and the addresses
// of one IPv6 /64, share one budget; a header that holds no address falls
// back to the peer address and is logged at a bounded rate.
func TestClientAddressBudgets(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) propusk.Store) {
		groups := []struct {
			name      string
			spellings []string // all one budget
			other     string   // a different budget
		}{
			{"ipv4", []string{"203.0.113.5", "::ffff:203.0.113.5", "203.0.113.5:4444", "[::ffff:203.0.113.5]:1", " 203.0.113.5 ", "10.0.0.1, 203.0.113.5"}, "203.0.113.6"},
			{"ipv6-64", []string{"2001:db8:aa:bb::1", "2001:db8:aa:bb:ffff:ffff:ffff:ffff", "[2001:db8:aa:bb::2]:443", "2001:DB8:AA:BB::3", "fe80::1, 2001:db8:aa:bb::4%eth0", "[2001:db8:aa:bb::5]"}, "2001:db8:aa:bc::1"},
		}
		for _, g := range groups {
			t.Run(g.name, func(t *testing.T) {
				e := newEnv(t, open, behindProxy("X-Real-IP", auth.LimitConfig{PerLogin: 100, PerIP: 3, Window: 15 * time.Minute}, 0))
				for i, s := range g.spellings {
					r := e.loginFrom(s, "nobody", "wrong password")
					if i < 3 {
						wantError(t, r, 401, "invalid_credentials")
					} else {
						wantError(t, r, 429, "too_many_attempts")
					}
				}
				wantError(t, e.loginFrom(g.other, "nobody", "wrong password"), 401, "invalid_credentials")
			})
		}
		t.Run("fallback-to-peer", func(t *testing.T) {
			var buf testenv.LogBuffer
			e := newEnv(t, open, behindProxy("X-Real-IP", auth.LimitConfig{PerLogin: 100, PerIP: 3, Window: 15 * time.Minute}, 0),
				func(_ *auth.Config, h *web.Config) { h.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
			bad := []string{"garbage", "", "1.2.3", "::ffff:1.2.3.4.5", "1.2.3.4:99999", strings.Repeat("9", 500)}
			for i, s := range bad {
				r := e.loginFrom(s, "nobody", "wrong password")
				if i < 3 {
					wantError(t, r, 401, "invalid_credentials")
				} else {
					wantError(t, r, 429, "too_many_attempts") // all the peer's (127.0.0.1) budget
				}
			}
			if n := strings.Count(buf.String(), "client address header"); n != 1 {
				t.Fatalf("%d log lines for %d unreadable headers within a minute, want 1:\n%s", n, len(bad), buf.String())
			}
			e.clock.Advance(time.Minute)
			e.loginFrom("garbage", "nobody", "wrong password")
			if out := buf.String(); strings.Count(out, "client address header") != 2 || !strings.Contains(out, "suppressed=5") {
				t.Fatalf("a minute later, want one more line counting those left out:\n%s", out)
			}
		})
		t.Run("sessions-list-shows-one-spelling", func(t *testing.T) {
			e := newEnv(t, open, behindProxy("X-Real-IP", auth.LimitConfig{}, 0))
			r := e.registerFrom("[::ffff:198.51.100.7]:8080", "fay", "password1")
			access := r.json(t)["accessToken"].(string)
			list := e.do(req{method: "GET", path: "/api/v1/sessions", header: withXHR(map[string]string{"X-Access-Token": access})}).jsonList(t)
			if ip := list[0].(map[string]any)["ip"]; ip != "198.51.100.7" {
				t.Fatalf("session ip %v, want 198.51.100.7", ip)
			}
		})
	})
}
