package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Client talks to one Zendesk account. It is safe for concurrent use. Build it with
// NewClient; reach the API through its services (client.Users.Get(...)).
type Client struct {
	subdomain string
	baseURL   *url.URL
	apiURL    *url.URL // baseURL + /api/v2/
	userAgent string
	pageSize  int
	logger    *slog.Logger
	authKind  string

	retry       *retryablehttp.Client
	limiter     Limiter
	adaptive    *adaptiveLimiter // nil when the caller supplied a Limiter
	incremental *adaptiveLimiter
	throttled   atomic.Int64
	requests    atomic.Int64
	now         func() time.Time

	common service

	// Users reads and changes users, including suspension, deletion and the incremental export.
	Users *UsersService
	// DeletedUsers lists soft-deleted users and deletes them permanently.
	DeletedUsers *DeletedUsersService
	// Groups reads and changes groups.
	Groups *GroupsService
	// GroupMemberships reads and changes which agents are in which groups.
	GroupMemberships *GroupMembershipsService
	// Organizations reads and changes organizations.
	Organizations *OrganizationsService
	// OrganizationMemberships reads and changes which users belong to which organizations.
	OrganizationMemberships *OrganizationMembershipsService
	// CustomRoles reads the account's custom agent roles (Enterprise plans).
	CustomRoles *CustomRolesService
	// JobStatuses reads the status of bulk jobs and waits for them.
	JobStatuses *JobStatusesService
	// Account reads account settings.
	Account *AccountService
}

// service is the shared base of every API area: one Client, one pipeline.
type service struct{ client *Client }

// NewClient returns a client for https://{subdomain}.zendesk.com. Exactly one way of
// authenticating must be given (WithAPIToken, WithOAuthToken, WithTokenSource,
// WithOAuthClientCredentials or WithOAuthRefreshToken).
func NewClient(subdomain string, opts ...Option) (*Client, error) {
	if err := validSubdomain(subdomain); err != nil {
		return nil, fmt.Errorf("zendesk: %w", err)
	}
	cfg := config{
		timeout:         defaultTimeout,
		maxRetries:      defaultMaxRetries,
		retryAfterCap:   defaultRetryAfterCap,
		retryWaitMin:    defaultRetryWaitMin,
		retryWaitMax:    defaultRetryWaitMax,
		tokenEarly:      defaultTokenEarly,
		pageSize:        defaultPageSize,
		userAgent:       defaultUserAgent,
		userUpdateLimit: defaultUserUpdatesPerMinute,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("zendesk: %w", err)
		}
	}
	switch {
	case cfg.authSet == 0:
		return nil, errNoAuth
	case cfg.authSet > 1:
		return nil, errors.New("zendesk: more than one way of authenticating was given; choose one")
	}
	subdomain = strings.ToLower(subdomain)
	base := cfg.baseURL
	if base == nil {
		base = &url.URL{Scheme: "https", Host: subdomain + ".zendesk.com"}
	}
	c := &Client{
		subdomain: subdomain,
		baseURL:   base,
		apiURL:    base.JoinPath("api", "v2"),
		userAgent: cfg.userAgent,
		pageSize:  cfg.pageSize,
		logger:    cfg.logger,
		now:       time.Now,
	}
	c.apiURL.Path += "/"
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}

	inner := http.DefaultTransport
	timeout := cfg.timeout
	if cfg.httpClient != nil {
		if cfg.httpClient.Transport != nil {
			inner = cfg.httpClient.Transport
		}
		if cfg.httpClient.Timeout > 0 {
			timeout = cfg.httpClient.Timeout
		}
	}
	auth, err := c.newAuthenticator(&cfg, inner, timeout)
	if err != nil {
		return nil, err
	}
	c.authKind = auth.kind()

	if cfg.limiter != nil {
		c.limiter = cfg.limiter
	} else {
		c.adaptive = newAdaptiveLimiter(cfg.rpm, defaultRequestsPerMinute)
		c.limiter = c.adaptive
	}
	c.incremental = newAdaptiveLimiter(cfg.incrementalRPM, incrementalRequestsPerMinute)

	// Transport, outermost first: retry -> rate limiter -> attempt log -> attempt timeout
	// -> auth -> body buffer -> base. The timeout sits inside the limiter (not on the
	// http.Client, whose Timeout would put a deadline on the limiter's wait too and make
	// a slow bucket fail a call that has no deadline of its own). The attempt log sits
	// inside the limiter too, so that an attempt's duration is the exchange with Zendesk;
	// the limiter logs its own waits.
	var rt http.RoundTripper = &bufferTransport{next: &countingTransport{next: inner, n: &c.requests}}
	rt = &authTransport{next: rt, auth: auth, host: hostOf(base), scheme: base.Scheme}
	rt = &timeoutTransport{next: rt, timeout: timeout}
	rt = &attemptLogTransport{next: rt, logger: c.logger, now: c.now}
	lt := &limiterTransport{next: rt, account: c.limiter, incremental: c.incremental, throttled: &c.throttled, now: c.now, logger: c.logger}
	if cfg.userUpdateLimit > 0 {
		lt.users = newUserPacer(cfg.userUpdateLimit, func() time.Time { return c.now() })
	}
	rt = lt
	hc := &http.Client{Transport: rt}
	c.retry = &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: cfg.retryWaitMin,
		RetryWaitMax: cfg.retryWaitMax,
		RetryMax:     cfg.maxRetries,
		CheckRetry:   retryPolicy(cfg.retryAfterCap, c.now),
		Backoff:      backoff(c.now),
		ErrorHandler: keepLastResponse,
		// No Logger: retryablehttp logs at DEBUG by default; the client logs itself,
		// through the hook that numbers attempts and logs retries.
		RequestLogHook: c.logAttemptStart,
	}

	c.common.client = c
	c.Users = (*UsersService)(&c.common)
	c.DeletedUsers = (*DeletedUsersService)(&c.common)
	c.Groups = (*GroupsService)(&c.common)
	c.GroupMemberships = (*GroupMembershipsService)(&c.common)
	c.Organizations = (*OrganizationsService)(&c.common)
	c.OrganizationMemberships = (*OrganizationMembershipsService)(&c.common)
	c.CustomRoles = (*CustomRolesService)(&c.common)
	c.JobStatuses = (*JobStatusesService)(&c.common)
	c.Account = (*AccountService)(&c.common)
	return c, nil
}

