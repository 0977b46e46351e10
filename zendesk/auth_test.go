package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "zgov-client"
	testClientSecret = "s3cr3t-client-secret-abcdef"
	tokenURL         = "https://example.zendesk.com/oauth/tokens"
)

// tokenServer issues numbered access tokens and counts grants.
type tokenServer struct {
	grants    atomic.Int32
	expiresIn int
	mu        sync.Mutex
	bodies    []map[string]string
}

func (s *tokenServer) responder(r *http.Request) (*http.Response, error) {
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return httpmock.NewStringResponse(400, `{"error":"invalid_request"}`), nil
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	if body["client_secret"] != testClientSecret {
		return httpmock.NewStringResponse(401, fmt.Sprintf(`{"error":"invalid_client","error_description":"bad secret %s"}`, body["client_secret"])), nil
	}
	n := s.grants.Add(1)
	// Let concurrent callers pile up behind the first fetch.
	time.Sleep(10 * time.Millisecond)
	return httpmock.NewJsonResponse(200, map[string]any{
		"access_token": fmt.Sprintf("access-%d", n), "token_type": "bearer",
		"expires_in": s.expiresIn, "refresh_token": fmt.Sprintf("refresh-%d", n), "scope": "read write",
	})
}

// bearerChecker answers 200 for the current token and 401 invalid_token otherwise.
func bearerChecker(valid func(string) bool, seen *[]string, mu *sync.Mutex) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		*seen = append(*seen, tok)
		mu.Unlock()
		if !valid(tok) {
			return httpmock.NewStringResponse(401, `{"error":"invalid_token","error_description":"The access token provided is expired, revoked, malformed or invalid for other reasons."}`), nil
		}
		return httpmock.NewStringResponse(200, `{"user":{"id":1,"name":"A"}}`), nil
	}
}

func TestOAuthConcurrentFirstCallsShareOneFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &tokenServer{expiresIn: 7200}
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthClientCredentials(testClientID, testClientSecret, "read", "write"), WithRateLimit(60000))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("POST", tokenURL, ts.responder)
		var seen []string
		var mu sync.Mutex
		mock.RegisterResponder("GET", usersURL, bearerChecker(func(s string) bool { return s == "access-1" }, &seen, &mu))
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
					t.Errorf("Get: %v", err)
				}
			})
		}
		wg.Wait()
		if got := ts.grants.Load(); got != 1 {
			t.Errorf("token requests = %d, want 1 for 20 concurrent first calls", got)
		}
		b := ts.bodies[0]
		if b["grant_type"] != "client_credentials" || b["client_id"] != testClientID || b["scope"] != "read write" {
			t.Errorf("token request body = %v", b)
		}
	})
}

func TestOAuthRefreshesBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &tokenServer{expiresIn: 600}
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthClientCredentials(testClientID, testClientSecret), WithTokenRefreshMargin(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("POST", tokenURL, ts.responder)
		var seen []string
		var mu sync.Mutex
		mock.RegisterResponder("GET", usersURL, bearerChecker(func(string) bool { return true }, &seen, &mu))
		for _, wait := range []time.Duration{0, 8 * time.Minute, time.Minute + time.Second} {
			time.Sleep(wait)
			if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}
		// At 0 and 8m the first token (600s, renewed 60s early) is good; at 9m01s it is not.
		want := []string{"access-1", "access-1", "access-2"}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("tokens sent = %v, want %v", seen, want)
		}
	})
}

