package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/propusk/propusk"
)

// TestTwoProcessesUserAdmin: a user disabled or deleted through one
// process loses their access token, refresh token and personal access token
// on the other within a second, with the times observed.
func TestTwoProcessesUserAdmin(t *testing.T) { testTwoProcessesUserAdmin(t, startCluster) }

// testTwoProcessesUserAdmin is TestTwoProcessesUserAdmin on the cluster
// start returns.
func testTwoProcessesUserAdmin(t *testing.T, start func(t *testing.T) *cluster) {
	c := start(t)
	a, b := c.a, c.b
	ctx := context.Background()
	registerUser(t, a, "root")
	store, err := openStore(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	root, err := store.UserByLogin(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	lvl := propusk.LevelAdmin
	if _, err := store.UpdateUser(ctx, root.ID, propusk.UserChange{Level: &lvl}, `App\Models\User`, time.Now()); err != nil {
		t.Fatal(err)
	}
	admin := accessHeader(loginUser(t, a, "root").AccessToken)

	for _, step := range []struct{ name, method, body string }{
		{"disabled", "PATCH", `{"disabled":true}`},
		{"deleted", "DELETE", ""},
	} {
		t.Run(step.name, func(t *testing.T) {
			if step.method == "DELETE" {
				vera, _ := store.UserByLogin(ctx, "vera")
				if r := send(http.DefaultClient, a.URL, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", vera.ID), admin, `{"disabled":false}`); r.status != 200 {
					t.Fatalf("enable: %s", r)
				}
			}
			var p tokenPair
			if step.method == "PATCH" {
				p = registerUser(t, a, "vera")
			} else {
				p = loginUser(t, a, "vera")
			}
			vera, err := store.UserByLogin(ctx, "vera")
			if err != nil {
				t.Fatal(err)
			}
			pat := map[string]string{"Authorization": "Bearer " + p.APIToken}
			for range 2 { // the second is served from B's cache
				if r := userMe(b, pat); r.status != 200 {
					t.Fatalf("B refuses the api-token: %s", r)
				}
			}
			if r := userMe(b, accessHeader(p.AccessToken)); r.status != 200 {
				t.Fatalf("B refuses the access token: %s", r)
			}
			start := time.Now()
			if r := send(http.DefaultClient, a.URL, step.method, fmt.Sprintf("/api/v1/admin/users/%d", vera.ID), admin, step.body); r.status != 200 {
				t.Fatalf("%s on A: %s", step.name, r)
			}
			waitRefused(t, step.name+" on A, access token on B", start, revocationBound, func() reply { return userMe(b, accessHeader(p.AccessToken)) })
			waitRefused(t, step.name+" on A, api-token on B", start, revocationBound, func() reply { return userMe(b, pat) })
			if r := send(http.DefaultClient, b.URL, "POST", "/api/v1/token.renew", nil, `{"refreshToken":"`+p.RefreshToken+`"}`); r.status == 200 {
				t.Fatalf("B renews the refresh token of a %s user: %s", step.name, r)
			}
		})
	}
}