func (c *Client) newAuthenticator(cfg *config, inner http.RoundTripper, timeout time.Duration) (authenticator, error) {
	cache := func(f tokenFetcher) *tokenCache {
		return &tokenCache{lock: make(chan struct{}, 1), fetcher: f, early: cfg.tokenEarly, now: func() time.Time { return c.now() }}
	}
	switch {
	case cfg.apiToken != "":
		return &apiTokenAuth{email: cfg.email, token: cfg.apiToken}, nil
	case cfg.oauthToken != "":
		return &bearerAuth{cache: cache(staticToken{tok: cfg.oauthToken}), name: "oauth-token"}, nil
	case cfg.tokenSource != nil:
		return &bearerAuth{cache: cache(sourceToken{src: cfg.tokenSource}), name: "oauth-token-source"}, nil
	default:
		g := &grantFetcher{
			endpoint:     c.baseURL.JoinPath("oauth", "tokens").String(),
			clientID:     cfg.clientID,
			clientSecret: cfg.clientSecret,
			refreshToken: cfg.refreshToken,
			scopes:       cfg.scopes,
			httpClient:   &http.Client{Transport: inner, Timeout: timeout, CheckRedirect: noRedirects},
			redact:       redactor{cfg.clientSecret.reveal(), cfg.refreshToken.reveal()},
			now:          func() time.Time { return c.now() },
		}
		name := "oauth-client-credentials"
		if cfg.refreshToken != "" {
			name = "oauth-refresh-token"
		}
		tc := cache(g)
		if cfg.onTokenRefresh != nil {
			tc.hook = &refreshHook{fn: cfg.onTokenRefresh}
		}
		return &bearerAuth{cache: tc, name: name}, nil
	}
}

