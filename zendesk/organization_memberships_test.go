package zendesk

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrganizationMembershipDefault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		json        string
		wantDefault bool
	}{
		{"true", `{"id":4,"user_id":29,"organization_id":12,"default":true}`, true},
		{"false", `{"id":4,"user_id":29,"organization_id":12,"default":false}`, false},
		{"null, as Zendesk sends for non-default", `{"id":4,"user_id":29,"organization_id":12,"default":null}`, false},
		{"absent", `{"id":4,"user_id":29,"organization_id":12}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m OrganizationMembership
			if err := json.Unmarshal([]byte(tt.json), &m); err != nil {
				t.Fatal(err)
			}
			want := OrganizationMembership{ID: 4, UserID: 29, OrganizationID: 12, Default: tt.wantDefault}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			// Encoding keeps the field (it is json:"-" on the struct) as a boolean.
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back["default"] != tt.wantDefault {
				t.Errorf("encoded default = %#v, want %v (in %s)", back["default"], tt.wantDefault, b)
			}
			var again OrganizationMembership
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(m, again); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	// Through a pointer and inside a list, as the services decode it.
	var list []*OrganizationMembership
	if err := json.Unmarshal([]byte(`[{"id":1,"default":true},{"id":2,"default":null}]`), &list); err != nil {
		t.Fatal(err)
	}
	if !list[0].Default || list[1].Default {
		t.Errorf("list defaults = %v, %v; want true, false", list[0].Default, list[1].Default)
	}
	if _, err := json.Marshal(&OrganizationMembership{ID: 1}); err != nil {
		t.Errorf("marshal pointer: %v", err)
	}
	var bad OrganizationMembership
	if err := json.Unmarshal([]byte(`{"id":1,"default":"yes"}`), &bad); err == nil {
		t.Error(`"default":"yes" decoded without error`)
	}
}

func TestOrganizationMembershipsLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		list func(ctx context.Context, c *Client) ([]OrganizationMembership, error)
	}{
		{"all", "/api/v2/organization_memberships", func(ctx context.Context, c *Client) ([]OrganizationMembership, error) {
			return Collect(c.OrganizationMemberships.List(ctx))
		}},
		{"by user", "/api/v2/users/29/organization_memberships", func(ctx context.Context, c *Client) ([]OrganizationMembership, error) {
			return Collect(c.OrganizationMemberships.ListByUser(ctx, 29))
		}},
		{"by organization", "/api/v2/organizations/12/organization_memberships", func(ctx context.Context, c *Client) ([]OrganizationMembership, error) {
			return Collect(c.OrganizationMemberships.ListByOrganization(ctx, 12))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			servePages(t, c, mux, tt.path,
				`{"organization_memberships":[{"id":4,"user_id":29,"organization_id":12,"organization_name":"first","default":true,"view_tickets":true}],"meta":{"has_more":true},"links":{"next":"NEXT"}}`,
				`{"organization_memberships":[{"id":49,"user_id":29,"organization_id":3,"organization_name":"second","default":null,"view_tickets":false}],"meta":{"has_more":false}}`)
			got, err := tt.list(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			want := []OrganizationMembership{
				{ID: 4, UserID: 29, OrganizationID: 12, OrganizationName: "first", Default: true, ViewTickets: true},
				{ID: 49, UserID: 29, OrganizationID: 3, OrganizationName: "second"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("memberships (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOrganizationMembershipsRealPayloads decodes Zendesk's real answers to a create and a
// show (fixtures), so it needs the API material; the other endpoints are tested below
// with inline answers and run everywhere.
func TestOrganizationMembershipsRealPayloads(t *testing.T) {
	t.Parallel()
	created := string(fixture(t, "aaronellington-zendesk-go/organization_membership/create_200.json"))
	wantCreated := &OrganizationMembership{ID: 11327656696988, URL: "https://subdomain.zendesk.com/api/v2/organization_memberships/11327656696988.json",
		UserID: 11174914247836, OrganizationID: 11224050897308, OrganizationName: "A Test Organization", Default: false, ViewTickets: true,
		CreatedAt: mustTime(t, "2023-11-16T11:00:08Z"), UpdatedAt: mustTime(t, "2023-11-16T11:00:08Z")}
	shown := string(fixture(t, "aaronellington-zendesk-go/organization_membership/show_200.json"))
	wantShown := &OrganizationMembership{ID: 11224062128028, URL: "https://subdomain.zendesk.com/api/v2/organization_memberships/11224062128028.json",
		UserID: 11224066915868, OrganizationID: 11224050897308, OrganizationName: "A Test Organization", Default: true, ViewTickets: true,
		CreatedAt: mustTime(t, "2023-11-10T10:37:14Z"), UpdatedAt: mustTime(t, "2023-11-10T10:37:14Z")}
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/organization_memberships/11224062128028", status: 200, answer: shown, want: wantShown,
			call: func(ctx context.Context, c *Client) (any, error) {
				m, _, err := c.OrganizationMemberships.Get(ctx, 11224062128028)
				return m, err
			}},
		{name: "create", method: "POST", path: "/api/v2/organization_memberships", status: 201, answer: created, want: wantCreated,
			body: `{"organization_membership":{"user_id":11174914247836,"organization_id":11224050897308}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				m, _, err := c.OrganizationMemberships.Create(ctx, 11174914247836, 11224050897308)
				return m, err
			}},
	})
}

