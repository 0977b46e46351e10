package zendesk

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
)

// The tests of this file run in testing/synctest bubbles, against a mock Zendesk
// that records when each update of a user reached it: the pacing's waits take no
// real time, and what they measure does not depend on the machine.

// updateLog is a mock Zendesk's record of the updates of users it received.
type updateLog struct {
	mu       sync.Mutex
	received map[int64][]time.Time
	other    int // requests other than PUT /users/{id}
}

// updateServer returns a client (with opts) whose requests reach a mock Zendesk;
// before it takes each update, the mock waits latency(user, n), n counting the user's
// updates from 0, so that an update can reach it late.
func updateServer(t *testing.T, latency func(user int64, n int) time.Duration, opts ...Option) (*Client, *updateLog) {
	t.Helper()
	log := &updateLog{received: map[int64][]time.Time{}}
	mock := httpmock.NewMockTransport()
	mock.RegisterRegexpResponder(http.MethodPut, userPathRE, func(r *http.Request) (*http.Response, error) {
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/api/v2/users/"), 10, 64)
		log.mu.Lock()
		n := len(log.received[id])
		log.mu.Unlock()
		if latency != nil {
			time.Sleep(latency(id, n))
		}
		log.mu.Lock()
		log.received[id] = append(log.received[id], time.Now())
		log.mu.Unlock()
		return httpmock.NewStringResponse(200, `{"user":{"id":`+strconv.FormatInt(id, 10)+`,"name":"U"}}`), nil
	})
	mock.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
		log.mu.Lock()
		log.other++
		log.mu.Unlock()
		return httpmock.NewStringResponse(200, `{"user":{"id":1,"name":"U"},"job_status":{"id":"j","status":"queued"}}`), nil
	})
	base := []Option{WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken),
		WithRateLimit(60000), WithRetryWait(time.Millisecond, time.Millisecond)}
	c, err := NewClient("example", append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, log
}

var userPathRE = regexp.MustCompile(`^https://example\.zendesk\.com/api/v2/users/\d+$`)

// crowded returns the first time at which more than limit of the times fall in a
// window of a minute (a half-open (t-1m, t]), or the zero time.
func crowded(times []time.Time, limit int) time.Time {
	for i, t := range times {
		n := 0
		for _, u := range times[:i+1] {
			if t.Sub(u) < time.Minute {
				n++
			}
		}
		if n > limit {
			return t
		}
	}
	return time.Time{}
}

func update(ctx context.Context, c *Client, id int64) error {
	_, _, err := c.Users.Update(ctx, id, &UpdateUserRequest{Tags: []string{"x"}})
	return err
}

// TestUserUpdatePacingOneUser: ten updates of one user in a row send five at once
// and the next five a minute later, when the first five have left Zendesk's window;
// no minute ever sees more than five.
func TestUserUpdatePacingOneUser(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, log := updateServer(t, nil)
		start := time.Now()
		for i := range 10 {
			if err := update(t.Context(), c, 7); err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("ten updates took %v, want exactly one minute", d)
		}
		got := log.received[7]
		if len(got) != 10 || !got[4].Equal(start) || !got[5].Equal(start.Add(time.Minute)) {
			t.Errorf("received at %v", got)
		}
		if at := crowded(got, 5); !at.IsZero() {
			t.Errorf("more than five updates in the minute before %v", at.Sub(start))
		}
	})
}

// TestUserUpdatePacingOtherUsersDoNotWait: the pacing is per user: five updates each
// of ten users, interleaved, all go at once; reads of a paced user and bulk updates
// do not wait either.
func TestUserUpdatePacingOtherUsersDoNotWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, log := updateServer(t, nil)
		start := time.Now()
		for range 5 {
			for id := int64(1); id <= 10; id++ {
				if err := update(t.Context(), c, id); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Users.UpdateMany(t.Context(), []UserUpdate{{ID: 1, UpdateUserRequest: UpdateUserRequest{Name: Ptr("A")}}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Users.UpdateManyByIDs(t.Context(), []int64{1, 2}, &UpdateUserRequest{Suspended: Ptr(true)}); err != nil {
			t.Fatal(err)
		}
		// The account's bucket (60,000 a minute, bursts of 25) spaces the 53 requests
		// by a millisecond; no request waits for its user.
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("took %v, want no wait beyond the account's pacing", d)
		}
		if log.other != 3 {
			t.Errorf("%d other requests, want 3", log.other)
		}
	})
}

