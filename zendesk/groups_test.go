package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// endpointCase is one request a service method must send, and the answer it must decode.
type endpointCase struct {
	name   string
	method string
	path   string
	query  url.Values // nil: no query at all
	body   string     // "": no body
	status int
	answer string // "": no body (with status 204)
	call   func(ctx context.Context, c *Client) (any, error)
	want   any
}

// testEndpoints runs each case against a fresh client and mux: the request must match
// method, path, query and body (and the spec, through setup), and the decoded result
// must equal want.
func testEndpoints(t *testing.T, cases []endpointCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			calls := 0
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) {
				calls++
				testMethod(t, r, tt.method)
				testQuery(t, r, tt.query)
				if tt.body == "" {
					testNoBody(t, r)
				} else {
					testJSONBody(t, r, tt.body)
				}
				if tt.answer == "" {
					w.WriteHeader(tt.status)
					return
				}
				writeJSON(w, tt.status, tt.answer)
			})
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if calls != 1 {
				t.Errorf("%d requests, want 1", calls)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// servePages serves a cursor-paginated list at path (and path.json, the form of
// Zendesk's links). The first page answers a request without page[after]; page i
// answers page[after]=c{i}. "NEXT" in a page is replaced by the link to the next page.
func servePages(t *testing.T, c *Client, mux *http.ServeMux, path string, pages ...string) {
	t.Helper()
	handler := func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		i := 0
		want := url.Values{"page[size]": {"100"}}
		if after := r.URL.Query().Get("page[after]"); after != "" {
			if _, err := fmt.Sscanf(after, "c%d", &i); err != nil || i <= 0 || i >= len(pages) {
				t.Errorf("unexpected cursor %q", after)
				writeJSON(w, 400, `{"error":"InvalidPaginationParameter"}`)
				return
			}
			want.Set("page[after]", after)
		}
		testQuery(t, r, want)
		next := fmt.Sprintf("%s%s.json?page%%5Bafter%%5D=c%d&page%%5Bsize%%5D=100", c.BaseURL(), path, i+1)
		writeJSON(w, 200, strings.ReplaceAll(pages[i], "NEXT", next))
	}
	mux.HandleFunc(path, handler)
	mux.HandleFunc(path+".json", handler)
}

// mustTime parses an RFC 3339 time for expected values.
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// validationCase is a call that must fail before any request is sent.
type validationCase struct {
	name    string
	call    func(ctx context.Context, c *Client) error
	wantErr string // a substring of the error, naming the bad argument
}

// testValidation runs each case and checks that it failed with wantErr and sent nothing.
func testValidation(t *testing.T, cases []validationCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t)
			err := tt.call(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if n := c.RequestCount(); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
		})
	}
}

