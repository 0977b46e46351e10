package zendesktest_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// fastWait polls jobs quickly.
var fastWait = &zendesk.WaitOptions{PollInterval: 2 * time.Millisecond, MaxPollInterval: 10 * time.Millisecond}

// TestClientGroupMemberships: agents only, duplicates detectable, delete by
// membership id, make default, default promotion.
func TestClientGroupMemberships(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 31, EndUsers: 3, Groups: 3}))
	c := newClient(t, srv)
	agent := addStaff(t, srv, "Gina Agent", "gina@example.com", zendesktest.RoleAgent)
	endUser := addEndUser(t, srv, "Eve Customer", "eve@example.com")
	billing, _, err := c.Groups.Create(ctx(t), &zendesk.CreateGroupRequest{Name: "Billing Team"})
	must(t, err, "create group")

	_, _, err = c.GroupMemberships.Create(ctx(t), endUser, billing.ID)
	apiError(t, err, http.StatusUnprocessableEntity)
	wantIs(t, err, zendesk.ErrInvalid)
	if zendesk.IsDuplicate(err) {
		t.Errorf("an end-user membership is reported as a duplicate: %v", err)
	}

	m, _, err := c.GroupMemberships.Create(ctx(t), agent, billing.ID)
	must(t, err, "add agent to group")
	if m.UserID != agent || m.GroupID != billing.ID || m.Default {
		t.Errorf("membership %+v: want user %d group %d, not default", m, agent, billing.ID)
	}
	_, _, err = c.GroupMemberships.Create(ctx(t), agent, billing.ID)
	if !zendesk.IsDuplicate(err) {
		t.Fatalf("second add: %v, want IsDuplicate", err)
	}

	mine, err := zendesk.Collect(c.GroupMemberships.ListByUser(ctx(t), agent))
	must(t, err, "list by user")
	if len(mine) != 2 || !mine[0].Default || mine[0].GroupID != 20000000001 {
		t.Fatalf("agent's memberships %+v: want the default group (default) and Billing", mine)
	}
	all, _, err := c.GroupMemberships.MakeDefault(ctx(t), agent, m.ID)
	must(t, err, "make default")
	for _, x := range all {
		if x.Default != (x.ID == m.ID) {
			t.Errorf("after make default, membership %d default=%v", x.ID, x.Default)
		}
	}
	u, _, err := c.Users.Get(ctx(t), agent)
	must(t, err, "get agent")
	if u.DefaultGroupID == nil || *u.DefaultGroupID != billing.ID {
		t.Errorf("default_group_id %v, want %d", u.DefaultGroupID, billing.ID)
	}
	inGroup, err := zendesk.Collect(c.GroupMemberships.ListByGroup(ctx(t), billing.ID))
	must(t, err, "list by group")
	if len(inGroup) != 1 || inGroup[0].ID != m.ID {
		t.Errorf("Billing's memberships %v, want [%d]", ids(inGroup, gmID), m.ID)
	}
	if n, _, err := c.Groups.CountUsers(ctx(t), billing.ID); err != nil || n.Value != 1 || n.RefreshedAt == nil {
		t.Errorf("Groups.CountUsers(Billing) = %+v, %v; want 1, refreshed", n, err)
	}

	// Deleting the default membership promotes the remaining one.
	_, err = c.GroupMemberships.Delete(ctx(t), m.ID)
	must(t, err, "delete membership")
	_, _, err = c.GroupMemberships.Get(ctx(t), m.ID)
	wantIs(t, err, zendesk.ErrNotFound)
	_, err = c.GroupMemberships.Delete(ctx(t), m.ID)
	wantIs(t, err, zendesk.ErrNotFound)
	mine, err = zendesk.Collect(c.GroupMemberships.ListByUser(ctx(t), agent))
	must(t, err, "list by user")
	if len(mine) != 1 || !mine[0].Default {
		t.Errorf("after deleting the default: %+v, want one default membership", mine)
	}
	u, _, err = c.Users.Get(ctx(t), agent)
	must(t, err, "get agent")
	if u.DefaultGroupID == nil || *u.DefaultGroupID != 20000000001 {
		t.Errorf("default_group_id %v, want the promoted 20000000001", u.DefaultGroupID)
	}

	// Unknown ids in the body are 422, not 404.
	_, _, err = c.GroupMemberships.Create(ctx(t), agent, 20000009999)
	wantIs(t, err, zendesk.ErrInvalid)
}

