package zendeskaccess_test

import (
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/accesstest"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// groupChange returns a group grant the demo account lacks (an agent and a
// group they are not in) and a non-default group membership it has.
func groupChange(t *testing.T, srv *zendesktest.Server) (access.GrantRequest, access.RevokeRequest) {
	t.Helper()
	var grant access.GrantRequest
	var revoke access.RevokeRequest
	gs := groups(srv)
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		in := map[int64]bool{}
		for _, m := range srv.GroupMembershipsOf(u.ID) {
			in[m.GroupID] = true
			if !m.Default && revoke.EntitlementID == "" {
				revoke = access.RevokeRequest{EntitlementID: groupE(m.GroupID), PrincipalID: uid(u.ID)}
			}
		}
		for _, g := range gs {
			if !in[g.ID] && !g.Deleted && grant.EntitlementID == "" {
				grant = access.GrantRequest{EntitlementID: groupE(g.ID), PrincipalID: uid(u.ID)}
			}
		}
	}
	if grant.EntitlementID == "" || revoke.EntitlementID == "" {
		t.Fatal("demo account has no group grant to add or remove")
	}
	return grant, revoke
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name    string
		srvOpts []zendesktest.Option
		opts    []zendeskaccess.Option
	}{
		{"TeamMembersSingleOrganization", nil, nil},
		{"AllUsersMultipleOrganizations",
			[]zendesktest.Option{zendesktest.WithMultipleOrganizations(true)},
			[]zendeskaccess.Option{zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithCustomRoleFallback(60_000_000_001)}},
		{"TeamMembersMultipleOrganizationsPerUser",
			[]zendesktest.Option{zendesktest.WithMultipleOrganizations(true)},
			[]zendeskaccess.Option{zendeskaccess.WithMembershipStrategy(zendeskaccess.StrategyPerUser), zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeMultiple)}},
		{"Professional", []zendesktest.Option{zendesktest.WithPlan(zendesktest.PlanProfessional), zendesktest.WithAccount(noCustomRoles())}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			grant, revoke := groupChange(t, demo(t, tc.srvOpts...))
			accesstest.Run(t, accesstest.Harness{
				NewBackend: func(t *testing.T) access.Backend {
					return newBackend(t, demo(t, tc.srvOpts...), tc.opts...)
				},
				Grant:  grant,
				Revoke: revoke,
			})
		})
	}
}
