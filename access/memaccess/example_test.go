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
