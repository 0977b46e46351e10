package zendesktest

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func userBody(fields map[string]any) map[string]any { return map[string]any{"user": fields} }

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := admin(t, s)
	m := c.must(201, "POST", "/api/v2/users.json", userBody(map[string]any{"name": "Kylo Ren", "email": "kren@example.com", "role": "agent"}))
	u := m["user"].(map[string]any)
	uid := num(t, u["id"])
	if u["role"] != "agent" || u["role_type"] != nil || u["active"] != true || u["default_group_id"] == nil {
		t.Fatalf("new agent: %v", u)
	}
	// New agents join the default group.
	if gms := s.GroupMembershipsOf(uid); len(gms) != 1 || !gms[0].Default {
		t.Fatalf("memberships of new agent: %+v", gms)
	}
	// Duplicate email.
	r := c.do("POST", "/api/v2/users", userBody(map[string]any{"name": "Other", "email": "KREN@example.com"}))
	wantError(t, r, 422, "RecordInvalid")
	if d := r.json(t)["details"].(map[string]any)["email"].([]any)[0].(map[string]any); d["error"] != "DuplicateValue" {
		t.Errorf("details: %v", d)
	}
	// Missing name: the fixture's ValueTooShort.
	r = c.do("POST", "/api/v2/users", userBody(map[string]any{"email": "noname@example.com"}))
	wantError(t, r, 422, "RecordInvalid")

	// Promote to admin: role_type 4.
	m = c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d", uid), userBody(map[string]any{"role": "admin"}))
	if rt := m["user"].(map[string]any)["role_type"]; rt != float64(4) {
		t.Errorf("admin role_type = %v", rt)
	}
	// Suspend.
	m = c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d.json", uid), userBody(map[string]any{"suspended": true}))
	if m["user"].(map[string]any)["suspended"] != true {
		t.Error("not suspended")
	}
	// Downgrade to end-user drops group memberships.
	c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d", uid), userBody(map[string]any{"role": "end-user"}))
	if gms := s.GroupMembershipsOf(uid); len(gms) != 0 {
		t.Errorf("end-user keeps memberships: %+v", gms)
	}
	if u, _ := s.User(uid); u.DefaultGroupID != 0 || u.RoleType != nil {
		t.Errorf("downgraded user: %+v", u)
	}

	// Soft delete.
	m = c.must(200, "DELETE", fmt.Sprintf("/api/v2/users/%d", uid), nil)
	if m["user"].(map[string]any)["active"] != false {
		t.Errorf("deleted user active: %v", m)
	}
	users := list(t, c.must(200, "GET", "/api/v2/users", nil), "users")
	for _, x := range users {
		if num(t, x["id"]) == uid {
			t.Error("soft-deleted user still listed")
		}
	}
	c.must(200, "GET", fmt.Sprintf("/api/v2/deleted_users/%d", uid), nil)
	del := list(t, c.must(200, "GET", "/api/v2/deleted_users", nil), "deleted_users")
	if len(del) != 1 || num(t, del[0]["id"]) != uid {
		t.Errorf("deleted_users: %v", del)
	}
	// Show still answers with active:false; the email is free again.
	if m := c.must(200, "GET", fmt.Sprintf("/api/v2/users/%d", uid), nil); m["user"].(map[string]any)["active"] != false {
		t.Error("show of soft-deleted user")
	}
	c.must(201, "POST", "/api/v2/users", userBody(map[string]any{"name": "Kylo Two", "email": "kren@example.com"}))

	// Permanent delete, once.
	c.must(200, "DELETE", fmt.Sprintf("/api/v2/deleted_users/%d", uid), nil)
	r = c.do("DELETE", fmt.Sprintf("/api/v2/deleted_users/%d", uid), nil)
	wantError(t, r, 422, "RecordInvalid")
	m = c.must(200, "GET", fmt.Sprintf("/api/v2/deleted_users/%d", uid), nil)
	if du := m["deleted_user"].(map[string]any); du["name"] != "Permanently Deleted User" || du["email"] != nil {
		t.Errorf("purged user: %v", du)
	}
	wantError(t, c.do("GET", fmt.Sprintf("/api/v2/users/%d", uid), nil), 404, "RecordNotFound")
	// A live user cannot be purged directly.
	wantError(t, c.do("DELETE", fmt.Sprintf("/api/v2/deleted_users/%d", s.OwnerID()), nil), 404, "RecordNotFound")
}

