package zendeskaccess_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// costSpec is the seeded account of the cost tests: 1,000 users (80 team
// members), 50 groups, 200 organizations, 2,000 group and 3,000
// organization memberships.
func costSpec() zendesktest.AccountSpec {
	return zendesktest.AccountSpec{Seed: 7, EndUsers: 920, Agents: 60, Admins: 19, Groups: 50, Organizations: 200,
		GroupMemberships: 2000, OrganizationMemberships: 3000, CustomRoles: 5, Suspended: 10}
}

func pages(n int) int { return (n + 99) / 100 }

// teamWithOrg counts the team members who belong to an organization.
func teamWithOrg(srv *zendesktest.Server) int {
	k := 0
	for _, u := range liveUsers(srv, zendesktest.RoleAgent, zendesktest.RoleAdmin) {
		if u.OrganizationID != 0 {
			k++
		}
	}
	return k
}

// TestSyncCost checks that each collection is read by one cursor stream:
// the requests per endpoint are exactly the pages of each list plus the two
// fixed reads of Info, with no request per user or per group.
func TestSyncCost(t *testing.T) {
	t.Parallel()
	for _, scope := range []zendeskaccess.Scope{zendeskaccess.ScopeTeamMembers, zendeskaccess.ScopeAllUsers} {
		t.Run(scope.String(), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, zendesktest.WithAccount(costSpec()))
			b := newBackend(t, srv, zendeskaccess.WithScope(scope))
			c := srv.Counts()
			users := c.Agents + c.Admins
			if scope == zendeskaccess.ScopeAllUsers {
				users += c.EndUsers
			}
			srv.ResetStats()
			snap := sync(t, b)
			want := map[string]int{
				"GET /api/v2/account/settings":  1,
				"GET /api/v2/custom_roles":      1,
				"GET /api/v2/users":             pages(users),
				"GET /api/v2/groups":            pages(c.Groups),
				"GET /api/v2/group_memberships": pages(c.GroupMemberships),
				"GET /api/v2/organizations":     pages(c.Organizations),
			}
			st := srv.Stats()
			if d := cmp.Diff(want, st.Requests); d != "" {
				t.Errorf("requests per endpoint (-want +got):\n%s", d)
			}
			total := 0
			for _, n := range want {
				total += n
			}
			if got := snap.Provenance().Requests; got != int64(total) {
				t.Errorf("Provenance.Requests = %d, want %d", got, total)
			}
			t.Logf("%s: %d requests for %d users, %d groups, %d organizations, %d group and %d organization memberships: %v",
				scope, st.Total, users, c.Groups, c.Organizations, c.GroupMemberships, c.OrganizationMemberships, st.Requests)
			counts := snap.Counts()
			if counts.Resources == 0 || counts.Grants < c.GroupMemberships {
				t.Errorf("snapshot counts %+v, want at least %d grants", counts, c.GroupMemberships)
			}
		})
	}
}

// TestSyncCostMultipleOrganizations checks which organization membership
// lists each strategy reads, and that Auto picks the cheaper.
func TestSyncCostMultipleOrganizations(t *testing.T) {
	t.Parallel()
	const (
		accountWide = "GET /api/v2/organization_memberships"
		perUser     = "GET /api/v2/users/{id}/organization_memberships"
	)
	tests := []struct {
		name        string
		memberships int
		scope       zendeskaccess.Scope
		strategy    zendeskaccess.MembershipStrategy
		// want returns the expected account-wide and per-user requests from
		// the account-wide pages p and the team members with an
		// organization k.
		want func(p, k int) (int, int)
		// check makes sure the fixture exercises the intended case.
		check func(p, k int) bool
	}{
		{"AutoTeamPerUserCheaper", 3000, zendeskaccess.ScopeTeamMembers, zendeskaccess.StrategyAuto,
			// Reads k pages, learns from page k+1 that there are more, switches.
			func(p, k int) (int, int) { return k + 1, k },
			func(p, k int) bool { return k > 0 && p > k+1 }},
		{"AutoTeamAccountWideCheaper", 150, zendeskaccess.ScopeTeamMembers, zendeskaccess.StrategyAuto,
			func(p, k int) (int, int) { return p, 0 },
			func(p, k int) bool { return p <= k }},
		{"AutoAllUsers", 3000, zendeskaccess.ScopeAllUsers, zendeskaccess.StrategyAuto,
			func(p, k int) (int, int) { return p, 0 },
			func(p, k int) bool { return true }},
		{"AccountWide", 3000, zendeskaccess.ScopeTeamMembers, zendeskaccess.StrategyAccountWide,
			func(p, k int) (int, int) { return p, 0 },
			func(p, k int) bool { return true }},
		{"PerUser", 3000, zendeskaccess.ScopeTeamMembers, zendeskaccess.StrategyPerUser,
			func(p, k int) (int, int) { return 0, k },
			func(p, k int) bool { return k > 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := costSpec()
			spec.OrganizationMemberships = tc.memberships
			if tc.memberships < 1000 {
				spec.Agents, spec.Admins = 300, 50 // more team members, so more of them in organizations
			}
			srv := newServer(t, zendesktest.WithAccount(spec), zendesktest.WithMultipleOrganizations(true))
			c := srv.Counts()
			p, k := pages(c.OrganizationMemberships), teamWithOrg(srv)
			if !tc.check(p, k) {
				t.Fatalf("fixture does not exercise the case: %d pages of memberships, %d team members with an organization", p, k)
			}
			b := newBackend(t, srv, zendeskaccess.WithScope(tc.scope), zendeskaccess.WithMembershipStrategy(tc.strategy))
			srv.ResetStats()
			snap := sync(t, b)
			st := srv.Stats()
			wantWide, wantPerUser := tc.want(p, k)
			if got := st.Requests[accountWide]; got != wantWide {
				t.Errorf("%s: %d requests, want %d", accountWide, got, wantWide)
			}
			if got := st.Requests[perUser]; got != wantPerUser {
				t.Errorf("%s: %d requests, want %d", perUser, got, wantPerUser)
			}
			t.Logf("%d membership pages, %d team members with an organization: %d requests in all: %v", p, k, st.Total, st.Requests)

			// Every strategy yields the same snapshot.
			other := zendeskaccess.StrategyAccountWide
			if tc.strategy == other {
				other = zendeskaccess.StrategyPerUser
			}
			ref := sync(t, newBackend(t, srv, zendeskaccess.WithScope(tc.scope), zendeskaccess.WithMembershipStrategy(other)))
			if ref.Hash() != snap.Hash() {
				t.Errorf("strategies %s and %s disagree:\n%s", other, tc.strategy, access.Diff(ref, snap))
			}
		})
	}
}
