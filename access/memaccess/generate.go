package memaccess

import (
	"strconv"

	"github.com/zgov-io/zgov/access"
)

// Resource types of the accounts Generate builds, shaped like Zendesk's.
var generatedTypes = []access.ResourceType{
	{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
	{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
	{ID: "organization", DisplayName: "Organization", Traits: []access.Trait{access.TraitOrganization}, IDSyntax: access.IDSyntaxPositiveInt},
	{ID: "role", DisplayName: "Role", Traits: []access.Trait{access.TraitRole}},
}

var generatedRoles = []string{"end-user", "agent", "admin"}

// Generate returns a deterministic account shaped like a Zendesk one, for
// benchmarks, demos and tests: the given numbers of users, groups and
// organizations (each at least 1), the built-in roles end-user, agent and
// admin, and exactly three grants per user: a role, an organization and a
// group. Use it with WithExclusive("organization", "role") to get Zendesk's
// single-organization, single-role behaviour.
func Generate(users, groups, organizations int) Data {
	users, groups, organizations = max(users, 1), max(groups, 1), max(organizations, 1)
	d := Data{
		Name:          "memory",
		Account:       "generated",
		Scope:         map[string]string{"users": "all"},
		ResourceTypes: generatedTypes,
		Resources:     make([]access.Resource, 0, users+groups+organizations+len(generatedRoles)),
		Entitlements:  make([]access.Entitlement, 0, groups+organizations+len(generatedRoles)),
		Grants:        make([]access.Grant, 0, 3*users),
	}
	for _, r := range generatedRoles {
		id := access.ResourceID("role", r)
		d.Resources = append(d.Resources, access.NewResource(id, r, nil))
		d.Entitlements = append(d.Entitlements, access.NewEntitlement(access.EntitlementID(id, "assigned"), "Role "+r, access.PurposeAssignment, []string{"user"}, nil))
	}
	for i := 1; i <= groups; i++ {
		id := access.ResourceID("group", strconv.Itoa(i))
		name := "Group " + strconv.Itoa(i)
		d.Resources = append(d.Resources, access.NewResource(id, name, nil))
		d.Entitlements = append(d.Entitlements, access.NewEntitlement(access.EntitlementID(id, "member"), "Member of "+name, access.PurposeMembership, []string{"user"}, nil))
	}
	for i := 1; i <= organizations; i++ {
		id := access.ResourceID("organization", strconv.Itoa(i))
		name := "Organization " + strconv.Itoa(i)
		d.Resources = append(d.Resources, access.NewResource(id, name, access.Attributes{"domain": "org" + strconv.Itoa(i) + ".example"}))
		d.Entitlements = append(d.Entitlements, access.NewEntitlement(access.EntitlementID(id, "member"), "Member of "+name, access.PurposeMembership, []string{"user"}, nil))
	}
	for i := 1; i <= users; i++ {
		n := strconv.Itoa(i)
		id := access.ResourceID("user", n)
		role := generatedRoles[i%len(generatedRoles)]
		d.Resources = append(d.Resources, access.NewResource(id, "User "+n, access.Attributes{
			"email":  "user" + n + "@example.com",
			"active": strconv.FormatBool(i%17 != 0),
			"role":   role,
		}))
		d.Grants = append(d.Grants,
			access.NewGrant(access.EntitlementID(access.ResourceID("role", role), "assigned"), id, nil),
			access.NewGrant(access.EntitlementID(access.ResourceID("organization", strconv.Itoa(1+i%organizations)), "member"), id, nil),
			access.NewGrant(access.EntitlementID(access.ResourceID("group", strconv.Itoa(1+i%groups)), "member"), id, access.Attributes{"default": "true"}),
		)
	}
	return d
}
