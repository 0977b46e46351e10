package zendesktest_test

import (
	"net/http"
	"testing"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// TestClientUserRoles creates users of each role and reads them back.
func TestClientUserRoles(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 21, EndUsers: 3, Groups: 2}))
	c := newClient(t, srv)
	created := map[zendesk.Role]int64{}
	for _, role := range []zendesk.Role{zendesk.RoleEndUser, zendesk.RoleAgent, zendesk.RoleAdmin} {
		u, _, err := c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "New " + string(role), Email: string(role) + "@example.com", Role: role})
		must(t, err, "create "+string(role))
		if u.Role != role || !u.Active || u.Suspended {
			t.Errorf("created %s: role %s active %v suspended %v", role, u.Role, u.Active, u.Suspended)
		}
		created[role] = u.ID
	}
	admin, _, err := c.Users.Get(ctx(t), created[zendesk.RoleAdmin])
	must(t, err, "get admin")
	if admin.RoleType == nil || *admin.RoleType != 4 || admin.CustomRoleID != nil {
		t.Errorf("admin role_type %v custom_role_id %v, want 4 and null", admin.RoleType, admin.CustomRoleID)
	}
	agent, _, err := c.Users.Get(ctx(t), created[zendesk.RoleAgent])
	must(t, err, "get agent")
	if agent.RoleType != nil || agent.DefaultGroupID == nil || *agent.DefaultGroupID != 20000000001 {
		t.Errorf("agent role_type %v default group %v, want null and the default group", agent.RoleType, agent.DefaultGroupID)
	}

	agents, err := zendesk.Collect(c.Users.List(ctx(t), &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent, zendesk.RoleAdmin}}))
	must(t, err, "list staff")
	if got := ids(agents, userID); len(got) != 3 || got[0] != srv.OwnerID() {
		t.Errorf("staff = %v, want the owner, the new agent and the new admin", got)
	}

	// Downgrading an agent to end-user removes its group memberships.
	_, _, err = c.Users.Update(ctx(t), agent.ID, &zendesk.UpdateUserRequest{Role: zendesk.Ptr(zendesk.RoleEndUser)})
	must(t, err, "downgrade")
	gms, err := zendesk.Collect(c.GroupMemberships.ListByUser(ctx(t), agent.ID))
	must(t, err, "memberships of the downgraded agent")
	if len(gms) != 0 {
		t.Errorf("downgraded agent still has %d group memberships", len(gms))
	}
	// An invalid role is a typed 422.
	_, _, err = c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "X", Email: "x@example.com", Role: "superuser"})
	wantIs(t, err, zendesk.ErrInvalid)
}

