package zendesk

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
)

// mockClient returns a client whose innermost transport is an httpmock transport, so the
// retry and limiter layers stay in the path while no network is used.
func mockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	base := []Option{
		WithHTTPClient(&http.Client{Transport: mock}),
		WithAPIToken(testEmail, testToken),
		WithRateLimit(60000),
	}
	c, err := NewClient("example", append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mock
}

const usersURL = "https://example.zendesk.com/api/v2/users/1"

// sequence answers with each responder in turn, the last one repeating, and counts calls.
func sequence(calls *atomic.Int32, rs ...httpmock.Responder) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		i := int(calls.Add(1)) - 1
		return rs[min(i, len(rs)-1)](r)
	}
}

func withHeader(r httpmock.Responder, kv ...string) httpmock.Responder {
	return r.HeaderAdd(http.Header{kv[0]: {kv[1]}})
}

var okUser = httpmock.NewStringResponder(200, `{"user":{"id":1,"name":"A"}}`)

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		first      httpmock.Responder
		wantWait   time.Duration
		wantCalls  int32
		wantErr    bool
		wantStatus int
	}{
		{"429 seconds", withHeader(httpmock.NewStringResponder(429, `{"error":"APIRateLimitExceeded"}`), "Retry-After", "7"), 7 * time.Second, 2, false, 0},
		{"429 http date", withHeader(httpmock.NewStringResponder(429, ``), "Retry-After", "Sat, 01 Jan 2000 00:00:30 GMT"), 30 * time.Second, 2, false, 0},
		{"429 html body", withHeader(httpmock.NewStringResponder(429, `<html><body>Rate limit for ticket updates exceeded, please wait</body></html>`).HeaderAdd(http.Header{"Content-Type": {"text/html"}}), "Retry-After", "3"), 3 * time.Second, 2, false, 0},
		{"503 with retry-after", withHeader(httpmock.NewStringResponder(503, ``), "Retry-After", "4"), 4 * time.Second, 2, false, 0},
		{"503 without retry-after", httpmock.NewStringResponder(503, `<html>maintenance</html>`), 0, 2, false, 0},
		{"502", httpmock.NewStringResponder(502, `bad gateway`), 0, 2, false, 0},
		{"501 not retried", httpmock.NewStringResponder(501, `{"error":"NotImplemented"}`), 0, 1, true, 501},
		{"404 not retried", httpmock.NewStringResponder(404, `{"error":"RecordNotFound","description":"Not found"}`), 0, 1, true, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if strings.Contains(tt.name, "date") {
					// The bubble's clock starts at 2000-01-01 00:00:00 UTC.
					if now := time.Now().UTC(); now.Year() != 2000 {
						t.Skipf("synctest clock starts at %v, not 2000", now)
					}
				}
				c, mock := mockClient(t, WithRetryWait(time.Second, time.Second))
				var calls atomic.Int32
				mock.RegisterResponder("GET", usersURL, sequence(&calls, tt.first, okUser))
				start := time.Now()
				_, _, err := c.Users.Get(t.Context(), 1)
				waited := time.Since(start)
				if calls.Load() != tt.wantCalls {
					t.Errorf("calls = %d, want %d", calls.Load(), tt.wantCalls)
				}
				if tt.wantErr {
					var apiErr *APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
						t.Fatalf("err = %v, want *APIError %d", err, tt.wantStatus)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tt.wantWait > 0 && (waited < tt.wantWait || waited > tt.wantWait+time.Second) {
					t.Errorf("waited %s, want about %s (Retry-After)", waited, tt.wantWait)
				}
			})
		})
	}
}

func TestRetryAfterAboveCapFailsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t, WithRetryAfterCap(time.Minute))
		var calls atomic.Int32
		mock.RegisterResponder("GET", usersURL, sequence(&calls,
			withHeader(httpmock.NewStringResponder(429, `{"error":"APIRateLimitExceeded","description":"Number of allowed API requests per minute exceeded"}`), "Retry-After", "3600"), okUser))
		start := time.Now()
		_, _, err := c.Users.Get(t.Context(), 1)
		if waited := time.Since(start); waited > 0 {
			t.Errorf("slept %s; a Retry-After above the cap must not be slept for", waited)
		}
		var rl *RateLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("err = %v, want *RateLimitError", err)
		}
		if rl.RetryAfter != time.Hour || rl.Code != "APIRateLimitExceeded" {
			t.Errorf("RateLimitError = %+v", rl)
		}
		if !IsRateLimited(err) || calls.Load() != 1 {
			t.Errorf("IsRateLimited = %v, calls = %d", IsRateLimited(err), calls.Load())
		}
		if c.RateLimit().Throttled != 1 {
			t.Errorf("Throttled = %d, want 1", c.RateLimit().Throttled)
		}
	})
}

// TestRetryAfter503AboveCapIsRateLimitError: a 503 whose Retry-After exceeds the cap
// fails at once, like a 429, as a *RateLimitError carrying the wait, which errors.As
// also finds as the *APIError; ErrRateLimited stays for 429s.
func TestRetryAfter503AboveCapIsRateLimitError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t, WithRetryAfterCap(time.Minute))
		var calls atomic.Int32
		mock.RegisterResponder("GET", usersURL, sequence(&calls,
			withHeader(httpmock.NewStringResponder(503, `{"error":"DatabaseTimeout"}`), "Retry-After", "3600"), okUser))
		start := time.Now()
		_, _, err := c.Users.Get(t.Context(), 1)
		if waited := time.Since(start); waited > 0 || calls.Load() != 1 {
			t.Errorf("slept %s over %d calls; a Retry-After above the cap must fail at once", waited, calls.Load())
		}
		var rl *RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter != time.Hour || rl.StatusCode != 503 {
			t.Fatalf("err = %#v, want *RateLimitError 503 with RetryAfter 1h", err)
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "DatabaseTimeout" {
			t.Errorf("errors.As(*APIError) = %v", apiErr)
		}
		if IsRateLimited(err) {
			t.Error("IsRateLimited is true for a 503; ErrRateLimited matches 429s")
		}
	})
}

// TestRetryAfterOverflowSaturates: a delay-seconds too large for a time.Duration must
// not wrap to a negative wait (which passed the cap check and retried at once): it is
// above any cap, so the call fails at once with a positive RetryAfter.
func TestRetryAfterOverflowSaturates(t *testing.T) {
	for _, code := range []int{429, 503} {
		t.Run(itoa(int64(code)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, mock := mockClient(t)
				var calls atomic.Int32
				mock.RegisterResponder("GET", usersURL, sequence(&calls,
					withHeader(httpmock.NewStringResponder(code, ``), "Retry-After", "99999999999999"), okUser))
				_, _, err := c.Users.Get(t.Context(), 1)
				var rl *RateLimitError
				if !errors.As(err, &rl) {
					t.Fatalf("err = %v, want *RateLimitError", err)
				}
				if calls.Load() != 1 {
					t.Errorf("calls = %d, want 1: a Retry-After above the cap is not retried", calls.Load())
				}
				if rl.RetryAfter < defaultRetryAfterCap {
					t.Errorf("RetryAfter = %s, want a positive wait above the cap", rl.RetryAfter)
				}
			})
		})
	}
}

// TestRetryAfterOnlyRFCForms: Retry-After values outside RFC 9110's two forms count as
// absent, so the request is retried after the ordinary backoff (0.5 to 1 s here), not
// after a wait read from the value nor failed for exceeding the cap.
func TestRetryAfterOnlyRFCForms(t *testing.T) {
	for _, v := range []string{"1e3", "+600", "600.5", "Inf", "-5", "0x258", "600s", "NaN"} {
		t.Run(v, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, mock := mockClient(t, WithRetryAfterCap(time.Minute), WithRetryWait(time.Second, time.Second))
				var calls atomic.Int32
				mock.RegisterResponder("GET", usersURL, sequence(&calls,
					withHeader(httpmock.NewStringResponder(429, ``), "Retry-After", v), okUser))
				start := time.Now()
				_, _, err := c.Users.Get(t.Context(), 1)
				waited := time.Since(start)
				if err != nil || calls.Load() != 2 {
					t.Fatalf("err = %v after %d calls, want success on the retry", err, calls.Load())
				}
				if waited < 500*time.Millisecond || waited > time.Second {
					t.Errorf("waited %s, want the 0.5-1s backoff", waited)
				}
			})
		})
	}
}

func TestRetriesExhaustedKeepTypedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t, WithMaxRetries(2))
		var calls atomic.Int32
		mock.RegisterResponder("GET", usersURL, sequence(&calls,
			withHeader(httpmock.NewStringResponder(429, `<html><head><title>Too Many Requests</title></head></html>`), "Retry-After", "1")))
		_, _, err := c.Users.Get(t.Context(), 1)
		var rl *RateLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("err = %v, want *RateLimitError after retries", err)
		}
		if calls.Load() != 3 {
			t.Errorf("calls = %d, want 3 (1 + 2 retries)", calls.Load())
		}
		if rl.Body != "Too Many Requests" || rl.RetryAfter != time.Second {
			t.Errorf("HTML 429 decoded as %+v", rl.APIError)
		}
	})
}

func TestPOSTNotRetriedOnUnknownOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t)
		var calls atomic.Int32
		mock.RegisterResponder("POST", "https://example.zendesk.com/api/v2/users",
			sequence(&calls, httpmock.NewStringResponder(500, `{"error":"InternalError"}`), httpmock.NewStringResponder(201, `{"user":{"id":1}}`)))
		_, _, err := c.Users.Create(t.Context(), &CreateUserRequest{Name: "A"})
		if err == nil || calls.Load() != 1 {
			t.Errorf("err = %v, calls = %d: a POST create must not be repeated after a 500", err, calls.Load())
		}
		// A 429 means Zendesk did not process it: retry.
		calls.Store(0)
		mock.RegisterResponder("POST", "https://example.zendesk.com/api/v2/users",
			sequence(&calls, withHeader(httpmock.NewStringResponder(429, ``), "Retry-After", "1"), httpmock.NewStringResponder(201, `{"user":{"id":1}}`)))
		if _, _, err := c.Users.Create(t.Context(), &CreateUserRequest{Name: "A"}); err != nil || calls.Load() != 2 {
			t.Errorf("after 429: err = %v, calls = %d, want success on the second call", err, calls.Load())
		}
		// create_or_update is idempotent: retried after a 500.
		calls.Store(0)
		mock.RegisterResponder("POST", "https://example.zendesk.com/api/v2/users/create_or_update",
			sequence(&calls, httpmock.NewStringResponder(500, ``), httpmock.NewStringResponder(200, `{"user":{"id":1}}`)))
		if _, _, _, err := c.Users.CreateOrUpdate(t.Context(), &CreateUserRequest{Name: "A", Email: "a@example.com"}); err != nil || calls.Load() != 2 {
			t.Errorf("create_or_update: err = %v, calls = %d", err, calls.Load())
		}
	})
}

func TestTruncatedBodyIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t)
		var calls atomic.Int32
		truncated := func(r *http.Request) (*http.Response, error) {
			resp := httpmock.NewStringResponse(200, `{"user":{"id":1,"na`)
			resp.Body = errAfter(`{"user":{"id":1,"na`)
			return resp, nil
		}
		mock.RegisterResponder("GET", usersURL, sequence(&calls, truncated, okUser))
		u, _, err := c.Users.Get(t.Context(), 1)
		if err != nil || u.ID != 1 || calls.Load() != 2 {
			t.Errorf("u = %+v, err = %v, calls = %d", u, err, calls.Load())
		}
	})
}