func TestGroupsList(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	servePages(t, c, mux, "/api/v2/groups",
		`{"groups":[{"id":1,"name":"Support","is_public":true,"created_at":"2009-05-13T00:07:08Z"},{"id":2,"name":"Billing"}],"meta":{"has_more":true,"after_cursor":"c1"},"links":{"next":"NEXT"}}`,
		`{"groups":[{"id":3,"name":"Deleted","deleted":true}],"meta":{"has_more":false,"after_cursor":"c2"},"links":{"next":null}}`)
	got, err := Collect(c.Groups.List(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	want := []Group{
		{ID: 1, Name: "Support", IsPublic: true, CreatedAt: mustTime(t, "2009-05-13T00:07:08Z")},
		{ID: 2, Name: "Billing"},
		{ID: 3, Name: "Deleted", Deleted: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestGroupsEndpoints(t *testing.T) {
	t.Parallel()
	group := `{"group":{"id":122,"url":"https://example.zendesk.com/api/v2/groups/122.json","name":"MCs","description":"d","default":false,"deleted":false,"is_public":false,"created_at":"2009-08-26T00:07:08Z","updated_at":"2010-05-13T00:07:08Z"}}`
	want := &Group{ID: 122, URL: "https://example.zendesk.com/api/v2/groups/122.json", Name: "MCs", Description: "d",
		CreatedAt: mustTime(t, "2009-08-26T00:07:08Z"), UpdatedAt: mustTime(t, "2010-05-13T00:07:08Z")}
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/groups/122", status: 200, answer: group, want: want,
			call: func(ctx context.Context, c *Client) (any, error) {
				g, _, err := c.Groups.Get(ctx, 122)
				return g, err
			}},
		{name: "create sends private explicitly", method: "POST", path: "/api/v2/groups", status: 201, answer: group, want: want,
			body: `{"group":{"name":"MCs","description":"d","is_public":false}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				g, _, err := c.Groups.Create(ctx, &CreateGroupRequest{Name: "MCs", Description: Ptr("d"), IsPublic: Ptr(false)})
				return g, err
			}},
		{name: "create with name only", method: "POST", path: "/api/v2/groups", status: 201, answer: group, want: want,
			body: `{"group":{"name":"MCs"}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				g, _, err := c.Groups.Create(ctx, &CreateGroupRequest{Name: "MCs"})
				return g, err
			}},
		{name: "update sends only set fields", method: "PUT", path: "/api/v2/groups/122", status: 200, answer: group, want: want,
			body: `{"group":{"description":""}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				g, _, err := c.Groups.Update(ctx, 122, &UpdateGroupRequest{Description: Ptr("")})
				return g, err
			}},
		{name: "count users", method: "GET", path: "/api/v2/groups/122/users/count", status: 200,
			answer: `{"count":{"value":102,"refreshed_at":"2020-04-06T02:18:17Z"}}`,
			want:   &Count{Value: 102, RefreshedAt: Ptr(mustTime(t, "2020-04-06T02:18:17Z"))},
			call: func(ctx context.Context, c *Client) (any, error) {
				n, _, err := c.Groups.CountUsers(ctx, 122)
				return n, err
			}},
		{name: "count users being refreshed", method: "GET", path: "/api/v2/groups/122/users/count", status: 200,
			answer: `{"count":{"value":100000,"refreshed_at":null}}`,
			want:   &Count{Value: 100000},
			call: func(ctx context.Context, c *Client) (any, error) {
				n, _, err := c.Groups.CountUsers(ctx, 122)
				return n, err
			}},
		{name: "delete", method: "DELETE", path: "/api/v2/groups/122", status: 204, want: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				resp, err := c.Groups.Delete(ctx, 122)
				if err != nil {
					return nil, err
				}
				return resp.StatusCode, nil
			}},
	})
}

func TestGroupsValidation(t *testing.T) {
	t.Parallel()
	testValidation(t, []validationCase{
		{"get zero id", func(ctx context.Context, c *Client) error { _, _, err := c.Groups.Get(ctx, 0); return err }, "group id must be positive, got 0"},
		{"create nil", func(ctx context.Context, c *Client) error { _, _, err := c.Groups.Create(ctx, nil); return err }, "name is required"},
		{"create blank name", func(ctx context.Context, c *Client) error {
			_, _, err := c.Groups.Create(ctx, &CreateGroupRequest{Name: "  "})
			return err
		}, "name is required"},
		{"update negative id", func(ctx context.Context, c *Client) error {
			_, _, err := c.Groups.Update(ctx, -1, &UpdateGroupRequest{Name: Ptr("x")})
			return err
		}, "group id must be positive, got -1"},
		{"update nil", func(ctx context.Context, c *Client) error { _, _, err := c.Groups.Update(ctx, 1, nil); return err }, "nothing to update"},
		{"update blank name", func(ctx context.Context, c *Client) error {
			_, _, err := c.Groups.Update(ctx, 1, &UpdateGroupRequest{Name: Ptr("")})
			return err
		}, "name must not be blank"},
		{"delete zero id", func(ctx context.Context, c *Client) error { _, err := c.Groups.Delete(ctx, 0); return err }, "group id must be positive"},
		{"count users zero id", func(ctx context.Context, c *Client) error { _, _, err := c.Groups.CountUsers(ctx, 0); return err }, "group id must be positive, got 0"},
	})
}
