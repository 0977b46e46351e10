package zendesktest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCountsMatchLists: each count endpoint (once 404 InvalidEndpoint,
// deleted users aside) answers {"count":{"value","refreshed_at"}} whose
// value is the number of records the matching list returns, and
// refreshed_at the simulator's clock.
func TestCountsMatchLists(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s := newServer(t, WithAccount(DemoAccount()), WithMultipleOrganizations(true), WithClock(func() time.Time { return at }))
	c := admin(t, s)
	// Deleted records must not be counted where they are not listed.
	c.must(204, "DELETE", fmt.Sprintf("/api/v2/groups/%d", groupBase+2), nil)
	c.must(204, "DELETE", fmt.Sprintf("/api/v2/organizations/%d", orgBase+2), nil)
	var endUser, agent User
	for id := userBase + 2; endUser.ID == 0 || agent.ID == 0; id++ {
		u, ok := s.User(id)
		if !ok {
			t.Fatal("demo account has no live end-user in an organization or agent in two groups")
		}
		switch {
		case u.Active && u.Role == RoleEndUser && u.OrganizationID != 0 && endUser.ID == 0:
			endUser = u
		case u.Active && u.Role == RoleAgent && len(s.GroupMembershipsOf(id)) > 1:
			agent = u
		}
	}
	if _, err := s.AddOrganizationMembership(endUser.ID, orgBase+3); err != nil && !strings.Contains(err.Error(), "already") {
		t.Fatal(err)
	}
	for id := userBase + 2; ; id++ { // soft-delete another end-user
		if u, _ := s.User(id); u.Active && u.Role == RoleEndUser && id != endUser.ID {
			c.must(200, "DELETE", fmt.Sprintf("/api/v2/users/%d", id), nil)
			break
		}
	}

	for _, tc := range []struct{ count, list, key string }{
		{"/api/v2/users/count.json", "/api/v2/users", "users"},
		{"/api/v2/users/count?role=agent", "/api/v2/users?role=agent", "users"},
		{"/api/v2/users/count?role[]=agent&role[]=admin", "/api/v2/users?role[]=agent&role[]=admin", "users"},
		{fmt.Sprintf("/api/v2/users/count?permission_set=%d", roleBase+1), fmt.Sprintf("/api/v2/users?permission_set=%d", roleBase+1), "users"},
		{"/api/v2/users/count?brand_id=all", "/api/v2/users", "users"},
		{"/api/v2/groups/count", "/api/v2/groups", "groups"},
		{"/api/v2/organizations/count", "/api/v2/organizations", "organizations"},
		{fmt.Sprintf("/api/v2/groups/%d/users/count", groupBase+1), fmt.Sprintf("/api/v2/groups/%d/users", groupBase+1), "users"},
		{fmt.Sprintf("/api/v2/groups/%d/users/count?role=admin", groupBase+1), fmt.Sprintf("/api/v2/groups/%d/users?role=admin", groupBase+1), "users"},
		{fmt.Sprintf("/api/v2/groups/%d/users/count", groupBase+2), fmt.Sprintf("/api/v2/groups/%d/users", groupBase+2), "users"},
		{fmt.Sprintf("/api/v2/organizations/%d/users/count", orgBase+1), fmt.Sprintf("/api/v2/organizations/%d/users", orgBase+1), "users"},
		{fmt.Sprintf("/api/v2/organizations/%d/users/count?role=end-user", orgBase+3), fmt.Sprintf("/api/v2/organizations/%d/users?role=end-user", orgBase+3), "users"},
		{fmt.Sprintf("/api/v2/users/%d/groups/count", agent.ID), fmt.Sprintf("/api/v2/users/%d/groups", agent.ID), "groups"},
		{fmt.Sprintf("/api/v2/users/%d/organizations/count", endUser.ID), fmt.Sprintf("/api/v2/users/%d/organizations", endUser.ID), "organizations"},
		{"/api/v2/deleted_users/count", "/api/v2/deleted_users", "deleted_users"},
	} {
		body := c.must(200, "GET", tc.count, nil)
		cnt, ok := body["count"].(map[string]any)
		if !ok || len(body) != 1 || len(cnt) != 2 {
			t.Errorf("%s: %v, want {\"count\":{\"value\",\"refreshed_at\"}}", tc.count, body)
			continue
		}
		sep := "?"
		if strings.Contains(tc.list, "?") {
			sep = "&"
		}
		listed := len(walkCursor(t, c, tc.list+sep+"page[size]=100", tc.key))
		// Only the deleted group may be empty: a count of zero proves little.
		if got := num(t, cnt["value"]); got != int64(listed) || listed == 0 && !strings.Contains(tc.count, "groups/20000000002") {
			t.Errorf("%s = %d, %s lists %d", tc.count, got, tc.list, listed)
		}
		if cnt["refreshed_at"] != "2026-03-04T05:06:07Z" {
			t.Errorf("%s: refreshed_at %v, want the simulator's clock", tc.count, cnt["refreshed_at"])
		}
	}

	for _, p := range []string{"/api/v2/groups/%d/users/count", "/api/v2/organizations/%d/users/count",
		"/api/v2/users/%d/groups/count", "/api/v2/users/%d/organizations/count"} {
		for _, id := range []int64{userBase + 999, groupBase + 999, orgBase + 2} {
			wantError(t, c.do("GET", fmt.Sprintf(p, id), nil), 404, "RecordNotFound")
		}
	}
}