// TestClientCustomRoles: custom roles are listed and assignable on
// Enterprise; on lower plans custom_role_id is a 422 and the list a 403.
func TestClientCustomRoles(t *testing.T) {
	t.Parallel()
	t.Run("enterprise", func(t *testing.T) {
		t.Parallel()
		srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 22, Agents: 4, CustomRoles: 3, Groups: 1}))
		c := newClient(t, srv)
		roles, err := zendesk.Collect(c.CustomRoles.List(ctx(t)))
		must(t, err, "list custom roles")
		if len(roles) != 3 {
			t.Fatalf("%d custom roles, want 3", len(roles))
		}
		role := roles[0]
		u, _, err := c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Staffer", Email: "staffer@example.com", Role: zendesk.RoleAgent, CustomRoleID: &role.ID})
		must(t, err, "create agent with a custom role")
		if u.CustomRoleID == nil || *u.CustomRoleID != role.ID || u.RoleType == nil || *u.RoleType != role.RoleType {
			t.Errorf("custom_role_id %v role_type %v, want %d and %d", u.CustomRoleID, u.RoleType, role.ID, role.RoleType)
		}
		got, _, err := c.CustomRoles.Get(ctx(t), role.ID)
		must(t, err, "get custom role")
		if got.Name != role.Name {
			t.Errorf("Get name %q, want %q", got.Name, role.Name)
		}
		byRole, err := zendesk.Collect(c.Users.List(ctx(t), &zendesk.UserListOptions{PermissionSet: role.ID}))
		must(t, err, "list by permission set")
		found := false
		for _, x := range byRole {
			found = found || x.ID == u.ID
			if x.CustomRoleID == nil || *x.CustomRoleID != role.ID {
				t.Errorf("user %d listed under permission set %d has custom role %v", x.ID, role.ID, x.CustomRoleID)
			}
		}
		if !found {
			t.Errorf("new agent %d not listed under permission set %d", u.ID, role.ID)
		}
		// Clearing the role makes a plain agent.
		u, _, err = c.Users.Update(ctx(t), u.ID, &zendesk.UpdateUserRequest{CustomRoleID: zendesk.ClearID()})
		must(t, err, "clear custom role")
		if u.CustomRoleID != nil || u.RoleType != nil {
			t.Errorf("after clearing: custom_role_id %v role_type %v, want null", u.CustomRoleID, u.RoleType)
		}
		// A role that does not exist is a 422.
		_, _, err = c.Users.Update(ctx(t), u.ID, &zendesk.UpdateUserRequest{CustomRoleID: zendesk.SetID(60000009999)})
		wantIs(t, err, zendesk.ErrInvalid)
	})
	for _, plan := range []zendesktest.Plan{zendesktest.PlanTeam, zendesktest.PlanProfessional} {
		t.Run(string(plan), func(t *testing.T) {
			t.Parallel()
			srv := startSim(t, zendesktest.WithPlan(plan))
			c := newClient(t, srv)
			_, err := zendesk.Collect(c.CustomRoles.List(ctx(t)))
			apiError(t, err, http.StatusForbidden)
			wantIs(t, err, zendesk.ErrForbidden)
			_, _, err = c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Staffer", Email: "staffer@example.com", Role: zendesk.RoleAgent, CustomRoleID: zendesk.Ptr(int64(60000000001))})
			ae := apiError(t, err, http.StatusUnprocessableEntity)
			if len(ae.Details["custom_role_id"]) == 0 {
				t.Errorf("422 without a custom_role_id detail: %v", err)
			}
			if _, ok := srv.UserByEmail("staffer@example.com"); ok {
				t.Error("the refused user was created")
			}
		})
	}
}

// TestClientSuspension: a suspended agent keeps its record (and seat) and
// cannot authenticate until unsuspended.
func TestClientSuspension(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	c := newClient(t, srv)
	id := addStaff(t, srv, "Sam Agent", "sam@example.com", zendesktest.RoleAgent)
	sam := newAuthClient(t, srv, zendesk.WithAPIToken("sam@example.com", srv.Credentials().APIToken))
	_, _, err := sam.Users.Me(ctx(t))
	must(t, err, "agent Me")

	u, _, err := c.Users.Suspend(ctx(t), id)
	must(t, err, "suspend")
	if !u.Suspended || !u.Active {
		t.Errorf("after suspend: suspended %v active %v", u.Suspended, u.Active)
	}
	_, _, err = sam.Users.Me(ctx(t))
	wantIs(t, err, zendesk.ErrUnauthorized)
	if got := srv.Counts().SeatsUsed; got != 2 {
		t.Errorf("seats used %d, want 2 (a suspended agent keeps its seat)", got)
	}

	u, _, err = c.Users.Unsuspend(ctx(t), id)
	must(t, err, "unsuspend")
	if u.Suspended {
		t.Error("still suspended")
	}
	_, _, err = sam.Users.Me(ctx(t))
	must(t, err, "Me after unsuspend")
}