// TestClientGroupMembershipJobs: create_many and destroy_many run as jobs;
// Wait returns per-item results and a *JobError naming the failed items.
func TestClientGroupMembershipJobs(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithJobDelay(2*time.Millisecond), zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 32, Groups: 4}))
	c := newClient(t, srv)
	a := addStaff(t, srv, "Agent A", "a@example.com", zendesktest.RoleAgent)
	b := addStaff(t, srv, "Agent B", "b@example.com", zendesktest.RoleAgent)
	eu := addEndUser(t, srv, "End User", "eu@example.com")
	const g2, g3 = 20000000002, 20000000003

	job, _, err := c.GroupMemberships.CreateMany(ctx(t), []zendesk.GroupMembershipPair{{UserID: a, GroupID: g2}, {UserID: b, GroupID: g2}, {UserID: a, GroupID: g3}})
	must(t, err, "create_many")
	if job.ID == "" {
		t.Fatal("no job id")
	}
	done, err := c.JobStatuses.Wait(ctx(t), job.ID, fastWait)
	must(t, err, "wait for create_many")
	if done.Status != zendesk.JobStatusCompleted || len(done.Results) != 3 {
		t.Fatalf("job %s with %d results, want completed with 3", done.Status, len(done.Results))
	}
	var created []int64
	for i, r := range done.Results {
		if r.Index == nil || *r.Index != i || r.ID == 0 {
			t.Errorf("result %d: %+v, want index %d and an id", i, r, i)
		}
		created = append(created, r.ID)
	}
	if got := len(srv.GroupMembershipsOf(a)); got != 3 {
		t.Errorf("agent a has %d memberships, want 3", got)
	}

	// One failing item (an end-user) and one duplicate fail; the rest succeed.
	job, _, err = c.GroupMemberships.CreateMany(ctx(t), []zendesk.GroupMembershipPair{{UserID: b, GroupID: g3}, {UserID: eu, GroupID: g3}, {UserID: a, GroupID: g2}})
	must(t, err, "create_many with failures")
	done, err = c.JobStatuses.Wait(ctx(t), job.ID, fastWait)
	var je *zendesk.JobError
	if !errors.As(err, &je) {
		t.Fatalf("Wait: %v, want a *JobError", err)
	}
	if je.Status != zendesk.JobStatusCompleted || len(je.Failed) != 2 || *je.Failed[0].Index != 1 || *je.Failed[1].Index != 2 {
		t.Errorf("JobError %+v: want items 1 and 2 failed", je)
	}
	if done == nil || len(done.Results) != 3 {
		t.Fatalf("Wait returned %+v, want the final status with 3 results", done)
	}
	// Create results are {id, index}: success is implied by the id.
	if r := done.Results[0]; r.ID == 0 || r.Error != "" || (r.Success != nil && !*r.Success) {
		t.Errorf("item 0: %+v, want a created id", r)
	}

	job, _, err = c.GroupMemberships.DestroyMany(ctx(t), append(created[:2:2], 40000009999))
	must(t, err, "destroy_many")
	done, err = c.JobStatuses.Wait(ctx(t), job.ID, fastWait)
	if !errors.As(err, &je) || len(je.Failed) != 1 || je.Failed[0].ID != 40000009999 {
		t.Fatalf("destroy_many with an unknown id: %v, want a *JobError for 40000009999", err)
	}
	for _, r := range done.Results[:2] {
		if r.Success == nil || !*r.Success || r.Action == "" {
			t.Errorf("destroy result %+v, want success with an action", r)
		}
	}
	for _, id := range created[:2] {
		if _, _, err := c.GroupMemberships.Get(ctx(t), id); !zendesk.IsNotFound(err) {
			t.Errorf("membership %d after destroy_many: %v, want not found", id, err)
		}
	}
	jobs, err := zendesk.Collect(c.JobStatuses.List(ctx(t)))
	must(t, err, "list jobs")
	if len(jobs) != 3 {
		t.Errorf("%d jobs listed, want 3", len(jobs))
	}
}