func TestOAuthInvalidTokenRefreshesOnceAndReplaysOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &tokenServer{expiresIn: 7200}
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthClientCredentials(testClientID, testClientSecret))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("POST", tokenURL, ts.responder)
		var seen []string
		var mu sync.Mutex
		revoked := map[string]bool{"access-1": true}
		mock.RegisterResponder("PUT", usersURL, func(r *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(r.Body)
			if !bytes.Contains(body, []byte(`"suspended":true`)) {
				t.Errorf("replayed body = %q, want the original body", body)
			}
			return bearerChecker(func(s string) bool { return !revoked[s] }, &seen, &mu)(r)
		})
		// access-1 is revoked server-side: one refresh, one replay, success.
		if _, _, err := c.Users.Suspend(t.Context(), 1); err != nil {
			t.Fatalf("Suspend: %v", err)
		}
		if fmt.Sprint(seen) != "[access-1 access-2]" || ts.grants.Load() != 2 {
			t.Errorf("tokens sent = %v, grants = %d; want [access-1 access-2], 2", seen, ts.grants.Load())
		}
		// Now every token is refused: one refresh, one replay, then the 401 comes back.
		seen = nil
		revoked = map[string]bool{"access-2": true, "access-3": true, "access-4": true}
		_, _, err = c.Users.Suspend(t.Context(), 1)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Code != "invalid_token" || !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v, want 401 invalid_token *APIError", err)
		}
		if len(seen) != 2 || ts.grants.Load() != 3 {
			t.Errorf("sent %v with %d grants; want exactly one refresh and one replay", seen, ts.grants.Load())
		}
	})
}

func TestOAuthRefreshTokenGrantRotates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := &tokenServer{expiresIn: 120}
		mock := httpmock.NewMockTransport()
		var hooked []string
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthRefreshToken(testClientID, testClientSecret, "refresh-0"),
			WithTokenRefreshHook(func(tok *oauth2.Token) { hooked = append(hooked, tok.RefreshToken) }))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("POST", tokenURL, ts.responder)
		var seen []string
		var mu sync.Mutex
		mock.RegisterResponder("GET", usersURL, bearerChecker(func(string) bool { return true }, &seen, &mu))
		for range 2 {
			if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
			time.Sleep(2 * time.Minute)
		}
		if len(ts.bodies) != 2 || ts.bodies[0]["grant_type"] != "refresh_token" || ts.bodies[0]["refresh_token"] != "refresh-0" || ts.bodies[1]["refresh_token"] != "refresh-1" {
			t.Errorf("grant bodies = %v, want refresh-0 then the rotated refresh-1", ts.bodies)
		}
		if fmt.Sprint(hooked) != "[refresh-1 refresh-2]" {
			t.Errorf("hook saw %v", hooked)
		}
	})
}

func TestStaticOAuthTokenAndTokenSource(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithOAuthToken("fixed-token-value"))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	var mu sync.Mutex
	mock.RegisterResponder("GET", usersURL, bearerChecker(func(s string) bool { return s == "from-source" }, &seen, &mu))
	if _, _, err := c.Users.Get(t.Context(), 1); !errors.Is(err, ErrUnauthorized) || len(seen) != 1 {
		t.Errorf("static token refused: err = %v, sent %d (a static token cannot be renewed: no replay)", err, len(seen))
	}
	c, err = NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "from-source"})))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
		t.Errorf("token source: %v", err)
	}
}

func TestAPITokenHeader(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", usersURL, func(r *http.Request) (*http.Response, error) {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+"/token:"+testToken))
		if got := r.Header.Get("Authorization"); got != want {
			t.Errorf("Authorization = %q, want %q", got, want)
		}
		if r.Header.Get("Accept") != "application/json" || !strings.HasPrefix(r.Header.Get("User-Agent"), "zgov") {
			t.Errorf("headers = %v", r.Header)
		}
		return okUser(r)
	})
	if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
}

