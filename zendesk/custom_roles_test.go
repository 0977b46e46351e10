package zendesk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCustomRolesListFollowsNextPage serves the two real pages, whose next_page Zendesk
// sends although the endpoint is documented as unpaginated.
func TestCustomRolesListFollowsNextPage(t *testing.T) {
	t.Parallel()
	page1 := string(fixture(t, "aaronellington-zendesk-go/custom_role/list_page_1_200.json"))
	page2 := string(fixture(t, "aaronellington-zendesk-go/custom_role/list_page_2_200.json"))
	c, mux := setup(t)
	var queries []string
	handler := func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("page") {
		case "":
			testQuery(t, r, nil)
			writeJSON(w, 200, strings.ReplaceAll(page1, "https://subdomain.zendesk.com", c.BaseURL()))
		case "2":
			writeJSON(w, 200, page2)
		default:
			t.Errorf("unexpected query %q", r.URL.RawQuery)
			writeJSON(w, 400, `{}`)
		}
	}
	mux.HandleFunc("/api/v2/custom_roles", handler)
	mux.HandleFunc("/api/v2/custom_roles.json", handler)
	roles, err := Collect(c.CustomRoles.List(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"", "page=2"}, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	var ids []int64
	for _, r := range roles {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]int64{1000, 20191, 18273, 1238741}, ids); diff != "" {
		t.Fatalf("role ids (-want +got):\n%s", diff)
	}
	first, last := roles[0], roles[3]
	if first.Name != "Custom Role 1" || first.RoleType != RoleTypeCustomAgent || first.TeamMemberCount != 3 {
		t.Errorf("first role = %+v", first)
	}
	if v, ok := last.Configuration["manage_group_memberships"].(bool); !ok || !v {
		t.Errorf("last role's manage_group_memberships = %#v, want true", last.Configuration["manage_group_memberships"])
	}
	if got := first.CreatedAt.Format("2006-01-02"); got != "2013-10-04" {
		t.Errorf("created_at = %s", got)
	}
}

