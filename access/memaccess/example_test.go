package memaccess_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// With WithExclusive, a principal holds one entitlement per resource type,
// like a Zendesk user's organization on an account without multiple
// organizations: granting another one replaces it.
func ExampleWithExclusive() {
	ctx := context.Background()
	b, err := memaccess.New(memaccess.Generate(3, 1, 2), memaccess.WithExclusive("organization"))
	if err != nil {
		log.Fatal(err)
	}
	before, err := access.GrantsFor(ctx, b, "user:1")
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range before {
		fmt.Println("holds", g.ID())
	}
	res, err := b.Grant(ctx, access.GrantRequest{EntitlementID: "organization:1:member", PrincipalID: "user:1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Grant.ID())
	for _, g := range res.Replaced {
		fmt.Println("replaced", g.ID())
	}
	// Output:
	// holds group:1:member@user:1
	// holds organization:2:member@user:1
	// holds role:agent:assigned@user:1
	// granted organization:1:member@user:1
	// replaced organization:2:member@user:1
}

// Holders lists who holds an entitlement without a sync; with Zendesk's
// single built-in role (WithExclusive("role")), revoking the admin role
// leaves the agent role, as Zendesk does.
func ExampleBackend_Holders() {
	ctx := context.Background()
	b, err := memaccess.New(memaccess.Generate(6, 1, 1), memaccess.WithExclusive("role"))
	if err != nil {
		log.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		log.Fatal(err)
	}
	admins, err := sys.Holders(ctx, "role:admin:assigned")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("admins:", admins)
	res, err := sys.Revoke(ctx, access.RevokeRequest{EntitlementID: "role:admin:assigned", PrincipalID: admins[0]})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Grant.ID())
	for _, g := range res.Added {
		fmt.Println("left", g.ID())
	}
	if admins, err = sys.Holders(ctx, "role:admin:assigned"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("admins:", admins)
	// Output:
	// admins: [user:2 user:5]
	// revoked role:admin:assigned@user:2
	// left role:agent:assigned@user:2
	// admins: [user:5]
}
