package zendesktest_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// TestClientPathsWithAndWithoutJSON lists the same account through paths
// with and without ".json" and gets the same records; the pagination links
// the simulator builds from a ".json" request are followed as well.
func TestClientPathsWithAndWithoutJSON(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 3, EndUsers: 40, Agents: 5, Groups: 3, GroupMemberships: 8}))
	plain := newClient(t, srv, zendesk.WithPageSize(10))
	withJSON := newClient(t, srv, zendesk.WithPageSize(10), zendesk.WithHTTPClient(&http.Client{
		Transport: rewriteTransport{rewrite: func(p string) string {
			if strings.HasSuffix(p, ".json") {
				return p
			}
			return p + ".json"
		}},
	}))
	want, err := take(ctx(t), plain)
	must(t, err, "list without .json")
	srv.ResetStats()
	got, err := take(ctx(t), withJSON)
	must(t, err, "list with .json")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records differ with .json (-without +with):\n%s", diff)
	}
	if len(got.Users) != 46 {
		t.Errorf("listed %d users, want 46", len(got.Users))
	}
	for _, r := range srv.RequestLog() {
		if !strings.HasSuffix(r.Path, ".json") {
			t.Errorf("request %s %s has no .json", r.Method, r.Path)
		}
	}
	// Each id is read the same way through both forms.
	u, _, err := withJSON.Users.Get(ctx(t), want.Users[7].ID)
	must(t, err, "get with .json")
	if diff := cmp.Diff(&want.Users[7], u); diff != "" {
		t.Errorf("Get with .json (-want +got):\n%s", diff)
	}
}

// TestClientUnknownPathAndID: an unknown path answers 404 InvalidEndpoint and
// an unknown id 404 RecordNotFound; both are typed, not retried, and match
// ErrNotFound.
func TestClientUnknownPathAndID(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	c := newClient(t, srv)
	_, _, err := c.Users.Get(ctx(t), 10000009999)
	ae := apiError(t, err, http.StatusNotFound)
	if ae.Code != "RecordNotFound" || !zendesk.IsNotFound(err) {
		t.Errorf("unknown id: code %q, IsNotFound %v; want RecordNotFound, true", ae.Code, zendesk.IsNotFound(err))
	}
	// A group id where a user id is expected is unknown too (distinct id ranges).
	g, _, err := c.Groups.Get(ctx(t), 20000000001)
	must(t, err, "get default group")
	_, _, err = c.Users.Get(ctx(t), g.ID)
	wantIs(t, err, zendesk.ErrNotFound)

	misrouted := newClient(t, srv, zendesk.WithHTTPClient(&http.Client{
		Transport: rewriteTransport{rewrite: func(p string) string { return strings.Replace(p, "/groups", "/groupz", 1) }},
	}))
	before := misrouted.RequestCount()
	_, err = zendesk.Collect(misrouted.Groups.List(ctx(t)))
	ae = apiError(t, err, http.StatusNotFound)
	if ae.Code != "InvalidEndpoint" {
		t.Errorf("unknown path: code %q, want InvalidEndpoint", ae.Code)
	}
	if n := misrouted.RequestCount() - before; n != 1 {
		t.Errorf("unknown path sent %d requests, want 1 (a 404 is not retried)", n)
	}
	if n := requestsTo(srv, "GET (unknown)"); n != 1 {
		t.Errorf("simulator counted %d unknown-path requests, want 1", n)
	}
}

// TestClientAPIToken authenticates as the owner with an API token.
func TestClientAPIToken(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	c := newClient(t, srv)
	me, _, err := c.Users.Me(ctx(t))
	must(t, err, "Me")
	if me.ID != srv.OwnerID() || me.Role != zendesk.RoleAdmin || me.Email != srv.Credentials().AdminEmail {
		t.Errorf("Me = %d %s %s, want the owner %d admin %s", me.ID, me.Role, me.Email, srv.OwnerID(), srv.Credentials().AdminEmail)
	}
	if n := requestsTo(srv, "POST /oauth/tokens"); n != 0 {
		t.Errorf("API-token client asked for %d OAuth tokens", n)
	}
}