func TestRedirectToOtherHostCarriesNoCredentials(t *testing.T) {
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization"))
		writeJSON(w, 200, `{"user":{"id":1}}`)
	}))
	defer other.Close()
	zd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			t.Error("the Zendesk host itself got no credentials")
		}
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	}))
	defer zd.Close()
	c, err := NewClient("example", WithBaseURL(zd.URL), WithAPIToken(testEmail, testToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := leaked.Load().(string); got != "" {
		t.Errorf("redirect to another host carried Authorization %q", got)
	}
}

// TestSecretsNeverRendered checks every rendering of clients, options and errors, and
// every log line, for the credentials.
func TestSecretsNeverRendered(t *testing.T) {
	const apiToken = "apitoken-SECRET-1234567890"
	const accessToken = "access-SECRET-0987654321"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	secrets := []string{apiToken, testClientSecret, accessToken, "refresh-SECRET-111"}

	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("POST", tokenURL, func(r *http.Request) (*http.Response, error) {
		// A token endpoint that echoes the secret back in its error must not leak it.
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte("refresh_token")) {
			return httpmock.NewStringResponse(400, `{"error":"invalid_grant","error_description":"refresh token refresh-SECRET-111 and secret `+testClientSecret+` rejected"}`), nil
		}
		return httpmock.NewJsonResponse(200, map[string]any{"access_token": accessToken, "expires_in": 3600})
	})
	mock.RegisterResponder("GET", usersURL, httpmock.NewStringResponder(500, `{"error":"boom"}`))

	var rendered []string
	opts := []Option{WithAPIToken(testEmail, apiToken), WithOAuthClientCredentials(testClientID, testClientSecret)}
	for _, o := range opts {
		rendered = append(rendered, fmt.Sprintf("%v %+v %#v", o, o, o))
	}
	for _, auth := range []Option{
		WithAPIToken(testEmail, apiToken),
		WithOAuthClientCredentials(testClientID, testClientSecret),
		WithOAuthRefreshToken(testClientID, testClientSecret, "refresh-SECRET-111"),
		WithOAuthToken(accessToken),
	} {
		c, err := NewClient("example", auth, WithHTTPClient(&http.Client{Transport: mock}), WithLogger(logger), WithMaxRetries(1), WithRetryWait(time.Millisecond, time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Users.Get(t.Context(), 1)
		if err == nil {
			t.Fatal("want an error")
		}
		rendered = append(rendered, err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err))
		rendered = append(rendered, fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c))
	}
	rendered = append(rendered, logs.String())
	s := secret(apiToken)
	rendered = append(rendered, fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s))
	for _, r := range rendered {
		for _, sec := range secrets {
			if strings.Contains(r, sec) {
				t.Errorf("secret %q rendered in: %s", sec, r)
			}
		}
	}
	if !strings.Contains(logs.String(), "zendesk request") {
		t.Errorf("expected request log lines, got %q", logs.String())
	}
}

