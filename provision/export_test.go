package provision

import (
	"context"
	"time"
)

// ExpireDue runs, in the test's goroutine, what an expiry job does at the
// TimeBound's clock: it claims the grants due and revokes them, as attempt
// of maxAttempts of one job.
func ExpireDue(ctx context.Context, tb *TimeBound, attempt, maxAttempts int) error {
	return tb.expire(ctx, -2, windowOf(tb.now()), attempt, maxAttempts)
}

// SetLimiterClock gives l a clock (for SQLite: PostgreSQL uses the
// server's) and a sleep, for tests that do not wait for real time.
func SetLimiterClock(l *SharedLimiter, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	if now != nil {
		l.now = now
	}
	if sleep != nil {
		l.sleep = sleep
	}
}

// TakeToken tries once to take a token from l's bucket. It reports whether
// it took one, the time of the attempt by the database's clock, and when it
// took none how long until one may be there.
func TakeToken(ctx context.Context, l *SharedLimiter) (ok bool, now time.Time, wait time.Duration, err error) {
	t, err := l.take(ctx)
	return t.ok, time.UnixMicro(t.now), t.wait, err
}

// LimiterBurst is the size of l's bucket.
func LimiterBurst(l *SharedLimiter) int { return l.burst }
