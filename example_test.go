package zgov_test

import (
	"context"
	"errors"
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

// govern is the README's "Governing access" sample.
func govern(ctx context.Context, client *zendesk.Client) error {
	backend, err := zendeskaccess.New(client,
		zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeRefuse)) // never move a user (see below)
	if err != nil {
		return err
	}
	sys, err := access.NewSystem(backend) // checks ids once; one result shape
	if err != nil {
		return err
	}
	before, err := sys.Sync(ctx, nil) // canonical, hashed snapshot
	if err != nil {
		return err
	}
	res, err := sys.Grant(ctx, access.GrantRequest{
		EntitlementID: "group:20000000002:member", PrincipalID: "user:10000000003",
	})
	var partial *access.PartialError
	if errors.As(err, &partial) {
		return err // it changed partial.Result.Added and .Replaced before failing: record them
	}
	if err != nil {
		return err // access.ErrMalformedID, ErrUnknownEntitlement, ErrNotGrantable, ...
	}
	fmt.Println(res.Status) // granted, or already_granted
	after, err := sys.Sync(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Print(access.Diff(before, after))
	return nil
}

// This example runs the README's "Governing access" sample against the
// simulator's demo account.
func Example_governing() {
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
	if err := govern(context.Background(), client); err != nil {
		log.Fatal(err)
	}
	// Output:
	// granted
	// + grant group:20000000002:member@user:10000000003
}
