package zendesktest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The tests of this file run in a testing/synctest bubble: the simulator's
// buckets refill and the client waits out Retry-After on the fake clock, so
// what is throttled does not depend on how fast the machine sends requests.

// drain spends n tokens of the simulator's account budget with
// unauthenticated requests sent through hc (every /api/v2 request spends
// one) and returns the status of the last.
func drain(t testing.TB, srv *zendesktest.Server, hc *http.Client, n int) int {
	t.Helper()
	status := 0
	for range n {
		resp, err := hc.Get(srv.URL + "/api/v2/users/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		status = resp.StatusCode
	}
	return status
}

// TestClientAdoptsAdvertisedRateLimit: a client not told its plan starts at
// 200 a minute and adopts the 120 the simulator advertises; a burst of
// concurrent calls is then not throttled.
func TestClientAdoptsAdvertisedRateLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t, zendesktest.WithRateLimit(120))
		c := newClient(t, srv, zendesk.WithHTTPClient(hc))
		_, _, err := c.Users.Me(ctx(t))
		must(t, err, "first call")
		rl := c.RateLimit()
		if rl.Limit != 120 || rl.PacingPerMinute != 120 {
			t.Fatalf("after one response: limit %d pacing %v, want 120 and 120", rl.Limit, rl.PacingPerMinute)
		}
		if rl.Remaining != 119 {
			t.Errorf("remaining %d, want 119", rl.Remaining)
		}

		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := zendesk.Collect(c.Groups.List(ctx(t)))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err, "burst")
		}
		if st := srv.Stats(); st.Throttled != 0 {
			t.Errorf("simulator throttled %d requests", st.Throttled)
		}
		if rl := c.RateLimit(); rl.Throttled != 0 || rl.Limit != 120 || rl.PacingPerMinute > 120 {
			t.Errorf("client: %+v, want no 429s at a pace of at most 120", rl)
		}
	})
}

// TestClientRateLimitWithoutHeaders: a simulator that advertises nothing
// throttles the client, which waits out the Retry-After and completes. With
// two tokens left (120 a minute refill 2 a second), pages 1 and 2 pass, page
// 3 gets a 429 asking for 1s, and after that second pages 3 and 4 pass.
func TestClientRateLimitWithoutHeaders(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t, zendesktest.WithRateLimit(120), zendesktest.WithAdvertiseRateLimit(false),
			zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 41, EndUsers: 30}))
		drain(t, srv, hc, 118) // two tokens left: no time passes in the bubble
		c := newClient(t, srv, zendesk.WithHTTPClient(hc), zendesk.WithPageSize(10))
		start := time.Now()
		users, err := zendesk.Collect(c.Users.List(ctx(t), nil))
		must(t, err, "list while throttled")
		if len(users) != 31 || !sortedIDs(ids(users, userID)) {
			t.Errorf("listed %d users, want 31 in order", len(users))
		}
		st := srv.Stats()
		if st.Throttled != 1 {
			t.Fatalf("the simulator throttled %d requests, want 1 (page 3, once)", st.Throttled)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("listing took %v, less than the 1s Retry-After", d)
		}
		rl := c.RateLimit()
		if rl.Throttled != int64(st.Throttled) {
			t.Errorf("client counted %d 429s, simulator sent %d", rl.Throttled, st.Throttled)
		}
		if rl.Limit != 0 || rl.Remaining != -1 {
			t.Errorf("client learned limit %d remaining %d from a server that advertises none", rl.Limit, rl.Remaining)
		}
		if n := requestsTo(srv, "GET /api/v2/users"); n != 4+st.Throttled {
			t.Errorf("%d list requests, want 4 pages + %d retries", n, st.Throttled)
		}
	})
}

