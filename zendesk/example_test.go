package zendesk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// Every example runs against the simulator in package zendesktest, seeded with its demo
// account; against Zendesk, pass the account's subdomain and leave out WithBaseURL.

// Example is the package documentation's code, run: a client authenticated with the
// OAuth client-credentials grant, one user, a filtered list, a membership, and the
// typed errors.
func Example() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	clientID, clientSecret := srv.Credentials().OAuthClientID, srv.Credentials().OAuthClientSecret
	ctx := context.Background()

	c, err := zendesk.NewClient("acme",
		zendesk.WithOAuthClientCredentials(clientID, clientSecret, "read", "write"),
		zendesk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	u, resp, err := c.Users.Get(ctx, 10000000003)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, u.Name, u.Role)

	for u, err := range c.Users.List(ctx, &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.Name)
	}

	userID, groupID := u.ID, int64(20000000005)
	for range 2 { // the second time, the membership exists
		_, _, err := c.GroupMemberships.Create(ctx, userID, groupID)
		switch {
		case zendesk.IsDuplicate(err):
			fmt.Println("already a member")
		case errors.Is(err, zendesk.ErrNotFound):
			fmt.Println("no such user or group")
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println("added to the group")
		}
		var rl *zendesk.RateLimitError
		if errors.As(err, &rl) {
			log.Printf("retry after %s", rl.RetryAfter)
		}
	}
	// Output:
	// 200 Diego Fischer agent
	// Diego Fischer
	// Ada Weber
	// Xavi Rossi
	// Uma Yilmaz
	// Sami Tanaka
	// Diego Weber
	// added to the group
	// already a member
}

// ExampleNewClient authenticates with the OAuth client-credentials grant: the client
// fetches a token on first use, shares it among concurrent calls and renews it before
// it expires.
func ExampleNewClient() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()

	c, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read", "write"),
		zendesk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	me, _, err := c.Users.Me(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Name, me.Role)
	// No rendering of a client shows its credentials.
	fmt.Println(strings.Contains(fmt.Sprintf("%v %+v %#v", c, c, c), cr.OAuthClientSecret))
	// Output:
	// Account Owner admin
	// false
}

// ExampleUsersService_List lists the account's agents and admins: a cursor-paginated
// list, read as an iterator that stops at the first error.
func ExampleUsersService_List() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read"),
		zendesk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	staff := &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent, zendesk.RoleAdmin}}
	for u, err := range c.Users.List(context.Background(), staff) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.ID, u.Name, u.Role)
	}
	// Output:
	// 10000000001 Account Owner admin
	// 10000000003 Diego Fischer agent
	// 10000000005 Ada Weber agent
	// 10000000009 Lena Berg admin
	// 10000000011 Xavi Rossi agent
	// 10000000017 Mateo Ito admin
	// 10000000019 Uma Yilmaz agent
	// 10000000027 Sami Tanaka agent
	// 10000000029 Diego Weber agent
}

// ExampleGroupMembershipsService_Create adds an agent to a group. Creating it again is
// refused as a duplicate, which IsDuplicate recognises: a caller that only wants the
// membership to exist treats that as success.
func ExampleGroupMembershipsService_Create() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read", "write"),
		zendesk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	group, _, err := c.Groups.Create(ctx, &zendesk.CreateGroupRequest{Name: "Escalations"})
	if err != nil {
		log.Fatal(err)
	}
	const agentID = 10000000003
	m, _, err := c.GroupMemberships.Create(ctx, agentID, group.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("member of", group.Name, "by membership", m.ID)

	_, _, err = c.GroupMemberships.Create(ctx, agentID, group.ID)
	fmt.Println("again: duplicate =", zendesk.IsDuplicate(err))
	var apiErr *zendesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// member of Escalations by membership 40000000015
	// again: duplicate = true
	// 422 RecordInvalid
}

// ExampleUsersService_CreateOrUpdateMany creates or updates several users in one
// background job and waits for it: each result says whether its user was created or
// updated, or why it failed. Zendesk ships accounts with bulk user imports disabled
// (403, ErrForbidden); this simulator has them enabled.
func ExampleUsersService_CreateOrUpdateMany() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()),
		zendesktest.WithBulkUserImports(true))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read", "write"),
		zendesk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	existing, _, err := c.Users.Get(ctx, 10000000003)
	if err != nil {
		log.Fatal(err)
	}
	job, _, err := c.Users.CreateOrUpdateMany(ctx, []zendesk.CreateUserRequest{
		{Name: existing.Name, Email: existing.Email, Tags: []string{"reviewed"}},
		{Name: "Nia Okafor", Email: "nia.okafor@example.com", ExternalID: zendesk.Ptr("hr-4711")},
		{Name: "", ExternalID: zendesk.Ptr("hr-4712")},
	})
	if err != nil {
		log.Fatal(err)
	}
	done, err := c.JobStatuses.Wait(ctx, job.ID, &zendesk.WaitOptions{PollInterval: 10 * time.Millisecond})
	var jobErr *zendesk.JobError
	if err != nil && !errors.As(err, &jobErr) {
		log.Fatal(err)
	}
	for _, r := range done.Results {
		if r.Failed() {
			fmt.Println("failed:", r)
			continue
		}
		fmt.Println(r.Status, r.ID)
	}
	// Output:
	// Updated 10000000003
	// Created 10000000030
	// failed: item 2 create: ValueTooShort: Name: is too short (minimum one character)
}