// TestClientUserDeletion: soft delete, then permanent delete; a second
// permanent delete is a 422, and the user's email is freed.
func TestClientUserDeletion(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 23, EndUsers: 5, Organizations: 2, OrganizationMemberships: 3}))
	c := newClient(t, srv)
	id := addEndUser(t, srv, "Leaving User", "leaving@example.com")

	// Permanent deletion needs a soft deletion first.
	_, _, err := c.DeletedUsers.PermanentlyDelete(ctx(t), id)
	wantIs(t, err, zendesk.ErrNotFound)

	u, _, err := c.Users.Delete(ctx(t), id)
	must(t, err, "soft delete")
	if u.Active {
		t.Error("soft-deleted user is active")
	}
	u, _, err = c.Users.Get(ctx(t), id)
	must(t, err, "get soft-deleted user")
	if u.Active {
		t.Error("GET shows the soft-deleted user as active")
	}
	live, err := zendesk.Collect(c.Users.List(ctx(t), nil))
	must(t, err, "list")
	for _, x := range live {
		if x.ID == id {
			t.Error("soft-deleted user is listed")
		}
	}
	deleted, err := zendesk.Collect(c.DeletedUsers.List(ctx(t)))
	must(t, err, "list deleted users")
	if got := ids(deleted, userID); len(got) != 1 || got[0] != id {
		t.Errorf("deleted users %v, want [%d]", got, id)
	}
	// The email is free again.
	again, _, err := c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Returning User", Email: "leaving@example.com"})
	must(t, err, "reuse the email")
	if again.ID == id {
		t.Error("the new user has the deleted user's id")
	}

	purged, _, err := c.DeletedUsers.PermanentlyDelete(ctx(t), id)
	must(t, err, "permanent delete")
	if purged.ID != id {
		t.Errorf("purge answered user %d, want %d", purged.ID, id)
	}
	_, _, err = c.DeletedUsers.PermanentlyDelete(ctx(t), id)
	apiError(t, err, http.StatusUnprocessableEntity)
	wantIs(t, err, zendesk.ErrInvalid)
	_, _, err = c.Users.Get(ctx(t), id)
	wantIs(t, err, zendesk.ErrNotFound)
	if st, _ := srv.User(id); !st.PermanentlyDeleted || st.Email != "" {
		t.Errorf("simulator state: permanently deleted %v email %q", st.PermanentlyDeleted, st.Email)
	}
}

// TestClientOwnerProtection: the account owner cannot be deleted (403),
// suspended or downgraded (422).
func TestClientOwnerProtection(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	c := newClient(t, srv)
	owner := srv.OwnerID()
	_, _, err := c.Users.Delete(ctx(t), owner)
	apiError(t, err, http.StatusForbidden)
	wantIs(t, err, zendesk.ErrForbidden)

	_, _, err = c.Users.Suspend(ctx(t), owner)
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	if len(ae.Details["suspended"]) == 0 {
		t.Errorf("suspending the owner: no detail on suspended: %v", err)
	}
	_, _, err = c.Users.Update(ctx(t), owner, &zendesk.UpdateUserRequest{Role: zendesk.Ptr(zendesk.RoleAgent)})
	ae = apiError(t, err, http.StatusUnprocessableEntity)
	if len(ae.Details["role"]) == 0 {
		t.Errorf("downgrading the owner: no detail on role: %v", err)
	}
	u, _ := srv.User(owner)
	if !u.Active || u.Suspended || u.Role != zendesktest.RoleAdmin {
		t.Errorf("owner changed: active %v suspended %v role %s", u.Active, u.Suspended, u.Role)
	}
}

