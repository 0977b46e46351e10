package zendesk

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// retryPolicy decides which failures are retried:
//   - 429: always (Zendesk did not process the request), unless Retry-After exceeds the
//     cap, in which case the response is returned at once and becomes *RateLimitError;
//   - 503 with a Retry-After: always (Zendesk reports a database timeout: nothing was
//     written), unless Retry-After exceeds the cap: then it is returned at once and
//     becomes *RateLimitError, as a 429 does;
//   - other 5xx except 501, 409 conflicts, and transport errors (including a body cut
//     off mid-read): only for requests whose repeat is safe (GET, PUT, DELETE, and POSTs
//     marked idempotent), since the first attempt may have taken effect;
//   - never a request whose OAuth grant was refused with a 4xx (wrong client id or
//     secret, spent refresh token), nor one whose host does not resolve (DNS answered
//     that the name does not exist; a DNS timeout is retried): asking again cannot
//     succeed.
func retryPolicy(retryAfterCap time.Duration, now func() time.Time) func(context.Context, *http.Response, error) (bool, error) {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return false, ctxErr
		}
		safe := true
		if m := metaOf(ctx); m != nil {
			safe = m.idempotent
		}
		if err != nil {
			if refusedGrant(err) || hostNotFound(err) {
				return false, nil
			}
			return safe, nil
		}
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests:
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now()); ok && ra > retryAfterCap {
				return false, nil
			}
			return true, nil
		case code == http.StatusServiceUnavailable:
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now()); ok {
				// With Retry-After, Zendesk reports a database timeout: nothing was written.
				return ra <= retryAfterCap, nil
			}
			return safe, nil
		case code == http.StatusNotImplemented:
			return false, nil
		case code >= 500, code == http.StatusConflict:
			return safe, nil
		}
		return false, nil
	}
}

// refusedGrant reports whether err carries the token endpoint's refusal of an OAuth grant
// (a 4xx other than 408 and 429): the credentials are wrong, and retrying would only
// repeat the refusal after the backoff.
func refusedGrant(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	code := apiErr.StatusCode
	return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
}

// backoff honours Retry-After on 429 and 503 (the policy has already refused waits above
// the cap) and otherwise backs off exponentially with full jitter.
func backoff(now func() time.Time) func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	return func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now()); ok {
				return max(ra, 0)
			}
		}
		ceiling := minWait << min(attempt, 20)
		if ceiling <= 0 || ceiling > maxWait {
			ceiling = maxWait
		}
		return minWait/2 + rand.N(ceiling-minWait/2+1)
	}
}

// keepLastResponse returns the final response when retries run out, so the caller gets
// a typed *APIError or *RateLimitError instead of "giving up after N attempts".
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, err
}