// ExampleAPIError reads what Zendesk said about a failed call: errors.As gives the
// status, Zendesk's error code and the request id to quote to Zendesk's support.
func ExampleAPIError() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read"),
		zendesk.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	_, _, err = c.Users.Get(context.Background(), 10000009999)
	var apiErr *zendesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.RequestID != "")
	}
	fmt.Println("not found:", errors.Is(err, zendesk.ErrNotFound))
	// Output:
	// 404 RecordNotFound true
	// not found: true
}

// ExampleRateLimitError shows an answer that asks the caller to wait. A 429, or a 503
// with a Retry-After, whose wait exceeds WithRetryAfterCap is not slept on: the call
// fails at once with a *RateLimitError, which carries the wait and unwraps to the
// *APIError. Here the simulator answers every request with 429 and Retry-After: 1, and
// the client's cap of zero never sleeps on a Retry-After.
func ExampleRateLimitError() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()),
		zendesktest.WithFaults(zendesktest.Faults{Rate: 1, Kinds: []zendesktest.FaultKind{zendesktest.Fault429Storm}}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain,
		zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read"),
		zendesk.WithBaseURL(srv.URL),
		zendesk.WithRetryAfterCap(0))
	if err != nil {
		log.Fatal(err)
	}

	_, _, err = c.Users.Me(context.Background())
	var rl *zendesk.RateLimitError
	if errors.As(err, &rl) {
		fmt.Println("rate limited; retry after", rl.RetryAfter)
	}
	var apiErr *zendesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status", apiErr.StatusCode)
	}
	fmt.Println("IsRateLimited:", zendesk.IsRateLimited(err))
	// Output:
	// rate limited; retry after 1s
	// status 429
	// IsRateLimited: true
}

// readOnlyClient is the README's OAuth sample.
func readOnlyClient(clientID, clientSecret, baseURL string) (*zendesk.Client, error) {
	client, err := zendesk.NewClient("acme",
		zendesk.WithOAuthClientCredentials(clientID, clientSecret, "read"), // or "read", "write"
		zendesk.WithBaseURL(baseURL))                                       // only for a simulator: leave out for https://acme.zendesk.com
	return client, err
}

// readme is the README's client sample.
func readme(ctx context.Context, clientID, clientSecret, baseURL string, userID, groupID int64) error {
	client, err := zendesk.NewClient("acme",
		zendesk.WithOAuthClientCredentials(clientID, clientSecret, "read", "write"),
		zendesk.WithBaseURL(baseURL)) // only for a simulator: leave out for https://acme.zendesk.com
	if err != nil {
		return err
	}
	for u, err := range client.Users.List(ctx, &zendesk.UserListOptions{
		Roles: []zendesk.Role{zendesk.RoleAgent, zendesk.RoleAdmin},
	}) {
		if err != nil {
			return err // *zendesk.APIError, *zendesk.RateLimitError, ctx.Err()...
		}
		fmt.Println(u.ID, u.Email, u.Role)
	}
	_, _, err = client.GroupMemberships.Create(ctx, userID, groupID)
	if zendesk.IsDuplicate(err) {
		// already a member
	}
	rl := client.RateLimit()                          // adopted from Zendesk's headers
	fmt.Println(rl.Limit, rl.Remaining, rl.Throttled) // per minute, left now, 429s seen
	return nil
}

// Example_readme runs the README's client samples against the simulator.
func Example_readme() {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	if _, err := readOnlyClient(cr.OAuthClientID, cr.OAuthClientSecret, srv.URL); err != nil {
		log.Fatal(err)
	}
	if err := readme(context.Background(), cr.OAuthClientID, cr.OAuthClientSecret, srv.URL, 10000000003, 20000000001); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 10000000001 owner@zgov-sim.example.com admin
	// 10000000003 diego.fischer.3@example.com agent
	// 10000000005 ada.weber.5@example.com agent
	// 10000000009 lena.berg.9@example.com admin
	// 10000000011 xavi.rossi.11@example.com agent
	// 10000000017 mateo.ito.17@example.com admin
	// 10000000019 uma.yilmaz.19@example.com agent
	// 10000000027 sami.tanaka.27@example.com agent
	// 10000000029 diego.weber.29@example.com agent
	// 700 698 0
}