// TestClientOrganizationsSingle: with multiple organizations off, a second
// organization replaces the first (or, in RefuseMembership mode, is a 422).
func TestClientOrganizationsSingle(t *testing.T) {
	t.Parallel()
	for _, mode := range []zendesktest.SingleOrgMode{zendesktest.ReplaceMembership, zendesktest.RefuseMembership} {
		name := map[zendesktest.SingleOrgMode]string{zendesktest.ReplaceMembership: "replace", zendesktest.RefuseMembership: "refuse"}[mode]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startSim(t, zendesktest.WithPlan(zendesktest.PlanProfessional), zendesktest.WithSingleOrganizationMode(mode))
			c := newClient(t, srv)
			settings, _, err := c.Account.Settings(ctx(t))
			must(t, err, "settings")
			if settings.User.MultipleOrganizations {
				t.Fatal("multiple_organizations is on")
			}
			user := addEndUser(t, srv, "Olga", "olga@example.com")
			first, _, err := c.Organizations.Create(ctx(t), &zendesk.CreateOrganizationRequest{Name: "First Org"})
			must(t, err, "create org")
			second, _, err := c.Organizations.Create(ctx(t), &zendesk.CreateOrganizationRequest{Name: "Second Org"})
			must(t, err, "create org")
			m1, _, err := c.OrganizationMemberships.Create(ctx(t), user, first.ID)
			must(t, err, "first membership")
			if !m1.Default {
				t.Error("the first membership is not the default")
			}
			_, _, err = c.OrganizationMemberships.Create(ctx(t), user, first.ID)
			apiError(t, err, http.StatusUnprocessableEntity)
			if !zendesk.IsDuplicate(err) {
				t.Errorf("duplicate organization membership: IsDuplicate false for %v", err)
			}

			m2, _, err := c.OrganizationMemberships.Create(ctx(t), user, second.ID)
			mine, lerr := zendesk.Collect(c.OrganizationMemberships.ListByUser(ctx(t), user))
			must(t, lerr, "list by user")
			u, _, gerr := c.Users.Get(ctx(t), user)
			must(t, gerr, "get user")
			switch mode {
			case zendesktest.ReplaceMembership:
				must(t, err, "second membership")
				if len(mine) != 1 || mine[0].ID != m2.ID || !mine[0].Default {
					t.Errorf("memberships %+v, want only the second, as default", mine)
				}
				if u.OrganizationID == nil || *u.OrganizationID != second.ID {
					t.Errorf("organization_id %v, want %d", u.OrganizationID, second.ID)
				}
			case zendesktest.RefuseMembership:
				apiError(t, err, http.StatusUnprocessableEntity)
				wantIs(t, err, zendesk.ErrInvalid)
				if len(mine) != 1 || mine[0].ID != m1.ID {
					t.Errorf("memberships %+v, want only the first", mine)
				}
				if u.OrganizationID == nil || *u.OrganizationID != first.ID {
					t.Errorf("organization_id %v, want %d", u.OrganizationID, first.ID)
				}
			}
		})
	}
}

