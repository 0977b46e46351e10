package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

func TestUsersList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts *UserListOptions
		want url.Values
	}{
		{"no filter", nil, url.Values{"page[size]": {"100"}}},
		{"one role", &UserListOptions{Roles: []Role{RoleAgent}}, url.Values{"page[size]": {"100"}, "role": {"agent"}}},
		{"roles", &UserListOptions{Roles: []Role{RoleAgent, RoleAdmin}}, url.Values{"page[size]": {"100"}, "role[]": {"agent", "admin"}}},
		{"permission set", &UserListOptions{PermissionSet: 77}, url.Values{"page[size]": {"100"}, "permission_set": {"77"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc("/api/v2/users", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "GET")
				testQuery(t, r, tt.want)
				writeJSON(w, 200, `{"users":[{"id":1,"name":"A","role":"agent"}],"meta":{"has_more":false}}`)
			})
			got, err := Collect(c.Users.List(t.Context(), tt.opts))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != 1 || got[0].Role != RoleAgent {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestUsersListPaginates(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var srvURL string
	mux.HandleFunc("/api/v2/users", func(w http.ResponseWriter, r *http.Request) {
		switch after := r.URL.Query().Get("page[after]"); after {
		case "":
			testQuery(t, r, url.Values{"page[size]": {"100"}})
			writeJSON(w, 200, fmt.Sprintf(`{"users":[{"id":1},{"id":2}],"meta":{"has_more":true,"after_cursor":"c1"},"links":{"next":"%s/api/v2/users.json?page%%5Bafter%%5D=c1&page%%5Bsize%%5D=100"}}`, srvURL))
		case "c1":
			writeJSON(w, 200, fmt.Sprintf(`{"users":[{"id":3}],"meta":{"has_more":true,"after_cursor":"c2"},"links":{"next":"%s/api/v2/users.json?page%%5Bafter%%5D=c2&page%%5Bsize%%5D=100"}}`, srvURL))
		case "c2":
			writeJSON(w, 200, `{"users":[{"id":4}],"meta":{"has_more":false,"after_cursor":"c3"},"links":{"next":null}}`)
		default:
			t.Errorf("unexpected cursor %q", after)
			writeJSON(w, 400, `{}`)
		}
	})
	mux.HandleFunc("/api/v2/users.json", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/api/v2/users"
		mux.ServeHTTP(w, r)
	})
	srvURL = c.BaseURL()
	var ids []int64
	for u, err := range c.Users.List(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestUsersListStopsOnCancel(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	pages := 0
	mux.HandleFunc("/api/v2/users", func(w http.ResponseWriter, r *http.Request) {
		pages++
		writeJSON(w, 200, `{"users":[{"id":1},{"id":2}],"meta":{"has_more":true,"after_cursor":"x"}}`)
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n int
	var gotErr error
	for _, err := range c.Users.List(ctx, nil) {
		if err != nil {
			gotErr = err
			break
		}
		n++
		if n == 3 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", gotErr)
	}
	if pages != 2 {
		t.Errorf("fetched %d pages, want 2 (none after cancel)", pages)
	}
}

func TestUsersGetMeShowMany(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/api/v2/users/12", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		testQuery(t, r, nil)
		writeJSON(w, 200, `{"user":{"id":12,"name":"Ann","role":"admin","role_type":4,"custom_role_id":null,"organization_id":5}}`)
	})
	mux.HandleFunc("/api/v2/users/me", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		writeJSON(w, 200, `{"user":{"id":1,"name":"Me","role":"admin"}}`)
	})
	mux.HandleFunc("/api/v2/users/show_many", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		if q := r.URL.Query(); q.Get("ids") != "" {
			testQuery(t, r, url.Values{"ids": {"1,2"}})
		} else {
			testQuery(t, r, url.Values{"external_ids": {"a,b"}})
		}
		writeJSON(w, 200, `{"users":[{"id":1},{"id":2}],"next_page":null,"previous_page":null,"count":2}`)
	})
	ctx := t.Context()
	u, _, err := c.Users.Get(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != 12 || u.RoleType == nil || *u.RoleType != RoleTypeAdmin || u.OrganizationID == nil || *u.OrganizationID != 5 || u.CustomRoleID != nil {
		t.Errorf("Get = %+v", u)
	}
	me, _, err := c.Users.Me(ctx)
	if err != nil || me.ID != 1 {
		t.Errorf("Me = %+v, %v", me, err)
	}
	many, err := c.Users.GetMany(ctx, []int64{1, 2})
	if err != nil || len(many) != 2 {
		t.Errorf("GetMany = %+v, %v", many, err)
	}
	many, err = c.Users.GetManyByExternalID(ctx, []string{"a", "b"})
	if err != nil || len(many) != 2 {
		t.Errorf("GetManyByExternalID = %+v, %v", many, err)
	}
}

func TestUsersGetManyBatches(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	calls := 0
	mux.HandleFunc("/api/v2/users/show_many", func(w http.ResponseWriter, r *http.Request) {
		calls++
		writeJSON(w, 200, `{"users":[]}`)
	})
	ids := make([]int64, 250)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	if _, err := c.Users.GetMany(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("requests = %d, want 3 for 250 ids", calls)
	}
}

func TestUsersSearch(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var base string
	mux.HandleFunc("/api/v2/users/search", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		q := r.URL.Query()
		switch {
		case q.Get("external_id") != "":
			testQuery(t, r, url.Values{"external_id": {"ext-1"}, "per_page": {"100"}})
			writeJSON(w, 200, `{"users":[{"id":9,"external_id":"ext-1"}],"next_page":null,"count":1}`)
		case q.Get("page") == "2":
			writeJSON(w, 200, `{"users":[{"id":3,"email":"ANN@example.com"}],"next_page":null,"count":2}`)
		default:
			testQuery(t, r, url.Values{"query": {"email:ann@example.com"}, "per_page": {"100"}})
			writeJSON(w, 200, fmt.Sprintf(`{"users":[{"id":2,"email":"ann@example.com.au"}],"next_page":"%s/api/v2/users/search.json?page=2&per_page=100&query=email%%3Aann%%40example.com","count":2}`, base))
		}
	})
	mux.HandleFunc("/api/v2/users/search.json", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/api/v2/users/search"
		mux.ServeHTTP(w, r)
	})
	base = c.BaseURL()
	got, err := c.Users.SearchByEmail(t.Context(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != 3 {
		t.Errorf("SearchByEmail = %+v, want only the exact match id 3", got)
	}
	got, err = c.Users.SearchByExternalID(t.Context(), "ext-1")
	if err != nil || len(got) != 1 || got[0].ID != 9 {
		t.Errorf("SearchByExternalID = %+v, %v", got, err)
	}
}

func TestUsersWrites(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		path     string
		wantBody string
		status   int
		call     func(ctx context.Context, c *Client) (*User, error)
	}{
		{"create", "POST", "/api/v2/users", `{"user":{"name":"Ann","email":"ann@example.com","role":"agent","custom_role_id":7,"default_group_id":3}}`, 201,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Create(ctx, &CreateUserRequest{Name: "Ann", Email: "ann@example.com", Role: RoleAgent, CustomRoleID: Ptr[int64](7), DefaultGroupID: Ptr[int64](3)})
				return u, err
			}},
		{"update role and clear custom role", "PUT", "/api/v2/users/5", `{"user":{"role":"end-user","custom_role_id":null}}`, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Update(ctx, 5, &UpdateUserRequest{Role: Ptr(RoleEndUser), CustomRoleID: ClearID()})
				return u, err
			}},
		{"set custom role", "PUT", "/api/v2/users/5", `{"user":{"custom_role_id":9}}`, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Update(ctx, 5, &UpdateUserRequest{CustomRoleID: SetID(9)})
				return u, err
			}},
		{"clear default group", "PUT", "/api/v2/users/5", `{"user":{"default_group_id":null}}`, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Update(ctx, 5, &UpdateUserRequest{DefaultGroupID: ClearID()})
				return u, err
			}},
		{"set default group and organization", "PUT", "/api/v2/users/5", `{"user":{"default_group_id":3,"organization_id":4}}`, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Update(ctx, 5, &UpdateUserRequest{DefaultGroupID: SetID(3), OrganizationID: SetID(4)})
				return u, err
			}},
		{"suspend", "PUT", "/api/v2/users/5", `{"user":{"suspended":true}}`, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Suspend(ctx, 5)
				return u, err
			}},
		{"unsuspend sends false", "PUT", "/api/v2/users/5", `{"user":{"suspended":false}}`, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Unsuspend(ctx, 5)
				return u, err
			}},
		{"soft delete", "DELETE", "/api/v2/users/5", ``, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.Users.Delete(ctx, 5)
				return u, err
			}},
		{"permanent delete", "DELETE", "/api/v2/deleted_users/5", ``, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.DeletedUsers.PermanentlyDelete(ctx, 5)
				return u, err
			}},
		{"get deleted", "GET", "/api/v2/deleted_users/5", ``, 200,
			func(ctx context.Context, c *Client) (*User, error) {
				u, _, err := c.DeletedUsers.Get(ctx, 5)
				return u, err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, tt.method)
				testQuery(t, r, nil)
				if tt.wantBody == "" {
					testNoBody(t, r)
				} else {
					testJSONBody(t, r, tt.wantBody)
				}
				key := "user"
				if tt.path == "/api/v2/deleted_users/5" {
					key = "deleted_user"
				}
				writeJSON(w, tt.status, `{"`+key+`":{"id":5,"name":"Ann"}}`)
			})
			u, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if u == nil || u.ID != 5 {
				t.Errorf("user = %+v", u)
			}
		})
	}
}

