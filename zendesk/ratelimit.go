package zendesk

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces requests to Zendesk. Wait blocks until one request may be sent or ctx
// ends. Implementations must be safe for concurrent use. Plug in a shared limiter (one
// budget across processes) with WithLimiter; if it also implements RateLimitObserver it
// is told what every response said about the account's budget.
type Limiter interface {
	Wait(ctx context.Context) error
}

// RateLimitObserver is an optional interface of a Limiter: Observe is called with the
// budget Zendesk reported on each response.
type RateLimitObserver interface {
	Observe(RateLimit)
}

// RateLimit is what the client knows of the account's request budget: the last values
// Zendesk reported and what the client is pacing at.
type RateLimit struct {
	// Limit is the requests per minute Zendesk advertised (X-Rate-Limit or
	// ratelimit-limit); 0 until a response has carried it.
	Limit int
	// Remaining is the requests left in the current window, -1 if never reported.
	Remaining int
	// Reset is how long until the window resets, as last reported.
	Reset time.Duration
	// ObservedAt is when these values were read.
	ObservedAt time.Time
	// PacingPerMinute is the rate the client currently sends at.
	PacingPerMinute float64
	// Throttled counts the 429 responses the client has received.
	Throttled int64
}

// Default budgets. Zendesk's lowest Suite plan allows 200 requests a minute; a client
// that has not been told its plan starts there and re-sizes from the first response.
const (
	defaultRequestsPerMinute     = 200
	incrementalRequestsPerMinute = 10
	// lowWater is the fraction of the limit below which the client spreads what remains
	// over the time to the reset instead of sending at full pace.
	lowWater = 0.1
)

// adaptiveLimiter is a token bucket sized from the plan and re-sized from the rate-limit
// headers of each response. When the remaining budget runs low it slows to what is left
// over the reset window, so a client sharing the account with others backs off before a
// 429 rather than after.
type adaptiveLimiter struct {
	lim *rate.Limiter

	mu         sync.Mutex
	configured int // requests per minute the caller asked for; 0 means "use what Zendesk says"
	fallback   int // the full rate while neither configured nor advertised
	advertised int
	state      RateLimit
}

func newAdaptiveLimiter(configured int, fallback int) *adaptiveLimiter {
	rpm := configured
	if rpm == 0 {
		rpm = fallback
	}
	l := &adaptiveLimiter{configured: configured, fallback: fallback}
	l.lim = rate.NewLimiter(perSecond(float64(rpm)), burstFor(rpm))
	l.state = RateLimit{Remaining: -1, PacingPerMinute: float64(rpm)}
	return l
}

// burstFor keeps bursts small: a bucket that could send a whole minute at once would
// overrun a server that counts fixed windows.
func burstFor(rpm int) int {
	b := rpm / 20
	return max(1, min(b, 25))
}

func perSecond(rpm float64) rate.Limit { return rate.Limit(rpm / 60) }

func (l *adaptiveLimiter) Wait(ctx context.Context) error {
	if err := l.lim.Wait(ctx); err != nil {
		// rate.Limiter fails early, with its own error, when ctx's deadline is before the
		// next token; report it as the deadline the caller set.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if _, ok := ctx.Deadline(); ok {
			return fmt.Errorf("%w: rate limit wait would pass the deadline", context.DeadlineExceeded)
		}
		return err
	}
	return nil
}

// Observe re-sizes the bucket from what a response reported.
func (l *adaptiveLimiter) Observe(rl RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rl.Limit > 0 {
		l.advertised = rl.Limit
	}
	// A response that reports only what remains keeps the last advertised limit.
	l.state.Limit, l.state.Remaining, l.state.Reset, l.state.ObservedAt = l.advertised, rl.Remaining, rl.Reset, rl.ObservedAt
	full := l.configured
	if full == 0 || (l.advertised > 0 && l.advertised < full) {
		full = l.advertised
	}
	if full == 0 {
		// Not the current pace: that may be a low-water slowdown, which would then never end.
		full = l.fallback
	}
	pace := float64(full)
	if rl.Remaining >= 0 && float64(rl.Remaining) < lowWater*float64(full) {
		// Spread what is left over the time until the window refills.
		reset := rl.Reset
		if reset <= 0 {
			reset = time.Minute
		}
		pace = min(pace, float64(max(rl.Remaining, 1))/reset.Minutes())
	}
	if pace != l.state.PacingPerMinute || l.lim.Burst() != burstFor(full) {
		l.state.PacingPerMinute = pace
		l.lim.SetLimit(perSecond(pace))
		burst := burstFor(full)
		if rl.Remaining >= 0 {
			burst = min(burst, max(1, rl.Remaining))
		}
		l.lim.SetBurst(burst)
	}
}

