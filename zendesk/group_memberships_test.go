package zendesk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroupMembershipsLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		list func(ctx context.Context, c *Client) ([]GroupMembership, error)
	}{
		{"all", "/api/v2/group_memberships", func(ctx context.Context, c *Client) ([]GroupMembership, error) {
			return Collect(c.GroupMemberships.List(ctx))
		}},
		{"by user", "/api/v2/users/72/group_memberships", func(ctx context.Context, c *Client) ([]GroupMembership, error) {
			return Collect(c.GroupMemberships.ListByUser(ctx, 72))
		}},
		{"by group", "/api/v2/groups/88/memberships", func(ctx context.Context, c *Client) ([]GroupMembership, error) {
			return Collect(c.GroupMemberships.ListByGroup(ctx, 88))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			servePages(t, c, mux, tt.path,
				`{"group_memberships":[{"id":4,"user_id":72,"group_id":88,"default":true,"created_at":"2009-05-13T00:07:08Z"}],"meta":{"has_more":true,"after_cursor":"c1"},"links":{"next":"NEXT"}}`,
				`{"group_memberships":[{"id":5,"user_id":72,"group_id":89,"default":false}],"meta":{"has_more":false},"links":{"next":null}}`)
			got, err := tt.list(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			want := []GroupMembership{
				{ID: 4, UserID: 72, GroupID: 88, Default: true, CreatedAt: mustTime(t, "2009-05-13T00:07:08Z")},
				{ID: 5, UserID: 72, GroupID: 89},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("memberships (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGroupMembershipsListRealPages follows the links of two real pages (their host
// rewritten to the test server's), including their page[size]=1.
func TestGroupMembershipsListRealPages(t *testing.T) {
	t.Parallel()
	page1, page2 := string(fixture(t, "aaronellington-zendesk-go/group_membership/list_page1_200.json")),
		string(fixture(t, "aaronellington-zendesk-go/group_membership/list_page2_200.json"))
	c, mux := setup(t)
	handler := func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		switch r.URL.Query().Get("page[after]") {
		case "":
			testQuery(t, r, url.Values{"page[size]": {"100"}})
			writeJSON(w, 200, strings.ReplaceAll(page1, "https://subdomain.zendesk.com", c.BaseURL()))
		case "aCursor=":
			testQuery(t, r, url.Values{"page[size]": {"1"}, "page[after]": {"aCursor="}})
			writeJSON(w, 200, page2)
		default:
			t.Errorf("unexpected query %v", r.URL.Query())
			writeJSON(w, 400, `{}`)
		}
	}
	mux.HandleFunc("/api/v2/group_memberships", handler)
	mux.HandleFunc("/api/v2/group_memberships.json", handler)
	var ids []int64
	for m, err := range c.GroupMemberships.List(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if diff := cmp.Diff([]int64{11174930049820, 11292733779740}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestGroupMembershipsEndpoints(t *testing.T) {
	t.Parallel()
	membership := `{"group_membership":{"id":461,"url":"https://example.zendesk.com/api/v2/group_memberships/461.json","user_id":72,"group_id":88,"default":true,"created_at":"2012-04-03T12:34:01Z","updated_at":"2012-04-03T12:34:01Z"}}`
	want := &GroupMembership{ID: 461, URL: "https://example.zendesk.com/api/v2/group_memberships/461.json", UserID: 72, GroupID: 88, Default: true,
		CreatedAt: mustTime(t, "2012-04-03T12:34:01Z"), UpdatedAt: mustTime(t, "2012-04-03T12:34:01Z")}
	job := `{"job_status":{"id":"82de0b04","url":"https://example.zendesk.com/api/v2/job_statuses/82de0b04.json","status":"queued","total":2,"progress":null,"message":null,"results":null}}`
	wantJob := &JobStatus{ID: "82de0b04", URL: "https://example.zendesk.com/api/v2/job_statuses/82de0b04.json", Status: JobStatusQueued, Total: 2}
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/group_memberships/461", status: 200, answer: membership, want: want,
			call: func(ctx context.Context, c *Client) (any, error) {
				m, _, err := c.GroupMemberships.Get(ctx, 461)
				return m, err
			}},
		{name: "create", method: "POST", path: "/api/v2/group_memberships", status: 201, answer: membership, want: want,
			body: `{"group_membership":{"user_id":72,"group_id":88}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				m, _, err := c.GroupMemberships.Create(ctx, 72, 88)
				return m, err
			}},
		{name: "delete", method: "DELETE", path: "/api/v2/group_memberships/461", status: 204, want: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				resp, err := c.GroupMemberships.Delete(ctx, 461)
				if err != nil {
					return nil, err
				}
				return resp.StatusCode, nil
			}},
		{name: "make default", method: "PUT", path: "/api/v2/users/29/group_memberships/4/make_default", status: 200,
			answer: `{"group_memberships":[{"id":4,"user_id":29,"group_id":12,"default":true},{"id":49,"user_id":29,"group_id":3,"default":false}]}`,
			want:   []GroupMembership{{ID: 4, UserID: 29, GroupID: 12, Default: true}, {ID: 49, UserID: 29, GroupID: 3}},
			call: func(ctx context.Context, c *Client) (any, error) {
				ms, _, err := c.GroupMemberships.MakeDefault(ctx, 29, 4)
				return ms, err
			}},
		{name: "create many", method: "POST", path: "/api/v2/group_memberships/create_many", status: 200, answer: job, want: wantJob,
			body: `{"group_memberships":[{"user_id":72,"group_id":88},{"user_id":73,"group_id":88}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				j, _, err := c.GroupMemberships.CreateMany(ctx, []GroupMembershipPair{{UserID: 72, GroupID: 88}, {UserID: 73, GroupID: 88}})
				return j, err
			}},
		{name: "destroy many", method: "DELETE", path: "/api/v2/group_memberships/destroy_many", status: 200, answer: job, want: wantJob,
			query: url.Values{"ids": {"1,2,3"}},
			call: func(ctx context.Context, c *Client) (any, error) {
				j, _, err := c.GroupMemberships.DestroyMany(ctx, []int64{1, 2, 3})
				return j, err
			}},
	})
}

// TestGroupMembershipsCreateRetried shows Create is retried after a 5xx (its repeat
// is detectable), while CreateMany, whose repeat would queue a second job, is not.
func TestGroupMembershipsCreateRetried(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var creates, bulk atomic.Int32
	mux.HandleFunc("/api/v2/group_memberships", func(w http.ResponseWriter, r *http.Request) {
		if creates.Add(1) == 1 {
			writeJSON(w, 502, `{"error":"BadGateway"}`)
			return
		}
		writeJSON(w, 201, `{"group_membership":{"id":461,"user_id":72,"group_id":88}}`)
	})
	mux.HandleFunc("/api/v2/group_memberships/create_many", func(w http.ResponseWriter, r *http.Request) {
		bulk.Add(1)
		writeJSON(w, 502, `{"error":"BadGateway"}`)
	})
	m, _, err := c.GroupMemberships.Create(t.Context(), 72, 88)
	if err != nil || m == nil || m.ID != 461 {
		t.Fatalf("Create = %+v, %v", m, err)
	}
	if n := creates.Load(); n != 2 {
		t.Errorf("Create attempts = %d, want 2", n)
	}
	_, _, err = c.GroupMemberships.CreateMany(t.Context(), []GroupMembershipPair{{UserID: 72, GroupID: 88}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 {
		t.Errorf("CreateMany err = %v, want a 502 *APIError", err)
	}
	if n := bulk.Load(); n != 1 {
		t.Errorf("CreateMany attempts = %d, want 1", n)
	}
}

func TestGroupMembershipsCreateDuplicate(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/api/v2/group_memberships", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, `{"error":"RecordInvalid","description":"Record validation errors","details":{"user_id":[{"description":"User is already a member of this group","error":"DuplicateValue"}]}}`)
	})
	_, _, err := c.GroupMemberships.Create(t.Context(), 72, 88)
	if !IsDuplicate(err) {
		t.Errorf("err = %v, want a duplicate", err)
	}
}

func TestGroupMembershipsValidation(t *testing.T) {
	t.Parallel()
	pairs := func(n int) []GroupMembershipPair {
		out := make([]GroupMembershipPair, n)
		for i := range out {
			out[i] = GroupMembershipPair{UserID: int64(i + 1), GroupID: 1}
		}
		return out
	}
	ids := func(n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out
	}
	gm := func(c *Client) *GroupMembershipsService { return c.GroupMemberships }
	testValidation(t, []validationCase{
		{"list by user zero", func(ctx context.Context, c *Client) error { _, err := Collect(gm(c).ListByUser(ctx, 0)); return err }, "user id must be positive, got 0"},
		{"list by group negative", func(ctx context.Context, c *Client) error { _, err := Collect(gm(c).ListByGroup(ctx, -3)); return err }, "group id must be positive, got -3"},
		{"get zero", func(ctx context.Context, c *Client) error { _, _, err := gm(c).Get(ctx, 0); return err }, "membership id must be positive"},
		{"create zero user", func(ctx context.Context, c *Client) error { _, _, err := gm(c).Create(ctx, 0, 88); return err }, "user id must be positive"},
		{"create zero group", func(ctx context.Context, c *Client) error { _, _, err := gm(c).Create(ctx, 72, 0); return err }, "group id must be positive"},
		{"delete zero", func(ctx context.Context, c *Client) error { _, err := gm(c).Delete(ctx, 0); return err }, "membership id must be positive"},
		{"make default zero user", func(ctx context.Context, c *Client) error { _, _, err := gm(c).MakeDefault(ctx, 0, 4); return err }, "user id must be positive"},
		{"make default zero membership", func(ctx context.Context, c *Client) error { _, _, err := gm(c).MakeDefault(ctx, 29, 0); return err }, "membership id must be positive"},
		{"create many empty", func(ctx context.Context, c *Client) error { _, _, err := gm(c).CreateMany(ctx, nil); return err }, "no items"},
		{"create many 101", func(ctx context.Context, c *Client) error { _, _, err := gm(c).CreateMany(ctx, pairs(101)); return err }, "101 items given, Zendesk accepts at most 100"},
		{"create many bad pair", func(ctx context.Context, c *Client) error {
			_, _, err := gm(c).CreateMany(ctx, []GroupMembershipPair{{UserID: 1, GroupID: 1}, {UserID: 2}})
			return err
		}, "item 1: group id must be positive"},
		{"destroy many 101", func(ctx context.Context, c *Client) error { _, _, err := gm(c).DestroyMany(ctx, ids(101)); return err }, "at most 100"},
		{"destroy many bad id", func(ctx context.Context, c *Client) error {
			_, _, err := gm(c).DestroyMany(ctx, []int64{1, 0})
			return err
		}, "membership ids[1] must be positive"},
	})
}

// TestGroupMembershipsBulkLimit shows exactly 100 items are accepted.
func TestGroupMembershipsBulkLimit(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/api/v2/group_memberships/create_many", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"job_status":{"id":"j1","status":"queued"}}`)
	})
	pairs := make([]GroupMembershipPair, MaxBulkItems)
	for i := range pairs {
		pairs[i] = GroupMembershipPair{UserID: int64(i + 1), GroupID: 7}
	}
	job, _, err := c.GroupMemberships.CreateMany(t.Context(), pairs)
	if err != nil || job.ID != "j1" {
		t.Errorf("CreateMany(100) = %+v, %v", job, err)
	}
}