func TestUsersCreateOrUpdate(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 201} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc("/api/v2/users/create_or_update", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "POST")
				testJSONBody(t, r, `{"user":{"name":"Ann","email":"ann@example.com","role":"agent","skip_verify_email":false}}`)
				writeJSON(w, status, `{"user":{"id":5,"name":"Ann"}}`)
			})
			u, created, _, err := c.Users.CreateOrUpdate(t.Context(), &CreateUserRequest{Name: "Ann", Email: "ann@example.com", Role: RoleAgent, SkipVerifyEmail: Ptr(false)})
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != 5 || created != (status == 201) {
				t.Errorf("got %+v created=%v for status %d", u, created, status)
			}
		})
	}
}

func TestUsersValidation(t *testing.T) {
	t.Parallel()
	c, _ := setup(t)
	ctx := t.Context()
	if _, _, err := c.Users.Create(ctx, &CreateUserRequest{}); err == nil {
		t.Error("Create with no name: want error")
	}
	if _, _, _, err := c.Users.CreateOrUpdate(ctx, &CreateUserRequest{Name: "x"}); err == nil {
		t.Error("CreateOrUpdate with nothing to match on: want error")
	}
	if _, _, err := c.Users.Update(ctx, 1, nil); err == nil {
		t.Error("Update with nil: want error")
	}
	if _, _, err := c.Users.Get(ctx, 0); err == nil || !strings.Contains(err.Error(), "user id") {
		t.Errorf("Get(0) = %v, want an error naming the user id", err)
	}
	if _, _, err := c.Users.Delete(ctx, -1); err == nil {
		t.Error("Delete(-1): want error")
	}
	if _, err := c.Users.GetMany(ctx, []int64{1, 0}); err == nil {
		t.Error("GetMany with a zero id: want error")
	}
	if c.RequestCount() != 0 {
		t.Errorf("%d requests sent for invalid input, want 0", c.RequestCount())
	}
}

