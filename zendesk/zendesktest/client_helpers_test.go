package zendesktest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// This file holds the helpers of the client_*_test.go files, which drive the
// zendesk client against the simulator.

// fastLimit is a simulator budget high enough that the client's pacing (which
// adopts the advertised limit) never slows a test down.
const fastLimit = 60_000

// startSim starts a simulator with a high rate limit (unless opts set
// another) and closes it when the test ends.
func startSim(t testing.TB, opts ...zendesktest.Option) *zendesktest.Server {
	t.Helper()
	srv, err := zendesktest.NewServer(append([]zendesktest.Option{zendesktest.WithRateLimit(fastLimit)}, opts...)...)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// startPipedSim is startSim on an in-memory network, for tests that run in a
// testing/synctest bubble (see pipe_test.go); hc reaches the simulator, and
// newClient(t, srv, zendesk.WithHTTPClient(hc)) gives a zendesk client for it.
func startPipedSim(t testing.TB, opts ...zendesktest.Option) (srv *zendesktest.Server, hc *http.Client) {
	t.Helper()
	return zendesktest.NewPipedServer(t, append([]zendesktest.Option{zendesktest.WithRateLimit(fastLimit)}, opts...)...)
}

// newClient returns a client for srv with short retry waits, authenticated
// as the account owner with the API token.
func newClient(t testing.TB, srv *zendesktest.Server, opts ...zendesk.Option) *zendesk.Client {
	t.Helper()
	cr := srv.Credentials()
	base := []zendesk.Option{
		zendesk.WithBaseURL(srv.URL),
		zendesk.WithRetryWait(time.Millisecond, 5*time.Millisecond),
		zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
	}
	c, err := zendesk.NewClient(cr.Subdomain, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// newAuthClient is newClient with the caller's authentication option.
func newAuthClient(t testing.TB, srv *zendesktest.Server, auth zendesk.Option, opts ...zendesk.Option) *zendesk.Client {
	t.Helper()
	cr := srv.Credentials()
	base := []zendesk.Option{
		zendesk.WithBaseURL(srv.URL),
		zendesk.WithRetryWait(time.Millisecond, 5*time.Millisecond),
		auth,
	}
	c, err := zendesk.NewClient(cr.Subdomain, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// ctx returns a context that ends with the test and after a generous
// deadline, so that a hung request fails the test instead of the run.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// must fails the test on err.
func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// apiError returns err as *zendesk.APIError or fails the test.
func apiError(t testing.TB, err error, wantStatus int) *zendesk.APIError {
	t.Helper()
	var ae *zendesk.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a *zendesk.APIError", err, err)
	}
	if ae.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d (%v)", ae.StatusCode, wantStatus, err)
	}
	return ae
}

// wantIs fails the test unless errors.Is(err, target).
func wantIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v: want errors.Is(err, %v)", err, target)
	}
}

// snapshot is what a governance tool reads from an account.
type snapshot struct {
	Users                   []zendesk.User
	Groups                  []zendesk.Group
	GroupMemberships        []zendesk.GroupMembership
	Organizations           []zendesk.Organization
	OrganizationMemberships []zendesk.OrganizationMembership
}

// take lists everything through the client.
func take(ctx context.Context, c *zendesk.Client) (snapshot, error) {
	var s snapshot
	var err error
	if s.Users, err = zendesk.Collect(c.Users.List(ctx, nil)); err != nil {
		return s, err
	}
	if s.Groups, err = zendesk.Collect(c.Groups.List(ctx)); err != nil {
		return s, err
	}
	if s.GroupMemberships, err = zendesk.Collect(c.GroupMemberships.List(ctx)); err != nil {
		return s, err
	}
	if s.Organizations, err = zendesk.Collect(c.Organizations.List(ctx)); err != nil {
		return s, err
	}
	if s.OrganizationMemberships, err = zendesk.Collect(c.OrganizationMemberships.List(ctx)); err != nil {
		return s, err
	}
	return s, nil
}

// ignoreURLs drops the record URLs, which carry each server's address, so
// that records read from two simulators compare equal.
var ignoreURLs = cmp.Options{
	cmpopts.IgnoreFields(zendesk.User{}, "URL"),
	cmpopts.IgnoreFields(zendesk.Group{}, "URL"),
	cmpopts.IgnoreFields(zendesk.GroupMembership{}, "URL"),
	cmpopts.IgnoreFields(zendesk.Organization{}, "URL"),
	cmpopts.IgnoreFields(zendesk.OrganizationMembership{}, "URL"),
}

// ids returns the ids of records in order.
func ids[T any](items []T, id func(T) int64) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func userID(u zendesk.User) int64          { return u.ID }
func gmID(m zendesk.GroupMembership) int64 { return m.ID }

// addStaff adds an agent (or admin) with the given email through the state
// helpers and returns its id.
func addStaff(t testing.TB, srv *zendesktest.Server, name, email string, role zendesktest.Role) int64 {
	t.Helper()
	u, err := srv.AddUser(zendesktest.UserSpec{Name: name, Email: email, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// addEndUser adds an end-user through the state helpers and returns its id.
func addEndUser(t testing.TB, srv *zendesktest.Server, name, email string) int64 {
	t.Helper()
	return addStaff(t, srv, name, email, zendesktest.RoleEndUser)
}

// requestsTo counts the requests the simulator saw for a route key such as
// "GET /api/v2/users".
func requestsTo(srv *zendesktest.Server, key string) int {
	return srv.Stats().Requests[key]
}

// statuses returns the statuses the simulator sent for path, in order.
func statuses(srv *zendesktest.Server, method, pathPrefix string) []int {
	var out []int
	for _, r := range srv.RequestLog() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r.Status)
		}
	}
	return out
}

// rewriteTransport rewrites the path of every /api/v2 request, to drive the
// client at paths it would not build itself (".json" suffixes, unknown paths).
type rewriteTransport struct {
	rewrite func(path string) string
}

func (t rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if strings.HasPrefix(r.URL.Path, "/api/v2/") {
		r.URL.Path = t.rewrite(r.URL.Path)
		r.URL.RawPath = ""
	}
	return http.DefaultTransport.RoundTrip(r)
}

// sortedIDs reports whether ids ascend strictly.
func sortedIDs(ids []int64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}
