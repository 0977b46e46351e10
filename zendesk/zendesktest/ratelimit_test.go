package zendesktest

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRateLimitHeadersAnd429(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithRateLimit(6), WithClock(clock.Now))
	c := admin(t, s)
	for i := 0; i < 6; i++ {
		r := c.do("GET", "/api/v2/users/me", nil)
		if r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
		if got := r.header.Get("X-Rate-Limit"); got != "6" {
			t.Errorf("X-Rate-Limit = %q", got)
		}
		if got, want := r.header.Get("X-Rate-Limit-Remaining"), strconv.Itoa(5-i); got != want {
			t.Errorf("request %d: remaining %q, want %q", i, got, want)
		}
		if r.header.Get("ratelimit-limit") != "6" || r.header.Get("ratelimit-remaining") == "" || r.header.Get("ratelimit-reset") == "" {
			t.Errorf("ratelimit-* headers: %v", r.header)
		}
	}
	r := c.do("GET", "/api/v2/users/me", nil)
	wantError(t, r, 429, "APIRateLimitExceeded")
	if got := r.header.Get("Retry-After"); got != "10" { // one token at 6/60 per second
		t.Errorf("Retry-After = %q, want 10", got)
	}
	if s.Stats().Throttled != 1 {
		t.Errorf("Throttled = %d", s.Stats().Throttled)
	}
	clock.Advance(10 * time.Second)
	c.must(200, "GET", "/api/v2/users/me", nil)
	clock.Advance(time.Minute)
	if r := c.do("GET", "/api/v2/users/me", nil); r.header.Get("ratelimit-reset") != "10" {
		t.Errorf("ratelimit-reset after a full minute then one request = %q, want 10", r.header.Get("ratelimit-reset"))
	}
}

// A client that paces itself at limit/60 per second is never throttled, even
// after spending the initial burst.
func TestRateLimitPacingNeverThrottled(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithRateLimit(120), WithClock(clock.Now), WithRequestLog(0))
	c := admin(t, s)
	for i := 0; i < 120; i++ { // burst
		c.must(200, "GET", "/api/v2/groups", nil)
	}
	for i := 0; i < 500; i++ {
		clock.Advance(500 * time.Millisecond) // 120/60 = 2 per second
		if r := c.do("GET", "/api/v2/groups", nil); r.status != 200 {
			t.Fatalf("paced request %d throttled: %d", i, r.status)
		}
	}
	if s.Stats().Throttled != 0 {
		t.Errorf("Throttled = %d", s.Stats().Throttled)
	}
}

func TestRateLimitHidden(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithRateLimit(1), WithAdvertiseRateLimit(false), WithClock(clock.Now))
	c := admin(t, s)
	r := c.do("GET", "/api/v2/users/me", nil)
	if r.status != 200 || r.header.Get("X-Rate-Limit") != "" || r.header.Get("ratelimit-remaining") != "" {
		t.Errorf("headers advertised: %v", r.header)
	}
	r = c.do("GET", "/api/v2/users/me", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "60" {
		t.Errorf("hidden limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
}

func TestIncrementalBucketAndOAuthUnlimited(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithClock(clock.Now), WithRateLimit(1000))
	c := admin(t, s)
	for i := 0; i < 10; i++ {
		r := c.do("GET", "/api/v2/incremental/users/cursor?start_time=0", nil)
		if r.status != 200 || r.header.Get("Zendesk-RateLimit-incremental-exports") == "" {
			t.Fatalf("incremental %d: %d %v", i, r.status, r.header)
		}
	}
	r := c.do("GET", "/api/v2/incremental/users/cursor?start_time=0", nil)
	wantError(t, r, 429, "APIRateLimitExceeded")
	if r.header.Get("Retry-After") != "6" {
		t.Errorf("incremental Retry-After = %q", r.header.Get("Retry-After"))
	}
	c.must(200, "GET", "/api/v2/users/me", nil) // the account budget is separate

	cr := s.Credentials()
	one := newServer(t, WithRateLimit(1), WithClock(clock.Now))
	cr = one.Credentials()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cr.OAuthClientID}, "client_secret": {cr.OAuthClientSecret}}
	for i := 0; i < 5; i++ {
		if r := oauthToken(t, one, form, false); r.status != 200 {
			t.Fatalf("token %d: %d", i, r.status)
		}
	}
	unl := newServer(t, WithoutRateLimit())
	uc := admin(t, unl)
	for i := 0; i < 800; i++ {
		if r := uc.do("GET", "/api/v2/users/me", nil); r.status != 200 {
			t.Fatalf("unlimited request %d: %d", i, r.status)
		}
	}
}