// noRedirects keeps the token endpoint from following a redirect with a client secret.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("zendesk.Client{subdomain: %q, base: %q, auth: %s}", c.subdomain, c.baseURL.String(), c.authKind)
}

// GoString is String: %#v of a Client never shows its fields.
func (c *Client) GoString() string { return c.String() }

// Format makes every fmt verb print String, so credentials cannot leak through %+v.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Subdomain returns the account's subdomain.
func (c *Client) Subdomain() string { return c.subdomain }

// BaseURL returns the URL requests are sent to (without /api/v2).
func (c *Client) BaseURL() string { return c.baseURL.String() }

// RateLimit returns what the client knows of the account's request budget.
func (c *Client) RateLimit() RateLimit {
	var rl RateLimit
	if c.adaptive != nil {
		rl = c.adaptive.snapshot()
	} else {
		rl.Remaining = -1
	}
	rl.Throttled = c.throttled.Load()
	return rl
}

// RequestCount returns how many HTTP attempts the client has sent (retries included).
func (c *Client) RequestCount() int64 { return c.requests.Load() }

// Response wraps the HTTP response of a call with what Zendesk reported.
type Response struct {
	*http.Response
	// RequestID is X-Zendesk-Request-Id.
	RequestID string
	// RateLimit is the budget this response reported (Limit 0 if it reported none).
	RateLimit RateLimit
}

// ctxKey carries a call's requestMeta in its requests' context.
type ctxKey struct{}

// requestMeta is what the layers of the transport know of the call a request belongs to.
// Only the goroutine making the call touches it: the retry layer runs the attempts, and
// each transport layer's RoundTrip, in turn on that goroutine.
type requestMeta struct {
	// idempotent marks requests that may be retried after a failure whose outcome is
	// unknown.
	idempotent bool
	// updatedUser is the id of the user a PUT /users/{id} updates, whose attempts the
	// per-user pacer spaces; 0 for every other request.
	updatedUser int64
	// attempt numbers the attempts of the call from 1, for the log.
	attempt int
	// lastStatus and lastErr are what the previous attempt met, and lastEnd when it
	// ended, for the log line of a retry.
	lastStatus int
	lastErr    error
	lastEnd    time.Time
}

// metaOf returns the requestMeta of a call's request, or nil for a request that did not
// come from newRequest.
func metaOf(ctx context.Context) *requestMeta {
	m, _ := ctx.Value(ctxKey{}).(*requestMeta)
	return m
}

