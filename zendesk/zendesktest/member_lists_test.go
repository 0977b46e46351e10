package zendesktest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// walkCursor follows links.next from path (which asks for cursor pages) and
// returns the records of every page under key, checking meta on the way.
func walkCursor(t *testing.T, c *client, path, key string) []map[string]any {
	t.Helper()
	var all []map[string]any
	for range 1000 {
		page := c.must(200, "GET", path, nil)
		all = append(all, list(t, page, key)...)
		meta := page["meta"].(map[string]any)
		if meta["has_more"] != true {
			return all
		}
		path = page["links"].(map[string]any)["next"].(string)
	}
	t.Fatalf("%s: more than 1000 pages", path)
	return nil
}

// recordIDs returns the "id" of each record.
func recordIDs(t *testing.T, records []map[string]any) []int64 {
	t.Helper()
	out := make([]int64, len(records))
	for i, r := range records {
		out[i] = num(t, r["id"])
	}
	return out
}

// memberAccount is an account with one organization and one group whose
// members differ in role, custom role, external id, name and suspension.
type memberAccount struct {
	s                      *Server
	c                      *client
	org, otherOrg          Organization
	group                  Group
	endUser, agent, admin  User // members of org, in the order they joined
	light, suspended, zoe  User // light agent, suspended agent, end-user "zoe" (org)
	role, lightRole        CustomRole
	outsider, otherOrgUser User
}

