package zendeskaccess_test

import (
	"strconv"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// TestExplicitStrategyReadsMembershipsKeptAfterSettingOff covers an account that
// once allowed multiple organizations: a user kept two memberships when the
// setting was turned off. The free single-organization sync sees only the
// default one; an explicit strategy reads the membership list and sees both.
func TestExplicitStrategyReadsMembershipsKeptAfterSettingOff(t *testing.T) {
	t.Parallel()
	srv := newServer(t, zendesktest.WithMultipleOrganizations(true))
	u, err := srv.AddUser(zendesktest.UserSpec{Name: "Kept", Email: "kept@example.com", Role: zendesktest.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	a, b := srv.AddOrganization("A"), srv.AddOrganization("B")
	for _, o := range []int64{a.ID, b.ID} {
		if _, err := srv.AddOrganizationMembership(u.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetMultipleOrganizations(false)
	principal := access.ResourceID(zendeskaccess.TypeUser, strconv.FormatInt(u.ID, 10))

	orgGrants := func(opts ...zendeskaccess.Option) int {
		t.Helper()
		snap, err := access.Sync(t.Context(), newBackend(t, srv, opts...), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range snap.GrantsFor(principal) {
			if ref, err := access.ParseGrantID(g.ID()); err == nil && ref.Entitlement.Resource.Type == zendeskaccess.TypeOrganization {
				n++
			}
		}
		return n
	}
	if got := orgGrants(); got != 1 {
		t.Errorf("default sync: %d organization grants, want 1 (organization_id only)", got)
	}
	for _, s := range []zendeskaccess.MembershipStrategy{zendeskaccess.StrategyAccountWide, zendeskaccess.StrategyPerUser} {
		if got := orgGrants(zendeskaccess.WithMembershipStrategy(s)); got != 2 {
			t.Errorf("%v: %d organization grants, want both kept memberships", s, got)
		}
	}
}
