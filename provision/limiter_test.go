package provision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// limiterStore opens a Store on dsn, closed when t ends.
func limiterStore(t testing.TB, dsn string) *provision.Store {
	t.Helper()
	s, err := provision.OpenStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newLimiter(t testing.TB, s *provision.Store, account string, rpm int) *provision.SharedLimiter {
	t.Helper()
	l, err := s.Limiter(account, rpm)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// take takes a token from l, failing t on a database error.
func take(t *testing.T, l *provision.SharedLimiter) (bool, time.Duration) {
	t.Helper()
	ok, _, wait, err := provision.TakeToken(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	return ok, wait
}

// TestSharedLimiterBurst checks the size of the bucket per rate: the
// client's own (zendesk.WithRateLimit).
func TestSharedLimiterBurst(t *testing.T) {
	t.Parallel()
	s := limiterStore(t, sqldbtest.Memory)
	for rpm, want := range map[int]int{1: 1, 20: 1, 39: 1, 40: 2, 200: 10, 300: 15, 500: 25, 700: 25, 1_000_000_000: 25} {
		if got := provision.LimiterBurst(newLimiter(t, s, "acme", rpm)); got != want {
			t.Errorf("burst at %d requests a minute = %d, want %d", rpm, got, want)
		}
	}
}

// TestSharedLimiterBucket takes tokens on SQLite at a clock that moves only
// when the test moves it: the burst at once, then one token per interval;
// a full bucket after a long pause, never more; two limiters of one
// account share it, another account has its own.
func TestSharedLimiterBucket(t *testing.T) {
	t.Parallel()
	for _, tg := range sqldbtest.Targets() {
		if tg.Name == "postgres" {
			continue // the server's clock: TestSharedLimiterTokensOverTime
		}
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			s := limiterStore(t, tg.NewDSN(t))
			clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
			const rpm, burst, interval = 300, 15, 200 * time.Millisecond
			a, b, other := newLimiter(t, s, "acme", rpm), newLimiter(t, s, "acme", rpm), newLimiter(t, s, "other", rpm)
			for _, l := range []*provision.SharedLimiter{a, b, other} {
				provision.SetLimiterClock(l, clock.Now, nil)
			}

			// The burst, taken by two limiters in turn.
			for i := range burst {
				l := a
				if i%2 == 1 {
					l = b
				}
				if ok, wait := take(t, l); !ok {
					t.Fatalf("take %d of a fresh bucket of %d: none, wait %v", i+1, burst, wait)
				}
			}
			for _, l := range []*provision.SharedLimiter{a, b} {
				if ok, wait := take(t, l); ok || wait != interval {
					t.Fatalf("take after the burst = %v, wait %v; want none, wait %v", ok, wait, interval)
				}
			}
			// Another account's bucket is full.
			for i := range burst {
				if ok, _ := take(t, other); !ok {
					t.Fatalf("take %d from another account's bucket: none", i+1)
				}
			}

			// One token per interval, to the microsecond.
			for i := range 5 {
				clock.Add(interval - time.Microsecond)
				if ok, wait := take(t, a); ok || wait != time.Microsecond {
					t.Fatalf("interval %d, a microsecond early: took %v, wait %v; want none, wait 1µs", i+1, ok, wait)
				}
				clock.Add(time.Microsecond)
				if ok, wait := take(t, b); !ok {
					t.Fatalf("interval %d: no token, wait %v", i+1, wait)
				}
				if ok, _ := take(t, a); ok {
					t.Fatalf("interval %d: a second token", i+1)
				}
			}

			// After ten idle minutes: a full bucket, not more.
			clock.Add(10 * time.Minute)
			n := 0
			for {
				ok, wait := take(t, a)
				if !ok {
					if wait != interval {
						t.Errorf("wait after the burst %v, want %v", wait, interval)
					}
					break
				}
				n++
				if n > 1000 {
					t.Fatal("the bucket never empties")
				}
			}
			if n != burst {
				t.Errorf("took %d tokens after ten idle minutes, want the burst, %d", n, burst)
			}

			// A clock stepped back by 30 s holds takers for those 30 s (and
			// the interval); one stepped back further lets one through.
			clock.Add(-30 * time.Second)
			if ok, wait := take(t, a); ok || wait != 30*time.Second+interval {
				t.Errorf("after a 30 s step back: took %v, wait %v; want none, wait %v", ok, wait, 30*time.Second+interval)
			}
			clock.Add(-time.Hour)
			if ok, wait := take(t, a); !ok {
				t.Errorf("after an hour's step back: no token, wait %v", wait)
			}
			if ok, wait := take(t, a); ok || wait != interval {
				t.Errorf("after an hour's step back, the second take: took %v, wait %v; want none, wait %v", ok, wait, interval)
			}
		})
	}
}

// TestSharedLimiterWait calls Wait with a sleep that moves the clock: the
// burst returns without sleeping, then each Wait sleeps one interval.
func TestSharedLimiterWait(t *testing.T) {
	t.Parallel()
	s := limiterStore(t, sqldbtest.SQLiteFileDSN(t))
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	var slept []time.Duration
	l := newLimiter(t, s, "acme", 120) // burst 6, a token each 500 ms
	provision.SetLimiterClock(l, clock.Now, func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clock.Add(d)
		return nil
	})
	start := clock.Now()
	for i := range 6 + 10 {
		if err := l.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if i < 6 && len(slept) != 0 {
			t.Fatalf("Wait %d of the burst slept %v", i+1, slept)
		}
	}
	if len(slept) != 10 {
		t.Errorf("slept %d times, want 10: %v", len(slept), slept)
	}
	for _, d := range slept {
		if d != 500*time.Millisecond {
			t.Errorf("slept %v, want 500ms", d)
		}
	}
	if got := clock.Now().Sub(start); got != 5*time.Second {
		t.Errorf("16 Waits took %v, want 5s", got)
	}
}

