package zendeskaccess_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// holdersIn returns the principals holding eid in snap, sorted.
func holdersIn(snap *access.Snapshot, eid string) []string {
	out := []string{}
	for _, g := range snap.GrantsOf(eid) {
		out = append(out, g.PrincipalID())
	}
	return out
}

// TestHolders lists the holders of built-in and custom roles with one
// filtered user list each (one request per 100 holders), as a sync shows
// them: suspended admins included, end users outside a team-members scope
// (no request), and no filter for groups (ErrUnsupported, no request).
func TestHolders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := newServer(t, zendesktest.WithAccount(costSpec()))
	suspended, err := srv.AddUser(zendesktest.UserSpec{Name: "Sus", Email: "sus@example.com", Role: zendesktest.RoleAdmin, Suspended: true})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, srv)
	snap := sync(t, b)

	var customRole, group string
	for _, e := range snap.Entitlements() {
		switch ref, _ := access.ParseEntitlementID(e.ID()); {
		case ref.Resource.Type == zendeskaccess.TypeCustomRole && customRole == "" && len(snap.GrantsOf(e.ID())) > 0:
			customRole = e.ID()
		case ref.Resource.Type == zendeskaccess.TypeGroup && group == "":
			group = e.ID()
		}
	}
	if customRole == "" || group == "" {
		t.Fatal("the account has no custom role with holders, or no group")
	}
	for _, tc := range []struct {
		eid      string
		requests map[string]int
		err      error
	}{
		{roleE("admin"), map[string]int{"GET /api/v2/users": 1}, nil},
		{roleE("agent"), map[string]int{"GET /api/v2/users": 1}, nil},
		{roleE("end-user"), map[string]int{}, nil},
		{customRole, map[string]int{"GET /api/v2/users": 1}, nil},
		{group, map[string]int{}, access.ErrUnsupported},
		{"role:owner:assigned", map[string]int{}, access.ErrUnknownEntitlement},
		{"custom_role:999999:assigned", map[string]int{}, access.ErrUnknownEntitlement},
		{"custom_role:0999999:assigned", map[string]int{}, access.ErrMalformedID},
	} {
		srv.ResetStats()
		got, err := b.Holders(ctx, tc.eid)
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("Holders(%s) error = %v, want %v", tc.eid, err, tc.err)
		}
		if d := cmp.Diff(tc.requests, srv.Stats().Requests); d != "" {
			t.Errorf("Holders(%s): requests (-want +got):\n%s", tc.eid, d)
		}
		if err != nil {
			continue
		}
		slices.Sort(got)
		if d := cmp.Diff(holdersIn(snap, tc.eid), got); d != "" {
			t.Errorf("Holders(%s) disagrees with Sync (-sync +Holders):\n%s", tc.eid, d)
		}
		if tc.eid == roleE("admin") && !slices.Contains(got, uid(suspended.ID)) {
			t.Errorf("Holders(%s) leaves out the suspended admin", tc.eid)
		}
	}

	// All users: end users are listed too.
	all := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	allSnap := sync(t, all)
	got, err := all.Holders(ctx, roleE("end-user"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if d := cmp.Diff(holdersIn(allSnap, roleE("end-user")), got); d != "" || len(got) == 0 {
		t.Errorf("Holders(end-user) with all users disagrees with Sync (-sync +Holders):\n%s", d)
	}
}

// TestHoldersPages: 150 admins are two pages of GET /users?role=admin.
func TestHoldersPages(t *testing.T) {
	t.Parallel()
	srv := newServer(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 3, Admins: 149, Agents: 5, EndUsers: 5}), zendesktest.WithAgentSeats(1000))
	b := newBackend(t, srv)
	snap := sync(t, b)
	srv.ResetStats()
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sys.Holders(t.Context(), roleE("admin"))
	if err != nil {
		t.Fatal(err)
	}
	want := holdersIn(snap, roleE("admin"))
	if d := cmp.Diff(want, got); d != "" || len(want) != 150 {
		t.Errorf("%d admins; Holders disagrees with Sync (-sync +Holders):\n%s", len(want), d)
	}
	if n := srv.Stats().Requests["GET /api/v2/users"]; n != 2 {
		t.Errorf("%d requests for 150 admins, want 2", n)
	}
}

// TestRevokeRoleResult: Zendesk demotes a revoked admin to agent and a
// revoked agent to end user; the Result says what the revoke left and took
// besides the role, as a sync shows it.
func TestRevokeRoleResult(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := demo(t)
	b := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	var admin zendesktest.User
	for _, u := range liveUsers(srv, zendesktest.RoleAdmin) {
		if !u.Owner && !u.Suspended {
			admin = u
			break
		}
	}
	agent := agentWithCustomRole(t, srv)
	for _, tc := range []struct {
		u          zendesktest.User
		role, left string
	}{
		{admin, "admin", "agent"},
		{agent, "agent", "end-user"},
	} {
		before := sync(t, b)
		res, err := b.Revoke(ctx, access.RevokeRequest{EntitlementID: roleE(tc.role), PrincipalID: uid(tc.u.ID)})
		if err != nil || res.Status != access.StatusRevoked {
			t.Fatalf("revoke %s from %d: %+v, %v", tc.role, tc.u.ID, res, err)
		}
		after := sync(t, b)
		diff := access.Diff(before, after)
		var added, removed []string
		for _, g := range diff.AddedGrants {
			added = append(added, g.ID())
		}
		for _, g := range diff.RemovedGrants {
			if g.ID() != access.GrantID(roleE(tc.role), uid(tc.u.ID)) {
				removed = append(removed, g.ID())
			}
		}
		slices.Sort(added)
		slices.Sort(removed)
		if d := cmp.Diff([]string{access.GrantID(roleE(tc.left), uid(tc.u.ID))}, grantIDs(res.Added)); d != "" {
			t.Errorf("revoke %s: Result.Added (-want +got):\n%s", tc.role, d)
		}
		if d := cmp.Diff(added, grantIDs(res.Added)); d != "" {
			t.Errorf("revoke %s: Result.Added (-Diff.AddedGrants +Added):\n%s", tc.role, d)
		}
		if d := cmp.Diff(removed, grantIDs(res.Replaced)); d != "" {
			t.Errorf("revoke %s: Result.Replaced (-Diff.RemovedGrants +Replaced):\n%s", tc.role, d)
		}
		if tc.role == "agent" && len(res.Replaced) == 0 {
			t.Errorf("revoke agent from %d: nothing replaced; the custom role and groups go with it", tc.u.ID)
		}
		if u, _ := srv.User(tc.u.ID); string(u.Role) != tc.left {
			t.Errorf("revoke %s: the simulator shows %s, want %s", tc.role, u.Role, tc.left)
		}
		t.Logf("revoke %s: %s", tc.role, res.Note)
	}
}
