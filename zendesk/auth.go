package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// authenticator adds credentials to a request. invalidate is called after a 401
// invalid_token; it reports whether a retry with fresh credentials can help.
type authenticator interface {
	authorize(ctx context.Context, req *http.Request) error
	invalidate(ctx context.Context, used string) bool
	kind() string
}

// apiTokenAuth is Zendesk's API-token basic auth: "{email}/token:{token}".
type apiTokenAuth struct {
	email string
	token secret
}

func (a *apiTokenAuth) authorize(_ context.Context, req *http.Request) error {
	cred := a.email + "/token:" + a.token.reveal()
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	return nil
}

func (a *apiTokenAuth) invalidate(context.Context, string) bool { return false }
func (a *apiTokenAuth) kind() string                            { return "api-token" }

// bearerAuth sends OAuth access tokens from a cache that fetches them once for all
// concurrent callers and renews them before they expire.
type bearerAuth struct {
	cache *tokenCache
	name  string
}

func (a *bearerAuth) authorize(ctx context.Context, req *http.Request) error {
	tok, err := a.cache.token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return nil
}

func (a *bearerAuth) invalidate(ctx context.Context, used string) bool {
	return a.cache.invalidate(ctx, used)
}

func (a *bearerAuth) kind() string { return a.name }

// tokenFetcher obtains a new token; refreshable fetchers can be asked again after a 401.
type tokenFetcher interface {
	fetch(ctx context.Context) (*oauth2.Token, error)
	refreshable() bool
}

// tokenCache holds the current access token. Whoever holds the lock fetches, and
// everyone who was waiting then finds the fresh token: one fetch for all concurrent
// callers. The lock is a channel so that a waiter can give up when its context ends.
// The refresh hook is never called under the lock (see refreshHook).
type tokenCache struct {
	lock    chan struct{} // capacity 1
	fetcher tokenFetcher
	tok     *oauth2.Token
	early   time.Duration // renew this long before expiry
	now     func() time.Time
	hook    *refreshHook // nil without WithTokenRefreshHook
}

func (c *tokenCache) valid(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || c.now().Add(c.early).Before(tok.Expiry)
}

func (c *tokenCache) acquire(ctx context.Context) error {
	select {
	case c.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *tokenCache) release() { <-c.lock }

// token returns a valid token, fetching one if needed, and then (with the lock
// released) runs the refresh hook for what was fetched.
func (c *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	tok, fetched, err := c.current(ctx)
	if fetched {
		c.hook.run()
	}
	return tok, err
}

// current returns the cached token, or fetches one under the lock. A fetched token is
// queued for the hook before the lock is released, so the hook sees tokens in the order
// they were obtained.
func (c *tokenCache) current(ctx context.Context) (tok *oauth2.Token, fetched bool, err error) {
	if err := c.acquire(ctx); err != nil {
		return nil, false, fmt.Errorf("zendesk: wait for oauth token: %w", err)
	}
	defer c.release()
	if c.valid(c.tok) {
		return c.tok, false, nil
	}
	if tok, err = c.fetcher.fetch(ctx); err != nil {
		return nil, false, err
	}
	c.tok = tok
	c.hook.add(tok)
	return tok, true, nil
}

// refreshHook calls WithTokenRefreshHook's function with each token an OAuth grant
// returned: outside the token lock, so that the function may call the client; one call
// at a time; and in the order the tokens were obtained, so that the last refresh token
// stored is the newest. Whoever finds no call in progress delivers the queue; a refresh
// made while the hook runs (by the hook itself, or concurrently) is queued and delivered
// by that same goroutine when the running call returns, so the hook never waits for
// itself.
type refreshHook struct {
	fn func(*oauth2.Token)

	mu         sync.Mutex
	pending    []*oauth2.Token
	delivering bool
}

func (h *refreshHook) add(tok *oauth2.Token) {
	if h == nil {
		return
	}
	cp := *tok // the hook gets its own copy, not the cached token
	h.mu.Lock()
	h.pending = append(h.pending, &cp)
	h.mu.Unlock()
}

func (h *refreshHook) run() {
	if h == nil {
		return
	}
	for {
		h.mu.Lock()
		if h.delivering || len(h.pending) == 0 {
			h.mu.Unlock()
			return
		}
		tok := h.pending[0]
		h.pending = h.pending[1:]
		h.delivering = true
		h.mu.Unlock()
		h.call(tok)
	}
}

// call runs the hook once; a panic in it is passed on, but does not stop later deliveries.
func (h *refreshHook) call(tok *oauth2.Token) {
	defer func() {
		h.mu.Lock()
		h.delivering = false
		h.mu.Unlock()
	}()
	h.fn(tok)
}

// invalidate drops the token a request was refused with, unless another caller already
// replaced it. It reports whether asking again can give a different token.
func (c *tokenCache) invalidate(ctx context.Context, used string) bool {
	if !c.fetcher.refreshable() {
		return false
	}
	if c.acquire(ctx) != nil {
		return false
	}
	defer c.release()
	if c.tok != nil && c.tok.AccessToken == used {
		c.tok = nil
	}
	return true
}

// staticToken is a fixed access token (WithOAuthToken): nothing to renew.
type staticToken struct{ tok secret }

func (s staticToken) fetch(context.Context) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: s.tok.reveal(), TokenType: "Bearer"}, nil
}
func (staticToken) refreshable() bool { return false }