func (l *adaptiveLimiter) snapshot() RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// parseRateLimit reads the account budget headers of a response. ok is false when the
// response carried none.
func parseRateLimit(h http.Header, now time.Time) (rl RateLimit, ok bool) {
	rl = RateLimit{Remaining: -1, ObservedAt: now}
	if v, err := strconv.Atoi(firstNonEmpty(h.Get("X-Rate-Limit"), h.Get("Ratelimit-Limit"))); err == nil && v > 0 {
		rl.Limit, ok = v, true
	}
	if v, err := strconv.Atoi(firstNonEmpty(h.Get("X-Rate-Limit-Remaining"), h.Get("Ratelimit-Remaining"))); err == nil && v >= 0 {
		rl.Remaining, ok = v, true
	}
	if v, err := strconv.Atoi(h.Get("Ratelimit-Reset")); err == nil && v >= 0 {
		rl.Reset = time.Duration(v) * time.Second
	}
	return rl, ok
}

// maxDuration is the longest time.Duration; Retry-After delays beyond it saturate to it.
const maxDuration = time.Duration(math.MaxInt64)

// parseRetryAfter reads Retry-After in the two forms RFC 9110 (section 10.2.3) allows:
// delay-seconds, one or more ASCII digits, or an HTTP-date (the three date formats
// recipients must accept). Anything else, such as a sign ("+5", "-5"), a fraction, an
// exponent ("1e12") or "Inf", is not a Retry-After: ok is false and the caller backs off
// as if none was sent. Whitespace around the value is not part of a field value and is
// ignored. A delay too large for a time.Duration saturates at the largest one instead
// of wrapping to a negative wait; a date in the past is a wait of zero.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(maxDuration/time.Second) {
			// Only a range error is possible for a string of digits.
			return maxDuration, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// limiterTransport waits on the right bucket before each attempt and reports what each
// response says of the budget. It sits inside the retry layer, so every retry is paced.
type limiterTransport struct {
	next        http.RoundTripper
	account     Limiter
	incremental Limiter
	users       *userPacer // nil when updates of a user are not paced
	throttled   *atomic.Int64
	now         func() time.Time
	logger      *slog.Logger
}

// minLoggedWait is the shortest limiter wait that is logged: a bucket with a token to
// spare answers in microseconds, which is not a wait.
const minLoggedWait = time.Millisecond

func (t *limiterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	lim, bucket := t.account, "account"
	if isIncremental(req.URL.Path) {
		lim, bucket = t.incremental, "incremental export"
	}
	fail := func(err error) (*http.Response, error) {
		err = fmt.Errorf("wait for rate limit: %w", err)
		if m := metaOf(req.Context()); m != nil {
			m.lastErr, m.lastStatus, m.lastEnd = err, 0, t.now()
		}
		return nil, err
	}
	// The user's updates first: its wait can be a minute, and a token of the account's
	// bucket taken before it would be spent a minute late.
	if m := metaOf(req.Context()); t.users != nil && m != nil && m.updatedUser != 0 {
		start := t.now()
		release, err := t.users.acquire(req.Context(), m.updatedUser)
		if err != nil {
			return fail(fmt.Errorf("updates of user %d: %w", m.updatedUser, err))
		}
		t.logWait(req, "user updates", t.now().Sub(start))
		start = t.now()
		if err := lim.Wait(req.Context()); err != nil {
			release(false)
			return fail(err)
		}
		t.logWait(req, bucket, t.now().Sub(start))
		// From here the update may reach Zendesk, whatever happens: it counts from when
		// its answer (or failure) arrives.
		defer release(true)
		return t.send(req)
	}
	start := t.now()
	if err := lim.Wait(req.Context()); err != nil {
		return fail(err)
	}
	t.logWait(req, bucket, t.now().Sub(start))
	return t.send(req)
}

// logWait logs a wait before an attempt, when there was one.
func (t *limiterTransport) logWait(req *http.Request, bucket string, waited time.Duration) {
	if waited >= minLoggedWait {
		t.logger.LogAttrs(req.Context(), slog.LevelDebug, "zendesk rate limit wait",
			slog.String("method", req.Method), slog.String("path", req.URL.Path),
			slog.Int("attempt", attemptOf(req.Context())), slog.String("bucket", bucket),
			slog.Duration("waited", waited))
	}
}

// send sends an attempt that may go, and reports what its answer says of the budget.
func (t *limiterTransport) send(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		t.throttled.Add(1)
	}
	if rl, ok := parseRateLimit(resp.Header, t.now()); ok && !isIncremental(req.URL.Path) {
		if o, ok := t.account.(RateLimitObserver); ok {
			o.Observe(rl)
		}
	}
	return resp, nil
}

func isIncremental(path string) bool {
	return strings.Contains(path, "/api/v2/incremental/")
}
