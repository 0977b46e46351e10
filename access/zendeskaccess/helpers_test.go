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

func newServer(t testing.TB, opts ...zendesktest.Option) *zendesktest.Server {
	t.Helper()
	all := append([]zendesktest.Option{zendesktest.WithRateLimit(fast), zendesktest.WithRequestLog(0)}, opts...)
	srv, err := zendesktest.NewServer(all...)
	if err != nil {
		t.Fatalf("zendesktest.NewServer: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t testing.TB, srv *zendesktest.Server) *zendesk.Client {
	t.Helper()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL),
		zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken), zendesk.WithRateLimit(fast))
	if err != nil {
		t.Fatalf("zendesk.NewClient: %v", err)
	}
	return c
}

func newBackend(t testing.TB, srv *zendesktest.Server, opts ...zendeskaccess.Option) *zendeskaccess.Backend {
	t.Helper()
	b, err := zendeskaccess.New(newClient(t, srv), opts...)
	if err != nil {
		t.Fatalf("zendeskaccess.New: %v", err)
	}
	return b
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

// allUsers returns every user the simulator ever created, by id.
func allUsers(srv *zendesktest.Server) []zendesktest.User {
	var out []zendesktest.User
	for id := int64(userBase + 1); ; id++ {
		u, ok := srv.User(id)
		if !ok {
			return out
		}
		out = append(out, u)
	}
}

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

// groups returns the simulator's groups.
func groups(srv *zendesktest.Server) []zendesktest.Group {
	var out []zendesktest.Group
	for id := int64(groupBase + 1); ; id++ {
		g, ok := srv.Group(id)
		if !ok {
			return out
		}
		out = append(out, g)
	}
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

func grantIDs(gs []access.Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.ID())
	}
	slices.Sort(out)
	return out
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