// TestClientWrongCredentials: a wrong API token, an unknown email, and a
// wrong OAuth client secret all end in a typed 401.
func TestClientWrongCredentials(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	cr := srv.Credentials()
	for name, auth := range map[string]zendesk.Option{
		"wrong token":   zendesk.WithAPIToken(cr.AdminEmail, "not-the-token"),
		"unknown email": zendesk.WithAPIToken("nobody@example.com", cr.APIToken),
	} {
		t.Run(name, func(t *testing.T) {
			c := newAuthClient(t, srv, auth)
			_, _, err := c.Users.Me(ctx(t))
			apiError(t, err, http.StatusUnauthorized)
			wantIs(t, err, zendesk.ErrUnauthorized)
			if n := c.RequestCount(); n != 1 {
				t.Errorf("sent %d requests, want 1 (a 401 is not retried)", n)
			}
		})
	}
	t.Run("wrong client secret", func(t *testing.T) {
		c := newAuthClient(t, srv, zendesk.WithOAuthClientCredentials(cr.OAuthClientID, "wrong-secret"))
		before := requestsTo(srv, "GET /api/v2/users/me")
		_, _, err := c.Users.Me(ctx(t))
		ae := apiError(t, err, http.StatusUnauthorized)
		wantIs(t, err, zendesk.ErrUnauthorized)
		if ae.Code != "invalid_client" {
			t.Errorf("code %q, want invalid_client", ae.Code)
		}
		if strings.Contains(err.Error(), cr.OAuthClientSecret) || strings.Contains(err.Error(), "wrong-secret") {
			t.Errorf("error shows the client secret: %v", err)
		}
		if n := requestsTo(srv, "GET /api/v2/users/me") - before; n != 0 {
			t.Errorf("%d API requests were sent without a token", n)
		}
	})
}

// TestClientOAuthClientCredentials: the client fetches one token for all
// concurrent callers, and after ExpireTokens it gets a 401 invalid_token,
// renews the token once and replays the request.
func TestClientOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 5, EndUsers: 10, Agents: 2, Groups: 2}))
	cr := srv.Credentials()
	c := newAuthClient(t, srv, zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret))

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, _, err := c.Users.Me(ctx(t))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "Me")
	}
	if n := requestsTo(srv, "POST /oauth/tokens"); n != 1 {
		t.Fatalf("%d token requests for 8 concurrent calls, want 1", n)
	}

	srv.ExpireTokens()
	srv.ResetStats()
	users, err := zendesk.Collect(c.Users.List(ctx(t), nil))
	must(t, err, "list after ExpireTokens")
	if len(users) != 13 {
		t.Errorf("listed %d users, want 13", len(users))
	}
	if n := requestsTo(srv, "POST /oauth/tokens"); n != 1 {
		t.Errorf("%d token requests after expiry, want 1", n)
	}
	if got, want := statuses(srv, "GET", "/api/v2/users"), []int{401, 200}; !cmp.Equal(got, want) {
		t.Errorf("statuses after expiry %v, want %v (one 401, one replay)", got, want)
	}
	if rl := c.RateLimit(); rl.Throttled != 0 {
		t.Errorf("client saw %d 429s", rl.Throttled)
	}
}

// TestClientOAuthTokenExpiry: tokens expire on the simulator's clock; the
// client, whose clock has not moved, learns it from the 401 and renews.
func TestClientOAuthTokenExpiry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv := startSim(t, zendesktest.WithClock(clock), zendesktest.WithTokenTTL(10*time.Minute))
	cr := srv.Credentials()
	var refreshes atomic.Int32
	c := newAuthClient(t, srv, zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret),
		zendesk.WithTokenRefreshHook(func(*oauth2.Token) { refreshes.Add(1) }))

	for round := 1; round <= 3; round++ {
		_, _, err := c.Users.Me(ctx(t))
		must(t, err, "Me")
		if n := refreshes.Load(); int(n) != round {
			t.Fatalf("round %d: %d tokens fetched, want %d", round, n, round)
		}
		_, _, err = c.Users.Me(ctx(t)) // still valid: no new token
		must(t, err, "Me")
		advance(11 * time.Minute)
	}
	if got := statuses(srv, "GET", "/api/v2/users/me"); !cmp.Equal(got, []int{200, 200, 401, 200, 200, 401, 200, 200}) {
		t.Errorf("statuses %v: want a single 401 and replay after each expiry", got)
	}
}

// TestClientOAuthRefreshToken: the refresh-token grant rotates the refresh
// token on every use; the client keeps the rotated one, so it can renew
// again after ExpireTokens (a stale refresh token would answer invalid_grant).
func TestClientOAuthRefreshToken(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	cr := srv.Credentials()

	// A client-credentials grant hands out the first refresh token.
	var first string
	boot := newAuthClient(t, srv, zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret),
		zendesk.WithTokenRefreshHook(func(tok *oauth2.Token) { first = tok.RefreshToken }))
	_, _, err := boot.Users.Me(ctx(t))
	must(t, err, "bootstrap")
	if first == "" {
		t.Fatal("the token answer had no refresh_token")
	}

	var mu sync.Mutex
	var seen []string
	c := newAuthClient(t, srv, zendesk.WithOAuthRefreshToken(cr.OAuthClientID, cr.OAuthClientSecret, first),
		zendesk.WithTokenRefreshHook(func(tok *oauth2.Token) { mu.Lock(); seen = append(seen, tok.RefreshToken); mu.Unlock() }))
	for i := range 3 {
		me, _, err := c.Users.Me(ctx(t))
		must(t, err, "Me")
		if me.ID != srv.OwnerID() {
			t.Errorf("Me = %d, want owner %d", me.ID, srv.OwnerID())
		}
		if i < 2 {
			srv.ExpireTokens()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Fatalf("%d refresh-token grants, want 3", len(seen))
	}
	for i, rt := range seen {
		if rt == "" || rt == first || (i > 0 && rt == seen[i-1]) {
			t.Errorf("grant %d: refresh token was not rotated", i)
		}
	}

	// The original refresh token was spent: a client still holding it fails
	// with a typed error.
	stale := newAuthClient(t, srv, zendesk.WithOAuthRefreshToken(cr.OAuthClientID, cr.OAuthClientSecret, first))
	_, _, err = stale.Users.Me(ctx(t))
	ae := apiError(t, err, http.StatusBadRequest)
	if ae.Code != "invalid_grant" {
		t.Errorf("stale refresh token: code %q, want invalid_grant", ae.Code)
	}
}

