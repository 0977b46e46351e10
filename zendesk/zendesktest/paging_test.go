package zendesktest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCursorPaginationWalk(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(AccountSpec{Seed: 9, EndUsers: 230, Agents: 10, Groups: 3, Deleted: 5}))
	c := admin(t, s)
	next := "/api/v2/users.json?page[size]=100"
	var ids []int64
	pages := 0
	for next != "" {
		m := c.must(200, "GET", next, nil)
		pages++
		for _, u := range list(t, m, "users") {
			ids = append(ids, num(t, u["id"]))
		}
		meta := m["meta"].(map[string]any)
		links := m["links"].(map[string]any)
		if meta["has_more"] != true {
			break
		}
		next = links["next"].(string)
		if !strings.HasPrefix(next, s.URL+"/api/v2/users.json?") {
			t.Fatalf("next link %q not absolute on the request host", next)
		}
	}
	cn := s.Counts()
	if want := cn.EndUsers + cn.Agents + cn.Admins; len(ids) != want || pages != 3 {
		t.Fatalf("walked %d users in %d pages, want %d in 3", len(ids), pages, want)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not ascending at %d", i)
		}
	}

	// Walk back with page[before] from the last page.
	m := c.must(200, "GET", "/api/v2/users?page[size]=50", nil)
	after := m["meta"].(map[string]any)["after_cursor"].(string)
	m2 := c.must(200, "GET", "/api/v2/users?page[size]=50&page[after]="+url.QueryEscape(after), nil)
	prev := m2["links"].(map[string]any)["prev"].(string)
	back := c.must(200, "GET", prev, nil)
	if got, want := num(t, list(t, back, "users")[49]["id"]), ids[49]; got != want {
		t.Errorf("prev page ends at %d, want %d", got, want)
	}
	if back["meta"].(map[string]any)["has_more"] != false {
		t.Errorf("prev of page 2 has_more = true")
	}

	// Filters survive in links.
	m = c.must(200, "GET", "/api/v2/users?role=agent&page[size]=4", nil)
	if next := m["links"].(map[string]any)["next"].(string); !strings.Contains(next, "role=agent") {
		t.Errorf("filter lost in next link: %s", next)
	}

	// Empty list: null cursors, has_more false.
	empty := c.must(200, "GET", "/api/v2/organizations?page[size]=10", nil)
	if meta := empty["meta"].(map[string]any); meta["has_more"] != false || meta["after_cursor"] != nil {
		t.Errorf("empty meta: %v", meta)
	}

	bad := &client{t: t, s: s, authz: c.authz, skipRecord: true}
	wantError(t, bad.do("GET", "/api/v2/users?page[size]=101", nil), 400, "InvalidPaginationParameter")
	wantError(t, bad.do("GET", "/api/v2/users?page[size]=0", nil), 400, "InvalidPaginationParameter")
	wantError(t, bad.do("GET", "/api/v2/users?page[after]=bm9wZQ==", nil), 400, "InvalidPaginationParameter")
}

func TestOffsetPagination(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(AccountSpec{Seed: 2, EndUsers: 120, Groups: 1}))
	c := admin(t, s)
	m := c.must(200, "GET", "/api/v2/users.json?per_page=50&page=2", nil)
	if got := len(list(t, m, "users")); got != 50 {
		t.Errorf("%d users on page 2", got)
	}
	if num(t, m["count"]) != 121 {
		t.Errorf("count = %v", m["count"])
	}
	next, _ := m["next_page"].(string)
	prev, _ := m["previous_page"].(string)
	if !strings.Contains(next, "page=3") || !strings.Contains(prev, "page=1") {
		t.Errorf("next %q prev %q", next, prev)
	}
	last := c.must(200, "GET", next, nil)
	if last["next_page"] != nil || len(list(t, last, "users")) != 21 {
		t.Errorf("last page: next %v, %d users", last["next_page"], len(list(t, last, "users")))
	}
	// Past the first 10,000 records: 400.
	bad := &client{t: t, s: s, authz: c.authz, skipRecord: true}
	wantError(t, bad.do("GET", "/api/v2/users?page=101&per_page=100", nil), 400, "InvalidPaginationParameter")
	c.must(200, "GET", "/api/v2/users?page=100&per_page=100", nil)
	wantError(t, bad.do("GET", "/api/v2/users/search?query=a&page=201&per_page=50", nil), 400, "InvalidPaginationParameter")
	// Search is offset only: page[size] is ignored.
	sr := bad.do("GET", "/api/v2/users/search?query=example&page[size]=2", nil)
	if sr.status != 200 || sr.json(t)["count"] == nil {
		t.Errorf("search with page[size]: %d %s", sr.status, sr.body[:min(200, len(sr.body))])
	}
}

func TestListsAcrossEndpoints(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(DemoAccount()), WithMultipleOrganizations(true))
	c := admin(t, s)
	cn := s.Counts()
	for path, want := range map[string]int{
		"/api/v2/groups":                   cn.Groups,
		"/api/v2/group_memberships":        cn.GroupMemberships,
		"/api/v2/organizations":            cn.Organizations,
		"/api/v2/organization_memberships": cn.OrganizationMemberships,
		"/api/v2/deleted_users":            cn.SoftDeletedUsers,
	} {
		key := strings.TrimPrefix(path, "/api/v2/")
		got := 0
		next := path + "?page[size]=3"
		for {
			m := c.must(200, "GET", next, nil)
			got += len(list(t, m, key))
			if m["meta"].(map[string]any)["has_more"] != true {
				break
			}
			next = m["links"].(map[string]any)["next"].(string)
		}
		if got != want {
			t.Errorf("%s: %d records, want %d", path, got, want)
		}
	}
	g := list(t, c.must(200, "GET", "/api/v2/groups", nil), "groups")[0]
	gid := num(t, g["id"])
	members := list(t, c.must(200, "GET", fmt.Sprintf("/api/v2/groups/%d/memberships?page[size]=2", gid), nil), "group_memberships")
	for _, m := range members {
		if num(t, m["group_id"]) != gid {
			t.Errorf("membership of group %v listed for %d", m["group_id"], gid)
		}
	}
}