// TestUserUpdateLimit: at most five updates of one user in any minute (a
// sliding window on the simulator's clock); the sixth answers 429 with the
// wait until the oldest leaves the window, in the shape Zendesk documents for
// its per-record update limits, and spends nothing of the account's budget.
// Other users, and reads of the user, are not affected.
func TestUserUpdateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithRateLimit(100), WithClock(clock.Now))
	c := admin(t, s)
	a, _ := s.AddUser(UserSpec{Name: "A", Email: "a@example.com"})
	b, _ := s.AddUser(UserSpec{Name: "B", Email: "b@example.com"})
	update := func(id int64) response {
		return c.do("PUT", fmt.Sprintf("/api/v2/users/%d", id), userBody(map[string]any{"tags": []string{"t"}}))
	}
	for i := range 5 {
		if r := update(a.ID); r.status != 200 {
			t.Fatalf("update %d: %d %s", i+1, r.status, r.body)
		}
		clock.Advance(time.Second)
	}
	remaining := c.do("GET", fmt.Sprintf("/api/v2/users/%d", a.ID), nil).header.Get("X-Rate-Limit-Remaining")
	r := update(a.ID)
	if r.status != 429 || r.header.Get("Retry-After") != "55" {
		t.Fatalf("sixth update within a minute: %d, Retry-After %q, want 429 and 55", r.status, r.header.Get("Retry-After"))
	}
	want := map[string]any{"errors": []any{map[string]any{"code": "TooManyRequests", "title": "Too many requests to update"}}}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("429 body (-want +got):\n%s", diff)
	}
	if r.header.Get("X-Rate-Limit") != "100" {
		t.Errorf("the 429 lacks the account's headers: %v", r.header)
	}
	if got := c.do("GET", fmt.Sprintf("/api/v2/users/%d", a.ID), nil).header.Get("X-Rate-Limit-Remaining"); got != decimal(t, remaining, -1) {
		t.Errorf("remaining %s after the refused update, want %s (only the read spent)", got, decimal(t, remaining, -1))
	}
	if s.Stats().Throttled != 1 {
		t.Errorf("Throttled = %d, want 1", s.Stats().Throttled)
	}
	if r := update(b.ID); r.status != 200 {
		t.Errorf("update of another user: %d", r.status)
	}
	// The first update leaves the window 60s after it was made (55s from now).
	clock.Advance(54 * time.Second)
	if r := update(a.ID); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("a second early: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	clock.Advance(time.Second)
	if r := update(a.ID); r.status != 200 {
		t.Errorf("once the first update left the window: %d %s", r.status, r.body)
	}
	if r := update(a.ID); r.status != 429 {
		t.Errorf("the second update is still in the window: %d", r.status)
	}
}

// decimal returns the integer s plus d, as a string.
func decimal(t *testing.T, s string, d int) string {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return strconv.Itoa(n + d)
}

// TestUserUpdateLimitOptions: WithUserUpdateLimit sets the limit or, with 0,
// removes it, as WithoutRateLimit does; a negative limit is refused.
func TestUserUpdateLimitOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		ok   int // updates that pass at one instant
	}{
		{"two", []Option{WithUserUpdateLimit(2)}, 2},
		{"off", []Option{WithUserUpdateLimit(0)}, 12},
		{"unlimited", []Option{WithoutRateLimit()}, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, append(tc.opts, WithClock(newFakeClock().Now))...)
			c := admin(t, s)
			ok := 0
			for range 12 {
				if c.do("PUT", fmt.Sprintf("/api/v2/users/%d", s.OwnerID()), userBody(map[string]any{"name": "Owner"})).status == 200 {
					ok++
				}
			}
			if ok != tc.ok {
				t.Errorf("%d updates passed, want %d", ok, tc.ok)
			}
		})
	}
	if _, err := New(WithUserUpdateLimit(-1)); err == nil {
		t.Error("WithUserUpdateLimit(-1) accepted")
	}
}

// TestUpdateManyNotUserLimited: the updates of update_many jobs do not count
// against the per-user limit (Zendesk documents the limit on Update User
// only): six jobs updating one user in the same instant all succeed, and
// leave the user's five updates a minute intact.
func TestUpdateManyNotUserLimited(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, _ := newPipedServer(t, WithJobDelay(bulkJobDelay))
		c := admin(t, s)
		a, _ := s.AddUser(UserSpec{Name: "A", Email: "a@example.com"})
		var answers []map[string]any
		for i := range 6 {
			answers = append(answers, c.must(200, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d", a.ID),
				userBody(map[string]any{"name": fmt.Sprint("A", i)})))
		}
		time.Sleep(12 * bulkJobDelay) // one job at a time, two delays each
		synctest.Wait()
		for i, m := range answers {
			js := jobAt(c, m["job_status"].(map[string]any)["url"].(string))
			if res := js["results"].([]any); js["status"] != "completed" || res[0].(map[string]any)["status"] != "Updated" {
				t.Errorf("job %d: %v", i, js)
			}
		}
		for i := range 5 {
			c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d", a.ID), userBody(map[string]any{"name": fmt.Sprint("B", i)}))
		}
		if u, _ := s.User(a.ID); u.Name != "B4" {
			t.Errorf("user: %+v", u)
		}
	})
}