func TestOrganizationMembershipsEndpoints(t *testing.T) {
	t.Parallel()
	job := `{"job_status":{"id":"8b726e60","status":"completed","total":1,"progress":1,"results":[{"action":"create","id":380,"status":"Created","success":true}]}}`
	wantJob := &JobStatus{ID: "8b726e60", Status: JobStatusCompleted, Total: 1, Progress: 1,
		Results: []JobResult{{Action: "create", ID: 380, Status: "Created", Success: Ptr(true)}}}
	om := func(c *Client) *OrganizationMembershipsService { return c.OrganizationMemberships }
	status := func(resp *Response, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return resp.StatusCode, nil
	}
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/organization_memberships/4", status: 200,
			answer: `{"organization_membership":{"id":4,"user_id":29,"organization_id":12,"organization_name":"first","default":true,"view_tickets":true}}`,
			want:   &OrganizationMembership{ID: 4, UserID: 29, OrganizationID: 12, OrganizationName: "first", Default: true, ViewTickets: true},
			call: func(ctx context.Context, c *Client) (any, error) {
				m, _, err := om(c).Get(ctx, 4)
				return m, err
			}},
		{name: "create", method: "POST", path: "/api/v2/organization_memberships", status: 201,
			answer: `{"organization_membership":{"id":5,"user_id":29,"organization_id":12,"default":null}}`,
			want:   &OrganizationMembership{ID: 5, UserID: 29, OrganizationID: 12},
			body:   `{"organization_membership":{"user_id":29,"organization_id":12}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				m, _, err := om(c).Create(ctx, 29, 12)
				return m, err
			}},
		{name: "delete", method: "DELETE", path: "/api/v2/organization_memberships/461", status: 204, want: 204,
			call: func(ctx context.Context, c *Client) (any, error) { return status(om(c).Delete(ctx, 461)) }},
		{name: "unassign", method: "DELETE", path: "/api/v2/users/29/organizations/12", status: 204, want: 204,
			call: func(ctx context.Context, c *Client) (any, error) { return status(om(c).Unassign(ctx, 29, 12)) }},
		{name: "make default", method: "PUT", path: "/api/v2/users/29/organization_memberships/4/make_default", status: 200,
			answer: `{"organization_memberships":[{"id":4,"user_id":29,"organization_id":12,"default":true},{"id":49,"user_id":29,"organization_id":3,"default":null}]}`,
			want:   []OrganizationMembership{{ID: 4, UserID: 29, OrganizationID: 12, Default: true}, {ID: 49, UserID: 29, OrganizationID: 3}},
			call: func(ctx context.Context, c *Client) (any, error) {
				ms, _, err := om(c).MakeDefault(ctx, 29, 4)
				return ms, err
			}},
		{name: "create many", method: "POST", path: "/api/v2/organization_memberships/create_many", status: 200, answer: job, want: wantJob,
			body: `{"organization_memberships":[{"user_id":29,"organization_id":12},{"user_id":30,"organization_id":12}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				j, _, err := om(c).CreateMany(ctx, []OrganizationMembershipPair{{UserID: 29, OrganizationID: 12}, {UserID: 30, OrganizationID: 12}})
				return j, err
			}},
		// One id: the spec declares ids as an exploded integer array (ids=1&ids=2) while
		// Zendesk documents and takes a comma-separated list (ids=1,2), which the spec
		// would reject; see TestOrganizationMembershipsDestroyManyQuery.
		{name: "destroy many", method: "DELETE", path: "/api/v2/organization_memberships/destroy_many", status: 200, answer: job, want: wantJob,
			query: url.Values{"ids": {"461"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				j, _, err := om(c).DestroyMany(ctx, []int64{461})
				return j, err
			}},
	})
}

