package zendeskaccess_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

func TestGroupGrantToEndUser(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	gs := groups(srv)
	group := gs[len(gs)-1].ID
	endUser := liveUsers(srv, zendesktest.RoleEndUser)[0].ID
	req := access.GrantRequest{EntitlementID: groupE(group), PrincipalID: uid(endUser)}

	b := newBackend(t, srv)
	_, err := b.Grant(t.Context(), req)
	var nae *zendeskaccess.NotAgentError
	if !errors.As(err, &nae) || !errors.Is(err, access.ErrNotGrantable) {
		t.Fatalf("Grant to an end user: error = %v, want *NotAgentError wrapping ErrNotGrantable", err)
	}
	if nae.UserID != endUser || nae.Role != zendesk.RoleEndUser {
		t.Errorf("NotAgentError = %+v", nae)
	}
	if n := writes(srv); n != 0 {
		t.Errorf("refused grant sent %d writes", n)
	}

	promoting := newBackend(t, srv, zendeskaccess.WithPromoteEndUsers(true), zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	before := sync(t, promoting)
	res, err := promoting.Grant(t.Context(), req)
	if err != nil || res.Status != access.StatusGranted {
		t.Fatalf("Grant with WithPromoteEndUsers = %+v, %v", res, err)
	}
	if u, _ := srv.User(endUser); u.Role != zendesktest.RoleAgent {
		t.Errorf("user role = %s, want agent", u.Role)
	}
	if d := cmp.Diff([]string{access.GrantID(roleE("end-user"), uid(endUser))}, grantIDs(res.Replaced)); d != "" {
		t.Errorf("Replaced (-want +got):\n%s", d)
	}
	after := sync(t, promoting)
	if _, ok := after.Grant(req.GrantID()); !ok {
		t.Errorf("sync lacks %s", req.GrantID())
	}
	var removed []string
	for _, g := range access.Diff(before, after).RemovedGrants {
		removed = append(removed, g.ID())
	}
	if d := cmp.Diff(grantIDs(res.Replaced), removed); d != "" {
		t.Errorf("removed grants (-Replaced +Diff):\n%s", d)
	}

	// An unknown group promotes nobody.
	other := liveUsers(srv, zendesktest.RoleEndUser)[0].ID
	_, err = promoting.Grant(t.Context(), access.GrantRequest{EntitlementID: groupE(groupBase + 999), PrincipalID: uid(other)})
	if !errors.Is(err, access.ErrUnknownEntitlement) {
		t.Errorf("Grant of an unknown group: error = %v, want ErrUnknownEntitlement", err)
	}
	if u, _ := srv.User(other); u.Role != zendesktest.RoleEndUser {
		t.Errorf("unknown group promoted user %d to %s", other, u.Role)
	}
}

// agentWithCustomRole returns a plain agent holding a custom role.
func agentWithCustomRole(t *testing.T, srv *zendesktest.Server) zendesktest.User {
	t.Helper()
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		if u.CustomRoleID != 0 && !u.Owner {
			return u
		}
	}
	t.Fatal("no agent with a custom role")
	return zendesktest.User{}
}

