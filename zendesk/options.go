package zendesk

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Option configures a Client. Options validate their input; NewClient returns the first
// error. Options are the only way to configure a Client: there are no setters.
type Option func(*config) error

// config is what the options build; NewClient turns it into a Client.
type config struct {
	baseURL         *url.URL
	httpClient      *http.Client
	timeout         time.Duration
	rpm             int
	incrementalRPM  int
	limiter         Limiter
	logger          *slog.Logger
	userAgent       string
	maxRetries      int
	retryAfterCap   time.Duration
	retryWaitMin    time.Duration
	retryWaitMax    time.Duration
	tokenEarly      time.Duration
	onTokenRefresh  func(*oauth2.Token)
	pageSize        int
	userUpdateLimit int
	authSet         int
	email           string
	apiToken        secret
	oauthToken      secret
	tokenSource     oauth2.TokenSource
	clientID        string
	clientSecret    secret
	refreshToken    secret
	scopes          []string
}

// Defaults, chosen for a governance workload: many small reads, few writes.
const (
	defaultTimeout       = 60 * time.Second
	defaultMaxRetries    = 5
	defaultRetryAfterCap = 2 * time.Minute
	defaultRetryWaitMin  = 500 * time.Millisecond
	defaultRetryWaitMax  = 30 * time.Second
	defaultTokenEarly    = time.Minute
	defaultPageSize      = 100
	defaultUserAgent     = "zgov-zendesk/0.1 (+https://github.com/zgov-io/zgov)"
)

// WithAPIToken authenticates with an API token, sent as Zendesk's basic auth
// "{email}/token:{token}". Zendesk stops accepting API tokens on 2027-04-30; prefer OAuth.
func WithAPIToken(email, token string) Option {
	return func(c *config) error {
		email = strings.TrimSpace(email)
		if email == "" || !strings.Contains(email, "@") {
			return fmt.Errorf("WithAPIToken: email %q is not an email address", email)
		}
		if token == "" {
			return errors.New("WithAPIToken: token is empty")
		}
		c.authSet++
		c.email, c.apiToken = email, secret(token)
		return nil
	}
}

// WithOAuthToken authenticates with a fixed OAuth access token. Nothing renews it: when
// Zendesk rejects it, calls fail with a 401 *APIError.
func WithOAuthToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return errors.New("WithOAuthToken: token is empty")
		}
		c.authSet++
		c.oauthToken = secret(token)
		return nil
	}
}

// WithTokenSource authenticates with tokens from src, which is asked again when a token
// nears expiry or Zendesk answers 401 invalid_token. oauth2.TokenSource takes no
// context: callers waiting for the token give up when their context ends, but the call
// that asked src waits until src.Token returns.
func WithTokenSource(src oauth2.TokenSource) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("WithTokenSource: token source is nil")
		}
		c.authSet++
		c.tokenSource = src
		return nil
	}
}

// WithOAuthClientCredentials authenticates with the OAuth client-credentials grant
// against {base}/oauth/tokens. Tokens are fetched on first use, shared by concurrent
// callers, and renewed before they expire.
func WithOAuthClientCredentials(clientID, clientSecret string, scopes ...string) Option {
	return func(c *config) error {
		if clientID == "" {
			return errors.New("WithOAuthClientCredentials: client id is empty")
		}
		if clientSecret == "" {
			return errors.New("WithOAuthClientCredentials: client secret is empty")
		}
		c.authSet++
		c.clientID, c.clientSecret, c.scopes = clientID, secret(clientSecret), append([]string(nil), scopes...)
		return nil
	}
}

// WithOAuthRefreshToken authenticates with the OAuth refresh-token grant: access tokens
// are obtained from refreshToken, and a rotated refresh token returned by Zendesk is used
// from then on (see WithTokenRefreshHook to persist it).
func WithOAuthRefreshToken(clientID, clientSecret, refreshToken string) Option {
	return func(c *config) error {
		if clientID == "" || clientSecret == "" || refreshToken == "" {
			return errors.New("WithOAuthRefreshToken: client id, client secret and refresh token are all required")
		}
		c.authSet++
		c.clientID, c.clientSecret, c.refreshToken = clientID, secret(clientSecret), secret(refreshToken)
		return nil
	}
}

// WithTokenRefreshHook calls fn with every token the client obtains through an OAuth
// grant (WithOAuthClientCredentials, WithOAuthRefreshToken), so a rotated refresh token
// can be stored. fn runs after the token is in place and outside the client's token
// lock, so it may call the client; calls of fn never overlap and come in the order the
// tokens were obtained, so the last token fn sees is the newest. fn runs on the
// goroutine of a call that needed a token, which waits for it: keep it short. fn must
// not log the token.
func WithTokenRefreshHook(fn func(*oauth2.Token)) Option {
	return func(c *config) error {
		c.onTokenRefresh = fn
		return nil
	}
}

// WithTokenRefreshMargin sets how long before expiry an OAuth token is renewed
// (default one minute).
func WithTokenRefreshMargin(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithTokenRefreshMargin: %s is negative", d)
		}
		c.tokenEarly = d
		return nil
	}
}

