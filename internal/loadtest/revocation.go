package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"
)

// revocationWait is how long the second process may keep accepting a
// token after its session ended before the trial counts as failed.
const revocationWait = 10 * time.Second

// revocation signs a user in on process A (t), has process B (bURL, the
// same database) accept the access token, logs off on A, and times how
// long B goes on accepting it: from A's answer to B's first refusal. B
// has the token cached, so only the revocation feed can stop it. Each
// trial uses its own seeded user, from first on.
func (h *harness) revocation(ctx context.Context, t *target, bURL string, first int) (Revocation, error) {
	var rv Revocation
	for i := range h.plan.trials {
		a, err := t.signIn(ctx, seedLogin(first+i))
		if err != nil {
			return rv, err
		}
		me := func() (int, []byte, error) {
			return t.call(ctx, "GET", bURL+"/api/v1/user.me", nil, map[string]string{"X-Access-Token": a.access})
		}
		status, body, err := me()
		if err != nil {
			return rv, err
		}
		if status != http.StatusOK {
			return rv, fmt.Errorf("the second process refused a fresh token: %d %.200s", status, body)
		}
		status, body, err = t.call(ctx, "POST", t.base+"/api/v1/user.logoff", nil, map[string]string{"X-Access-Token": a.access})
		if err != nil {
			return rv, err
		}
		if status != http.StatusOK {
			return rv, fmt.Errorf("user.logoff: %d %.200s", status, body)
		}
		ended := time.Now()
		refused := false
		for time.Since(ended) < revocationWait {
			status, body, err := me()
			if err != nil {
				return rv, err
			}
			if status == http.StatusForbidden {
				refused = true
				break
			}
			if status != http.StatusOK {
				return rv, fmt.Errorf("user.me on the second process: %d %.200s", status, body)
			}
			// A poll a millisecond: fine enough, and no load that would
			// slow the process being timed.
			time.Sleep(time.Millisecond)
		}
		if !refused {
			rv.Failed++
			continue
		}
		rv.Trials = append(rv.Trials, float64(time.Since(ended))/float64(time.Millisecond))
	}
	s := sortedCopy(rv.Trials)
	if len(s) > 0 {
		at := func(q float64) float64 { return s[min(len(s)-1, max(0, int(math.Ceil(q*float64(len(s))))-1))] }
		rv.P50, rv.P99, rv.Max = at(0.5), at(0.99), s[len(s)-1]
	}
	return rv, nil
}
