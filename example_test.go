package zgov_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The tour of the package documentation: against the simulator's demo
// account, take a snapshot, add agent Diego Fischer (user 10000000003) to the
// Billing group (20000000002), take another and print the difference.
func Example() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cred := srv.Credentials()
	client, err := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
		zendesk.WithOAuthClientCredentials(cred.OAuthClientID, cred.OAuthClientSecret, "read", "write"))
	if err != nil {
		log.Fatal(err)
	}
	backend, err := zendeskaccess.New(client)
	if err != nil {
		log.Fatal(err)
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		log.Fatal(err)
	}
	before, err := sys.Sync(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: "group:20000000002:member", PrincipalID: "user:10000000003"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)
	after, err := sys.Sync(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(access.Diff(before, after))
	// Output:
	// granted
	// + grant group:20000000002:member@user:10000000003
}