// TestSharedLimiterTokensOverTime takes tokens as fast as they come, on the
// database's clock (the server's, on PostgreSQL), and counts them against
// the times the database reports: never more than the burst and one per
// interval since the first take.
func TestSharedLimiterTokensOverTime(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		s := limiterStore(t, dsn)
		const rpm, burst, interval = 600, 25, 100 * time.Millisecond
		l := newLimiter(t, s, "acme", rpm)
		var first, last time.Time
		took, attempts := 0, 0
		for {
			ok, now, wait, err := provision.TakeToken(t.Context(), l)
			if err != nil {
				t.Fatal(err)
			}
			attempts++
			if first.IsZero() {
				first = now
			}
			if now.Sub(first) > 1500*time.Millisecond {
				break
			}
			if ok {
				took++
				last = now
				continue
			}
			time.Sleep(wait)
		}
		allowed := burst + int(last.Sub(first)/interval)
		t.Logf("%d tokens in %v of the database's time (%d attempts); the bucket allows %d", took, last.Sub(first), attempts, allowed)
		if took > allowed {
			t.Errorf("took %d tokens in %v, more than the burst and one per %v allow: %d", took, last.Sub(first), interval, allowed)
		}
		if took < allowed-2 {
			t.Errorf("took %d tokens in %v, fewer than the %d the bucket allows", took, last.Sub(first), allowed)
		}
	})
}

// TestSharedLimiterRefuses checks bad input.
func TestSharedLimiterRefuses(t *testing.T) {
	t.Parallel()
	s := limiterStore(t, sqldbtest.Memory)
	for _, tc := range []struct {
		account string
		rpm     int
		want    string
	}{
		{"", 300, "account is empty"},
		{"acme", 0, "requestsPerMinute 0 is not positive"},
		{"acme", -1, "requestsPerMinute -1 is not positive"},
		{"ac\x00me", 300, "NUL"},
		{"ac\xffme", 300, "UTF-8"},
	} {
		l, err := s.Limiter(tc.account, tc.rpm)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Limiter(%q, %d) = %v, %v; want an error saying %q", tc.account, tc.rpm, l, err, tc.want)
		}
	}
	var nilStore *provision.Store
	if _, err := nilStore.Limiter("acme", 300); err == nil {
		t.Error("Limiter of a nil store: no error")
	}
}

// TestSharedLimiterClosedStore checks that Wait fails, saying why, once
// the store is closed.
func TestSharedLimiterClosedStore(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		s, err := provision.OpenStore(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		l := newLimiter(t, s, "acme", 300)
		if err := l.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		err = l.Wait(t.Context())
		if err == nil || !strings.Contains(err.Error(), `shared rate limit "acme"`) || !strings.Contains(err.Error(), "closed") {
			t.Errorf("Wait on a closed store = %v, want an error naming the limiter and the closed database", err)
		}
	})
}

