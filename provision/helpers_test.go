package provision_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

// clock is the fixed time of every plan and snapshot in these tests.
var clock = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func now() time.Time { return clock }

// user describes an account of the test account.
type user struct {
	id, email, role, externalID string
	suspended                   bool
	grants                      []string // entitlement IDs besides the role
}

// account is a small Zendesk-shaped account: built-in roles, groups (1
// Support, the default; 2 Billing; 3 Tier 2; 4 VIP; 5 and 6 both named
// "Duplicate"), organizations (1 Acme, 2 Globex), custom roles (1 Staff, 2
// Team Leader) and users.
func account(users ...user) memaccess.Data {
	d := memaccess.Data{
		Name: "memory", Account: "acme",
		ResourceTypes: []access.ResourceType{
			{ID: "user", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "organization", Traits: []access.Trait{access.TraitOrganization}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "custom_role", Traits: []access.Trait{access.TraitRole}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "role", Traits: []access.Trait{access.TraitRole}},
		},
	}
	res := func(typ, id, name, slug string, purpose access.Purpose, attrs access.Attributes) {
		rid := access.ResourceID(typ, id)
		d.Resources = append(d.Resources, access.NewResource(rid, name, attrs))
		d.Entitlements = append(d.Entitlements, access.NewEntitlement(access.EntitlementID(rid, slug), name, purpose, []string{"user"}, nil))
	}
	for _, r := range []string{"end-user", "agent", "admin"} {
		res("role", r, r, "assigned", access.PurposeAssignment, nil)
	}
	for i, g := range []string{"Support", "Billing", "Tier 2", "VIP", "Duplicate", "duplicate"} {
		attrs := access.Attributes{"default": "false"}
		if i == 0 {
			attrs["default"] = "true"
		}
		res("group", itoa(i+1), g, "member", access.PurposeMembership, attrs)
	}
	for i, o := range []string{"Acme", "Globex"} {
		res("organization", itoa(i+1), o, "member", access.PurposeMembership, nil)
	}
	for i, c := range []string{"Staff", "Team Leader"} {
		res("custom_role", itoa(i+1), c, "assigned", access.PurposeAssignment, nil)
	}
	for _, u := range users {
		pid := "user:" + u.id
		attrs := access.Attributes{"email": u.email, "role": u.role, "suspended": "false"}
		if u.suspended {
			attrs["suspended"] = "true"
		}
		if u.externalID != "" {
			attrs["external_id"] = u.externalID
		}
		d.Resources = append(d.Resources, access.NewResource(pid, u.email, attrs))
		d.Grants = append(d.Grants, access.NewGrant("role:"+u.role+":assigned", pid, nil))
		for _, e := range u.grants {
			d.Grants = append(d.Grants, access.NewGrant(e, pid, nil))
		}
	}
	return d
}

func itoa(i int) string { return strconv.Itoa(i) }

// snapshotOf syncs d into a snapshot, with organizations exclusive unless
// multiOrg, and returns the backend's guard facts and object types.
func snapshotOf(t testing.TB, d memaccess.Data, multiOrg bool) (*access.Snapshot, access.GuardFacts, []string) {
	t.Helper()
	excl := []string{"role", "custom_role"}
	if !multiOrg {
		excl = append(excl, "organization")
	}
	b, err := memaccess.New(d, memaccess.WithExclusive(excl...))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := access.Sync(t.Context(), b, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.GuardFacts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ot, err := b.ObjectTypes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return snap, facts, ot
}

func table(t testing.TB, p *provision.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
