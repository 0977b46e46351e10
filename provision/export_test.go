package provision

import "context"

// ExpireDue runs, in the test's goroutine, what an expiry job does at the
// TimeBound's clock: it claims the grants due and revokes them, as attempt
// of maxAttempts of one job.
func ExpireDue(ctx context.Context, tb *TimeBound, attempt, maxAttempts int) error {
	return tb.expire(ctx, -2, windowOf(tb.now()), attempt, maxAttempts)
}