// TestSharedLimiterWaitEnds checks that Wait on an empty bucket returns
// promptly when its context is cancelled, with ctx.Err(); and at once,
// with context.DeadlineExceeded, when the next token is due after the
// deadline.
func TestSharedLimiterWaitEnds(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		s := limiterStore(t, dsn)
		l := newLimiter(t, s, "acme", 1) // one token, then one a minute
		if err := l.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- l.Wait(ctx) }()
		time.Sleep(100 * time.Millisecond)
		cancelled := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("Wait cancelled = %v, want context.Canceled", err)
			}
			if d := time.Since(cancelled); d > time.Second {
				t.Errorf("Wait returned %v after its context was cancelled", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not return 10 s after its context was cancelled")
		}

		ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		err := l.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with a deadline before the next token = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Wait with a deadline before the next token returned after %v, want at once", d)
		}

		ctx, cancel = context.WithCancel(t.Context())
		cancel()
		if err := l.Wait(ctx); err != context.Canceled {
			t.Errorf("Wait with a cancelled context = %v, want context.Canceled", err)
		}
	})
}

// The environment of TestSharedLimiterChild.
const (
	envLimDSN   = "ZGOV_TEST_LIM_DSN" // set: run as a client process
	envLimURL   = "ZGOV_TEST_LIM_URL"
	envLimSub   = "ZGOV_TEST_LIM_SUBDOMAIN"
	envLimEmail = "ZGOV_TEST_LIM_EMAIL"
	envLimToken = "ZGOV_TEST_LIM_TOKEN"
	envLimKey   = "ZGOV_TEST_LIM_KEY"   // the limiter's account key
	envLimStart = "ZGOV_TEST_LIM_START" // Unix nanoseconds: when to start sending
	envLimEnd   = "ZGOV_TEST_LIM_END"   // and to stop
)

// The account's budget in TestSharedLimiterProcesses: 5 requests a second,
// a burst of 15; and how many processes spend it, for how long.
const (
	limRPM       = 300
	limBurst     = 15
	limProcesses = 4
	limRun       = 5 * time.Second
)

// TestSharedLimiterChild is a client process of TestSharedLimiterProcesses:
// from the start time to the end time it sends GET /users/me to the
// parent's simulator as fast as its limiter allows, without retries, and
// prints how many it sent and how many were answered 429. Run directly, it
// does nothing.
func TestSharedLimiterChild(t *testing.T) {
	dsn := os.Getenv(envLimDSN)
	if dsn == "" {
		t.Skip("a client process of TestSharedLimiterProcesses")
	}
	lim := newLimiter(t, limiterStore(t, dsn), os.Getenv(envLimKey), limRPM)
	c, err := zendesk.NewClient(os.Getenv(envLimSub), zendesk.WithBaseURL(os.Getenv(envLimURL)),
		zendesk.WithAPIToken(os.Getenv(envLimEmail), os.Getenv(envLimToken)),
		zendesk.WithLimiter(lim), zendesk.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	start, err1 := strconv.ParseInt(os.Getenv(envLimStart), 10, 64)
	end, err2 := strconv.ParseInt(os.Getenv(envLimEnd), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(0, start)))
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, end))
	defer cancel()
	sent, throttled := 0, 0
	for {
		_, _, err := c.Users.Me(ctx)
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			break // the next token is due after the end
		}
		sent++
		var rle *zendesk.RateLimitError
		switch {
		case errors.As(err, &rle):
			throttled++
		case err != nil:
			t.Fatal(err)
		}
	}
	fmt.Printf("sent %d throttled %d\n", sent, throttled)
}

