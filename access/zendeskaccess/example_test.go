package zendeskaccess_test

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

// Example syncs the simulator's demo account, then grants a group and
// shows that granting it again changes nothing.
func Example() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	b, err := zendeskaccess.New(client, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		log.Fatal(err)
	}

	snap, err := access.Sync(ctx, b, nil)
	if err != nil {
		log.Fatal(err)
	}
	perType := map[string]int{}
	for _, r := range snap.Resources() {
		perType[r.Type()]++
	}
	for _, rt := range snap.ResourceTypes() {
		fmt.Printf("%-12s %d\n", rt.ID, perType[rt.ID])
	}
	ownerID := fmt.Sprintf("user:%d", srv.OwnerID())
	owner, _ := snap.Resource(ownerID)
	fmt.Println(owner.DisplayName(), "owner:", owner.Attributes()["owner"])
	for _, g := range snap.GrantsFor(ownerID) {
		fmt.Println(" ", g.EntitlementID(), g.Attributes())
	}
	fmt.Println("requests:", snap.Provenance().Requests)

	req := access.GrantRequest{EntitlementID: "group:20000000005:member", PrincipalID: ownerID}
	for range 2 {
		res, err := b.Grant(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Status, res.Grant.ID())
	}
	// Output:
	// custom_role  2
	// group        5
	// organization 4
	// role         3
	// user         9
	// Account Owner owner: true
	//   group:20000000001:member map[default:true principal_suspended:false]
	//   group:20000000003:member map[default:false principal_suspended:false]
	//   role:admin:assigned map[principal_suspended:false]
	// requests: 6
	// granted group:20000000005:member@user:10000000001
	// already_granted group:20000000005:member@user:10000000001
}

// ExampleOrganizationMoveError shows the typed error a grant that would move
// a user out of their organization returns on an account without multiple
// organizations.
func ExampleOrganizationMoveError() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	b, err := zendeskaccess.New(client, zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeRefuse))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := srv.User(10000000002) // an end user in an organization
	_, err = b.Grant(ctx, access.GrantRequest{
		EntitlementID: fmt.Sprintf("organization:%d:member", u.OrganizationID+1),
		PrincipalID:   fmt.Sprintf("user:%d", u.ID),
	})
	var move *zendeskaccess.OrganizationMoveError
	if errors.As(err, &move) {
		fmt.Printf("refused: user %d stays in organization %d\n", move.UserID, move.From)
	}
	// Output:
	// refused: user 10000000002 stays in organization 30000000001
}