// newRequest builds a request for path, relative to /api/v2/ (or an absolute URL on the
// same host, as Zendesk's next-page links are). body, if not nil, is sent as JSON.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*retryablehttp.Request, error) {
	var u *url.URL
	if strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://") {
		parsed, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("zendesk: parse %q: %w", path, err)
		}
		if !strings.EqualFold(parsed.Host, c.baseURL.Host) {
			return nil, fmt.Errorf("zendesk: refusing to follow a link to another host (%s)", parsed.Host)
		}
		if !strings.EqualFold(parsed.Scheme, c.baseURL.Scheme) {
			return nil, fmt.Errorf("zendesk: refusing to follow a link that changes the scheme to %s", parsed.Scheme)
		}
		u = parsed
	} else {
		rel, err := url.Parse(strings.TrimPrefix(path, "/"))
		if err != nil {
			return nil, fmt.Errorf("zendesk: parse %q: %w", path, err)
		}
		u = c.apiURL.ResolveReference(rel)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	var buf []byte
	if body != nil {
		var err error
		if buf, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("zendesk: encode %s %s body: %w", method, u.Path, err)
		}
	}
	meta := &requestMeta{idempotent: method != http.MethodPost && method != http.MethodPatch}
	ctx = context.WithValue(ctx, ctxKey{}, meta)
	var rb any
	if buf != nil {
		rb = buf
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), rb)
	if err != nil {
		return nil, fmt.Errorf("zendesk: build %s %s: %w", method, u.Path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if buf != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// postRetryable is call for a POST whose repeat is harmless (create_or_update) or
// detectable (a duplicate membership answers 422): unlike other POSTs, it is retried
// after an attempt whose outcome is unknown.
func (c *Client) postRetryable(ctx context.Context, path string, body, v any) (*Response, error) {
	req, err := c.newRequest(ctx, http.MethodPost, path, nil, body)
	if err != nil {
		return nil, err
	}
	if m := metaOf(req.Context()); m != nil {
		m.idempotent = true
	}
	return c.do(req, v)
}

// do sends req and decodes a 2xx JSON body into v (if v is not nil). Non-2xx answers
// become *APIError or, when Zendesk asked for a wait, *RateLimitError.
func (c *Client) do(req *retryablehttp.Request, v any) (*Response, error) {
	r, body, err := c.doRaw(req)
	if err != nil || v == nil || len(body) == 0 {
		return r, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return r, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: r.StatusCode, RequestID: r.RequestID, Err: err}
	}
	return r, nil
}

// doRaw sends req and returns the body of a 2xx answer undecoded.
func (c *Client) doRaw(req *retryablehttp.Request) (*Response, []byte, error) {
	start := c.now()
	resp, err := c.retry.Do(req)
	if err != nil {
		err = classifyHostNotFound(err, req.URL.Host)
		if ctxErr := req.Context().Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		c.logger.LogAttrs(req.Context(), slog.LevelWarn, "zendesk request failed",
			slog.String("method", req.Method), slog.String("path", req.URL.Path),
			slog.Duration("duration", c.now().Sub(start)), slog.String("error", err.Error()))
		return nil, nil, fmt.Errorf("zendesk: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	r := &Response{Response: resp, RequestID: requestID(resp.Header)}
	r.RateLimit, _ = parseRateLimit(resp.Header, c.now())
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(resp)
		if apiErr.Path == "" { // a RoundTripper need not set resp.Request
			apiErr.Method, apiErr.Path = req.Method, req.URL.Path
		}
		return r, nil, rateLimitOrAPIError(apiErr, resp, c.now())
	}
	if resp.StatusCode == http.StatusNoContent {
		return r, nil, nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, nil, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: r.RequestID, Err: err}
	}
	return r, body, nil
}

// rateLimitOrAPIError returns apiErr as a *RateLimitError when Zendesk asked for a wait:
// every 429, and a 503 with a Retry-After (Zendesk's "database busy, come back in n
// seconds"). Other answers stay a plain *APIError.
func rateLimitOrAPIError(apiErr *APIError, resp *http.Response, now time.Time) error {
	ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RateLimitError{APIError: apiErr, RetryAfter: ra}
	case resp.StatusCode == http.StatusServiceUnavailable && ok:
		return &RateLimitError{APIError: apiErr, RetryAfter: ra}
	}
	return apiErr
}

// call is newRequest followed by do, for the common case.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, v any) (*Response, error) {
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	return c.do(req, v)
}

// maxSuccessBody caps a 2xx body the client buffers (an incremental export page of 1,000
// users is a few MiB).
const maxSuccessBody = 64 << 20

// bufferTransport reads each response body in full before handing it up, so that a
// connection cut mid-body surfaces as a transport error the retry layer can retry,
// instead of as malformed JSON after the retry layer has let go.
type bufferTransport struct{ next http.RoundTripper }

func (t *bufferTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	if len(body) > maxSuccessBody {
		return nil, fmt.Errorf("response body larger than %d bytes", maxSuccessBody)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// timeoutTransport bounds one attempt: credentials, the exchange and the body, which the
// buffer transport below it has read in full by the time RoundTrip returns.
type timeoutTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	defer cancel()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil && ctx.Err() != nil && req.Context().Err() == nil {
		return nil, fmt.Errorf("attempt timed out after %s: %w", t.timeout, err)
	}
	return resp, err
}

// countingTransport counts attempts for RequestCount.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(req)
}
