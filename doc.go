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
//     Grant), the Backend SPI, System (the portable layer callers change access
//     through: ids checked once, one result shape, partial changes reported),
//     Sync into a hashed, canonical Snapshot, and Diff.
//   - [github.com/zgov-io/zgov/access/zendeskaccess]: the Zendesk backend, which reads an
//     account with the fewest requests the API allows and grants and revokes access
//     idempotently, with explicit handling of single- and multi-organization accounts.
//   - [github.com/zgov-io/zgov/access/memaccess] and
//     [github.com/zgov-io/zgov/access/accesstest]: an in-memory backend and the
//     conformance suite every backend passes.
//   - [github.com/zgov-io/zgov/provision]: accounts (create, the
//     deprovisioning ladder, reactivate), guards (owner, last admin, the
//     credential's own user, protected principals, blast-radius caps), the
//     tamper-evident journal (in memory, or in a SQLite file or a PostgreSQL
//     database that outlives the process), day-one access by policy, plan
//     and apply, and time-bound grants that a worker revokes at expiry.
//   - [github.com/zgov-io/zgov/review]: user access review campaigns over a
//     snapshot (population evidence, scope, reviewers by rule with no
//     self-review, durable decisions with their history), revokes carried
//     out through provision and verified by re-reading Zendesk, drift, and
//     the evidence an auditor tests (Campaign.Export: CSV, JSON, a workbook,
//     an HTML report, and a manifest of their SHA-256 hashes with the
//     journal's verification), in the same database.
//
// A short tour, against the simulator's demo account (the package Example
// runs exactly this): take a snapshot, add agent 10000000003 to the Billing
// group (20000000002), take another and print the difference.
//
//	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer srv.Close()
//	cred := srv.Credentials()
//	client, err := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
//		zendesk.WithOAuthClientCredentials(cred.OAuthClientID, cred.OAuthClientSecret, "read", "write"))
//	if err != nil {
//		log.Fatal(err)
//	}
//	backend, err := zendeskaccess.New(client)
//	if err != nil {
//		log.Fatal(err)
//	}
//	sys, err := access.NewSystem(backend)
//	if err != nil {
//		log.Fatal(err)
//	}
//	before, err := sys.Sync(ctx, nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	res, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: "group:20000000002:member", PrincipalID: "user:10000000003"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Println(res.Status)
//	after, err := sys.Sync(ctx, nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	fmt.Print(access.Diff(before, after))
//	// Output:
//	// granted
//	// + grant group:20000000002:member@user:10000000003
//
// # Time-bound grants
//
// provision.TimeBound grants access for a while and takes it back when the
// time is up. Each grant's record and its expiry job are written in one
// transaction in the provision.Store's database (a SQLite file, or
// PostgreSQL for many workers) before the grant is made; the jobs run on
// River, and a worker (TimeBound.Run, in the process that grants or in any
// number of others, such as examples/jit-worker) revokes each grant at its
// expiry, once, even if the process that granted it died. Access the
// principal held before the grant (standing access) is kept. Grants
// expiring in the same second are revoked together, in bulk where Zendesk
// has bulk endpoints; every worker sweeps for grants past their expiry that
// a lost job missed; notices before an expiry and a failure hook let a
// platform offer an extension and page someone when a revoke fails for
// good; Extend moves the end and End ends a grant now. TimeBound.Marks,
// passed as access.SyncOptions.TimeBound, marks the open grants in a
// snapshot, and plans treat them as held until they end. The package
// documentation of provision has the details.
package zgov
