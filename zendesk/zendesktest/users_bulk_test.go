package zendesktest

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bulkJobDelay is the job delay of the tests of this file: a job is done
// after two of them.
const bulkJobDelay = 10 * time.Millisecond

// runJob waits, on the bubble's clock, for the job of a bulk answer to
// complete and returns its results.
func runJob(t *testing.T, c *client, answer map[string]any) []any {
	t.Helper()
	js := answer["job_status"].(map[string]any)
	if js["status"] != "queued" || js["results"] != nil {
		t.Fatalf("new job: %v", js)
	}
	time.Sleep(2 * bulkJobDelay)
	synctest.Wait()
	done := jobAt(c, js["url"].(string))
	if done["status"] != "completed" || num(t, done["progress"]) != num(t, done["total"]) {
		t.Fatalf("job after two job delays: %v", done)
	}
	res, _ := done["results"].([]any)
	return res
}

func users(items ...map[string]any) map[string]any {
	list := make([]any, len(items))
	for i, it := range items {
		list[i] = it
	}
	return map[string]any{"users": list}
}

// TestBulkUserImportsOff: like a Zendesk account where nobody asked for bulk
// imports, the default simulator refuses create_many and
// create_or_update_many with 403 and takes update_many.
func TestBulkUserImportsOff(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := admin(t, s)
	body := users(map[string]any{"name": "Ann", "email": "ann@example.com"})
	for _, path := range []string{"/api/v2/users/create_many", "/api/v2/users/create_or_update_many.json"} {
		r := c.do("POST", path, body)
		wantError(t, r, 403, "Forbidden")
		if !strings.Contains(r.json(t)["description"].(string), "imports are not enabled") {
			t.Errorf("POST %s: %s", path, r.body)
		}
	}
	if _, ok := s.UserByEmail("ann@example.com"); ok {
		t.Error("a refused import created a user")
	}
	r := c.must(200, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d", s.OwnerID()), userBody(map[string]any{"tags": []string{"x"}}))
	if r["job_status"] == nil {
		t.Errorf("update_many: %v", r)
	}
}

// TestCreateManyUsersJob: each item is created as POST /users would create
// it, in order, when the job runs: duplicates of existing users and of
// earlier items, the seat limit, and an agent's right to create end-users
// only, are failures of their items.
func TestCreateManyUsersJob(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, _ := newPipedServer(t, WithBulkUserImports(true), WithJobDelay(bulkJobDelay), WithAgentSeats(2))
		c := admin(t, s)
		if _, err := s.AddUser(UserSpec{Name: "Taken", Email: "taken@example.com"}); err != nil {
			t.Fatal(err)
		}
		m := c.must(200, "POST", "/api/v2/users/create_many.json", users(
			map[string]any{"name": "Ann", "email": "ann@example.com", "external_id": "hr-1"},
			map[string]any{"name": "Taken again", "email": "TAKEN@example.com"},
			map[string]any{"name": "Bob", "email": "bob@example.com", "role": "agent"},
			map[string]any{"name": "Cid", "email": "cid@example.com", "role": "agent"},
			map[string]any{"name": "Ann twice", "email": "ann@example.com"},
		))
		if _, ok := s.UserByEmail("ann@example.com"); ok {
			t.Fatal("the job ran before its delay")
		}
		res := runJob(t, c, m)
		ann, _ := s.UserByEmail("ann@example.com")
		bob, _ := s.UserByEmail("bob@example.com")
		want := []any{
			map[string]any{"id": float64(ann.ID), "index": float64(0)},
			map[string]any{"index": float64(1), "success": false, "error": "DuplicateValue",
				"details": "Email: TAKEN@example.com is already being used by another user"},
			map[string]any{"id": float64(bob.ID), "index": float64(2)},
			map[string]any{"index": float64(3), "success": false, "error": "InvalidValue",
				"details": "Role: Subscription limit reached. You have no agent seats left; remove an agent or buy more seats."},
			map[string]any{"index": float64(4), "success": false, "error": "DuplicateValue",
				"details": "Email: ann@example.com is already being used by another user"},
		}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		if ann.ExternalID != "hr-1" || ann.Role != RoleEndUser || bob.Role != RoleAgent || bob.DefaultGroupID == 0 {
			t.Errorf("created: %+v, %+v", ann, bob)
		}
		if _, ok := s.UserByEmail("cid@example.com"); ok {
			t.Error("an agent was created past the seats")
		}

		// An agent may create end-users only: other items fail, the rest are created.
		agent := as(t, s, "bob@example.com")
		res = runJob(t, c, agent.must(200, "POST", "/api/v2/users/create_many", users(
			map[string]any{"name": "Dee", "email": "dee@example.com"},
			map[string]any{"name": "Eve", "email": "eve@example.com", "role": "admin"},
		)))
		if len(res) != 2 || res[0].(map[string]any)["success"] != nil || res[1].(map[string]any)["error"] != "Forbidden" {
			t.Errorf("agent's job: %v", res)
		}
		if _, ok := s.UserByEmail("eve@example.com"); ok {
			t.Error("an agent created an admin")
		}
	})
}