func TestOwnerProtection(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := admin(t, s)
	owner := s.OwnerID()
	wantError(t, c.do("DELETE", fmt.Sprintf("/api/v2/users/%d", owner), nil), 403, "Forbidden")
	wantError(t, c.do("PUT", fmt.Sprintf("/api/v2/users/%d", owner), userBody(map[string]any{"suspended": true})), 422, "RecordInvalid")
	wantError(t, c.do("PUT", fmt.Sprintf("/api/v2/users/%d", owner), userBody(map[string]any{"role": "agent"})), 422, "RecordInvalid")
	if u, _ := s.User(owner); !u.Active || u.Suspended || u.Role != RoleAdmin {
		t.Errorf("owner changed: %+v", u)
	}
}

func TestAgentSeats(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAgentSeats(2), WithAccount(AccountSpec{Seed: 3, Groups: 1, CustomRoles: 0}))
	c := admin(t, s) // the owner holds seat 1
	c.must(201, "POST", "/api/v2/users", userBody(map[string]any{"name": "A", "email": "a@example.com", "role": "agent"}))
	r := c.do("POST", "/api/v2/users", userBody(map[string]any{"name": "B", "email": "b@example.com", "role": "agent"}))
	wantError(t, r, 422, "RecordInvalid")
	if _, ok := r.json(t)["details"].(map[string]any)["role"]; !ok {
		t.Errorf("seat error not on role: %s", r.body)
	}
	eu := c.must(201, "POST", "/api/v2/users", userBody(map[string]any{"name": "C", "email": "c@example.com"}))
	wantError(t, c.do("PUT", fmt.Sprintf("/api/v2/users/%d", id(t, eu, "user")), userBody(map[string]any{"role": "admin"})), 422, "RecordInvalid")
	// Freeing a seat (downgrade) allows the promotion.
	a, _ := s.UserByEmail("a@example.com")
	c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d", a.ID), userBody(map[string]any{"role": "end-user"}))
	c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d", id(t, eu, "user")), userBody(map[string]any{"role": "admin"}))
	if got := s.Counts().SeatsUsed; got != 2 {
		t.Errorf("SeatsUsed = %d", got)
	}
	// A light agent takes no seat.
	light := s.AddCustomRole("Light", 1)
	c.must(201, "POST", "/api/v2/users", userBody(map[string]any{"name": "L", "email": "l@example.com", "role": "agent", "custom_role_id": light.ID}))
}

func TestCustomRoleAssignment(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(AccountSpec{Seed: 1, Groups: 1, CustomRoles: 3}))
	c := admin(t, s)
	roles := list(t, c.must(200, "GET", "/api/v2/custom_roles", nil), "custom_roles")
	if len(roles) != 3 {
		t.Fatalf("%d roles", len(roles))
	}
	rid := num(t, roles[1]["id"])
	m := c.must(201, "POST", "/api/v2/users", userBody(map[string]any{"name": "Agent", "email": "cr@example.com", "role": "agent", "custom_role_id": rid}))
	u := m["user"].(map[string]any)
	if num(t, u["custom_role_id"]) != rid || u["role_type"] == nil {
		t.Errorf("user: %v", u)
	}
	holders := list(t, c.must(200, "GET", fmt.Sprintf("/api/v2/users?permission_set=%d", rid), nil), "users")
	if len(holders) != 1 || num(t, holders[0]["id"]) != num(t, u["id"]) {
		t.Errorf("permission_set filter: %v", holders)
	}
	show := c.must(200, "GET", fmt.Sprintf("/api/v2/custom_roles/%d", rid), nil)
	if n := num(t, show["custom_role"].(map[string]any)["team_member_count"]); n != 1 {
		t.Errorf("team_member_count = %d", n)
	}
	wantError(t, c.do("PUT", fmt.Sprintf("/api/v2/users/%d", num(t, u["id"])), userBody(map[string]any{"custom_role_id": 1})), 422, "RecordInvalid")

	// Lower plans: custom roles are refused.
	p := newServer(t, WithPlan(PlanProfessional))
	pc := admin(t, p)
	wantError(t, pc.do("GET", "/api/v2/custom_roles", nil), 403, "Forbidden")
	role := p.AddCustomRole("Sneaky", 0)
	r := pc.do("POST", "/api/v2/users", userBody(map[string]any{"name": "X", "email": "x@example.com", "role": "agent", "custom_role_id": role.ID}))
	wantError(t, r, 422, "RecordInvalid")
}