// WithBaseURL sends requests to rawURL instead of https://{subdomain}.zendesk.com, for a
// simulator or a proxy. Plain http is accepted only for loopback hosts.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		u, err := url.Parse(strings.TrimRight(rawURL, "/"))
		if err != nil {
			return fmt.Errorf("WithBaseURL: %w", err)
		}
		if u.Host == "" {
			return fmt.Errorf("WithBaseURL: %q has no host", rawURL)
		}
		if u.User != nil {
			return errors.New("WithBaseURL: credentials in the URL are not accepted; use an auth option")
		}
		switch u.Scheme {
		case "https":
		case "http":
			if !isLoopback(u.Hostname()) {
				return fmt.Errorf("WithBaseURL: plain http is allowed only for loopback hosts, not %q", u.Hostname())
			}
		default:
			return fmt.Errorf("WithBaseURL: scheme %q is not http or https", u.Scheme)
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("WithBaseURL: %q must not have a query or fragment", rawURL)
		}
		c.baseURL = u
		return nil
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithHTTPClient uses hc's Transport as the innermost transport and its Timeout as the
// per-attempt timeout. The client adds its retry, rate-limit and auth layers around it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("WithHTTPClient: client is nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each attempt of a request, body included (default 60s); time spent
// waiting for the rate limiter does not count. Use the
// context to bound a whole call with its retries.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %s is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRateLimit sets the account budget in requests per minute. Without it the client
// starts at 200 and adopts the limit Zendesk advertises; with it the client never paces
// above requestsPerMinute, even when Zendesk advertises more, which leaves room for other
// integrations on the same account. Pacing is a token bucket: after an initial burst of
// at most a twentieth of the budget (25 requests at most), requests are spaced evenly.
func WithRateLimit(requestsPerMinute int) Option {
	return func(c *config) error {
		if requestsPerMinute <= 0 {
			return fmt.Errorf("WithRateLimit: %d requests per minute is not positive", requestsPerMinute)
		}
		c.rpm = requestsPerMinute
		return nil
	}
}

// WithIncrementalRateLimit sets the budget of the incremental export endpoints, which
// Zendesk limits separately (10 per minute; 30 with the High Volume add-on).
func WithIncrementalRateLimit(requestsPerMinute int) Option {
	return func(c *config) error {
		if requestsPerMinute <= 0 {
			return fmt.Errorf("WithIncrementalRateLimit: %d requests per minute is not positive", requestsPerMinute)
		}
		c.incrementalRPM = requestsPerMinute
		return nil
	}
}

// WithUserUpdateLimit paces the updates of each user (Users.Update, Suspend and
// Unsuspend: PUT /users/{id}) to at most updatesPerMinute in any minute, the limit
// Zendesk puts on updating one user (5 a minute, the default). The update over the
// limit waits, in the call that makes it and before the account's rate limiter, until a
// minute after the answer to the oldest update of the user in that minute, so a
// sequence of changes to one person (a deprovisioning) paces itself instead of
// collecting 429s; updates of different users never wait for each other. Retries count
// as updates. The pacing is per Client: updates of the same user by other clients or
// processes can still meet Zendesk's 429, which is retried after its Retry-After. Bulk
// updates (Users.UpdateMany) are not paced. 0 turns the pacing off.
func WithUserUpdateLimit(updatesPerMinute int) Option {
	return func(c *config) error {
		if updatesPerMinute < 0 {
			return fmt.Errorf("WithUserUpdateLimit: %d updates per minute is negative", updatesPerMinute)
		}
		c.userUpdateLimit = updatesPerMinute
		return nil
	}
}

// WithLimiter replaces the account-wide token bucket, for example with one shared by
// several processes. If l implements RateLimitObserver it receives every response's budget.
func WithLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLimiter: limiter is nil")
		}
		c.limiter = l
		return nil
	}
}

// WithLogger logs to l: every attempt of a request at DEBUG ("zendesk request": method,
// path, attempt, status or error, duration, request id, and a 429's or 503's
// Retry-After), every wait for the client's rate limiter at DEBUG ("zendesk rate limit
// wait"), every retry at INFO ("zendesk retry": the attempt, what the previous one met,
// how long the client backed off), and a call that got no answer from Zendesk at WARN
// ("zendesk request failed"). Headers, bodies, query strings and credentials are never
// logged. Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("WithLogger: logger is nil")
		}
		c.logger = l
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.TrimSpace(ua) == "" || strings.ContainsAny(ua, "\r\n") {
			return fmt.Errorf("WithUserAgent: %q is not a valid user agent", ua)
		}
		c.userAgent = ua
		return nil
	}
}

// WithMaxRetries sets how many times a failed request is retried (default 5; 0 disables).
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("WithMaxRetries: %d is negative", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithRetryWait sets the backoff bounds for retries that Zendesk gave no Retry-After for.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(c *config) error {
		if minWait <= 0 || maxWait < minWait {
			return fmt.Errorf("WithRetryWait: need 0 < min <= max, got %s, %s", minWait, maxWait)
		}
		c.retryWaitMin, c.retryWaitMax = minWait, maxWait
		return nil
	}
}

// WithRetryAfterCap sets the longest Retry-After the client will sleep for (default 2m).
// A 429, or a 503, asking for longer is returned at once as *RateLimitError, whose
// RetryAfter says how long Zendesk asked for.
func WithRetryAfterCap(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("WithRetryAfterCap: %s is negative", d)
		}
		c.retryAfterCap = d
		return nil
	}
}

// WithPageSize sets page[size] for cursor-paginated lists (1 to 100, default 100).
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 100 {
			return fmt.Errorf("WithPageSize: %d is not between 1 and 100", n)
		}
		c.pageSize = n
		return nil
	}
}

// validSubdomain reports whether s is a DNS label: 1 to 63 letters, digits or hyphens,
// not starting or ending with a hyphen.
func validSubdomain(s string) error {
	if s == "" {
		return errors.New("subdomain is empty")
	}
	if strings.Contains(s, ".") {
		return fmt.Errorf("subdomain %q contains a dot: pass only the subdomain (acme for acme.zendesk.com)", s)
	}
	if len(s) > 63 {
		return fmt.Errorf("subdomain %q is longer than 63 characters", s)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(s)-1
		if !ok {
			return fmt.Errorf("subdomain %q is not a valid DNS label (letters, digits, inner hyphens)", s)
		}
	}
	return nil
}
