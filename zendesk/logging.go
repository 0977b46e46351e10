package zendesk

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// What WithLogger's logger receives, and at which level:
//
//   - DEBUG "zendesk request": one line per attempt (method, path, attempt, status or
//     error, duration of the exchange, request id, and the Retry-After of a 429 or 503);
//   - DEBUG "zendesk rate limit wait": a wait for the client's own limiter (method, path,
//     attempt, bucket, waited);
//   - INFO "zendesk retry": an attempt after the first (method, path, attempt, what the
//     previous attempt met, and how long the client backed off);
//   - WARN "zendesk request failed": a call that ended without an answer from Zendesk.
//
// Only these attributes are logged: never headers, bodies or query strings, so that
// credentials cannot reach a log.

// logAttemptStart is retryablehttp's RequestLogHook, called before each attempt with its
// index: it numbers the call's attempts, and logs the retries.
func (c *Client) logAttemptStart(_ retryablehttp.Logger, req *http.Request, i int) {
	m := metaOf(req.Context())
	if m == nil {
		return
	}
	m.attempt = i + 1
	if i == 0 {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Int("attempt", m.attempt),
	}
	if m.lastErr != nil {
		attrs = append(attrs, slog.String("after_error", m.lastErr.Error()))
	} else {
		attrs = append(attrs, slog.Int("after_status", m.lastStatus))
	}
	if !m.lastEnd.IsZero() {
		attrs = append(attrs, slog.Duration("waited", c.now().Sub(m.lastEnd)))
	}
	c.logger.LogAttrs(req.Context(), slog.LevelInfo, "zendesk retry", attrs...)
}

// attemptOf returns the number of the attempt a request belongs to (1 when unknown).
func attemptOf(ctx context.Context) int {
	if m := metaOf(ctx); m != nil && m.attempt > 0 {
		return m.attempt
	}
	return 1
}

// attemptLogTransport logs each attempt and remembers its outcome for the retry's line.
type attemptLogTransport struct {
	next   http.RoundTripper
	logger *slog.Logger
	now    func() time.Time
}

func (t *attemptLogTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.now()
	resp, err := t.next.RoundTrip(req)
	end := t.now()
	ctx := req.Context()
	if m := metaOf(ctx); m != nil {
		m.lastErr, m.lastStatus, m.lastEnd = err, 0, end
		if resp != nil {
			m.lastStatus = resp.StatusCode
		}
	}
	if !t.logger.Enabled(ctx, slog.LevelDebug) {
		return resp, err
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method), slog.String("path", req.URL.Path), slog.Int("attempt", attemptOf(ctx)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	attrs = append(attrs, slog.Duration("duration", end.Sub(start)))
	if resp != nil {
		if id := requestID(resp.Header); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), end); ok {
				attrs = append(attrs, slog.Duration("retry_after", ra))
			}
		}
	}
	t.logger.LogAttrs(ctx, slog.LevelDebug, "zendesk request", attrs...)
	return resp, err
}