// TestClientAgentSeats: creating or promoting an agent past the seats is a
// 422 on role; end-users are not limited.
func TestClientAgentSeats(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAgentSeats(3), zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 24, EndUsers: 2, Agents: 1, Groups: 1}))
	c := newClient(t, srv)
	_, _, err := c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Third Seat", Email: "third@example.com", Role: zendesk.RoleAgent})
	must(t, err, "create the third agent")

	_, _, err = c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Fourth Seat", Email: "fourth@example.com", Role: zendesk.RoleAgent})
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	wantIs(t, err, zendesk.ErrInvalid)
	if len(ae.Details["role"]) == 0 {
		t.Errorf("no detail on role: %v", err)
	}
	if _, ok := srv.UserByEmail("fourth@example.com"); ok {
		t.Error("the refused agent was created")
	}
	eu, _, err := c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Customer", Email: "customer@example.com"})
	must(t, err, "end-users take no seat")
	_, _, err = c.Users.Update(ctx(t), eu.ID, &zendesk.UpdateUserRequest{Role: zendesk.Ptr(zendesk.RoleAgent)})
	wantIs(t, err, zendesk.ErrInvalid)

	// Freeing a seat (downgrading an agent) makes room.
	third, _ := srv.UserByEmail("third@example.com")
	_, _, err = c.Users.Update(ctx(t), third.ID, &zendesk.UpdateUserRequest{Role: zendesk.Ptr(zendesk.RoleEndUser)})
	must(t, err, "downgrade")
	_, _, err = c.Users.Update(ctx(t), eu.ID, &zendesk.UpdateUserRequest{Role: zendesk.Ptr(zendesk.RoleAgent)})
	must(t, err, "promote into the freed seat")
	if got := srv.Counts().SeatsUsed; got != 3 {
		t.Errorf("seats used %d, want 3", got)
	}
}

// TestClientCreateOrUpdate matches on email and on external id and reports
// whether it created.
func TestClientCreateOrUpdate(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	c := newClient(t, srv)

	u, created, _, err := c.Users.CreateOrUpdate(ctx(t), &zendesk.CreateUserRequest{Name: "Ann", Email: "ann@example.com"})
	must(t, err, "create by email")
	if !created {
		t.Error("first call: created = false")
	}
	again, created, _, err := c.Users.CreateOrUpdate(ctx(t), &zendesk.CreateUserRequest{Name: "Ann Lee", Email: "ANN@example.com"})
	must(t, err, "update by email")
	if created || again.ID != u.ID || again.Name != "Ann Lee" {
		t.Errorf("second call: created %v id %d name %q; want false, %d, Ann Lee", created, again.ID, again.Name, u.ID)
	}

	ext := "crm-42"
	v, created, _, err := c.Users.CreateOrUpdate(ctx(t), &zendesk.CreateUserRequest{Name: "Bob", ExternalID: &ext})
	must(t, err, "create by external id")
	if !created || v.ExternalID == nil || *v.ExternalID != ext {
		t.Errorf("created %v external id %v", created, v.ExternalID)
	}
	w, created, _, err := c.Users.CreateOrUpdate(ctx(t), &zendesk.CreateUserRequest{Name: "Bob Ray", ExternalID: &ext, Tags: []string{"vip"}})
	must(t, err, "update by external id")
	if created || w.ID != v.ID || w.Name != "Bob Ray" || len(w.Tags) != 1 {
		t.Errorf("created %v id %d name %q tags %v; want false, %d, Bob Ray, [vip]", created, w.ID, w.Name, w.Tags, v.ID)
	}
	byExt, err := zendesk.Collect(c.Users.List(ctx(t), &zendesk.UserListOptions{ExternalID: ext}))
	must(t, err, "list by external id")
	if len(byExt) != 1 || byExt[0].ID != v.ID {
		t.Errorf("list by external id = %v, want [%d]", ids(byExt, userID), v.ID)
	}
	found, err := c.Users.SearchByExternalID(ctx(t), ext)
	must(t, err, "search by external id")
	if len(found) != 1 || found[0].ID != v.ID {
		t.Errorf("search by external id = %v, want [%d]", ids(found, userID), v.ID)
	}
	if n := srv.Counts().EndUsers; n != 2 {
		t.Errorf("%d end-users, want 2", n)
	}

	// A plain create with a taken email is a duplicate.
	_, _, err = c.Users.Create(ctx(t), &zendesk.CreateUserRequest{Name: "Ann Again", Email: "ann@example.com"})
	wantIs(t, err, zendesk.ErrInvalid)
	if !zendesk.IsDuplicate(err) {
		t.Errorf("taken email: IsDuplicate false for %v", err)
	}
}
