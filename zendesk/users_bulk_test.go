package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/jarcoal/httpmock"
)

const queuedJob = `{"job_status":{"id":"j1","url":"https://example.zendesk.com/api/v2/job_statuses/j1.json","status":"queued","total":2,"progress":null,"results":null}}`

// TestUsersBulkRequests: each bulk method sends its method, path, query and body,
// and returns the job Zendesk queued.
func TestUsersBulkRequests(t *testing.T) {
	t.Parallel()
	ann := CreateUserRequest{Name: "Ann", Email: "ann@example.com", Role: RoleAgent, SkipVerifyEmail: Ptr(true)}
	bob := CreateUserRequest{Name: "Bob", ExternalID: Ptr("hr-2"), OrganizationID: Ptr[int64](9)}
	tests := []struct {
		name, method, path string
		query              url.Values
		wantBody           string
		call               func(context.Context, *Client) (*JobStatus, *Response, error)
	}{
		{"create many", "POST", "/api/v2/users/create_many", nil,
			`{"users":[{"name":"Ann","email":"ann@example.com","role":"agent","skip_verify_email":true},{"name":"Bob","external_id":"hr-2","organization_id":9}]}`,
			func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
				return c.Users.CreateMany(ctx, []CreateUserRequest{ann, bob})
			}},
		{"create or update many", "POST", "/api/v2/users/create_or_update_many", nil,
			`{"users":[{"name":"Ann","email":"ann@example.com","role":"agent","skip_verify_email":true},{"name":"Bob","external_id":"hr-2","organization_id":9}]}`,
			func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
				return c.Users.CreateOrUpdateMany(ctx, []CreateUserRequest{ann, bob})
			}},
		{"update many, one update per user", "PUT", "/api/v2/users/update_many", nil,
			`{"users":[{"id":5,"suspended":true},{"id":6,"role":"end-user","custom_role_id":null,"default_group_id":null}]}`,
			func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
				return c.Users.UpdateMany(ctx, []UserUpdate{
					{ID: 5, UpdateUserRequest: UpdateUserRequest{Suspended: Ptr(true)}},
					{ID: 6, UpdateUserRequest: UpdateUserRequest{Role: Ptr(RoleEndUser), CustomRoleID: ClearID(), DefaultGroupID: ClearID()}},
				})
			}},
		{"update many by ids", "PUT", "/api/v2/users/update_many", url.Values{"ids": {"5,6"}},
			`{"user":{"organization_id":1}}`,
			func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
				return c.Users.UpdateManyByIDs(ctx, []int64{5, 6}, &UpdateUserRequest{OrganizationID: SetID(1)})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, tt.method)
				testQuery(t, r, tt.query)
				testJSONBody(t, r, tt.wantBody)
				writeJSON(w, 200, queuedJob)
			})
			job, resp, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if job == nil || job.ID != "j1" || job.Status != JobStatusQueued || job.Total != 2 || resp.StatusCode != 200 {
				t.Errorf("job %+v, response %v", job, resp.StatusCode)
			}
		})
	}
}

// TestUsersBulkRetries: create_or_update_many and update_many are retried after a
// 500, whose outcome is unknown, and create_many is not, since a second job would
// create again the users that nothing identifies.
func TestUsersBulkRetries(t *testing.T) {
	t.Parallel()
	users := []CreateUserRequest{{Name: "Ann", Email: "ann@example.com"}}
	tests := []struct {
		name, path   string
		call         func(context.Context, *Client) (*JobStatus, *Response, error)
		wantAttempts int64
	}{
		{"create many", "/api/v2/users/create_many", func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
			return c.Users.CreateMany(ctx, users)
		}, 1},
		{"create or update many", "/api/v2/users/create_or_update_many", func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
			return c.Users.CreateOrUpdateMany(ctx, users)
		}, 2},
		{"update many", "/api/v2/users/update_many", func(ctx context.Context, c *Client) (*JobStatus, *Response, error) {
			return c.Users.UpdateMany(ctx, []UserUpdate{{ID: 5, UpdateUserRequest: UpdateUserRequest{Name: Ptr("A")}}})
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { // the backoff between attempts passes on the bubble's clock
				var n atomic.Int64
				mock := httpmock.NewMockTransport()
				mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
					if r.URL.Path != tt.path {
						return httpmock.NewStringResponse(404, `{"error":"InvalidEndpoint"}`), nil
					}
					if n.Add(1) == 1 {
						return httpmock.NewStringResponse(500, `{"error":"InternalError"}`), nil
					}
					return httpmock.NewStringResponse(200, queuedJob), nil
				})
				c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}), WithAPIToken(testEmail, testToken))
				if err != nil {
					t.Fatal(err)
				}
				job, _, err := tt.call(t.Context(), c)
				if got := n.Load(); got != tt.wantAttempts {
					t.Errorf("%d attempts, want %d", got, tt.wantAttempts)
				}
				if tt.wantAttempts == 1 {
					var ae *APIError
					if !errors.As(err, &ae) || ae.StatusCode != 500 {
						t.Errorf("err = %v, want the 500", err)
					}
					return
				}
				if err != nil || job.ID != "j1" {
					t.Errorf("job %+v, err %v", job, err)
				}
			})
		})
	}
}

