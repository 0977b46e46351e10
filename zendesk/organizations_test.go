package zendesk

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrganizationsList(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	servePages(t, c, mux, "/api/v2/organizations",
		`{"organizations":[{"id":1,"name":"Rebel Alliance","domain_names":["hoth.com"],"group_id":null,"external_id":"ABC","tags":["vip"]}],"meta":{"has_more":true},"links":{"next":"NEXT"}}`,
		`{"organizations":[{"id":2,"name":"Imperial Senate","group_id":7,"organization_fields":{"tier":"gold"}}],"meta":{"has_more":false}}`)
	got, err := Collect(c.Organizations.List(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	want := []Organization{
		{ID: 1, Name: "Rebel Alliance", DomainNames: []string{"hoth.com"}, ExternalID: Ptr("ABC"), Tags: []string{"vip"}},
		{ID: 2, Name: "Imperial Senate", GroupID: Ptr[int64](7), OrganizationFields: map[string]any{"tier": "gold"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("organizations (-want +got):\n%s", diff)
	}
}

func TestOrganizationsEndpoints(t *testing.T) {
	t.Parallel()
	org := `{"organization":{"id":23409462,"url":"https://example.zendesk.com/api/v2/organizations/23409462","name":"My Organization","details":null,"notes":"n","domain_names":[],"external_id":null,"group_id":null,"shared_comments":false,"shared_tickets":true,"tags":[],"organization_fields":null,"created_at":"2020-09-30T01:50:12Z","updated_at":"2020-09-30T01:50:12Z"}}`
	want := &Organization{ID: 23409462, URL: "https://example.zendesk.com/api/v2/organizations/23409462", Name: "My Organization",
		Notes: Ptr("n"), DomainNames: []string{}, SharedTickets: true, Tags: []string{},
		CreatedAt: mustTime(t, "2020-09-30T01:50:12Z"), UpdatedAt: mustTime(t, "2020-09-30T01:50:12Z")}
	orgs := `{"organizations":[{"id":1,"name":"A"},{"id":2,"name":"B"}],"next_page":null,"previous_page":null,"count":2}`
	wantOrgs := []Organization{{ID: 1, Name: "A"}, {ID: 2, Name: "B"}}
	testEndpoints(t, []endpointCase{
		{name: "get", method: "GET", path: "/api/v2/organizations/23409462", status: 200, answer: org, want: want,
			call: func(ctx context.Context, c *Client) (any, error) {
				o, _, err := c.Organizations.Get(ctx, 23409462)
				return o, err
			}},
		{name: "get many", method: "GET", path: "/api/v2/organizations/show_many", query: url.Values{"ids": {"1,2"}}, status: 200, answer: orgs, want: wantOrgs,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Organizations.GetMany(ctx, []int64{1, 2})
			}},
		{name: "search by name", method: "GET", path: "/api/v2/organizations/search", query: url.Values{"name": {"ACME Inc"}, "per_page": {"100"}}, status: 200, answer: orgs, want: wantOrgs,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Organizations.SearchByName(ctx, "ACME Inc")
			}},
		// The spec types external_id as an integer here (external ids are strings), so
		// the test uses a numeric one to pass validation.
		{name: "search by external id", method: "GET", path: "/api/v2/organizations/search", query: url.Values{"external_id": {"1234"}, "per_page": {"100"}}, status: 200, answer: orgs, want: wantOrgs,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Organizations.SearchByExternalID(ctx, "1234")
			}},
		{name: "create", method: "POST", path: "/api/v2/organizations", status: 201, answer: org, want: want,
			body: `{"organization":{"name":"My Organization","external_id":"ext-1","domain_names":["example.com"],"shared_tickets":true,"shared_comments":false,"tags":["vip"]}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				o, _, err := c.Organizations.Create(ctx, &CreateOrganizationRequest{Name: "My Organization", ExternalID: Ptr("ext-1"),
					DomainNames: []string{"example.com"}, SharedTickets: Ptr(true), SharedComments: Ptr(false), Tags: []string{"vip"}})
				return o, err
			}},
		{name: "update clears lists and group", method: "PUT", path: "/api/v2/organizations/23409462", status: 200, answer: org, want: want,
			body: `{"organization":{"notes":"n","domain_names":[],"tags":[],"group_id":null}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				o, _, err := c.Organizations.Update(ctx, 23409462, &UpdateOrganizationRequest{Notes: Ptr("n"),
					DomainNames: Ptr([]string{}), Tags: Ptr([]string{}), GroupID: ClearID()})
				return o, err
			}},
		{name: "update sets group", method: "PUT", path: "/api/v2/organizations/23409462", status: 200, answer: org, want: want,
			body: `{"organization":{"name":"Renamed","group_id":5}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				o, _, err := c.Organizations.Update(ctx, 23409462, &UpdateOrganizationRequest{Name: Ptr("Renamed"), GroupID: SetID(5)})
				return o, err
			}},
		{name: "delete", method: "DELETE", path: "/api/v2/organizations/23409462", status: 204, want: 204,
			call: func(ctx context.Context, c *Client) (any, error) {
				resp, err := c.Organizations.Delete(ctx, 23409462)
				if err != nil {
					return nil, err
				}
				return resp.StatusCode, nil
			}},
	})
}

// TestOrganizationsSearchPages follows search's offset next_page.
func TestOrganizationsSearchPages(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	handler := func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		if r.URL.Query().Get("page") == "2" {
			testQuery(t, r, url.Values{"external_id": {"77"}, "page": {"2"}, "per_page": {"100"}})
			writeJSON(w, 200, `{"organizations":[{"id":2,"name":"B"}],"next_page":null,"count":2}`)
			return
		}
		testQuery(t, r, url.Values{"external_id": {"77"}, "per_page": {"100"}})
		writeJSON(w, 200, `{"organizations":[{"id":1,"name":"A"}],"next_page":"`+c.BaseURL()+`/api/v2/organizations/search.json?external_id=77&page=2&per_page=100","count":2}`)
	}
	mux.HandleFunc("/api/v2/organizations/search", handler)
	mux.HandleFunc("/api/v2/organizations/search.json", handler)
	got, err := c.Organizations.SearchByExternalID(t.Context(), "77")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Organization{{ID: 1, Name: "A"}, {ID: 2, Name: "B"}}, got); diff != "" {
		t.Errorf("organizations (-want +got):\n%s", diff)
	}
}

func TestOrganizationsGetManyBatches(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var batches []int
	mux.HandleFunc("/api/v2/organizations/show_many", func(w http.ResponseWriter, r *http.Request) {
		batches = append(batches, len(strings.Split(r.URL.Query().Get("ids"), ",")))
		writeJSON(w, 200, `{"organizations":[{"id":1}]}`)
	})
	ids := make([]int64, 150)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	got, err := c.Organizations.GetMany(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{100, 50}, batches); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
	if len(got) != 2 {
		t.Errorf("got %d organizations, want 2 (one per batch)", len(got))
	}
}

func TestOrganizationsValidation(t *testing.T) {
	t.Parallel()
	o := func(c *Client) *OrganizationsService { return c.Organizations }
	testValidation(t, []validationCase{
		{"get zero", func(ctx context.Context, c *Client) error { _, _, err := o(c).Get(ctx, 0); return err }, "organization id must be positive, got 0"},
		{"get many bad id", func(ctx context.Context, c *Client) error { _, err := o(c).GetMany(ctx, []int64{3, -1}); return err }, "organization ids[1] must be positive"},
		{"search empty name", func(ctx context.Context, c *Client) error { _, err := o(c).SearchByName(ctx, " "); return err }, "name is required"},
		{"search empty external id", func(ctx context.Context, c *Client) error { _, err := o(c).SearchByExternalID(ctx, ""); return err }, "external id is required"},
		{"create nil", func(ctx context.Context, c *Client) error { _, _, err := o(c).Create(ctx, nil); return err }, "name is required"},
		{"create blank", func(ctx context.Context, c *Client) error {
			_, _, err := o(c).Create(ctx, &CreateOrganizationRequest{Name: "\t"})
			return err
		}, "name is required"},
		{"update zero", func(ctx context.Context, c *Client) error {
			_, _, err := o(c).Update(ctx, 0, &UpdateOrganizationRequest{})
			return err
		}, "organization id must be positive"},
		{"update nil", func(ctx context.Context, c *Client) error { _, _, err := o(c).Update(ctx, 1, nil); return err }, "nothing to update"},
		{"update blank name", func(ctx context.Context, c *Client) error {
			_, _, err := o(c).Update(ctx, 1, &UpdateOrganizationRequest{Name: Ptr(" ")})
			return err
		}, "name must not be blank"},
		{"delete zero", func(ctx context.Context, c *Client) error { _, err := o(c).Delete(ctx, 0); return err }, "organization id must be positive"},
	})
}