func TestRevokeCustomRole(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	u := agentWithCustomRole(t, srv)
	roles := []int64{60_000_000_001, 60_000_000_002}
	fallback := roles[0]
	if u.CustomRoleID == fallback {
		fallback = roles[1]
	}
	req := access.RevokeRequest{EntitlementID: customRoleE(u.CustomRoleID), PrincipalID: uid(u.ID)}

	_, err := newBackend(t, srv).Revoke(t.Context(), req)
	if !errors.Is(err, zendeskaccess.ErrNoFallbackRole) || !errors.Is(err, access.ErrNotGrantable) {
		t.Errorf("Revoke without a fallback: error = %v, want ErrNoFallbackRole", err)
	}

	b := newBackend(t, srv, zendeskaccess.WithCustomRoleFallback(fallback))
	res, err := b.Revoke(t.Context(), req)
	if err != nil || res.Status != access.StatusRevoked {
		t.Fatalf("Revoke = %+v, %v", res, err)
	}
	if got, _ := srv.User(u.ID); got.CustomRoleID != fallback || got.Role != zendesktest.RoleAgent {
		t.Errorf("after revoke: role %s custom role %d, want agent with fallback %d", got.Role, got.CustomRoleID, fallback)
	}
	if res, err := b.Revoke(t.Context(), req); err != nil || res.Status != access.StatusAlreadyRevoked {
		t.Errorf("second Revoke = %+v, %v; want already revoked", res, err)
	}
	_, err = b.Revoke(t.Context(), access.RevokeRequest{EntitlementID: customRoleE(fallback), PrincipalID: uid(u.ID)})
	if !errors.Is(err, access.ErrNotGrantable) {
		t.Errorf("Revoke of the fallback role: error = %v, want ErrNotGrantable", err)
	}

	// Granting a custom role replaces the one held.
	gres, err := b.Grant(t.Context(), access.GrantRequest(req))
	if err != nil || gres.Status != access.StatusGranted {
		t.Fatalf("Grant = %+v, %v", gres, err)
	}
	if d := cmp.Diff([]string{access.GrantID(customRoleE(fallback), uid(u.ID))}, grantIDs(gres.Replaced)); d != "" {
		t.Errorf("Replaced (-want +got):\n%s", d)
	}
	// Custom roles are for agents only.
	owner := srv.OwnerID()
	_, err = b.Grant(t.Context(), access.GrantRequest{EntitlementID: customRoleE(fallback), PrincipalID: uid(owner)})
	var nae *zendeskaccess.NotAgentError
	if !errors.As(err, &nae) || nae.Role != zendesk.RoleAdmin {
		t.Errorf("Grant of a custom role to an admin: error = %v, want *NotAgentError", err)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	var admin, agent zendesktest.User
	for _, u := range liveUsers(srv) {
		switch {
		case u.Role == zendesktest.RoleAdmin && !u.Owner && admin.ID == 0:
			admin = u
		case u.Role == zendesktest.RoleAgent && u.CustomRoleID != 0 && agent.ID == 0:
			agent = u
		}
	}
	b := newBackend(t, srv, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	ctx := t.Context()

	revoke := func(id int64, role string) access.RevokeResult {
		t.Helper()
		res, err := b.Revoke(ctx, access.RevokeRequest{EntitlementID: roleE(role), PrincipalID: uid(id)})
		if err != nil {
			t.Fatalf("Revoke(%s from %d): %v", role, id, err)
		}
		return res
	}
	if res := revoke(admin.ID, "admin"); res.Status != access.StatusRevoked {
		t.Errorf("revoke admin: %s", res.Status)
	}
	if u, _ := srv.User(admin.ID); u.Role != zendesktest.RoleAgent {
		t.Errorf("revoking admin left role %s, want agent", u.Role)
	}
	if res := revoke(admin.ID, "admin"); res.Status != access.StatusAlreadyRevoked {
		t.Errorf("second revoke admin: %s", res.Status)
	}

	if len(srv.GroupMembershipsOf(agent.ID)) == 0 {
		t.Fatal("agent has no group memberships")
	}
	if res := revoke(agent.ID, "agent"); res.Status != access.StatusRevoked {
		t.Errorf("revoke agent: %s", res.Status)
	}
	if u, _ := srv.User(agent.ID); u.Role != zendesktest.RoleEndUser || u.CustomRoleID != 0 {
		t.Errorf("revoking agent left role %s custom role %d, want end-user without one", u.Role, u.CustomRoleID)
	}
	_, err := b.Revoke(ctx, access.RevokeRequest{EntitlementID: roleE("end-user"), PrincipalID: uid(agent.ID)})
	if !errors.Is(err, access.ErrNotGrantable) {
		t.Errorf("revoke end-user: error = %v, want ErrNotGrantable", err)
	}

	// The owner stays an admin, refused before any request is sent.
	srv.ResetStats()
	_, err = b.Revoke(ctx, access.RevokeRequest{EntitlementID: roleE("admin"), PrincipalID: uid(srv.OwnerID())})
	if !errors.Is(err, access.ErrNotGrantable) || writes(srv) != 0 {
		t.Errorf("demoting the owner: error = %v, %d writes; want ErrNotGrantable and none", err, writes(srv))
	}

	// Granting a role replaces the role held, and what goes with it.
	all := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	admin2 := agentWithCustomRole(t, srv)
	before := sync(t, all)
	res, err := all.Grant(ctx, access.GrantRequest{EntitlementID: roleE("end-user"), PrincipalID: uid(admin2.ID)})
	if err != nil || res.Status != access.StatusGranted {
		t.Fatalf("Grant end-user = %+v, %v", res, err)
	}
	after := sync(t, all)
	var removed []string
	for _, g := range access.Diff(before, after).RemovedGrants {
		removed = append(removed, g.ID())
	}
	if d := cmp.Diff(removed, grantIDs(res.Replaced)); d != "" {
		t.Errorf("Replaced (-removed by the change +Replaced):\n%s", d)
	}
	if res, err := all.Grant(ctx, access.GrantRequest{EntitlementID: roleE("end-user"), PrincipalID: uid(admin2.ID)}); err != nil || res.Status != access.StatusAlreadyGranted {
		t.Errorf("second Grant = %+v, %v", res, err)
	}
}