// TestClientRefusedGrantNotRetried is the regression test of a client bug:
// a token request refused with a 4xx (wrong client secret, spent refresh
// token) was treated as a transport error and retried with backoff (six
// grants and about five seconds with the default settings) before the 401
// came back. A refused grant is now final: one grant, no API request.
func TestClientRefusedGrantNotRetried(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	cr := srv.Credentials()
	for name, tc := range map[string]struct {
		auth   zendesk.Option
		status int
		code   string
	}{
		"invalid_client": {zendesk.WithOAuthClientCredentials(cr.OAuthClientID, "wrong-secret"), http.StatusUnauthorized, "invalid_client"},
		"invalid_grant":  {zendesk.WithOAuthRefreshToken(cr.OAuthClientID, cr.OAuthClientSecret, "spent-refresh-token"), http.StatusBadRequest, "invalid_grant"},
	} {
		t.Run(name, func(t *testing.T) {
			// Default retry settings: a retried grant would wait out real backoff.
			c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), tc.auth)
			must(t, err, "NewClient")
			before := requestsTo(srv, "POST /oauth/tokens")
			_, _, err = c.Users.Me(ctx(t))
			ae := apiError(t, err, tc.status)
			if ae.Code != tc.code {
				t.Errorf("code %q, want %q", ae.Code, tc.code)
			}
			if n := requestsTo(srv, "POST /oauth/tokens") - before; n != 1 {
				t.Errorf("%d grants, want 1 (a refused grant is not retried)", n)
			}
			if n := c.RequestCount(); n != 0 {
				t.Errorf("%d API requests sent without a token", n)
			}
		})
	}
}

// TestClientAgentPermissions: an agent may read and manage end-users but
// gets ErrForbidden for admin operations such as group memberships.
func TestClientAgentPermissions(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 9, EndUsers: 5, Groups: 2}))
	agentID := addStaff(t, srv, "Agent Smith", "smith@example.com", zendesktest.RoleAgent)
	other := addStaff(t, srv, "Agent Jones", "jones@example.com", zendesktest.RoleAgent)
	groups := srv.GroupMembershipsOf(other)
	if len(groups) != 1 {
		t.Fatalf("new agent has %d group memberships, want 1 (default group)", len(groups))
	}
	token, err := srv.IssueAccessToken("smith@example.com", "")
	must(t, err, "IssueAccessToken")

	for name, auth := range map[string]zendesk.Option{
		"api token": zendesk.WithAPIToken("smith@example.com", srv.Credentials().APIToken),
		"oauth":     zendesk.WithOAuthToken(token),
	} {
		t.Run(name, func(t *testing.T) {
			c := newAuthClient(t, srv, auth)
			me, _, err := c.Users.Me(ctx(t))
			must(t, err, "Me")
			if me.ID != agentID || me.Role != zendesk.RoleAgent {
				t.Fatalf("Me = %d %s, want agent %d", me.ID, me.Role, agentID)
			}
			_, err = zendesk.Collect(c.Users.List(ctx(t), nil))
			must(t, err, "agent lists users")

			before := c.RequestCount()
			_, _, err = c.GroupMemberships.Create(ctx(t), other, 20000000002)
			apiError(t, err, http.StatusForbidden)
			wantIs(t, err, zendesk.ErrForbidden)
			if n := c.RequestCount() - before; n != 1 {
				t.Errorf("a 403 was sent %d times, want 1", n)
			}
			_, err = c.GroupMemberships.Delete(ctx(t), groups[0].ID)
			wantIs(t, err, zendesk.ErrForbidden)
			_, _, err = c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Promoted", Email: "p-" + name[:3] + "@example.com", Role: zendesk.RoleAgent})
			wantIs(t, err, zendesk.ErrForbidden)
			// Agents may create end-users.
			_, _, err = c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Customer", Email: "c-" + name[:3] + "@example.com"})
			must(t, err, "agent creates an end-user")
		})
	}
	if got := srv.GroupMembershipsOf(other); len(got) != 1 {
		t.Errorf("agent %d has %d memberships after refused calls, want 1", other, len(got))
	}
}