// TestSharedLimiterProcesses runs 4 client processes on one simulated
// account with a limit of 300 requests a minute, each pacing itself with a
// SharedLimiter of 300 a minute on one database, sending as fast as it
// allows for 5 s: together they stay within the limit (no 429, no more
// requests than the burst and 5 a second), where 4 processes with a budget
// of 300 a minute each (a limiter per process) get 429s.
//
// The simulator's bucket holds a whole minute (300 requests) and starts
// full, so the test first spends it, then lets it refill for longer than
// the limiter's burst takes to send (3 s) before the processes start.
func TestSharedLimiterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes for 10 s")
	}
	for _, tg := range sqldbtest.Targets() {
		if !tg.Shared {
			continue
		}
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			for _, shared := range []bool{true, false} {
				name := "shared"
				if !shared {
					name = "unshared"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					sent, throttled, span := runLimitedProcesses(t, tg.NewDSN(t), shared)
					allowed := limBurst + int(span.Seconds()*limRPM/60)
					t.Logf("%s budget, %d processes: %d requests in %v (the burst and 5 a second allow %d, +1 for when requests arrive), %d answered 429",
						name, limProcesses, sent, span.Round(time.Millisecond), allowed, throttled)
					if !shared {
						if throttled == 0 {
							t.Errorf("%d processes with a budget each of the account's limit got no 429: the test cannot tell sharing from not", limProcesses)
						}
						return
					}
					if throttled != 0 {
						t.Errorf("%d of %d requests were answered 429", throttled, sent)
					}
					// +1: the simulator logs when requests arrive, a little
					// later than their tokens were taken, and not all equally.
					if sent > allowed+1 {
						t.Errorf("%d requests in %v, more than the burst and %d a second allow: %d", sent, span, limRPM/60, allowed)
					}
					if sent < allowed/2 {
						t.Errorf("%d requests in %v, far fewer than the %d the limit allows", sent, span, allowed)
					}
				})
			}
		})
	}
}

// runLimitedProcesses spends a new simulator's full bucket, then runs
// limProcesses client processes on the database dsn, sharing one limiter's
// bucket or each with its own, and returns what the simulator logged: the
// requests, those answered 429, and the time from the first to the last.
func runLimitedProcesses(t *testing.T, dsn string, shared bool) (sent, throttled int, span time.Duration) {
	t.Helper()
	limiterStore(t, dsn) // migrated before the processes open it
	srv, err := zendesktest.NewServer(zendesktest.WithRateLimit(limRPM), zendesktest.WithRequestLog(100_000))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cr := srv.Credentials()

	// Spend the simulator's bucket, unpaced: the client's own limiter
	// would slow down as the budget the simulator reports runs low.
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithLimiter(unpaced{}), zendesk.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, _, err := c.Users.Me(t.Context())
		var rle *zendesk.RateLimitError
		if errors.As(err, &rle) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i > 10*limRPM {
			t.Fatalf("%d requests and no 429", i)
		}
	}
	srv.ResetStats()
	// 3.5 s of refill: 17 requests, more than the limiter's burst.
	start := time.Now().Add(3500 * time.Millisecond)
	end := start.Add(limRun)

	var outs []*bytes.Buffer
	var cmds []*exec.Cmd
	for i := range limProcesses {
		key := cr.Subdomain
		if !shared {
			key = fmt.Sprintf("%s/%d", cr.Subdomain, i)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestSharedLimiterChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), envLimDSN+"="+dsn, envLimURL+"="+srv.URL, envLimSub+"="+cr.Subdomain,
			envLimEmail+"="+cr.AdminEmail, envLimToken+"="+cr.APIToken, envLimKey+"="+key,
			envLimStart+"="+strconv.FormatInt(start.UnixNano(), 10), envLimEnd+"="+strconv.FormatInt(end.UnixNano(), 10))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("client process %d: %v\n%s", i, err, outs[i])
		}
		t.Logf("client process %d: %s", i, strings.TrimSpace(grepLine(outs[i].String(), "sent ")))
	}

	log := srv.RequestLog()
	for _, r := range log {
		if r.Status == 429 {
			throttled++
		}
	}
	if st := srv.Stats(); st.Total != len(log) || st.Throttled != throttled {
		t.Fatalf("the simulator counted %d requests and %d 429s, its log holds %d and %d", st.Total, st.Throttled, len(log), throttled)
	}
	if len(log) > 0 {
		span = log[len(log)-1].Time.Sub(log[0].Time)
	}
	return len(log), throttled, span
}

// unpaced is a zendesk.Limiter that never waits.
type unpaced struct{}

func (unpaced) Wait(context.Context) error { return nil }

// grepLine returns the first line of s that begins with prefix.
func grepLine(s, prefix string) string {
	for line := range strings.Lines(s) {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// BenchmarkSharedLimiterWait measures one take of a token from a shared
// bucket whose rate never makes Wait wait: one atomic statement on the
// database.
func BenchmarkSharedLimiterWait(b *testing.B) {
	for _, tg := range sqldbtest.Targets() {
		b.Run(tg.Name, func(b *testing.B) {
			s := limiterStore(b, tg.NewDSN(b))
			l := newLimiter(b, s, "acme", 1_000_000_000)
			ctx := b.Context()
			for b.Loop() {
				if err := l.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