// TestUsersBulkImportsDisabled: on an account without bulk imports Zendesk answers
// 403, which matches ErrForbidden.
func TestUsersBulkImportsDisabled(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/api/v2/users/create_many", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, `{"error":"Forbidden","description":"Bulk user imports are not enabled for this account."}`)
	})
	_, _, err := c.Users.CreateMany(t.Context(), []CreateUserRequest{{Name: "Ann"}})
	if !errors.Is(err, ErrForbidden) {
		t.Errorf("err = %v, want ErrForbidden", err)
	}
}

func TestUsersBulkValidation(t *testing.T) {
	t.Parallel()
	named := func(n int) []CreateUserRequest {
		out := make([]CreateUserRequest, n)
		for i := range out {
			out[i] = CreateUserRequest{Name: fmt.Sprint("U", i), Email: fmt.Sprintf("u%d@example.com", i)}
		}
		return out
	}
	updates := func(n int) []UserUpdate {
		out := make([]UserUpdate, n)
		for i := range out {
			out[i] = UserUpdate{ID: int64(i + 1)}
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
	u := func(c *Client) *UsersService { return c.Users }
	testValidation(t, []validationCase{
		{"create many none", func(ctx context.Context, c *Client) error { _, _, err := u(c).CreateMany(ctx, nil); return err }, "create users: no items given"},
		{"create many 101", func(ctx context.Context, c *Client) error { _, _, err := u(c).CreateMany(ctx, named(101)); return err }, "101 items given, Zendesk accepts at most 100"},
		{"create many no name", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).CreateMany(ctx, append(named(2), CreateUserRequest{Name: " ", Email: "x@example.com"}))
			return err
		}, "create users: item 2: name is required"},
		{"create or update many 101", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).CreateOrUpdateMany(ctx, named(101))
			return err
		}, "at most 100"},
		{"create or update many nothing to match", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).CreateOrUpdateMany(ctx, []CreateUserRequest{{Name: "A", Email: "a@example.com"}, {Name: "B"}})
			return err
		}, "create or update users: item 1: email or external id is required"},
		{"update many none", func(ctx context.Context, c *Client) error { _, _, err := u(c).UpdateMany(ctx, nil); return err }, "update users: no items given"},
		{"update many 101", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateMany(ctx, updates(101))
			return err
		}, "at most 100"},
		{"update many zero id", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateMany(ctx, []UserUpdate{{ID: 1}, {ID: 0}})
			return err
		}, "item 1: user id must be positive, got 0"},
		{"update many twice", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateMany(ctx, []UserUpdate{{ID: 4}, {ID: 5}, {ID: 4}})
			return err
		}, "item 2: user id 4 is already item 0"},
		{"update many by ids 101", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateManyByIDs(ctx, ids(101), &UpdateUserRequest{})
			return err
		}, "at most 100"},
		{"update many by ids bad id", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateManyByIDs(ctx, []int64{3, -1}, &UpdateUserRequest{})
			return err
		}, "user ids[1] must be positive"},
		{"update many by ids twice", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateManyByIDs(ctx, []int64{3, 3}, &UpdateUserRequest{})
			return err
		}, "user id 3 is already item 0"},
		{"update many by ids nil", func(ctx context.Context, c *Client) error {
			_, _, err := u(c).UpdateManyByIDs(ctx, []int64{3}, nil)
			return err
		}, "nothing to update"},
	})
}

// TestUsersBulkLimit shows exactly MaxBulkItems users are accepted.
func TestUsersBulkLimit(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/api/v2/users/create_or_update_many", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, queuedJob)
	})
	users := make([]CreateUserRequest, MaxBulkItems)
	for i := range users {
		users[i] = CreateUserRequest{Name: "U", ExternalID: Ptr(fmt.Sprint("hr-", i))}
	}
	if job, _, err := c.Users.CreateOrUpdateMany(t.Context(), users); err != nil || job.ID != "j1" {
		t.Errorf("CreateOrUpdateMany(100) = %+v, %v", job, err)
	}
}
