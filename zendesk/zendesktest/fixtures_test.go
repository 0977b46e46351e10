package zendesktest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/zgov-io/zgov/internal/contract"
)

// fixturesDir returns the folder of real Zendesk payloads, or skips the test
// when it is absent (a clone without the API material beside it): only the
// tests that compare with real payloads skip.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir, ok := contract.FixturesDir()
	if !ok {
		t.Skip(contract.Where())
	}
	return dir
}

// readFixture reads a real payload (rel is relative to the fixtures folder),
// skipping the test when the payloads are absent and failing it when the
// folder is there but the file is not.
func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir(t), rel))
	if err != nil {
		t.Fatalf("real payload: %v", err)
	}
	return b
}

// jsonKind names a JSON value's type; null is compatible with anything
// (Zendesk's nullable fields).
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// fixtureObject loads a fixture and walks path ("user", "groups.0"...).
func fixtureObject(t *testing.T, rel, path string) map[string]any {
	t.Helper()
	b := readFixture(t, rel)
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if path != "" {
		for _, p := range strings.Split(path, ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[p]
			case []any:
				var i int
				fmt.Sscan(p, &i)
				v = x[i]
			}
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s %s is not an object", rel, path)
	}
	return m
}

// compareShape checks that ours has every key of each fixture (except
// omitted ones), that every key of ours appears in some fixture (or in
// extra), and that JSON types agree where both are non-null.
func compareShape(t *testing.T, what string, ours map[string]any, fixtures []map[string]any, omitted, extra []string) {
	t.Helper()
	known := map[string]bool{}
	for _, k := range extra {
		known[k] = true
	}
	for _, fx := range fixtures {
		for k, fv := range fx {
			known[k] = true
			ov, ok := ours[k]
			if !ok {
				if !contains(omitted, k) {
					t.Errorf("%s: field %q of the real payload is missing", what, k)
				}
				continue
			}
			fk, ok2 := jsonKind(fv), jsonKind(ov)
			if fk != "null" && ok2 != "null" && fk != ok2 {
				t.Errorf("%s: field %q is %s, real payload has %s", what, k, ok2, fk)
			}
			if fm, ok := fv.(map[string]any); ok {
				// Custom field values (user_fields, organization_fields) are account-specific.
				if om, ok := ov.(map[string]any); ok && len(fm) > 0 && !strings.HasSuffix(k, "_fields") {
					compareShape(t, what+"."+k, om, []map[string]any{fm}, nil, nil)
				}
			}
		}
	}
	var unknown []string
	for k := range ours {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("%s: fields not in any real payload: %v", what, unknown)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPayloadShapesMatchFixtures runs in a synctest bubble so that the bulk
// job it reads has finished when the fake clock says so, however busy the
// machine.
func TestPayloadShapesMatchFixtures(t *testing.T) {
	t.Parallel()
	fixturesDir(t) // skips the test without the real payloads
	synctest.Test(t, testPayloadShapes)
}

func testPayloadShapes(t *testing.T) {
	s, _ := newPipedServer(t, WithAccount(DemoAccount()), WithJobDelay(0))
	c := admin(t, s)
	users := list(t, c.must(200, "GET", "/api/v2/users?role=agent", nil), "users")
	var withRole map[string]any
	for _, u := range users {
		if u["custom_role_id"] != nil {
			withRole = u
		}
	}
	if withRole == nil {
		t.Fatal("demo account has no agent with a custom role")
	}
	userFixtures := []map[string]any{
		fixtureObject(t, "aaronellington-zendesk-go/users/show_200.json", "user"),
		fixtureObject(t, "aaronellington-zendesk-go/users/create_201.json", "user"),
		fixtureObject(t, "nukosuke-go-zendesk/GET/user.json", "user"),
		fixtureObject(t, "nukosuke-go-zendesk/POST/users.json", "user"),
	}
	compareShape(t, "user", withRole, userFixtures, nil, nil)

	g := list(t, c.must(200, "GET", "/api/v2/groups", nil), "groups")[0]
	compareShape(t, "group", g, []map[string]any{
		fixtureObject(t, "nukosuke-go-zendesk/GET/group.json", "group"),
		fixtureObject(t, "oas-examples/ListGroups__200__GroupsResponseExample.json", "groups.0"),
		fixtureObject(t, "nukosuke-go-zendesk/GET/search_group.json", "results.0"),
	}, []string{"result_type"}, []string{"default"})

	gm := list(t, c.must(200, "GET", "/api/v2/group_memberships", nil), "group_memberships")[0]
	compareShape(t, "group_membership", gm, []map[string]any{
		fixtureObject(t, "aaronellington-zendesk-go/group_membership/create_200.json", "group_membership"),
	}, nil, nil)

	o := list(t, c.must(200, "GET", "/api/v2/organizations", nil), "organizations")[0]
	compareShape(t, "organization", o, []map[string]any{
		fixtureObject(t, "nukosuke-go-zendesk/GET/organization.json", "organization"),
		fixtureObject(t, "oas-examples/ShowOrganization__200__OrganizationResponseExample.json", "organization"),
	}, nil, nil)

	oms := list(t, c.must(200, "GET", "/api/v2/organization_memberships", nil), "organization_memberships")
	for _, om := range oms {
		compareShape(t, "organization_membership", om, []map[string]any{
			fixtureObject(t, "aaronellington-zendesk-go/organization_membership/show_200.json", "organization_membership"),
			fixtureObject(t, "aaronellington-zendesk-go/organization_membership/create_200.json", "organization_membership"),
		}, nil, nil)
		if d := om["default"]; d != true && d != nil {
			t.Errorf("organization_membership.default = %v, want true or null", d)
		}
	}

	cr := c.must(200, "GET", fmt.Sprintf("/api/v2/custom_roles/%d", roleBase+1), nil)["custom_role"].(map[string]any)
	compareShape(t, "custom_role", cr, []map[string]any{
		fixtureObject(t, "aaronellington-zendesk-go/custom_role/show_200.json", "custom_role"),
	}, nil, nil)

	du := list(t, c.must(200, "GET", "/api/v2/deleted_users", nil), "deleted_users")[0]
	compareShape(t, "deleted_user", du, []map[string]any{
		fixtureObject(t, "oas-examples/ShowDeletedUser__200__default.json", "deleted_user"),
	}, nil, nil)

	// Job status, from a finished bulk delete.
	jm := c.must(200, "DELETE", fmt.Sprintf("/api/v2/group_memberships/destroy_many?ids=%d", gmBase+1), nil)
	synctest.Wait() // the worker has run the job (no delay) and waits for the next
	js := jobAt(c, jm["job_status"].(map[string]any)["url"].(string))
	if js["status"] != "completed" {
		t.Fatalf("job status %v, want completed", js["status"])
	}
	compareShape(t, "job_status", js, []map[string]any{
		fixtureObject(t, "oas-examples/ShowJobStatus__200__ShowJobStatusResponseExample.json", "job_status"),
	}, nil, []string{"job_type"})
	compareShape(t, "job_status.results[0]", js["results"].([]any)[0].(map[string]any), []map[string]any{
		fixtureObject(t, "oas-examples/ShowJobStatus__200__ShowJobStatusResponseExample.json", "job_status.results.0"),
	}, nil, nil)

	// Envelopes.
	cursorPage := c.must(200, "GET", "/api/v2/group_memberships?page[size]=1", nil)
	compareShape(t, "cursor envelope", cursorPage, []map[string]any{
		fixtureObject(t, "aaronellington-zendesk-go/group_membership/list_page1_200.json", ""),
	}, nil, nil)
	offsetPage := c.must(200, "GET", "/api/v2/groups?per_page=1", nil)
	compareShape(t, "offset envelope", offsetPage, []map[string]any{
		fixtureObject(t, "nukosuke-go-zendesk/GET/groups.json", ""),
	}, nil, nil)
	roles := c.must(200, "GET", "/api/v2/custom_roles", nil)
	compareShape(t, "custom roles envelope", roles, []map[string]any{
		fixtureObject(t, "aaronellington-zendesk-go/custom_role/list_page_1_200.json", ""),
	}, nil, nil)
	inc := c.must(200, "GET", "/api/v2/incremental/users/cursor?start_time=0&per_page=1", nil)
	compareShape(t, "incremental envelope", inc, []map[string]any{
		fixtureObject(t, "oas-examples/IncrementalUserExportCursor__200__CursorBasedExportIncrementalUsersResponseExample.json", ""),
	}, nil, nil)

	// Error bodies.
	var e404 map[string]any
	_ = json.Unmarshal(c.do("GET", "/api/v2/users/1", nil).body, &e404)
	compareShape(t, "404", e404, []map[string]any{fixtureObject(t, "aaronellington-zendesk-go/tickets/show_404.json", "")}, nil, nil)
	anon := &client{t: t, s: s}
	compareShape(t, "401", anon.do("GET", "/api/v2/users/me", nil).json(t),
		[]map[string]any{fixtureObject(t, "aaronellington-zendesk-go/tickets/show_401.json", "")}, nil, nil)
}

// TestFixturesFollowAPIDir: the tests that need real payloads find them
// through contract.Dir ($ZGOV_ZENDESK_API_DIR or ../shared), and skip, rather
// than read another folder or fail, when they are absent there.
func TestFixturesFollowAPIDir(t *testing.T) {
	t.Setenv(contract.EnvDir, t.TempDir()) // an empty folder: no payloads
	var inner *testing.T
	ran := false
	t.Run("needs real payloads", func(t *testing.T) {
		inner = t
		readFixture(t, "aaronellington-zendesk-go/organization_membership/create_422.json")
		ran = true
	})
	if ran || !inner.Skipped() {
		t.Errorf("a test that needs real payloads ran (%v) or did not skip (skipped %v) without them", ran, inner.Skipped())
	}
}

// TestParentListShapesMatchFixtures: the lists under a parent answer the
// records and envelopes of the real payloads.
func TestParentListShapesMatchFixtures(t *testing.T) {
	t.Parallel()
	fixturesDir(t) // skips the test without the real payloads
	s := newServer(t, WithAccount(DemoAccount()))
	c := admin(t, s)
	userFixtures := []map[string]any{
		fixtureObject(t, "aaronellington-zendesk-go/users/show_200.json", "user"),
		fixtureObject(t, "aaronellington-zendesk-go/users/create_201.json", "user"),
		fixtureObject(t, "nukosuke-go-zendesk/GET/user.json", "user"),
		fixtureObject(t, "nukosuke-go-zendesk/GET/users.json", "users.0"),
	}
	cursorFixture := fixtureObject(t, "aaronellington-zendesk-go/organization_membership/list_page1_200.json", "")
	offsetFixture := fixtureObject(t, "nukosuke-go-zendesk/GET/users.json", "")
	// cursorEnvelope checks a cursor page of key: that key, then meta and
	// links shaped as in the real cursor page.
	cursorEnvelope := func(what string, page map[string]any, key string) {
		t.Helper()
		if len(page) != 3 || page[key] == nil {
			t.Errorf("%s: keys %v, want %s, meta and links", what, slices.Sorted(maps.Keys(page)), key)
		}
		for _, k := range []string{"meta", "links"} {
			ours, _ := page[k].(map[string]any)
			compareShape(t, what+"."+k, ours, []map[string]any{cursorFixture[k].(map[string]any)}, nil, nil)
		}
	}

	orgUsers := fmt.Sprintf("/api/v2/organizations/%d/users", orgBase+1)
	page := c.must(200, "GET", orgUsers+"?page[size]=2", nil)
	cursorEnvelope("organization users", page, "users")
	for _, u := range list(t, page, "users") {
		compareShape(t, "organization user", u, userFixtures, nil, nil)
	}
	compareShape(t, "organization users offset envelope", c.must(200, "GET", orgUsers+"?per_page=1", nil),
		[]map[string]any{offsetFixture}, nil, nil)
	compareShape(t, "group users offset envelope", c.must(200, "GET", fmt.Sprintf("/api/v2/groups/%d/users?per_page=1", groupBase+1), nil),
		[]map[string]any{offsetFixture}, nil, nil)

	assignable := c.must(200, "GET", "/api/v2/group_memberships/assignable?page[size]=2", nil)
	cursorEnvelope("assignable group memberships", assignable, "group_memberships")
	for _, m := range list(t, assignable, "group_memberships") {
		compareShape(t, "assignable group membership", m, []map[string]any{
			fixtureObject(t, "aaronellington-zendesk-go/group_membership/create_200.json", "group_membership"),
			fixtureObject(t, "oas-examples/ListAssignableGroupMemberships__200__GroupMembershipsResponseExample.json", "group_memberships.0"),
		}, nil, nil)
	}

	oms := s.OrganizationMembershipsOf(userBase + 2)
	for u := int64(2); len(oms) == 0 && u < 40; u++ {
		oms = s.OrganizationMembershipsOf(userBase + u)
	}
	if len(oms) == 0 {
		t.Fatal("demo account has no organization member")
	}
	userOMs := c.must(200, "GET", fmt.Sprintf("/api/v2/users/%d/organization_memberships", oms[0].UserID), nil)
	for _, m := range list(t, userOMs, "organization_memberships") {
		compareShape(t, "user organization membership", m, []map[string]any{
			fixtureObject(t, "aaronellington-zendesk-go/organization_membership/show_200.json", "organization_membership"),
			fixtureObject(t, "oas-examples/ListUserOrganizationMemberships__200__OrganizationMembershipsResponseExample.json", "organization_memberships.0"),
		}, nil, nil)
	}
}

// TestCountShapesMatchFixtures: the count endpoints answer the shape of the
// spec's count examples.
func TestCountShapesMatchFixtures(t *testing.T) {
	t.Parallel()
	fixturesDir(t) // skips the test without the real payloads
	s := newServer(t, WithAccount(DemoAccount()))
	c := admin(t, s)
	fixtures := []map[string]any{
		fixtureObject(t, "oas-examples/CountDeletedUsers__200__DeletedUsersCountResponseExample.json", ""),
		fixtureObject(t, "oas-examples/CountUserGroups__200__GroupsCountResponseExample.json", ""),
		fixtureObject(t, "oas-examples/CountUserOrganizations__200__CountOrganizationsResponseExample.json", ""),
	}
	for _, p := range []string{"/api/v2/users/count", "/api/v2/groups/count", "/api/v2/organizations/count",
		fmt.Sprintf("/api/v2/groups/%d/users/count", groupBase+1), fmt.Sprintf("/api/v2/organizations/%d/users/count", orgBase+1),
		fmt.Sprintf("/api/v2/users/%d/groups/count", userBase+1), fmt.Sprintf("/api/v2/users/%d/organizations/count", userBase+1),
		"/api/v2/deleted_users/count"} {
		compareShape(t, p, c.must(200, "GET", p, nil), fixtures, nil, nil)
	}
}