// TestClientRateLimitAboveCap: a 429 whose Retry-After exceeds the client's
// cap comes back at once as a *RateLimitError.
func TestClientRateLimitAboveCap(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t, zendesktest.WithRateLimit(6))
		if status := drain(t, srv, hc, 7); status != http.StatusTooManyRequests {
			t.Fatalf("drain ended with %d, want 429", status)
		}
		c := newClient(t, srv, zendesk.WithHTTPClient(hc), zendesk.WithRetryAfterCap(time.Second))
		_, _, err := c.Users.Me(ctx(t))
		var rle *zendesk.RateLimitError
		if !errors.As(err, &rle) {
			t.Fatalf("%v, want a *RateLimitError", err)
		}
		if rle.RetryAfter != 10*time.Second || rle.StatusCode != http.StatusTooManyRequests || !zendesk.IsRateLimited(err) {
			t.Errorf("RateLimitError %+v: want a 429 with Retry-After 10s (a token of 6 a minute), above the 1s cap", rle)
		}
		if n := c.RequestCount(); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

// writeUser updates user id n times in a row, as a deprovisioning that
// changes one thing at a time does.
func writeUser(ctx context.Context, c *zendesk.Client, id int64, n int) error {
	for i := range n {
		if _, _, err := c.Users.Update(ctx, id, &zendesk.UpdateUserRequest{Tags: []string{fmt.Sprint("step-", i)}}); err != nil {
			return fmt.Errorf("write %d of user %d: %w", i, id, err)
		}
	}
	return nil
}

// TestClientUserUpdatesPaceThemselves: ten writes to one user against a
// simulator that allows five a minute per user meet no 429: the client waits a
// minute before the sixth. Writes to other users do not wait.
func TestClientUserUpdatesPaceThemselves(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t) // Zendesk's five updates a minute per user
		c := newClient(t, srv, zendesk.WithHTTPClient(hc))
		target := addEndUser(t, srv, "Leaver", "leaver@example.com")
		start := time.Now()
		must(t, writeUser(t.Context(), c, target, 10), "ten writes")
		if d := time.Since(start); d != time.Minute {
			t.Errorf("ten writes took %v, want one minute (five, then five a minute later)", d)
		}
		if n := srv.Stats().Throttled; n != 0 {
			t.Errorf("the simulator answered %d 429s, want none", n)
		}
		if n := c.RateLimit().Throttled; n != 0 {
			t.Errorf("the client met %d 429s, want none", n)
		}

		start = time.Now()
		for i := range 10 {
			must(t, writeUser(t.Context(), c, addEndUser(t, srv, "Other", fmt.Sprintf("other%d@example.com", i)), 5), "writes to another user")
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("five writes to each of ten users took %v, want no wait", d)
		}
		if n := srv.Stats().Throttled; n != 0 {
			t.Errorf("%d 429s", n)
		}
	})
}

// TestClientUserUpdateLimit429: a client that does not pace the updates of a
// user meets the simulator's 429 at the sixth, waits out its Retry-After (a
// minute) and succeeds; the 429 says nothing of the account's budget, which the
// client keeps.
func TestClientUserUpdateLimit429(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t)
		c := newClient(t, srv, zendesk.WithHTTPClient(hc), zendesk.WithUserUpdateLimit(0))
		target := addEndUser(t, srv, "Leaver", "leaver@example.com")
		must(t, writeUser(t.Context(), c, target, 1), "first write") // learn the account's budget
		before := c.RateLimit()
		start := time.Now()
		must(t, writeUser(t.Context(), c, target, 9), "nine more writes")
		if d := time.Since(start); d != time.Minute {
			t.Errorf("the writes took %v, want one minute of Retry-After", d)
		}
		if n := srv.Stats().Throttled; n != 1 {
			t.Errorf("the simulator answered %d 429s, want 1 (the sixth write's first attempt)", n)
		}
		rl := c.RateLimit()
		if rl.Throttled != 1 || rl.Limit != before.Limit || rl.PacingPerMinute != before.PacingPerMinute || rl.Limit == 0 {
			t.Errorf("rate limit after the 429s: %+v, before: %+v: the account's pace must not change", rl, before)
		}
	})
}
