package zendesktest

import (
	"net/url"
	"strconv"
	"testing"
	"time"
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