func TestOrganizationMembershipsCreateDuplicate(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var attempts atomic.Int32
	mux.HandleFunc("/api/v2/organization_memberships", func(w http.ResponseWriter, r *http.Request) {
		// First attempt: the membership is created but the answer is lost (502); the
		// retry then meets the duplicate.
		if attempts.Add(1) == 1 {
			writeJSON(w, 502, `{"error":"BadGateway"}`)
			return
		}
		// Zendesk's answer (fixture aaronellington-zendesk-go/organization_membership/create_422.json).
		writeJSON(w, 422, `{"error":"RecordInvalid","description":"Record validation errors","details":{"user_id":[{"description":" This user is already a member of this organization.","error":"DuplicateValue"}]}}`)
	})
	_, _, err := c.OrganizationMemberships.Create(t.Context(), 29, 12)
	if !IsDuplicate(err) {
		t.Errorf("err = %v, want a duplicate", err)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2 (Create is marked idempotent)", n)
	}
}

// TestOrganizationMembershipsDestroyManyQuery checks the comma-separated form Zendesk
// documents, outside the spec check (whose ids is an exploded integer array).
func TestOrganizationMembershipsDestroyManyQuery(t *testing.T) {
	t.Parallel()
	c, err := NewClient("example", WithBaseURL(startRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "DELETE")
		if r.URL.Path != "/api/v2/organization_memberships/destroy_many" {
			t.Errorf("path = %s", r.URL.Path)
		}
		testQuery(t, r, url.Values{"ids": {"1,2,3"}})
		writeJSON(w, 200, `{"job_status":{"id":"j","status":"queued"}}`)
	})), WithAPIToken(testEmail, testToken))
	if err != nil {
		t.Fatal(err)
	}
	job, _, err := c.OrganizationMemberships.DestroyMany(t.Context(), []int64{1, 2, 3})
	if err != nil || job.ID != "j" {
		t.Errorf("DestroyMany = %+v, %v", job, err)
	}
}

func TestOrganizationMembershipsValidation(t *testing.T) {
	t.Parallel()
	om := func(c *Client) *OrganizationMembershipsService { return c.OrganizationMemberships }
	pairs := make([]OrganizationMembershipPair, 101)
	for i := range pairs {
		pairs[i] = OrganizationMembershipPair{UserID: int64(i + 1), OrganizationID: 1}
	}
	testValidation(t, []validationCase{
		{"list by user zero", func(ctx context.Context, c *Client) error { _, err := Collect(om(c).ListByUser(ctx, 0)); return err }, "user id must be positive"},
		{"list by org zero", func(ctx context.Context, c *Client) error {
			_, err := Collect(om(c).ListByOrganization(ctx, 0))
			return err
		}, "organization id must be positive"},
		{"get zero", func(ctx context.Context, c *Client) error { _, _, err := om(c).Get(ctx, 0); return err }, "membership id must be positive"},
		{"create zero user", func(ctx context.Context, c *Client) error { _, _, err := om(c).Create(ctx, 0, 12); return err }, "user id must be positive"},
		{"create zero org", func(ctx context.Context, c *Client) error { _, _, err := om(c).Create(ctx, 29, -12); return err }, "organization id must be positive, got -12"},
		{"delete zero", func(ctx context.Context, c *Client) error { _, err := om(c).Delete(ctx, 0); return err }, "membership id must be positive"},
		{"unassign zero user", func(ctx context.Context, c *Client) error { _, err := om(c).Unassign(ctx, 0, 12); return err }, "user id must be positive"},
		{"unassign zero org", func(ctx context.Context, c *Client) error { _, err := om(c).Unassign(ctx, 29, 0); return err }, "organization id must be positive"},
		{"make default zero", func(ctx context.Context, c *Client) error { _, _, err := om(c).MakeDefault(ctx, 29, 0); return err }, "membership id must be positive"},
		{"create many 101", func(ctx context.Context, c *Client) error { _, _, err := om(c).CreateMany(ctx, pairs); return err }, "101 items given, Zendesk accepts at most 100"},
		{"create many bad org", func(ctx context.Context, c *Client) error {
			_, _, err := om(c).CreateMany(ctx, []OrganizationMembershipPair{{UserID: 1}})
			return err
		}, "item 0: organization id must be positive"},
		{"destroy many empty", func(ctx context.Context, c *Client) error { _, _, err := om(c).DestroyMany(ctx, nil); return err }, "no items"},
	})
}

// startRawServer serves h without the spec check of setup, for the few requests where
// the spec is known to be wrong. It returns the server's URL.
func startRawServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