func TestMalformedJSONIsTypedError(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", usersURL, httpmock.NewStringResponder(200, `{"user":{"id":"not a number"}}`))
	_, _, err := c.Users.Get(t.Context(), 1)
	var de *DecodeError
	if !errors.As(err, &de) || de.StatusCode != 200 {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
	mock.RegisterResponder("GET", "https://example.zendesk.com/api/v2/users?page%5Bsize%5D=100", httpmock.NewStringResponder(200, `{"users":[{"id":1}],"meta":{"has_more":tru`))
	_, err = Collect(c.Users.List(t.Context(), nil))
	if !errors.As(err, &de) {
		t.Fatalf("list err = %v, want *DecodeError", err)
	}
}

// TestLimiterWaitIsNotCutByAttemptTimeout: the per-attempt timeout bounds the exchange
// with Zendesk, not the time spent queueing for the rate limiter. A caller with no
// deadline must not get "context deadline exceeded" because the bucket is slow.
// TestAttemptTimeoutStillBoundsTheExchange: a server that never answers is cut off
// after WithTimeout, and a GET is then retried.
func TestAttemptTimeoutStillBoundsTheExchange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t, WithTimeout(5*time.Second), WithMaxRetries(1), WithRetryWait(time.Second, time.Second))
		var calls atomic.Int32
		hang := func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		mock.RegisterResponder("GET", usersURL, sequence(&calls, hang, okUser))
		start := time.Now()
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got < 5*time.Second || got > 10*time.Second || calls.Load() != 2 {
			t.Errorf("took %s with %d calls, want the first attempt cut at 5s and one retry", got, calls.Load())
		}
	})
}

// TestLimiterRecoversWithoutAdvertisedLimit: when responses report only the remaining
// budget, a low-water slowdown must end once the budget refills, not become the new
// full rate; and a response without a remaining count must not shrink the burst to 1.
// dnsFailingClient returns a real http.Transport whose dialer fails every connection
// with dnsErr, as the resolver does, and counts the dials.
func dnsFailingClient(dials *atomic.Int32, dnsErr *net.DNSError) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: dnsErr}
		},
	}}
}

// TestHostNotFoundIsNotRetried: a host that does not resolve fails at once, for API
// calls and for the OAuth token fetch, with an error matching ErrHostNotFound that
// still carries the *net.DNSError; a DNS timeout is retried.
func TestHostNotFoundIsNotRetried(t *testing.T) {
	notFound := &net.DNSError{Err: "no such host", Name: "nowhere.zendesk.com", IsNotFound: true}
	timeout := &net.DNSError{Err: "i/o timeout", Name: "nowhere.zendesk.com", IsTimeout: true, IsTemporary: true}
	tests := []struct {
		name      string
		auth      Option
		dnsErr    *net.DNSError
		wantDials int32
		wantFound bool // errors.Is(err, ErrHostNotFound)
	}{
		{"api token", WithAPIToken(testEmail, testToken), notFound, 1, true},
		{"oauth token fetch", WithOAuthClientCredentials(testClientID, testClientSecret), notFound, 1, true},
		{"refresh token fetch", WithOAuthRefreshToken(testClientID, testClientSecret, "refresh-0"), notFound, 1, true},
		{"api token, dns timeout", WithAPIToken(testEmail, testToken), timeout, 3, false},
		{"oauth, dns timeout", WithOAuthClientCredentials(testClientID, testClientSecret), timeout, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var dials atomic.Int32
				c, err := NewClient("nowhere", tt.auth, WithHTTPClient(dnsFailingClient(&dials, tt.dnsErr)), WithMaxRetries(2))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, _, err = c.Users.Me(t.Context())
				if dials.Load() != tt.wantDials {
					t.Errorf("dials = %d, want %d", dials.Load(), tt.wantDials)
				}
				if got := errors.Is(err, ErrHostNotFound); got != tt.wantFound {
					t.Errorf("errors.Is(%v, ErrHostNotFound) = %v, want %v", err, got, tt.wantFound)
				}
				if !tt.wantFound {
					return
				}
				if waited := time.Since(start); waited > 0 {
					t.Errorf("waited %s before failing", waited)
				}
				var dnsErr *net.DNSError
				if tt.name == "api token" && !errors.As(err, &dnsErr) {
					t.Errorf("err = %v, want the *net.DNSError in the chain", err)
				}
				if msg := err.Error(); !strings.Contains(msg, "host nowhere.zendesk.com not found") || strings.Contains(msg, testClientSecret) {
					t.Errorf("err = %q, want it to say the host was not found (and no secret)", msg)
				}
			})
		})
	}
}

// FuzzParseRetryAfter: whatever the header says, a wait is never negative, and a value
// is accepted only in one of RFC 9110's two forms.