func TestCreateOrUpdateUser(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := admin(t, s)
	body := userBody(map[string]any{"name": "Roger", "email": "roger@example.com", "external_id": "r-1"})
	first := c.must(201, "POST", "/api/v2/users/create_or_update", body)
	again := c.must(200, "POST", "/api/v2/users/create_or_update.json", userBody(map[string]any{"name": "Roger W", "email": "roger@example.com"}))
	if id(t, first, "user") != id(t, again, "user") || again["user"].(map[string]any)["name"] != "Roger W" {
		t.Fatalf("update by email: %v", again)
	}
	byExt := c.must(200, "POST", "/api/v2/users/create_or_update", userBody(map[string]any{"name": "Roger X", "external_id": "r-1"}))
	if id(t, byExt, "user") != id(t, first, "user") {
		t.Fatalf("update by external_id created a new user")
	}
}

func TestUserQueries(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(DemoAccount()))
	c := admin(t, s)
	agents := list(t, c.must(200, "GET", "/api/v2/users?role=agent", nil), "users")
	staff := list(t, c.must(200, "GET", "/api/v2/users?role[]=agent&role[]=admin", nil), "users")
	counts := s.Counts()
	if len(agents) != counts.Agents || len(staff) != counts.Agents+counts.Admins {
		t.Errorf("role filters: %d agents, %d staff; counts %+v", len(agents), len(staff), counts)
	}
	for _, u := range agents {
		if u["role"] != "agent" {
			t.Errorf("role filter returned %v", u["role"])
		}
	}
	owner, _ := s.User(s.OwnerID())
	found := list(t, c.must(200, "GET", "/api/v2/users/search?query="+("email:"+owner.Email), nil), "users")
	if len(found) != 1 || num(t, found[0]["id"]) != owner.ID {
		t.Errorf("search by email: %v", found)
	}
	res := c.must(200, "GET", "/api/v2/users/search?query=Owner", nil)
	if num(t, res["count"]) != 1 {
		t.Errorf("plain-text search: %v", res["count"])
	}
	ids := fmt.Sprintf("%d,%d,%d", owner.ID, owner.ID+1, 1)
	many := list(t, c.must(200, "GET", "/api/v2/users/show_many?ids="+ids, nil), "users")
	if len(many) != 2 {
		t.Errorf("show_many: %d users", len(many))
	}
	u, err := s.AddUser(UserSpec{Name: "Ext", Email: "ext@example.com", ExternalID: "abc-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := list(t, c.must(200, "GET", "/api/v2/users/search?external_id=abc-1", nil), "users"); len(got) != 1 || num(t, got[0]["id"]) != u.ID {
		t.Errorf("search by external_id: %v", got)
	}
	if got := list(t, c.must(200, "GET", "/api/v2/users/show_many?external_ids=abc-1", nil), "users"); len(got) != 1 {
		t.Errorf("show_many by external_ids: %v", got)
	}
	me := c.must(http.StatusOK, "GET", "/api/v2/users/me", nil)
	if id(t, me, "user") != owner.ID {
		t.Errorf("me = %d", id(t, me, "user"))
	}
}

func TestIncrementalUsers(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithAccount(DemoAccount()), WithClock(clock.Now), WithIncrementalRateLimit(100))
	c := admin(t, s)
	total := 0
	next := "/api/v2/incremental/users/cursor?start_time=0&per_page=7"
	seen := map[int64]bool{}
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("no end of stream")
		}
		m := c.must(200, "GET", next, nil)
		for _, u := range list(t, m, "users") {
			if seen[num(t, u["id"])] {
				t.Fatalf("user %v twice", u["id"])
			}
			seen[num(t, u["id"])] = true
			total++
		}
		if m["end_of_stream"] == true {
			next = m["after_url"].(string)
			break
		}
		next = m["after_url"].(string)
	}
	cn := s.Counts()
	if want := cn.EndUsers + cn.Agents + cn.Admins + cn.SoftDeletedUsers; total != want {
		t.Errorf("exported %d users, want %d", total, want)
	}
	// A change after the end shows up when resuming from the last cursor.
	clock.Advance(time.Minute)
	c.must(200, "PUT", fmt.Sprintf("/api/v2/users/%d", s.OwnerID()), userBody(map[string]any{"name": "Renamed Owner"}))
	m := c.must(200, "GET", next, nil)
	if us := list(t, m, "users"); len(us) != 1 || us[0]["name"] != "Renamed Owner" {
		t.Errorf("resume: %v", us)
	}
	bad := &client{t: t, s: s, authz: c.authz, skipRecord: true}
	wantError(t, bad.do("GET", fmt.Sprintf("/api/v2/incremental/users/cursor?start_time=%d", clock.Now().Unix()), nil), 400, "InvalidValue")
}
