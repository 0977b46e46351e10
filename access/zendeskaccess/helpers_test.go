package zendeskaccess_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The simulator's id ranges (see the zendesktest package documentation).
const (
	userBase  = 10_000_000_000
	groupBase = 20_000_000_000
	orgBase   = 30_000_000_000
)

// fast lets tests send requests as fast as the machine allows: the simulator
// advertises a huge budget and the client adopts it.
const fast = 1_000_000

// newServer returns a simulator serving at full speed, without a request
// log (zendesktest.WithRequestLog(0)); a test that reads RequestLog passes
// a WithRequestLog of its own, which wins as it comes later. Zendesk's limit
// of updates per user is off, and so is the client's pacing of it (see
// newClient): several tests update one user many times, the limit and the
// pacing are tested in packages zendesk and zendesktest, and paced tests
// would wait minutes of real time.
func newServer(t testing.TB, opts ...zendesktest.Option) *zendesktest.Server {
	t.Helper()
	all := append([]zendesktest.Option{zendesktest.WithRateLimit(fast), zendesktest.WithRequestLog(0), zendesktest.WithUserUpdateLimit(0)}, opts...)
	srv, err := zendesktest.NewServer(all...)
	if err != nil {
		t.Fatalf("zendesktest.NewServer: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns an API-token client of srv at full speed. opts come
// after those, so they can add to them or override them (for example
// zendesk.WithBaseURL of a proxy).
func newClient(t testing.TB, srv *zendesktest.Server, opts ...zendesk.Option) *zendesk.Client {
	t.Helper()
	cr := srv.Credentials()
	all := append([]zendesk.Option{zendesk.WithBaseURL(srv.URL),
		zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken), zendesk.WithRateLimit(fast), zendesk.WithUserUpdateLimit(0)}, opts...)
	c, err := zendesk.NewClient(cr.Subdomain, all...)
	if err != nil {
		t.Fatalf("zendesk.NewClient: %v", err)
	}
	return c
}

// quickRetries returns opts after client options for tests in which
// requests fail: a retry comes at once, and a Retry-After is never slept on
// (a longer one is returned as a *zendesk.RateLimitError).
func quickRetries(opts ...zendesk.Option) []zendesk.Option {
	return append([]zendesk.Option{zendesk.WithRetryWait(time.Millisecond, time.Millisecond),
		zendesk.WithRetryAfterCap(time.Millisecond)}, opts...)
}

// newBackend returns a backend of srv through newClient.
func newBackend(t testing.TB, srv *zendesktest.Server, opts ...zendeskaccess.Option) *zendeskaccess.Backend {
	t.Helper()
	return backendOf(t, newClient(t, srv), opts...)
}

// backendOf returns a backend that talks through c.
func backendOf(t testing.TB, c *zendesk.Client, opts ...zendeskaccess.Option) *zendeskaccess.Backend {
	t.Helper()
	b, err := zendeskaccess.New(c, opts...)
	if err != nil {
		t.Fatalf("zendeskaccess.New: %v", err)
	}
	return b
}

func newSystem(t testing.TB, b access.Backend) *access.System {
	t.Helper()
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatalf("access.NewSystem: %v", err)
	}
	return sys
}

// demo returns a simulator with the demo account and the given options.
func demo(t testing.TB, opts ...zendesktest.Option) *zendesktest.Server {
	t.Helper()
	return newServer(t, append([]zendesktest.Option{zendesktest.WithAccount(zendesktest.DemoAccount())}, opts...)...)
}

// noCustomRoles is the demo account without custom roles, for plans below
// Enterprise.
func noCustomRoles() zendesktest.AccountSpec {
	spec := zendesktest.DemoAccount()
	spec.CustomRoles = 0
	return spec
}

// byID returns what get finds for the ids base+1, base+2, ... up to the
// first it does not find: everything of one kind the simulator ever created.
func byID[T any](base int64, get func(int64) (T, bool)) []T {
	var out []T
	for id := base + 1; ; id++ {
		v, ok := get(id)
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// allUsers returns every user the simulator ever created, by id.
func allUsers(srv *zendesktest.Server) []zendesktest.User { return byID(userBase, srv.User) }

// liveUsers returns the live users with one of the roles (any if none).
func liveUsers(srv *zendesktest.Server, roles ...zendesktest.Role) []zendesktest.User {
	var out []zendesktest.User
	for _, u := range allUsers(srv) {
		if u.Active && (len(roles) == 0 || slices.Contains(roles, u.Role)) {
			out = append(out, u)
		}
	}
	return out
}

// groups returns the simulator's groups, deleted ones included.
func groups(srv *zendesktest.Server) []zendesktest.Group { return byID(groupBase, srv.Group) }

// organizations returns the simulator's organizations.
func organizations(srv *zendesktest.Server) []zendesktest.Organization {
	return byID(orgBase, srv.Organization)
}

// addUser adds a user to srv and makes them a member of orgs, in that
// order, failing the test if the simulator refuses.
func addUser(t testing.TB, srv *zendesktest.Server, spec zendesktest.UserSpec, orgs ...int64) zendesktest.User {
	t.Helper()
	u, err := srv.AddUser(spec)
	if err != nil {
		t.Fatalf("AddUser(%s): %v", spec.Email, err)
	}
	for _, o := range orgs {
		if _, err := srv.AddOrganizationMembership(u.ID, o); err != nil {
			t.Fatalf("AddOrganizationMembership(%d, %d): %v", u.ID, o, err)
		}
	}
	return u
}

// held returns the grants a user holds in Zendesk, read from the
// simulator's state (no request, no fault, no code under test): nothing for
// a user who is unknown or not live.
func held(t testing.TB, srv *zendesktest.Server, userID int64) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	u, ok := srv.User(userID)
	if !ok || !u.Active {
		return out
	}
	p := uid(userID)
	out[access.GrantID(roleE(string(u.Role)), p)] = true
	if u.CustomRoleID != 0 {
		out[access.GrantID(customRoleE(u.CustomRoleID), p)] = true
	}
	for _, m := range srv.GroupMembershipsOf(userID) {
		if g, ok := srv.Group(m.GroupID); ok && !g.Deleted {
			out[access.GrantID(groupE(m.GroupID), p)] = true
		}
	}
	for _, m := range srv.OrganizationMembershipsOf(userID) {
		out[access.GrantID(orgE(m.OrganizationID), p)] = true
	}
	return out
}

func sync(t testing.TB, b access.Backend) *access.Snapshot {
	t.Helper()
	snap, err := access.Sync(t.Context(), b, &access.SyncOptions{Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return snap
}

func uid(id int64) string    { return "user:" + strconv.FormatInt(id, 10) }
func groupE(id int64) string { return "group:" + strconv.FormatInt(id, 10) + ":member" }
func orgE(id int64) string   { return "organization:" + strconv.FormatInt(id, 10) + ":member" }
func customRoleE(id int64) string {
	return "custom_role:" + strconv.FormatInt(id, 10) + ":assigned"
}
func roleE(r string) string { return "role:" + r + ":assigned" }

// grantIDs returns the grants' ids, sorted (nil for no grants).
func grantIDs(gs []access.Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.ID())
	}
	slices.Sort(out)
	return out
}

// noPanic runs f and reports a panic as a test failure.
func noPanic(t testing.TB, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// requests returns the count of one endpoint, e.g. "GET /api/v2/users".
func requests(srv *zendesktest.Server, key string) int { return srv.Stats().Requests[key] }

// writes returns the number of non-GET requests the simulator served.
func writes(srv *zendesktest.Server) int {
	n := 0
	for k, v := range srv.Stats().Requests {
		if len(k) < 4 || k[:4] != "GET " {
			n += v
		}
	}
	return n
}