// TestUserUpdatePacingCountsFromAnswers: an update counts from its answer, not from
// when it was sent: when the first update takes 2s to reach Zendesk, the sixth is
// sent a minute after the first one's answer, so that Zendesk, counting from when
// each arrived, never sees six in a minute.
func TestUserUpdatePacingCountsFromAnswers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		slowFirst := func(_ int64, n int) time.Duration {
			if n == 0 {
				return 2 * time.Second
			}
			return 0
		}
		c, log := updateServer(t, slowFirst)
		start := time.Now()
		for range 6 {
			if err := update(t.Context(), c, 7); err != nil {
				t.Fatal(err)
			}
		}
		got := log.received[7]
		if at := crowded(got, 5); !at.IsZero() {
			t.Errorf("more than five updates in the minute before %v: %v", at.Sub(start), got)
		}
		if d := got[5].Sub(start); d != 62*time.Second {
			t.Errorf("sixth update sent after %v, want 62s", d)
		}
	})
}

// TestUserUpdatePacingConcurrent: twenty concurrent updates of one user go five a
// minute, in four batches; twenty concurrent updates of twenty users go at once.
func TestUserUpdatePacingConcurrent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, log := updateServer(t, func(int64, int) time.Duration { return 100 * time.Millisecond })
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if err := update(t.Context(), c, 7); err != nil {
					t.Errorf("update of one user: %v", err)
				}
			})
			wg.Go(func() {
				if err := update(t.Context(), c, int64(100+i)); err != nil {
					t.Errorf("update of user %d: %v", 100+i, err)
				}
			})
		}
		wg.Wait()
		got := log.received[7]
		if len(got) != 20 {
			t.Fatalf("%d updates received", len(got))
		}
		if at := crowded(got, 5); !at.IsZero() {
			t.Errorf("more than five updates in the minute before %v", at.Sub(start))
		}
		if d := time.Since(start); d < 3*time.Minute || d > 3*time.Minute+time.Second {
			t.Errorf("twenty updates of one user took %v, want three minutes and their latency", d)
		}
		for i := range 20 {
			if d := log.received[int64(100+i)][0].Sub(start); d != 100*time.Millisecond {
				t.Errorf("user %d updated after %v, want no wait", 100+i, d)
			}
		}
	})
}

// TestUserUpdatePacingRetriesAndCancel: a retry is an update like any other, and a
// call that gives up while waiting takes no place in the window.
func TestUserUpdatePacingRetriesAndCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var attempts int
		mock := httpmock.NewMockTransport()
		mock.RegisterRegexpResponder(http.MethodPut, userPathRE, func(*http.Request) (*http.Response, error) {
			attempts++
			if attempts == 1 {
				return httpmock.NewStringResponse(500, `{"error":"InternalError"}`), nil
			}
			return httpmock.NewStringResponse(200, `{"user":{"id":7,"name":"U"}}`), nil
		})
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken),
			WithRateLimit(60000), WithRetryWait(time.Millisecond, time.Millisecond), WithUserUpdateLimit(2))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := update(t.Context(), c, 7); err != nil { // a 500, then a success: two updates
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err = update(ctx, c, 7)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 10*time.Second {
			t.Fatalf("update past the limit with a 10s deadline: %v after %v, want the deadline", err, time.Since(start))
		}
		if attempts != 2 {
			t.Errorf("%d attempts, want 2 (the abandoned update was not sent)", attempts)
		}
		if err := update(t.Context(), c, 7); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Minute || d > time.Minute+10*time.Millisecond {
			t.Errorf("third update done after %v, want a minute after the first two", d)
		}
	})
}

// TestUserUpdatePacingOff: WithUserUpdateLimit(0) sends every update at once;
// negative limits are refused.
func TestUserUpdatePacingOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, log := updateServer(t, nil, WithUserUpdateLimit(0))
		start := time.Now()
		for range 10 {
			if err := update(t.Context(), c, 7); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(start); d != 0 || len(log.received[7]) != 10 {
			t.Errorf("%d updates took %v, want 10 at once", len(log.received[7]), d)
		}
	})
	if _, err := NewClient("example", WithAPIToken(testEmail, testToken), WithUserUpdateLimit(-1)); err == nil ||
		!strings.Contains(err.Error(), "WithUserUpdateLimit: -1") {
		t.Errorf("WithUserUpdateLimit(-1): %v", err)
	}
}

// TestUserPacerForgetsIdleUsers: a long-lived client does not keep a record of every
// user it once updated.
func TestUserPacerForgetsIdleUsers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newUserPacer(5, time.Now)
		for id := int64(1); id <= 100; id++ {
			release, err := p.acquire(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			release(true)
		}
		time.Sleep(time.Minute)
		release, err := p.acquire(t.Context(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		release(false)
		if n := len(p.users); n > 1 {
			t.Errorf("%d users remembered a minute after their updates", n)
		}
	})
}