func TestCustomRolesListUnpaginated(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/api/v2/custom_roles", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, 200, `{"custom_roles":[{"id":7,"name":"Advisor","role_type":0,"configuration":{"ticket_access":"within-groups"}}]}`)
	})
	roles, err := Collect(c.CustomRoles.List(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	want := []CustomRole{{ID: 7, Name: "Advisor", Configuration: map[string]any{"ticket_access": "within-groups"}}}
	if diff := cmp.Diff(want, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if calls != 1 {
		t.Errorf("requests = %d, want 1", calls)
	}
}

func TestCustomRolesListLoopingNextPage(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	handler := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"custom_roles":[{"id":7,"name":"A"}],"next_page":"`+c.BaseURL()+`/api/v2/custom_roles.json?page=2"}`)
	}
	mux.HandleFunc("/api/v2/custom_roles", handler)
	mux.HandleFunc("/api/v2/custom_roles.json", handler)
	_, err := Collect(c.CustomRoles.List(t.Context()))
	if err == nil || !strings.Contains(err.Error(), "repeats a page already read") {
		t.Errorf("err = %v, want a loop error", err)
	}
}

// TestCustomRolesListStopsAfterMaxPages: a next_page that keeps moving on is followed up
// to maxCustomRolePages pages, then the list ends with an error.
func TestCustomRolesListStopsAfterMaxPages(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var calls atomic.Int32
	handler := func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		writeJSON(w, 200, fmt.Sprintf(`{"custom_roles":[{"id":%d,"name":"A"}],"next_page":"%s/api/v2/custom_roles.json?page=%d"}`, n, c.BaseURL(), n+1))
	}
	mux.HandleFunc("/api/v2/custom_roles", handler)
	mux.HandleFunc("/api/v2/custom_roles.json", handler)
	roles, err := Collect(c.CustomRoles.List(t.Context()))
	if err == nil || !strings.Contains(err.Error(), "more than 100 pages") {
		t.Errorf("err = %v, want the page bound", err)
	}
	if len(roles) != maxCustomRolePages || calls.Load() != maxCustomRolePages {
		t.Errorf("%d roles over %d requests, want %d", len(roles), calls.Load(), maxCustomRolePages)
	}
}

// TestCustomRolesListIsAnIterator: List has the shape of every other list; a caller that
// stops early sends no further request.
func TestCustomRolesListIsAnIterator(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var calls atomic.Int32
	handler := func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		writeJSON(w, 200, fmt.Sprintf(`{"custom_roles":[{"id":%d,"name":"A"},{"id":%d,"name":"B"}],"next_page":"%s/api/v2/custom_roles.json?page=%d"}`, 2*n, 2*n+1, c.BaseURL(), n+1))
	}
	mux.HandleFunc("/api/v2/custom_roles", handler)
	mux.HandleFunc("/api/v2/custom_roles.json", handler)
	var list iter.Seq2[CustomRole, error] = c.CustomRoles.List(t.Context())
	for role, err := range list {
		if err != nil {
			t.Fatal(err)
		}
		if role.ID == 3 {
			break
		}
	}
	if calls.Load() != 1 {
		t.Errorf("requests = %d, want 1", calls.Load())
	}
}

func TestCustomRolesGet(t *testing.T) {
	t.Parallel()
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/custom_roles/9999", status: 200,
			answer: `{"custom_role":{"id":9999,"name":"Custom Role 4","description":"","role_type":0,"team_member_count":33,"configuration":{"manage_group_memberships":true},"created_at":"2020-04-22T17:28:48Z","updated_at":"2023-08-28T17:53:50Z"}}`,
			want: &CustomRole{ID: 9999, Name: "Custom Role 4", TeamMemberCount: 33, Configuration: map[string]any{"manage_group_memberships": true},
				CreatedAt: mustTime(t, "2020-04-22T17:28:48Z"), UpdatedAt: mustTime(t, "2023-08-28T17:53:50Z")},
			call: func(ctx context.Context, c *Client) (any, error) {
				r, _, err := c.CustomRoles.Get(ctx, 9999)
				return r, err
			}},
	})
	testValidation(t, []validationCase{
		{"get zero", func(ctx context.Context, c *Client) error { _, _, err := c.CustomRoles.Get(ctx, 0); return err }, "custom role id must be positive"},
	})
}

// TestCustomRolesForbidden: accounts below Enterprise have no custom roles, and Zendesk
// answers 403.
func TestCustomRolesForbidden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) (*Response, error)
	}{
		{"list", func(ctx context.Context, c *Client) (*Response, error) {
			// The 403 is the iterator's first and only item.
			var errs []error
			for _, err := range c.CustomRoles.List(ctx) {
				errs = append(errs, err)
			}
			if len(errs) != 1 {
				return nil, fmt.Errorf("list yielded %d items, want the 403 alone", len(errs))
			}
			var apiErr *APIError
			if errors.As(errs[0], &apiErr) {
				// A list has no Response; the status is in the error.
				return &Response{Response: &http.Response{StatusCode: apiErr.StatusCode}}, errs[0]
			}
			return nil, errs[0]
		}},
		{"get", func(ctx context.Context, c *Client) (*Response, error) {
			_, r, err := c.CustomRoles.Get(ctx, 5)
			return r, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc("/api/v2/custom_roles/", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 403, `{"error":"Forbidden","description":"You do not have access to this page."}`)
			})
			mux.HandleFunc("/api/v2/custom_roles", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 403, `{"error":"Forbidden"}`)
			})
			resp, err := tt.call(t.Context(), c)
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || apiErr.Code != "Forbidden" {
				t.Errorf("err = %#v, want a 403 Forbidden *APIError", err)
			}
			if resp == nil || resp.StatusCode != 403 {
				t.Errorf("resp = %v, want the 403", resp)
			}
		})
	}
}