// sourceToken adapts a caller's oauth2.TokenSource (WithTokenSource).
type sourceToken struct{ src oauth2.TokenSource }

func (s sourceToken) fetch(context.Context) (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err != nil {
		return nil, fmt.Errorf("zendesk: oauth token source: %w", err)
	}
	return tok, nil
}
func (sourceToken) refreshable() bool { return true }

// grantFetcher runs an OAuth grant against Zendesk's /oauth/tokens endpoint: the
// client-credentials grant, or the refresh-token grant (rotating the refresh token when
// Zendesk returns a new one).
type grantFetcher struct {
	endpoint     string
	clientID     string
	clientSecret secret
	scopes       []string

	mu           sync.Mutex
	refreshToken secret // empty for client credentials

	httpClient *http.Client
	redact     redactor
	now        func() time.Time
}

func (g *grantFetcher) refreshable() bool { return true }

func (g *grantFetcher) fetch(ctx context.Context) (*oauth2.Token, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	body := map[string]string{"client_id": g.clientID, "client_secret": g.clientSecret.reveal()}
	grant := "client_credentials"
	if g.refreshToken != "" {
		grant = "refresh_token"
		body["refresh_token"] = g.refreshToken.reveal()
	}
	body["grant_type"] = grant
	if len(g.scopes) > 0 {
		body["scope"] = strings.Join(g.scopes, " ")
	}
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.endpoint, bytes.NewReader(buf))
	if err != nil {
		return nil, fmt.Errorf("zendesk: oauth %s grant: %w", grant, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := g.httpClient.Do(req)
	if err != nil {
		// The error's text is redacted, which cuts its chain; what callers branch on is
		// put back.
		redact := append(g.redact[:len(g.redact):len(g.redact)], g.refreshToken.reveal())
		msg := redact.apply(err.Error())
		if hostNotFound(err) {
			return nil, fmt.Errorf("zendesk: oauth %s grant: %w", grant, &hostNotFoundError{host: req.URL.Host, err: errors.New(msg)})
		}
		return nil, fmt.Errorf("zendesk: oauth %s grant: %s", grant, msg)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		apiErr := newAPIError(resp)
		if apiErr.Path == "" {
			apiErr.Method, apiErr.Path = req.Method, req.URL.Path
		}
		// The refresh token may have rotated since redact was built.
		append(g.redact[:len(g.redact):len(g.redact)], g.refreshToken.reveal()).applyAPIError(apiErr)
		return nil, fmt.Errorf("zendesk: oauth %s grant: %w", grant, apiErr)
	}
	var tr struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Scope        string `json:"scope"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&tr); err != nil {
		return nil, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: requestID(resp.Header), Err: err}
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("zendesk: oauth %s grant: response has no access_token", grant)
	}
	tok := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: firstNonEmpty(tr.TokenType, "Bearer"), RefreshToken: tr.RefreshToken}
	if tr.ExpiresIn > 0 {
		tok.Expiry = g.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshToken != "" && g.refreshToken != "" {
		g.refreshToken = secret(tr.RefreshToken)
	}
	return tok, nil
}

// authTransport adds credentials to requests bound for the Zendesk host over the base
// URL's scheme, and only to those: a redirect to another host, or to plain http, travels
// without them. On a 401 invalid_token it renews the token once and replays the request
// once.
type authTransport struct {
	next   http.RoundTripper
	auth   authenticator
	host   string // host[:port] of the base URL
	scheme string // scheme of the base URL
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, t.host) || !strings.EqualFold(req.URL.Scheme, t.scheme) {
		r := req.Clone(req.Context())
		r.Header.Del("Authorization")
		return t.next.RoundTrip(r)
	}
	r := req.Clone(req.Context())
	if err := t.auth.authorize(req.Context(), r); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !isInvalidToken(resp) {
		return resp, err
	}
	used := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !t.auth.invalidate(req.Context(), used) {
		return resp, nil
	}
	replay := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil // cannot replay a body we cannot rewind
		}
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		replay.Body = body
	}
	drain(resp)
	if err := t.auth.authorize(req.Context(), replay); err != nil {
		return nil, err
	}
	return t.next.RoundTrip(replay)
}

// isInvalidToken reports whether a 401 says the bearer token is expired or revoked. It
// peeks at the body and leaves it readable for the caller.
func isInvalidToken(resp *http.Response) bool {
	if strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		return true
	}
	if resp.Body == nil {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return bytes.Contains(body, []byte("invalid_token"))
}

func drain(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
	}
}

// hostOf returns u's host as the auth transport compares it.
func hostOf(u *url.URL) string { return u.Host }

var errNoAuth = errors.New("zendesk: no credentials: use WithAPIToken, WithOAuthToken, WithTokenSource, WithOAuthClientCredentials or WithOAuthRefreshToken")