func newMemberAccount(t *testing.T) memberAccount {
	t.Helper()
	s := newServer(t, WithMultipleOrganizations(true))
	a := memberAccount{s: s, c: admin(t, s)}
	add := func(spec UserSpec) User {
		u, err := s.AddUser(spec)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	a.role = s.AddCustomRole("Staff", 0)
	a.lightRole = s.AddCustomRole("Light Agent", 1)
	a.org, a.otherOrg = s.AddOrganization("Members Inc"), s.AddOrganization("Others Ltd")
	a.group = s.AddGroup("Members")
	a.endUser = add(UserSpec{Name: "Mia End", Email: "mia@example.com", ExternalID: "ext-mia"})
	a.agent = add(UserSpec{Name: "Ben Agent", Email: "ben@example.com", Role: RoleAgent, CustomRoleID: a.role.ID})
	a.admin = add(UserSpec{Name: "Ada Admin", Email: "ada@example.com", Role: RoleAdmin})
	a.light = add(UserSpec{Name: "Lou Light", Email: "lou@example.com", Role: RoleAgent, CustomRoleID: a.lightRole.ID})
	a.suspended = add(UserSpec{Name: "Sam Suspended", Email: "sam@example.com", Role: RoleAgent, Suspended: true})
	a.zoe = add(UserSpec{Name: "zoe lower", Email: "zoe@example.com"})
	a.outsider = add(UserSpec{Name: "Out Sider", Email: "out@example.com", Role: RoleAgent})
	a.otherOrgUser = add(UserSpec{Name: "Otto Other", Email: "otto@example.com"})
	for _, u := range []User{a.endUser, a.agent, a.admin, a.zoe} {
		if _, err := s.AddOrganizationMembership(u.ID, a.org.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddOrganizationMembership(a.otherOrgUser.ID, a.otherOrg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddOrganizationMembership(a.agent.ID, a.otherOrg.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range []User{a.agent, a.admin, a.light, a.suspended} {
		if _, err := s.AddGroupMembership(u.ID, a.group.ID); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// TestOrganizationUsers: GET /organizations/{id}/users (once 404
// InvalidEndpoint) lists the organization's members with the filters, sorts
// and both paginations of the spec.
func TestOrganizationUsers(t *testing.T) {
	t.Parallel()
	a := newMemberAccount(t)
	c := a.c
	base := fmt.Sprintf("/api/v2/organizations/%d/users", a.org.ID)
	members := []int64{a.endUser.ID, a.agent.ID, a.admin.ID, a.zoe.ID}

	got := list(t, c.must(200, "GET", base+".json", nil), "users")
	if diff := cmp.Diff(members, recordIDs(t, got)); diff != "" {
		t.Errorf("members in join order (-want +got):\n%s", diff)
	}
	if got[0]["email"] != "mia@example.com" || got[0]["organization_id"] != float64(a.org.ID) {
		t.Errorf("first member is not a full user record: %v", got[0])
	}

	// Cursor pagination, forwards and back.
	walked := walkCursor(t, c, base+"?page[size]=1", "users")
	if diff := cmp.Diff(members, recordIDs(t, walked)); diff != "" {
		t.Errorf("cursor walk (-want +got):\n%s", diff)
	}
	last := c.must(200, "GET", base+"?page[size]=2", nil)
	next := c.must(200, "GET", last["links"].(map[string]any)["next"].(string), nil)
	back := c.must(200, "GET", next["links"].(map[string]any)["prev"].(string), nil)
	if diff := cmp.Diff(members[:2], recordIDs(t, list(t, back, "users"))); diff != "" {
		t.Errorf("page[before] (-want +got):\n%s", diff)
	}

	// Offset pagination.
	off := c.must(200, "GET", base+"?per_page=3&page=2", nil)
	if diff := cmp.Diff(members[3:], recordIDs(t, list(t, off, "users"))); diff != "" {
		t.Errorf("offset page 2 (-want +got):\n%s", diff)
	}
	if off["count"] != float64(4) || off["next_page"] != nil || off["previous_page"] == nil {
		t.Errorf("offset envelope: count %v next %v previous %v", off["count"], off["next_page"], off["previous_page"])
	}
	wantError(t, c.do("GET", base+"?per_page=100&page=101", nil), 400, "InvalidPaginationParameter")

	// Filters.
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"role=end-user", []int64{a.endUser.ID, a.zoe.ID}},
		{"role[]=agent&role[]=admin", []int64{a.agent.ID, a.admin.ID}},
		{fmt.Sprintf("permission_set=%d", a.role.ID), []int64{a.agent.ID}},
		{"external_id=ext-mia", []int64{a.endUser.ID}},
		{"role=end-user&page[size]=1", []int64{a.endUser.ID, a.zoe.ID}},
	} {
		var got []map[string]any
		if strings.Contains(tc.query, "page[size]") {
			got = walkCursor(t, c, base+"?"+tc.query, "users")
		} else {
			got = list(t, c.must(200, "GET", base+"?"+tc.query, nil), "users")
		}
		if diff := cmp.Diff(tc.want, recordIDs(t, got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.query, diff)
		}
	}

	// Sorts: by name ignoring case, descending, and walked by cursor.
	byName := []int64{a.admin.ID, a.agent.ID, a.endUser.ID, a.zoe.ID} // Ada, Ben, Mia, zoe
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"sort_by=name", byName},
		{"sort_by=name&sort_order=desc", []int64{a.zoe.ID, a.endUser.ID, a.agent.ID, a.admin.ID}},
		{"sort_by=id&sort_order=desc", []int64{a.zoe.ID, a.admin.ID, a.agent.ID, a.endUser.ID}},
		{"sort_order=desc", []int64{a.zoe.ID, a.admin.ID, a.agent.ID, a.endUser.ID}},
		{"sort_by=created_at", members},
	} {
		got := list(t, c.must(200, "GET", base+"?"+tc.query, nil), "users")
		if diff := cmp.Diff(tc.want, recordIDs(t, got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.query, diff)
		}
	}
	if diff := cmp.Diff(byName, recordIDs(t, walkCursor(t, c, base+"?sort_by=name&page[size]=1", "users"))); diff != "" {
		t.Errorf("cursor walk by name (-want +got):\n%s", diff)
	}
	bad := &client{t: t, s: a.s, authz: c.authz, skipRecord: true} // values outside the spec's enums
	wantError(t, bad.do("GET", base+"?sort_by=email", nil), 400, "InvalidValue")
	wantError(t, bad.do("GET", base+"?sort_order=up", nil), 400, "InvalidValue")

	// Leaving the organization, or the account, leaves the list.
	oms := a.s.OrganizationMembershipsOf(a.endUser.ID)
	c.must(204, "DELETE", fmt.Sprintf("/api/v2/organization_memberships/%d", oms[0].ID), nil)
	c.must(200, "DELETE", fmt.Sprintf("/api/v2/users/%d", a.zoe.ID), nil)
	got = list(t, c.must(200, "GET", base, nil), "users")
	if diff := cmp.Diff([]int64{a.agent.ID, a.admin.ID}, recordIDs(t, got)); diff != "" {
		t.Errorf("after a removal and a deletion (-want +got):\n%s", diff)
	}

	// Unknown, deleted and wrong-type parents are not found.
	c.must(204, "DELETE", fmt.Sprintf("/api/v2/organizations/%d", a.otherOrg.ID), nil)
	for _, id := range []int64{orgBase + 999, a.otherOrg.ID, a.agent.ID} {
		wantError(t, c.do("GET", fmt.Sprintf("/api/v2/organizations/%d/users", id), nil), 404, "RecordNotFound")
	}
}

// TestGroupUsersFilters: GET /groups/{id}/users honours the spec's role,
// role[], permission_set and external_id filters (it used to ignore them and
// list every member).
func TestGroupUsersFilters(t *testing.T) {
	t.Parallel()
	a := newMemberAccount(t)
	base := fmt.Sprintf("/api/v2/groups/%d/users", a.group.ID)
	all := []int64{a.agent.ID, a.admin.ID, a.light.ID, a.suspended.ID}
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", all},
		{"role=admin", []int64{a.admin.ID}},
		{"role[]=agent", []int64{a.agent.ID, a.light.ID, a.suspended.ID}},
		{fmt.Sprintf("permission_set=%d", a.lightRole.ID), []int64{a.light.ID}},
		{"external_id=nobody", nil},
	} {
		got := list(t, a.c.must(200, "GET", base+"?"+tc.query, nil), "users")
		if diff := cmp.Diff(tc.want, recordIDs(t, got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("?%s (-want +got):\n%s", tc.query, diff)
		}
	}
	got := walkCursor(t, a.c, base+"?role=agent&page[size]=2", "users")
	if diff := cmp.Diff([]int64{a.agent.ID, a.light.ID, a.suspended.ID}, recordIDs(t, got)); diff != "" {
		t.Errorf("cursor walk with a filter (-want +got):\n%s", diff)
	}
}

// TestAssignableGroupMemberships: the spec's GET /group_memberships/assignable
// and /groups/{id}/memberships/assignable (once 404 InvalidEndpoint and 404
// RecordNotFound) list the memberships of members who may be assigned
// tickets: not light agents, not suspended agents.
func TestAssignableGroupMemberships(t *testing.T) {
	t.Parallel()
	a := newMemberAccount(t)
	c := a.c
	want := map[int64]bool{}
	for _, m := range list(t, c.must(200, "GET", "/api/v2/group_memberships", nil), "group_memberships") {
		if u := num(t, m["user_id"]); u != a.light.ID && u != a.suspended.ID {
			want[num(t, m["id"])] = true
		}
	}
	got := walkCursor(t, c, "/api/v2/group_memberships/assignable?page[size]=2", "group_memberships")
	if len(got) != len(want) {
		t.Errorf("%d assignable memberships, want %d", len(got), len(want))
	}
	for _, m := range got {
		if !want[num(t, m["id"])] {
			t.Errorf("membership of user %v is listed as assignable", m["user_id"])
		}
	}
	byGroup := list(t, c.must(200, "GET", fmt.Sprintf("/api/v2/groups/%d/memberships/assignable.json", a.group.ID), nil), "group_memberships")
	var users []int64
	for _, m := range byGroup {
		users = append(users, num(t, m["user_id"]))
	}
	if diff := cmp.Diff([]int64{a.agent.ID, a.admin.ID}, users); diff != "" {
		t.Errorf("assignable members of the group (-want +got):\n%s", diff)
	}
	wantError(t, c.do("GET", fmt.Sprintf("/api/v2/groups/%d/memberships/assignable", groupBase+999), nil), 404, "RecordNotFound")
}

// TestUserOrganizationMembershipsOrder: a user's organization memberships
// come default first, then by organization name, as the spec says (they
// came in the order of their ids), in lists, cursor walks and the answer of
// make_default.
func TestUserOrganizationMembershipsOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithMultipleOrganizations(true))
	c := admin(t, s)
	u, _ := s.AddUser(UserSpec{Name: "Many Orgs", Email: "many@example.com"})
	for _, name := range []string{"Mango", "apple", "Zebra", "Kiwi"} {
		o := s.AddOrganization(name)
		if _, err := s.AddOrganizationMembership(u.ID, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	names := func(records []map[string]any) []string {
		var out []string
		for _, r := range records {
			out = append(out, r["organization_name"].(string))
		}
		return out
	}
	path := fmt.Sprintf("/api/v2/users/%d/organization_memberships", u.ID)
	want := []string{"Mango", "apple", "Kiwi", "Zebra"} // the default (the first joined), then by name
	if diff := cmp.Diff(want, names(list(t, c.must(200, "GET", path, nil), "organization_memberships"))); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, names(walkCursor(t, c, path+"?page[size]=1", "organization_memberships"))); diff != "" {
		t.Errorf("cursor walk (-want +got):\n%s", diff)
	}
	zebra := s.OrganizationMembershipsOf(u.ID)[2]
	md := c.must(200, "PUT", fmt.Sprintf("%s/%d/make_default", path, zebra.ID), nil)
	want = []string{"Zebra", "apple", "Kiwi", "Mango"}
	if diff := cmp.Diff(want, names(list(t, md, "organization_memberships"))); diff != "" {
		t.Errorf("make_default answer (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, names(list(t, c.must(200, "GET", path, nil), "organization_memberships"))); diff != "" {
		t.Errorf("list after make_default (-want +got):\n%s", diff)
	}
}

// TestParentScopedListsUnknownParent: every list under a parent answers 404
// RecordNotFound for a parent that does not exist (or is of another type).
func TestParentScopedListsUnknownParent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := admin(t, s)
	for _, p := range []string{
		"/api/v2/groups/%d/users", "/api/v2/groups/%d/memberships", "/api/v2/groups/%d/memberships/assignable",
		"/api/v2/organizations/%d/users", "/api/v2/organizations/%d/organization_memberships",
		"/api/v2/users/%d/group_memberships", "/api/v2/users/%d/organization_memberships",
		"/api/v2/users/%d/groups", "/api/v2/users/%d/organizations",
	} {
		for _, id := range []int64{999, userBase + 999, groupBase + 999, orgBase + 999} {
			path := fmt.Sprintf(p, id)
			r := c.do("GET", path, nil)
			if r.status != http.StatusNotFound || !strings.Contains(string(r.body), `"RecordNotFound"`) {
				t.Errorf("GET %s: %d %s, want 404 RecordNotFound", path, r.status, r.body)
			}
		}
	}
}

// TestAccountWideMembershipListsIgnoreParentFilters: the spec gives GET
// /group_memberships and /organization_memberships no group_id, user_id or
// organization_id parameter. The simulator answers as Zendesk does to a
// parameter an endpoint does not take: it ignores it and lists the whole
// account (the lists under a parent are the way to filter). It says so in
// IgnoredParamsHeader and RequestRecord.Ignored, so that a test can catch a
// client that believes it filtered.
func TestAccountWideMembershipListsIgnoreParentFilters(t *testing.T) {
	t.Parallel()
	a := newMemberAccount(t)
	c := a.c
	for _, tc := range []struct {
		path, key, query string
		ignored          []string
	}{
		{"/api/v2/group_memberships", "group_memberships", fmt.Sprintf("group_id=%d", a.group.ID), []string{"group_id"}},
		{"/api/v2/group_memberships", "group_memberships", fmt.Sprintf("user_id=%d&page[size]=2", a.agent.ID), []string{"user_id"}},
		{"/api/v2/group_memberships", "group_memberships", "include=users,groups", []string{"include"}},
		{"/api/v2/organization_memberships", "organization_memberships", fmt.Sprintf("organization_id=%d", a.org.ID), []string{"organization_id"}},
		{"/api/v2/organization_memberships", "organization_memberships",
			fmt.Sprintf("user_id=%d&organization_id=%d&per_page=2", a.agent.ID, a.otherOrg.ID), []string{"user_id", "organization_id"}},
	} {
		all := walkCursor(t, c, tc.path+"?page[size]=100", tc.key)
		var got []map[string]any
		var r response
		if strings.Contains(tc.query, "per_page") { // offset: follow next_page
			for next := tc.path + "?" + tc.query; next != ""; {
				r = c.do("GET", next, nil)
				page := r.json(t)
				got = append(got, list(t, page, tc.key)...)
				next, _ = page["next_page"].(string)
			}
		} else {
			r = c.do("GET", tc.path+"?"+tc.query, nil)
			if strings.Contains(tc.query, "page[size]") {
				got = walkCursor(t, c, tc.path+"?"+tc.query, tc.key)
			} else {
				got = list(t, r.json(t), tc.key)
			}
		}
		if diff := cmp.Diff(recordIDs(t, all), recordIDs(t, got)); diff != "" {
			t.Errorf("%s?%s does not list the whole account (-want +got):\n%s", tc.path, tc.query, diff)
		}
		if h := r.header.Get(IgnoredParamsHeader); h != strings.Join(tc.ignored, ", ") {
			t.Errorf("%s?%s: %s %q, want %q", tc.path, tc.query, IgnoredParamsHeader, h, strings.Join(tc.ignored, ", "))
		}
		if strings.Contains(string(r.body), `"users":`) {
			t.Errorf("%s?%s: sideloaded users, which the simulator does not model", tc.path, tc.query)
		}
	}
	log := a.s.RequestLog()
	if last := log[len(log)-1]; !cmp.Equal(last.Ignored, []string{"user_id", "organization_id"}) {
		t.Errorf("request log: Ignored %v, want [user_id organization_id]", last.Ignored)
	}
	if r := c.do("GET", "/api/v2/group_memberships", nil); r.header.Get(IgnoredParamsHeader) != "" {
		t.Errorf("a request without ignored parameters has %s %q", IgnoredParamsHeader, r.header.Get(IgnoredParamsHeader))
	}
}
