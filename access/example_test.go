package access_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// newExampleBackend returns an in-memory backend with two users, a group
// and the agent role.
func newExampleBackend() *memaccess.Backend {
	b, err := memaccess.New(memaccess.Data{
		Account: "acme",
		ResourceTypes: []access.ResourceType{
			{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "role", DisplayName: "Role", Traits: []access.Trait{access.TraitRole}},
		},
		Resources: []access.Resource{
			access.NewResource("user:1", "Ann", access.Attributes{"email": "ann@example.com"}),
			access.NewResource("user:2", "Bob", access.Attributes{"email": "bob@example.com"}),
			access.NewResource("group:10", "Support", nil),
			access.NewResource("role:agent", "Agent", nil),
		},
		Entitlements: []access.Entitlement{
			access.NewEntitlement("group:10:member", "Member of Support", access.PurposeMembership, []string{"user"}, nil),
			access.NewEntitlement("role:agent:assigned", "Agent", access.PurposeAssignment, []string{"user"}, nil),
		},
		Grants: []access.Grant{
			access.NewGrant("group:10:member", "user:1", nil),
			access.NewGrant("role:agent:assigned", "user:1", nil),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// This example syncs a backend, grants an entitlement, syncs again and
// prints what changed.
func Example() {
	ctx := context.Background()
	b := newExampleBackend()
	opts := &access.SyncOptions{Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}

	before, err := access.Sync(ctx, b, opts)
	if err != nil {
		log.Fatal(err)
	}
	c := before.Counts()
	fmt.Printf("%d resources, %d entitlements, %d grants\n", c.Resources, c.Entitlements, c.Grants)

	req := access.GrantRequest{EntitlementID: "group:10:member", PrincipalID: "user:2"}
	res, err := b.Grant(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Grant.ID())
	res, err = b.Grant(ctx, req) // idempotent
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)

	after, err := access.Sync(ctx, b, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(access.Diff(before, after))
	// Output:
	// 4 resources, 2 entitlements, 2 grants
	// granted group:10:member@user:2
	// already_granted
	// + grant group:10:member@user:2
}

// Backends report what callers can fix with sentinel errors.
func Example_errors() {
	ctx := context.Background()
	b := newExampleBackend()
	for _, req := range []access.GrantRequest{
		{EntitlementID: "group:99:member", PrincipalID: "user:1"},
		{EntitlementID: "group:10:member", PrincipalID: "user:99"},
		{EntitlementID: "group:10:member", PrincipalID: "group:10"},
		{EntitlementID: "group 10", PrincipalID: "user:1"},
	} {
		_, err := b.Grant(ctx, req)
		switch {
		case errors.Is(err, access.ErrUnknownEntitlement):
			fmt.Println("unknown entitlement", req.EntitlementID)
		case errors.Is(err, access.ErrUnknownPrincipal):
			fmt.Println("unknown principal", req.PrincipalID)
		case errors.Is(err, access.ErrNotGrantable):
			fmt.Println("not grantable to", req.PrincipalID)
		case errors.Is(err, access.ErrMalformedID):
			var idErr *access.IDError
			errors.As(err, &idErr)
			fmt.Printf("malformed %s ID %q\n", idErr.Kind, idErr.ID)
		}
	}
	// Output:
	// unknown entitlement group:99:member
	// unknown principal user:99
	// not grantable to group:10
	// malformed entitlement ID "group 10"
}

// Snapshots are saved as canonical JSON and verified when loaded.
func ExampleSnapshot_WriteFile() {
	ctx := context.Background()
	snap, err := access.Sync(ctx, newExampleBackend(), nil)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "snapshot")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	name := dir + "/acme.json"
	if err := snap.WriteFile(name); err != nil {
		log.Fatal(err)
	}
	loaded, err := access.ReadFile(name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.Hash() == snap.Hash(), loaded.Provenance().Account)
	// Output: true acme
}

// Progress reports counts per stream while a sync runs.
func ExampleSyncOptions_progress() {
	b, err := memaccess.New(memaccess.Generate(5000, 10, 10))
	if err != nil {
		log.Fatal(err)
	}
	opts := &access.SyncOptions{
		ProgressEvery: 10000,
		Progress: func(p access.Progress) {
			if !p.Done {
				return
			}
			for _, s := range p.Streams {
				fmt.Printf("%-22s %5d resources %5d grants\n", s.Name, s.Resources, s.Grants)
			}
		},
	}
	if _, err := access.Sync(context.Background(), b, opts); err != nil {
		log.Fatal(err)
	}
	// Output:
	// group.grants               0 resources  5000 grants
	// group.resources           10 resources     0 grants
	// organization.grants        0 resources  5000 grants
	// organization.resources    10 resources     0 grants
	// role.grants                0 resources  5000 grants
	// role.resources             3 resources     0 grants
	// user.grants                0 resources     0 grants
	// user.resources          5000 resources     0 grants
}

// This example changes access through a System: ids are checked once, in
// their canonical spelling, and every result has one shape.
func ExampleSystem() {
	ctx := context.Background()
	sys, err := access.NewSystem(newExampleBackend())
	if err != nil {
		log.Fatal(err)
	}
	res, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: "group:10:member", PrincipalID: "user:2"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Grant.ID())

	// "user:02" would be a second spelling of user 2: refused, not looked up.
	_, err = sys.Revoke(ctx, access.RevokeRequest{EntitlementID: "group:10:member", PrincipalID: "user:02"})
	fmt.Println(errors.Is(err, access.ErrMalformedID))

	res, err = sys.Revoke(ctx, access.RevokeRequest{EntitlementID: "group:10:member", PrincipalID: "user:2"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Changed())
	// Output:
	// granted group:10:member@user:2
	// true
	// revoked true
}