// TestClientOrganizationsMultiple: with multiple organizations on, a user
// may join up to 300; removing the default promotes another; Unassign and
// bulk jobs work.
func TestClientOrganizationsMultiple(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithMultipleOrganizations(true), zendesktest.WithJobDelay(time.Millisecond))
	c := newClient(t, srv)
	settings, _, err := c.Account.Settings(ctx(t))
	must(t, err, "settings")
	if !settings.User.MultipleOrganizations {
		t.Fatal("multiple_organizations is off")
	}
	user := addEndUser(t, srv, "Mo", "mo@example.com")
	var orgs []int64
	for i := range 3 {
		o, _, err := c.Organizations.Create(ctx(t), &zendesk.CreateOrganizationRequest{Name: "Org " + string(rune('A'+i))})
		must(t, err, "create org")
		orgs = append(orgs, o.ID)
	}
	var ms []*zendesk.OrganizationMembership
	for _, o := range orgs {
		m, _, err := c.OrganizationMemberships.Create(ctx(t), user, o)
		must(t, err, "add membership")
		ms = append(ms, m)
	}
	if !ms[0].Default || ms[1].Default || ms[2].Default {
		t.Errorf("defaults %v %v %v, want only the first", ms[0].Default, ms[1].Default, ms[2].Default)
	}
	_, _, err = c.OrganizationMemberships.Create(ctx(t), user, orgs[1])
	if !zendesk.IsDuplicate(err) {
		t.Errorf("duplicate: %v, want IsDuplicate", err)
	}

	// Remove the default: the oldest remaining membership is promoted.
	_, err = c.OrganizationMemberships.Delete(ctx(t), ms[0].ID)
	must(t, err, "delete the default membership")
	mine, err := zendesk.Collect(c.OrganizationMemberships.ListByUser(ctx(t), user))
	must(t, err, "list by user")
	if len(mine) != 2 || mine[0].ID != ms[1].ID || !mine[0].Default || mine[1].Default {
		t.Errorf("after deleting the default: %+v, want %d promoted", mine, ms[1].ID)
	}
	u, _, err := c.Users.Get(ctx(t), user)
	must(t, err, "get user")
	if u.OrganizationID == nil || *u.OrganizationID != orgs[1] {
		t.Errorf("organization_id %v, want %d", u.OrganizationID, orgs[1])
	}
	all, _, err := c.OrganizationMemberships.MakeDefault(ctx(t), user, ms[2].ID)
	must(t, err, "make default")
	for _, x := range all {
		if x.Default != (x.ID == ms[2].ID) {
			t.Errorf("after make default, membership %d default=%v", x.ID, x.Default)
		}
	}
	_, err = c.OrganizationMemberships.Unassign(ctx(t), user, orgs[2])
	must(t, err, "unassign")
	mine, err = zendesk.Collect(c.OrganizationMemberships.ListByUser(ctx(t), user))
	must(t, err, "list by user")
	if len(mine) != 1 || mine[0].ID != ms[1].ID || !mine[0].Default {
		t.Errorf("after unassigning the default: %+v, want %d as default", mine, ms[1].ID)
	}

	// Bulk create with one failing item (the organization does not exist).
	other := addEndUser(t, srv, "Nell", "nell@example.com")
	job, _, err := c.OrganizationMemberships.CreateMany(ctx(t), []zendesk.OrganizationMembershipPair{{UserID: other, OrganizationID: orgs[0]}, {UserID: other, OrganizationID: 30000009999}})
	must(t, err, "create_many")
	_, err = c.JobStatuses.Wait(ctx(t), job.ID, fastWait)
	var je *zendesk.JobError
	if !errors.As(err, &je) || len(je.Failed) != 1 || *je.Failed[0].Index != 1 {
		t.Fatalf("Wait: %v, want a *JobError for item 1", err)
	}
	if got := srv.OrganizationMembershipsOf(other); len(got) != 1 || got[0].OrganizationID != orgs[0] {
		t.Errorf("memberships of %d: %+v", other, got)
	}
}

// TestClientOrganizationsLimit: the 301st organization of a user is a 422.
func TestClientOrganizationsLimit(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithMultipleOrganizations(true))
	c := newClient(t, srv)
	user := addEndUser(t, srv, "Busy", "busy@example.com")
	for i := range 300 {
		o := srv.AddOrganization("Org " + strconv.Itoa(i))
		if _, err := srv.AddOrganizationMembership(user, o.ID); err != nil {
			t.Fatalf("membership %d: %v", i+1, err)
		}
	}
	extra := srv.AddOrganization("One Too Many")
	_, _, err := c.OrganizationMemberships.Create(ctx(t), user, extra.ID)
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	wantIs(t, err, zendesk.ErrInvalid)
	if zendesk.IsDuplicate(err) || len(ae.Details["organization_id"]) == 0 {
		t.Errorf("301st organization: %v, want a 422 on organization_id", err)
	}
	mine, err := zendesk.Collect(c.OrganizationMemberships.ListByUser(ctx(t), user))
	must(t, err, "list by user")
	if len(mine) != 300 {
		t.Errorf("%d memberships, want 300", len(mine))
	}
}

// TestClientAccountSettings reads multiple_organizations as it changes.
func TestClientAccountSettings(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithPlan(zendesktest.PlanEnterprise))
	c := newClient(t, srv)
	for _, on := range []bool{false, true, false} {
		srv.SetMultipleOrganizations(on)
		s, _, err := c.Account.Settings(ctx(t))
		must(t, err, "settings")
		if s.User.MultipleOrganizations != on {
			t.Errorf("multiple_organizations = %v, want %v", s.User.MultipleOrganizations, on)
		}
		if len(s.Raw) == 0 {
			t.Error("settings have no raw JSON")
		}
	}
}