func TestNewClientValidation(t *testing.T) {
	auth := WithAPIToken(testEmail, testToken)
	tests := []struct {
		name      string
		subdomain string
		opts      []Option
		wantErr   string
	}{
		{"ok", "acme", []Option{auth}, ""},
		{"uppercase ok", "Acme-1", []Option{auth}, ""},
		{"empty", "", []Option{auth}, "subdomain is empty"},
		{"host instead", "acme.zendesk.com", []Option{auth}, "contains a dot"},
		{"bad chars", "ac_me", []Option{auth}, "not a valid DNS label"},
		{"leading hyphen", "-acme", []Option{auth}, "not a valid DNS label"},
		{"too long", strings.Repeat("a", 64), []Option{auth}, "longer than 63"},
		{"no auth", "acme", nil, "no credentials"},
		{"two auths", "acme", []Option{auth, WithOAuthToken("x")}, "more than one"},
		{"bad email", "acme", []Option{WithAPIToken("nobody", "t")}, "not an email"},
		{"empty token", "acme", []Option{WithAPIToken(testEmail, "")}, "token is empty"},
		{"http remote", "acme", []Option{auth, WithBaseURL("http://example.com")}, "only for loopback"},
		{"http loopback", "acme", []Option{auth, WithBaseURL("http://127.0.0.1:8080")}, ""},
		{"http localhost", "acme", []Option{auth, WithBaseURL("http://localhost:8080/")}, ""},
		{"https remote", "acme", []Option{auth, WithBaseURL("https://proxy.example.com")}, ""},
		{"ftp", "acme", []Option{auth, WithBaseURL("ftp://127.0.0.1")}, "scheme"},
		{"userinfo", "acme", []Option{auth, WithBaseURL("https://u:p@example.com")}, "credentials in the URL"},
		{"rate", "acme", []Option{auth, WithRateLimit(0)}, "not positive"},
		{"page size", "acme", []Option{auth, WithPageSize(101)}, "between 1 and 100"},
		{"retries", "acme", []Option{auth, WithMaxRetries(-1)}, "negative"},
		{"nil http client", "acme", []Option{auth, WithHTTPClient(nil)}, "nil"},
		{"user agent newline", "acme", []Option{auth, WithUserAgent("a\nb")}, "user agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.subdomain, tt.opts...)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("NewClient: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestRedirectToPlainHTTPCarriesNoCredentials: a redirect from https to http on the same
// host must not send the credentials in clear text.
func TestRedirectToPlainHTTPCarriesNoCredentials(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", usersURL, func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(http.StatusFound, "")
		resp.Header.Set("Location", "http://example.zendesk.com/api/v2/users/1")
		return resp, nil
	})
	var leaked atomic.Value
	mock.RegisterResponder("GET", "http://example.zendesk.com/api/v2/users/1", func(r *http.Request) (*http.Response, error) {
		leaked.Store(r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{"user":{"id":1}}`), nil
	})
	_, _, _ = c.Users.Get(t.Context(), 1)
	if got, _ := leaked.Load().(string); got != "" {
		t.Errorf("redirect to plain http carried Authorization %q", got)
	}
}

// TestGrantErrorRedactsEveryField: a token endpoint that echoes the client secret or the
// current (rotated) refresh token in any field of its error must not leak it through
// the error, whichever error shape it uses.
func TestGrantErrorRedactsEveryField(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthRefreshToken(testClientID, testClientSecret, "refresh-initial-0"), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		var grants atomic.Int32
		mock.RegisterResponder("POST", tokenURL, func(r *http.Request) (*http.Response, error) {
			var body map[string]string
			_ = json.NewDecoder(r.Body).Decode(&body)
			if grants.Add(1) == 1 {
				return httpmock.NewJsonResponse(200, map[string]any{"access_token": "access-1", "expires_in": 120, "refresh_token": "refresh-rotated-1"})
			}
			echo := body["refresh_token"] + " / " + body["client_secret"]
			return httpmock.NewStringResponse(400, `{"errors":[{"code":"invalid_grant","title":"rejected `+echo+`","detail":"`+echo+`"}],`+
				`"details":{"refresh_token":[{"description":"`+echo+`"}]},"error":{"title":"`+echo+`"}}`), nil
		})
		mock.RegisterResponder("GET", usersURL, okUser)
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		_, _, err = c.Users.Get(t.Context(), 1)
		if err == nil {
			t.Fatal("want the refused grant's error")
		}
		var apiErr *APIError
		errors.As(err, &apiErr)
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", apiErr)} {
			for _, secret := range []string{testClientSecret, "refresh-rotated-1"} {
				if strings.Contains(s, secret) {
					t.Errorf("error leaks %q: %s", secret, s)
				}
			}
		}
	})
}

// oauthMockClient returns a client using the client-credentials grant against ts, on an
// httpmock transport, with the given extra options.
func oauthMockClient(t *testing.T, ts *tokenServer, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	base := []Option{WithHTTPClient(&http.Client{Transport: mock}), WithOAuthClientCredentials(testClientID, testClientSecret), WithRateLimit(60000)}
	c, err := NewClient("example", append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	mock.RegisterResponder("POST", tokenURL, ts.responder)
	mock.RegisterResponder("GET", "https://example.zendesk.com/api/v2/users/me", httpmock.NewStringResponder(200, `{"user":{"id":7,"name":"Me"}}`))
	return c, mock
}

// TestTokenRefreshHookMayCallTheClient: the hook runs after the token lock is released,
// so a hook that calls the client (here with context.Background, which used to block
// forever) completes at once.
func TestTokenRefreshHookMayCallTheClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c *Client
		var me *User
		var meErr error
		hook := func(tok *oauth2.Token) { me, _, meErr = c.Users.Me(context.Background()) }
		c, mock := oauthMockClient(t, &tokenServer{expiresIn: 7200}, WithTokenRefreshHook(hook))
		mock.RegisterResponder("GET", usersURL, okUser)
		start := time.Now()
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if meErr != nil || me == nil || me.ID != 7 {
			t.Errorf("the hook's Users.Me = %v, %v; want user 7", me, meErr)
		}
		// The token endpoint takes 10ms; nothing else may wait.
		if took := time.Since(start); took > time.Second {
			t.Errorf("the call with a hook that calls the client took %s", took)
		}
	})
}

// TestTokenRefreshHookOrder: a refresh made while the hook runs (here by the hook
// itself, through a 401 invalid_token) is delivered after the running call returns, in
// order, and neither call waits for the other.
func TestTokenRefreshHookOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var c *Client
		var hooked []string
		var nestedErr error
		revoked := map[string]bool{}
		var mu sync.Mutex
		hook := func(tok *oauth2.Token) {
			hooked = append(hooked, tok.AccessToken)
			if len(hooked) == 1 {
				mu.Lock()
				revoked[tok.AccessToken] = true
				mu.Unlock()
				_, _, nestedErr = c.Users.Get(context.Background(), 1)
			}
		}
		c, mock := oauthMockClient(t, &tokenServer{expiresIn: 7200}, WithTokenRefreshHook(hook))
		var seen []string
		mock.RegisterResponder("GET", usersURL, bearerChecker(func(s string) bool {
			mu.Lock()
			defer mu.Unlock()
			return !revoked[s]
		}, &seen, &sync.Mutex{}))
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if nestedErr != nil {
			t.Errorf("the hook's own call: %v", nestedErr)
		}
		if fmt.Sprint(hooked) != "[access-1 access-2]" {
			t.Errorf("hook saw %v, want [access-1 access-2]", hooked)
		}
	})
}

// TestTokenRefreshHookConcurrentRefreshes: while one goroutine's hook call is still
// running, another goroutine's refresh does not wait for it; its token is delivered
// after the running call, by the goroutine that runs the hook.
func TestTokenRefreshHookConcurrentRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		var mu sync.Mutex
		var hooked []string
		seen := func() string {
			mu.Lock()
			defer mu.Unlock()
			return fmt.Sprint(hooked)
		}
		hook := func(tok *oauth2.Token) {
			mu.Lock()
			hooked = append(hooked, tok.AccessToken)
			n := len(hooked)
			mu.Unlock()
			if n == 1 {
				<-unblock
			}
		}
		c, mock := oauthMockClient(t, &tokenServer{expiresIn: 600}, WithTokenRefreshHook(hook))
		mock.RegisterResponder("GET", usersURL, okUser)
		first := make(chan error, 1)
		go func() {
			_, _, err := c.Users.Get(t.Context(), 1)
			first <- err
		}()
		time.Sleep(10 * time.Minute) // the first token (600s, renewed a minute early) expires
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatalf("second call, while the first hook runs: %v", err)
		}
		if got := seen(); got != "[access-1]" {
			t.Errorf("hook saw %v before the first call returned, want [access-1]", got)
		}
		close(unblock)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if got := seen(); got != "[access-1 access-2]" {
			t.Errorf("hook saw %v, want [access-1 access-2]", got)
		}
	})
}

// TestTokenWaitHonoursContext: a caller waiting for another's token fetch, and the
// fetching caller itself, return when their context ends.
func TestTokenWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		mock := httpmock.NewMockTransport()
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthClientCredentials(testClientID, testClientSecret), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("POST", tokenURL, func(r *http.Request) (*http.Response, error) {
			<-release // the token endpoint hangs
			return httpmock.NewJsonResponse(200, map[string]any{"access_token": "access-1", "expires_in": 3600})
		})
		mock.RegisterResponder("GET", usersURL, okUser)

		fetchCtx, cancelFetch := context.WithCancel(t.Context())
		fetcher := make(chan error, 1)
		go func() {
			_, _, err := c.Users.Get(fetchCtx, 1)
			fetcher <- err
		}()
		synctest.Wait() // the fetcher holds the token lock

		waitCtx, cancelWait := context.WithTimeout(t.Context(), time.Second)
		defer cancelWait()
		start := time.Now()
		_, _, err = c.Users.Get(waitCtx, 1)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Errorf("waiter: err = %v after %s, want context.DeadlineExceeded after 1s", err, time.Since(start))
		}

		cancelFetch()
		if err := <-fetcher; !errors.Is(err, context.Canceled) {
			t.Errorf("fetcher: err = %v, want context.Canceled", err)
		}
		close(release)
	})
}
