package zendesk

import (
	"errors"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	maxDuration := time.Duration(math.MaxInt64)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"007", 7 * time.Second, true},
		{" 5\t", 5 * time.Second, true}, // OWS is not part of the field value
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", maxDuration, true},
		{"99999999999999", maxDuration, true},
		{"99999999999999999999999999", maxDuration, true},
		{"Fri, 01 May 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Friday, 01-May-26 12:00:30 GMT", 30 * time.Second, true}, // RFC 850, obsolete but accepted
		{"Fri May  1 12:00:30 2026", 30 * time.Second, true},       // asctime
		{"Fri, 01 May 2026 11:00:00 GMT", 0, true},                 // in the past
		{"", 0, false},
		{" ", 0, false},
		{"+5", 0, false},
		{"-5", 0, false},
		{"5.0", 0, false},
		{"1e12", 0, false},
		{"Inf", 0, false},
		{"NaN", 0, false},
		{"5 5", 0, false},
		{"٣", 0, false}, // a non-ASCII digit
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestLimiterSlowsWhenRemainingRunsLow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken))
		if err != nil {
			t.Fatal(err)
		}
		remaining := 700
		mock.RegisterResponder("GET", usersURL, func(r *http.Request) (*http.Response, error) {
			resp := httpmock.NewStringResponse(200, `{"user":{"id":1}}`)
			resp.Header.Set("X-Rate-Limit", "700")
			resp.Header.Set("X-Rate-Limit-Remaining", itoa(int64(remaining)))
			resp.Header.Set("ratelimit-reset", "60")
			return resp, nil
		})
		// Plenty left: the limiter adopts the advertised 700/min.
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if got := c.RateLimit(); got.Limit != 700 || got.PacingPerMinute != 700 {
			t.Fatalf("after a full budget: %+v, want pacing at 700/min", got)
		}
		start := time.Now()
		for range 20 {
			if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		fast := time.Since(start)

		// Only 5 left for the next 60 s: the client spreads them over the window.
		remaining = 5
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if got := c.RateLimit(); got.PacingPerMinute != 5 {
			t.Fatalf("pacing = %v/min with 5 remaining over 60s, want 5", got.PacingPerMinute)
		}
		start = time.Now()
		for range 3 {
			if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		slow := time.Since(start)
		if fast > 3*time.Second || slow < 20*time.Second {
			t.Errorf("20 requests at full budget took %s; 3 at low budget took %s (want <3s and >=20s)", fast, slow)
		}
	})
}

func TestLimiterNeverExceedsConfiguredRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken), WithRateLimit(120))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("GET", usersURL, okUser.HeaderAdd(http.Header{"X-Rate-Limit": {"700"}, "X-Rate-Limit-Remaining": {"699"}}))
		start := time.Now()
		for range 26 {
			if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		// 120/min is 2/s with a burst of 6: 26 requests need at least 10 s.
		if got := time.Since(start); got < 10*time.Second {
			t.Errorf("26 requests at 120/min took %s, want >= 10s: advertised 700 must not lift a configured cap", got)
		}
	})
}

func TestRateLimitedContextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken), WithRateLimit(1))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("GET", usersURL, okUser)
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := contextWithTimeout(t, 5*time.Second)
		defer cancel()
		_, _, err = c.Users.Get(ctx, 1)
		if !errors.Is(err, errDeadline) {
			t.Errorf("err = %v, want context.DeadlineExceeded when the next token is past the deadline", err)
		}
	})
}

func TestIncrementalExportHasItsOwnBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken), WithRateLimit(6000))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterRegexpResponder("GET", regexp.MustCompile(`/api/v2/incremental/users/cursor`),
			httpmock.NewStringResponder(200, `{"users":[{"id":1}],"after_url":null,"end_of_stream":true}`))
		mock.RegisterResponder("GET", usersURL, okUser)
		start := time.Now()
		for range 12 {
			if _, err := Collect(c.Users.IncrementalExport(t.Context(), time.Unix(1, 0))); err != nil {
				t.Fatal(err)
			}
		}
		exports := time.Since(start)
		start = time.Now()
		for range 12 {
			if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		reads := time.Since(start)
		// 10 a minute with no burst beyond one: the 12th export waits about 66 s,
		// while ordinary reads at 6,000 a minute are not held up by the export bucket.
		if exports < time.Minute || reads > time.Second {
			t.Errorf("12 exports took %s (want >= 1m), 12 reads took %s (want < 1s)", exports, reads)
		}
	})
}

func TestLimiterWaitIsNotCutByAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 2/min with a burst of 1: the second request waits 30 s for its token, longer
		// than the 10 s attempt timeout.
		c, mock := mockClient(t, WithRateLimit(2), WithTimeout(10*time.Second), WithMaxRetries(0))
		var calls atomic.Int32
		mock.RegisterResponder("POST", "https://example.zendesk.com/api/v2/users",
			sequence(&calls, httpmock.NewStringResponder(201, `{"user":{"id":1}}`)))
		for i := range 2 {
			if _, _, err := c.Users.Create(t.Context(), &CreateUserRequest{Name: "A"}); err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		if calls.Load() != 2 {
			t.Errorf("calls = %d, want 2", calls.Load())
		}
	})
}

func TestLimiterRecoversWithoutAdvertisedLimit(t *testing.T) {
	l := newAdaptiveLimiter(0, defaultRequestsPerMinute)
	l.Observe(RateLimit{Remaining: 5, Reset: time.Minute})
	if got := l.snapshot().PacingPerMinute; got != 5 {
		t.Fatalf("pacing with 5 remaining = %v, want 5", got)
	}
	l.Observe(RateLimit{Remaining: 190, Reset: time.Minute})
	if got := l.snapshot().PacingPerMinute; got != defaultRequestsPerMinute {
		t.Errorf("pacing after the budget refilled = %v, want %d", got, defaultRequestsPerMinute)
	}
	l.Observe(RateLimit{Limit: 700, Remaining: -1})
	if got, want := l.lim.Burst(), burstFor(700); got != want {
		t.Errorf("burst after a response without remaining = %d, want %d", got, want)
	}
}

func TestRateLimitKeepsAdvertisedLimitWhenOnlyRemainingIsSent(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken))
	if err != nil {
		t.Fatal(err)
	}
	headers := http.Header{"X-Rate-Limit": {"400"}, "X-Rate-Limit-Remaining": {"399"}}
	mock.RegisterResponder("GET", usersURL, func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(200, `{"user":{"id":1}}`)
		resp.Header = headers.Clone()
		return resp, nil
	})
	if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	headers = http.Header{"X-Rate-Limit-Remaining": {"398"}}
	if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if got := c.RateLimit(); got.Limit != 400 || got.Remaining != 398 {
		t.Errorf("RateLimit = %+v, want Limit 400 kept and Remaining 398", got)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "7", "99999999999999", "1e12", "Inf", "-5", "+5", " 5 ", "Fri, 01 May 2026 12:00:30 GMT", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %s, a negative wait", v, d)
		}
		if !ok {
			if d != 0 {
				t.Fatalf("parseRetryAfter(%q) = %s with ok false", v, d)
			}
			return
		}
		trimmed := strings.Trim(v, " \t")
		if !isDigits(trimmed) {
			if _, err := http.ParseTime(trimmed); err != nil {
				t.Fatalf("parseRetryAfter accepted %q, which is neither delay-seconds nor an HTTP-date", v)
			}
		}
	})
}