// TestCreateOrUpdateManyUsersJob: each item updates the user its email or
// external id matches, as POST /users/create_or_update would, or creates one;
// the account owner stays protected.
func TestCreateOrUpdateManyUsersJob(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, _ := newPipedServer(t, WithBulkUserImports(true), WithJobDelay(bulkJobDelay))
		c := admin(t, s)
		old, _ := s.AddUser(UserSpec{Name: "Old", Email: "old@example.com"})
		ext, _ := s.AddUser(UserSpec{Name: "Ext", Email: "ext@example.com", ExternalID: "hr-7"})
		owner, _ := s.User(s.OwnerID())
		res := runJob(t, c, c.must(200, "POST", "/api/v2/users/create_or_update_many", users(
			map[string]any{"name": "Old renamed", "email": "OLD@example.com", "role": "agent"},
			map[string]any{"name": "Ext renamed", "external_id": "hr-7"},
			map[string]any{"name": "New", "email": "new@example.com", "skip_verify_email": true},
			map[string]any{"email": owner.Email, "role": "end-user"},
			map[string]any{"email": "nameless@example.com"},
		)))
		fresh, _ := s.UserByEmail("new@example.com")
		want := []any{
			map[string]any{"id": float64(old.ID), "action": "update", "status": "Updated", "success": true},
			map[string]any{"id": float64(ext.ID), "action": "update", "status": "Updated", "success": true},
			map[string]any{"id": float64(fresh.ID), "action": "create", "status": "Created", "success": true},
			map[string]any{"id": float64(owner.ID), "action": "update", "success": false, "error": "InvalidValue",
				"details": "Role: the account owner must remain an admin"},
			map[string]any{"index": float64(4), "action": "create", "success": false, "error": "ValueTooShort",
				"details": "Name: is too short (minimum one character)"},
		}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		if u, _ := s.User(old.ID); u.Name != "Old renamed" || u.Role != RoleAgent {
			t.Errorf("matched by email: %+v", u)
		}
		if u, _ := s.User(ext.ID); u.Name != "Ext renamed" {
			t.Errorf("matched by external id: %+v", u)
		}
		if u, _ := s.User(owner.ID); u.Role != RoleAdmin {
			t.Errorf("owner: %+v", u)
		}
	})
}