func TestUsersIncrementalExport(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithIncrementalRateLimit(6000))
	var base string
	start := time.Unix(1700000000, 0)
	mux.HandleFunc("/api/v2/incremental/users/cursor", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		if cur := r.URL.Query().Get("cursor"); cur == "" {
			testQuery(t, r, url.Values{"start_time": {"1700000000"}})
			writeJSON(w, 200, fmt.Sprintf(`{"users":[{"id":1},{"id":2}],"after_cursor":"abc","after_url":"%s/api/v2/incremental/users/cursor.json?cursor=abc","end_of_stream":false}`, base))
		} else {
			testQuery(t, r, url.Values{"cursor": {"abc"}})
			writeJSON(w, 200, `{"users":[{"id":3}],"after_cursor":"def","after_url":null,"end_of_stream":true}`)
		}
	})
	mux.HandleFunc("/api/v2/incremental/users/cursor.json", func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/api/v2/incremental/users/cursor"
		mux.ServeHTTP(w, r)
	})
	base = c.BaseURL()
	got, err := Collect(c.Users.IncrementalExport(t.Context(), start))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("got %d users, want 3", len(got))
	}
}

// TestListRefusesPlainHTTPNextLink: a links.next that downgrades to http is refused.
func TestListRefusesPlainHTTPNextLink(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", "https://example.zendesk.com/api/v2/users?page%5Bsize%5D=100",
		httpmock.NewStringResponder(200, `{"users":[{"id":1}],"meta":{"has_more":true},"links":{"next":"http://example.zendesk.com/api/v2/users?page%5Bafter%5D=x"}}`))
	var leaked atomic.Value
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		leaked.Store(r.URL.String() + " " + r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{"users":[],"meta":{"has_more":false}}`), nil
	})
	_, err := Collect(c.Users.List(t.Context(), nil))
	if err == nil {
		t.Error("a next link to plain http was followed")
	}
	if got, _ := leaked.Load().(string); got != "" {
		t.Errorf("request sent: %s", got)
	}
}

// TestListStopsOnRepeatedCursor: a server that keeps answering has_more with a next
// link or cursor it already gave must not keep the iterator busy (here, four times,
// then a last page): the repeat is an error.
func TestListStopsOnRepeatedCursor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, mock := mockClient(t)
		loop := func(re, body, last string) {
			t.Helper()
			var calls atomic.Int32
			r := httpmock.NewStringResponder(200, body)
			mock.RegisterRegexpResponder("GET", regexp.MustCompile(re), sequence(&calls, r, r, r, r, httpmock.NewStringResponder(200, last)))
		}
		tests := []struct {
			name string
			run  func() error
		}{
			{"links.next", func() error {
				loop(`/api/v2/users\?`, `{"users":[{"id":1}],"meta":{"has_more":true,"after_cursor":"abc"},"links":{"next":"https://example.zendesk.com/api/v2/users?page%5Bafter%5D=abc&page%5Bsize%5D=100"}}`,
					`{"users":[],"meta":{"has_more":false}}`)
				_, err := Collect(c.Users.List(t.Context(), nil))
				return err
			}},
			{"after_cursor", func() error {
				loop(`/api/v2/users\?`, `{"users":[{"id":1}],"meta":{"has_more":true,"after_cursor":"abc"}}`, `{"users":[],"meta":{"has_more":false}}`)
				_, err := Collect(c.Users.List(t.Context(), nil))
				return err
			}},
			{"next_page", func() error {
				loop(`/api/v2/users/search`, `{"users":[{"id":1}],"next_page":"https://example.zendesk.com/api/v2/users/search?page=2&query=x"}`, `{"users":[],"next_page":null}`)
				_, err := Collect(c.Users.Search(t.Context(), "x"))
				return err
			}},
			{"after_url", func() error {
				loop(`/api/v2/incremental/users/cursor`, `{"users":[{"id":1}],"after_url":"https://example.zendesk.com/api/v2/incremental/users/cursor?cursor=c1","end_of_stream":false}`,
					`{"users":[],"after_url":null,"end_of_stream":true}`)
				_, err := Collect(c.Users.IncrementalExport(t.Context(), time.Unix(1, 0)))
				return err
			}},
		}
		for _, tt := range tests {
			if err := tt.run(); err == nil || !strings.Contains(err.Error(), "repeat") {
				t.Errorf("%s: err = %v, want an error about the repeated page", tt.name, err)
			}
		}
	})
}

// TestUsersValidationConsistent: the calls that take an id or a lookup key reject what
// can never match before sending anything, like the rest of the package does.
func TestUsersValidationConsistent(t *testing.T) {
	t.Parallel()
	testValidation(t, []validationCase{
		{"deleted user get zero id", func(ctx context.Context, c *Client) error {
			_, _, err := c.DeletedUsers.Get(ctx, 0)
			return err
		}, "user id"},
		{"show many external id with a comma", func(ctx context.Context, c *Client) error {
			_, err := c.Users.GetManyByExternalID(ctx, []string{"a", "b,c"})
			return err
		}, "external ids[1]"},
		{"show many empty external id", func(ctx context.Context, c *Client) error {
			_, err := c.Users.GetManyByExternalID(ctx, []string{""})
			return err
		}, "external ids[0]"},
		{"search by empty email", func(ctx context.Context, c *Client) error {
			_, err := c.Users.SearchByEmail(ctx, " ")
			return err
		}, "email"},
		{"search by empty external id", func(ctx context.Context, c *Client) error {
			_, err := c.Users.SearchByExternalID(ctx, "")
			return err
		}, "external id"},
	})
}
