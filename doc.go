// Package zgov is identity governance for Zendesk, as a Go library: it answers "who can
// do what in our Zendesk", changes that access safely, and produces the evidence an
// auditor accepts. IGA platforms embed it, scripts call it, other connectors wrap it.
//
// The packages stack, each importing only the ones below it:
//
//   - [github.com/zgov-io/zgov/zendesk]: a typed, rate-limited, OAuth-ready client for
//     the Zendesk Support API (users, groups, organizations, memberships, custom roles,
//     job statuses, account settings). No governance concepts.
//   - [github.com/zgov-io/zgov/zendesk/zendesktest]: a faithful, stateful Zendesk
//     simulator (like net/http/httptest) for tests, demos and benchmarks, with rate
//     limits and fault injection; cmd/zendesk-sim serves it on a loopback port.
//   - [github.com/zgov-io/zgov/access]: the portable model (Resource, Entitlement,
//     Grant), the Backend SPI, Sync into a hashed, canonical Snapshot, and Diff.
//   - [github.com/zgov-io/zgov/access/zendeskaccess]: the Zendesk backend, which reads an
//     account with the fewest requests the API allows and grants and revokes access
//     idempotently, with explicit handling of single- and multi-organization accounts.
//   - [github.com/zgov-io/zgov/access/memaccess] and
//     [github.com/zgov-io/zgov/access/accesstest]: an in-memory backend and the
//     conformance suite every backend passes.
//
// A short tour, against the simulator:
//
//	srv, _ := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
//	defer srv.Close()
//	cred := srv.Credentials()
//	client, _ := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
//		zendesk.WithOAuthClientCredentials(cred.OAuthClientID, cred.OAuthClientSecret, "read", "write"))
//	backend, _ := zendeskaccess.New(client)
//	before, _ := access.Sync(ctx, backend, nil)
//	_, _ = backend.Grant(ctx, access.GrantRequest{EntitlementID: "group:360001:member", PrincipalID: "user:42"})
//	after, _ := access.Sync(ctx, backend, nil)
//	fmt.Print(access.Diff(before, after))
//
// Provisioning (create-on-grant, deprovisioning ladder, just-in-time grants, plan/apply)
// and access reviews build on these packages in provision and review.
package zgov
