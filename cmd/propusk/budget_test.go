package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/propusk/propusk/postgres/pgtest"
)

// TestBudgetsAcrossProcesses: two real processes on one PostgreSQL database
// draw on one login budget and one registration budget, so adding a node
// does not weaken brute-force protection.
func TestBudgetsAcrossProcesses(t *testing.T) {
	dsn := pgtest.DSN(t)
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"PROPUSK_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	args := []string{"--db", dsn, "--client-ip-header", "X-Real-IP", "--register-limit", "4"}
	var a, b *proc
	var wg sync.WaitGroup
	wg.Go(func() { a = startServer(t, t.TempDir(), env, args...) })
	wg.Go(func() { b = startServer(t, t.TempDir(), env, args...) })
	wg.Wait()
	if a == nil || b == nil {
		t.FailNow()
	}
	procs := []*proc{a, b}
	from := func(ip string) map[string]string { return map[string]string{"X-Real-IP": ip} }
	creds := func(login, password string) string {
		return fmt.Sprintf(`{"login":%q,"password":%q}`, login, password)
	}

	t.Run("registration", func(t *testing.T) {
		// 4 an hour per address: alternating processes, the fifth is refused
		// wherever it lands (per process, 8 would pass).
		want := []int{201, 201, 409, 201, 429, 429}
		logins := []string{"reg1", "reg2", "reg1", "reg3", "reg4", "reg5"}
		for i, login := range logins {
			r := send(http.DefaultClient, procs[i%2].URL, "POST", "/api/v1/user.register", from("198.51.100.9"), creds(login, "password-1"))
			if r.status != want[i] {
				t.Fatalf("registration %d on process %d: %v, want %d", i+1, i%2, r, want[i])
			}
		}
	})

	t.Run("login", func(t *testing.T) {
		if r := send(http.DefaultClient, a.URL, "POST", "/api/v1/user.register", from("192.0.2.50"), creds("victim", "password-1")); r.status != 201 {
			t.Fatalf("register: %v", r)
		}
		// 5 failures per login in 15 minutes, across both processes.
		for i := range 5 {
			r := send(http.DefaultClient, procs[i%2].URL, "POST", "/api/v1/user.login", from(fmt.Sprintf("192.0.2.%d", i+1)), creds("victim", "guess"+fmt.Sprint(i)))
			if r.status != 401 {
				t.Fatalf("guess %d on process %d: %v", i+1, i%2, r)
			}
		}
		for i, p := range procs {
			r := send(http.DefaultClient, p.URL, "POST", "/api/v1/user.login", from("192.0.2.99"), creds("victim", "password-1"))
			if r.status != 429 || r.code() != "too_many_attempts" {
				t.Fatalf("sixth try on process %d: %v, want 429", i, r)
			}
		}
	})

	t.Run("login-concurrent", func(t *testing.T) {
		// Guesses sent at once to both processes: the budget is reserved in
		// the database before hashing, so no more than 5 are checked.
		const n = 30
		var mu sync.Mutex
		got := map[int]int{}
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := send(http.DefaultClient, procs[i%2].URL, "POST", "/api/v1/user.login", from(fmt.Sprintf("10.1.%d.1", i)), creds("target", "guess"))
				mu.Lock()
				got[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if got[401] > 5 || got[401]+got[429] != n {
			t.Fatalf("%d concurrent guesses on two processes: %v, want at most 5 checked (401), the rest 429", n, got)
		}
	})
}