// TestUpdateManyUsersJob: the per-user form ({"users":[{"id"...}]}) and the
// same update for ids= or external_ids=, each applied as PUT /users/{id}
// would apply it.
func TestUpdateManyUsersJob(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, _ := newPipedServer(t, WithJobDelay(bulkJobDelay))
		c := admin(t, s)
		a, _ := s.AddUser(UserSpec{Name: "A", Email: "a@example.com", Role: RoleAgent})
		b, _ := s.AddUser(UserSpec{Name: "B", Email: "b@example.com", ExternalID: "hr-b"})
		res := runJob(t, c, c.must(200, "PUT", "/api/v2/users/update_many.json", users(
			map[string]any{"id": a.ID, "suspended": true},
			map[string]any{"external_id": "hr-b", "name": "B renamed"},
			map[string]any{"id": userBase + 99999, "name": "Nobody"},
			map[string]any{"external_id": "hr-none", "name": "Nobody"},
			map[string]any{"id": s.OwnerID(), "suspended": true},
		)))
		want := []any{
			map[string]any{"id": float64(a.ID), "action": "update", "status": "Updated", "success": true},
			map[string]any{"id": float64(b.ID), "action": "update", "status": "Updated", "success": true},
			map[string]any{"id": float64(userBase + 99999), "action": "update", "success": false, "error": "RecordNotFound", "details": "Not found"},
			map[string]any{"index": float64(3), "action": "update", "success": false, "error": "RecordNotFound", "details": "Not found"},
			map[string]any{"id": float64(s.OwnerID()), "action": "update", "success": false, "error": "InvalidValue",
				"details": "Suspended: the account owner cannot be suspended"},
		}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("per-user results (-want +got):\n%s", diff)
		}
		if u, _ := s.User(a.ID); !u.Suspended {
			t.Errorf("a: %+v", u)
		}
		if u, _ := s.User(b.ID); u.Name != "B renamed" || u.ExternalID != "hr-b" {
			t.Errorf("b: %+v", u)
		}

		res = runJob(t, c, c.must(200, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d,%d", a.ID, b.ID),
			userBody(map[string]any{"tags": []string{"leaver"}})))
		if len(res) != 2 || res[0].(map[string]any)["status"] != "Updated" || res[1].(map[string]any)["status"] != "Updated" {
			t.Errorf("ids= results: %v", res)
		}
		runJob(t, c, c.must(200, "PUT", "/api/v2/users/update_many?external_ids=hr-b", userBody(map[string]any{"name": "B again"})))
		ua, _ := s.User(a.ID)
		ub, _ := s.User(b.ID)
		if !cmp.Equal(ua.Tags, []string{"leaver"}) || !cmp.Equal(ub.Tags, []string{"leaver"}) || ub.Name != "B again" {
			t.Errorf("after the same update: %+v, %+v", ua, ub)
		}
	})
}

// TestUsersBulkRequestErrors: a request whose shape is wrong is refused at
// once, with no job: 1 to 100 items, one form of update_many at a time.
func TestUsersBulkRequestErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithBulkUserImports(true))
	c := admin(t, s)
	bad := &client{t: t, s: s, authz: c.authz, skipRecord: true} // outside the spec too
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = map[string]any{"name": fmt.Sprint("U", i), "email": fmt.Sprintf("u%d@example.com", i)}
	}
	id := s.OwnerID()
	for _, tc := range []struct {
		c            *client
		method, path string
		body         any
		status       int
		code         string
	}{
		{c, "POST", "/api/v2/users/create_many", users(many...), 400, "TooManyValues"},
		{c, "POST", "/api/v2/users/create_or_update_many", users(), 400, "InvalidValue"},
		{c, "PUT", "/api/v2/users/update_many", users(many...), 400, "TooManyValues"},
		{bad, "POST", "/api/v2/users/create_many", map[string]any{"user": map[string]any{"name": "A"}}, 400, "InvalidJSON"},
		{bad, "POST", "/api/v2/users/create_many", `{"users":[null]}`, 400, "InvalidJSON"},
		{bad, "POST", "/api/v2/users/create_many", users(map[string]any{"name": 7}), 422, "RecordInvalid"},
		{c, "PUT", "/api/v2/users/update_many", users(map[string]any{"name": "No id"}), 400, "InvalidValue"},
		{c, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d", id), users(map[string]any{"id": id}), 400, "InvalidValue"},
		{c, "PUT", "/api/v2/users/update_many", userBody(map[string]any{"name": "Who"}), 400, "InvalidValue"},
		{c, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d&external_ids=x", id), userBody(map[string]any{"name": "Who"}), 400, "InvalidValue"},
		{c, "PUT", fmt.Sprintf("/api/v2/users/update_many?ids=%d&ids=%d", id, id), userBody(map[string]any{"name": "Who"}), 400, "InvalidValue"},
		{c, "PUT", "/api/v2/users/update_many?ids=x", userBody(map[string]any{"name": "Who"}), 400, "InvalidValue"},
		{bad, "PUT", "/api/v2/users/update_many", map[string]any{"user": map[string]any{}, "users": []any{}}, 400, "InvalidJSON"},
	} {
		r := tc.c.do(tc.method, tc.path, tc.body)
		if r.status != tc.status || !strings.Contains(string(r.body), `"error":"`+tc.code+`"`) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, r.status, r.body, tc.status, tc.code)
		}
	}
	if n := len(list(t, c.must(200, "GET", "/api/v2/job_statuses", nil), "job_statuses")); n != 0 {
		t.Errorf("%d jobs after refused requests", n)
	}
}
