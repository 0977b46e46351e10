package zendesktest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// faultAccount is the seeded account the fault tests read and change.
var faultAccount = zendesktest.AccountSpec{Seed: 77, EndUsers: 120, Agents: 25, Admins: 3, Groups: 6,
	Organizations: 8, GroupMemberships: 60, OrganizationMemberships: 70, CustomRoles: 2, Suspended: 3, Deleted: 2}

// faultPageSize makes listing the account take about twenty requests.
const faultPageSize = 20

// faultCase is one fault kind at a rate and seed that inject several faults
// into a listing of faultAccount (seed 2 at 0.3 faults requests 3, 5, 6, 7,
// 10, 11...: up to three in a row). The kinds whose answers carry a
// Retry-After (one second, the shortest a header can ask for) make the
// client sleep, so they are injected once (seed 5 at 0.05 faults request 9,
// a storm 9 and 10).
type faultCase struct {
	kind  zendesktest.FaultKind
	seed  int64
	rate  float64
	storm int
}

var faultCases = []faultCase{
	{kind: zendesktest.Fault500, seed: 2, rate: 0.3},
	{kind: zendesktest.Fault502, seed: 2, rate: 0.3},
	{kind: zendesktest.Fault503, seed: 2, rate: 0.3},
	{kind: zendesktest.Fault503RetryAfter, seed: 5, rate: 0.05},
	{kind: zendesktest.FaultConnReset, seed: 2, rate: 0.3},
	{kind: zendesktest.FaultTruncatedBody, seed: 2, rate: 0.3},
	{kind: zendesktest.FaultHTMLError, seed: 2, rate: 0.3},
	{kind: zendesktest.Fault429Storm, seed: 5, rate: 0.05, storm: 2},
}

func (fc faultCase) option() zendesktest.Option {
	return zendesktest.WithFaults(zendesktest.Faults{Seed: fc.seed, Rate: fc.rate, Kinds: []zendesktest.FaultKind{fc.kind}, StormLength: fc.storm, RetryAfter: 1})
}

// runFaultCases prepares every fault case in the test's goroutine (start),
// runs the prepared work of all cases at once, and then checks each case in
// a subtest. The cases mostly wait out Retry-After, so running them together
// keeps the test short whatever -parallel allows.
func runFaultCases[R any](t *testing.T, start func(fc faultCase) func() R, check func(t *testing.T, fc faultCase, r R)) {
	t.Helper()
	work := make([]func() R, len(faultCases))
	for i, fc := range faultCases {
		work[i] = start(fc)
	}
	results := make([]R, len(faultCases))
	var wg sync.WaitGroup
	for i := range faultCases {
		wg.Go(func() { results[i] = work[i]() })
	}
	wg.Wait()
	for i, fc := range faultCases {
		t.Run(fc.kind.String(), func(t *testing.T) { check(t, fc, results[i]) })
	}
}

// TestClientFaultsReadsUnchanged lists the seeded account through each fault
// kind and gets exactly what a fault-free simulator gives.
func TestClientFaultsReadsUnchanged(t *testing.T) {
	t.Parallel()
	clean := startSim(t, zendesktest.WithAccount(faultAccount))
	want, err := take(ctx(t), newClient(t, clean, zendesk.WithPageSize(faultPageSize)))
	must(t, err, "fault-free listing")
	if len(want.Users) != 147 || len(want.GroupMemberships) < 60 || len(want.OrganizationMemberships) == 0 {
		t.Fatalf("reference listing: %d users, %d group memberships, %d organization memberships",
			len(want.Users), len(want.GroupMemberships), len(want.OrganizationMemberships))
	}
	cleanRequests := clean.Stats().Total

	type result struct {
		srv *zendesktest.Server
		got snapshot
		err error
	}
	runFaultCases(t, func(fc faultCase) func() result {
		srv := startSim(t, zendesktest.WithAccount(faultAccount), fc.option())
		c := newClient(t, srv, zendesk.WithPageSize(faultPageSize))
		return func() result {
			got, err := take(ctx(t), c)
			return result{srv, got, err}
		}
	}, func(t *testing.T, fc faultCase, r result) {
		if r.err != nil {
			t.Fatalf("listing through %s faults: %v", fc.kind, r.err)
		}
		if diff := cmp.Diff(want, r.got, ignoreURLs); diff != "" {
			t.Errorf("listing through %s faults differs (-fault-free +faulty):\n%s", fc.kind, diff)
		}
		st := r.srv.Stats()
		if st.Faults == 0 {
			t.Errorf("no %s fault was injected in %d requests", fc.kind, st.Total)
		}
		if st.Total != cleanRequests+st.Faults {
			t.Errorf("%d requests with %d faults, want %d (each fault retried once)", st.Total, st.Faults, cleanRequests+st.Faults)
		}
		t.Logf("%s: %d faults in %d requests", fc.kind, st.Faults, st.Total)
	})
}

// refs are records of faultAccount the write sequence touches, read from a
// fault-free listing.
type refs struct {
	endUser, endUser2, agent zendesk.User
	gm                       zendesk.GroupMembership // a non-default membership of agent
	freeGroup                int64                   // a group agent is not in
	org                      zendesk.Organization
	om                       zendesk.OrganizationMembership
}

func findRefs(t *testing.T, s snapshot) refs {
	t.Helper()
	var r refs
	var endUsers []zendesk.User
	for _, u := range s.Users {
		if u.Role == zendesk.RoleEndUser && !u.Suspended {
			endUsers = append(endUsers, u)
		}
	}
	r.endUser, r.endUser2 = endUsers[3], endUsers[7]
	member := map[int64]map[int64]bool{}
	for _, m := range s.GroupMemberships {
		if member[m.UserID] == nil {
			member[m.UserID] = map[int64]bool{}
		}
		member[m.UserID][m.GroupID] = true
	}
	found := false
	for _, m := range s.GroupMemberships {
		if m.Default {
			continue
		}
		for _, g := range s.Groups {
			if !member[m.UserID][g.ID] && !g.Deleted {
				r.gm, r.freeGroup, found = m, g.ID, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		t.Fatal("faultAccount has no agent with a non-default membership and a free group")
	}
	for _, u := range s.Users {
		if u.ID == r.gm.UserID {
			r.agent = u
		}
	}
	r.org = s.Organizations[2]
	r.om = s.OrganizationMemberships[5]
	return r
}

// writeResult is what the write sequence returned, call by call.
type writeResult struct {
	Users        []*zendesk.User
	Created      []bool
	Memberships  [][]zendesk.GroupMembership
	Membership   *zendesk.GroupMembership
	Organization *zendesk.Organization
	Group        *zendesk.Group
	Errors       []string
}

// writes applies a sequence of writes whose repeat is safe (PUT, DELETE,
// create_or_update, and group membership creation, whose repeat would be
// reported as a duplicate).
func writes(ctx context.Context, c *zendesk.Client, r refs) writeResult {
	var out writeResult
	keep := func(err error) {
		if err != nil {
			out.Errors = append(out.Errors, err.Error())
		}
	}
	user := func(u *zendesk.User, _ *zendesk.Response, err error) {
		out.Users = append(out.Users, u)
		keep(err)
	}
	upsert := func(u *zendesk.User, created bool, _ *zendesk.Response, err error) {
		out.Users = append(out.Users, u)
		out.Created = append(out.Created, created)
		keep(err)
	}
	user(c.Users.Update(ctx, r.endUser.ID, &zendesk.UpdateUserRequest{Name: zendesk.Ptr("Renamed User"), Tags: []string{"renamed"}}))
	user(c.Users.Suspend(ctx, r.agent.ID))
	upsert(c.Users.CreateOrUpdate(ctx, &zendesk.CreateUserRequest{Name: "Fresh Face", Email: "fresh@example.com", ExternalID: zendesk.Ptr("ext-fresh")}))
	upsert(c.Users.CreateOrUpdate(ctx, &zendesk.CreateUserRequest{Name: "Fresh Face II", ExternalID: zendesk.Ptr("ext-fresh")}))
	upsert(c.Users.CreateOrUpdate(ctx, &zendesk.CreateUserRequest{Name: "Known Customer", Email: r.endUser2.Email}))
	_, err := c.GroupMemberships.Delete(ctx, r.gm.ID)
	keep(err)
	m, _, err := c.GroupMemberships.Create(ctx, r.agent.ID, r.freeGroup)
	out.Membership = m
	keep(err)
	if m != nil {
		all, _, err := c.GroupMemberships.MakeDefault(ctx, r.agent.ID, m.ID)
		out.Memberships = append(out.Memberships, all)
		keep(err)
	}
	out.Organization, _, err = c.Organizations.Update(ctx, r.org.ID, &zendesk.UpdateOrganizationRequest{Notes: zendesk.Ptr("audited"), Tags: &[]string{"audited"}})
	keep(err)
	_, err = c.OrganizationMemberships.Delete(ctx, r.om.ID)
	keep(err)
	out.Group, _, err = c.Groups.Update(ctx, r.freeGroup, &zendesk.UpdateGroupRequest{Description: zendesk.Ptr("now with more agents")})
	keep(err)
	user(c.Users.Delete(ctx, r.endUser2.ID))
	user(c.DeletedUsers.PermanentlyDelete(ctx, r.endUser2.ID))
	return out
}

// TestClientFaultsWritesRetriedSafely applies the same writes to a
// fault-free simulator and, through each fault kind, to a faulty one: the
// answers and the final account state are the same.
func TestClientFaultsWritesRetriedSafely(t *testing.T) {
	t.Parallel()
	// A fixed clock makes the timestamps of the changes equal on both sides.
	fixed := time.Date(2025, 7, 1, 9, 30, 0, 0, time.UTC)
	clock := zendesktest.WithClock(func() time.Time { return fixed })

	clean := startSim(t, zendesktest.WithAccount(faultAccount), clock)
	cleanClient := newClient(t, clean, zendesk.WithPageSize(faultPageSize))
	before, err := take(ctx(t), cleanClient)
	must(t, err, "fault-free listing")
	r := findRefs(t, before)
	want := writes(ctx(t), cleanClient, r)
	if len(want.Errors) != 0 {
		t.Fatalf("fault-free writes failed: %v", want.Errors)
	}
	if !cmp.Equal(want.Created, []bool{true, false, false}) {
		t.Fatalf("create_or_update created = %v, want [true false false]", want.Created)
	}
	wantState, err := take(ctx(t), cleanClient)
	must(t, err, "fault-free listing after the writes")
	wantCounts := clean.Counts()

	type result struct {
		srv      *zendesktest.Server
		got      writeResult
		faults   int // injected into the writes
		state    snapshot
		stateErr error
	}
	runFaultCases(t, func(fc faultCase) func() result {
		srv := startSim(t, zendesktest.WithAccount(faultAccount), clock, fc.option())
		c := newClient(t, srv, zendesk.WithPageSize(faultPageSize))
		return func() result {
			got := writes(ctx(t), c, r)
			faults := srv.Stats().Faults
			state, err := take(ctx(t), c)
			return result{srv, got, faults, state, err}
		}
	}, func(t *testing.T, fc faultCase, res result) {
		srv := res.srv
		if res.faults == 0 {
			t.Errorf("no %s fault was injected into the writes", fc.kind)
		}
		if diff := cmp.Diff(want, res.got, ignoreURLs); diff != "" {
			t.Errorf("answers through %s faults differ (-fault-free +faulty):\n%s", fc.kind, diff)
		}
		if diff := cmp.Diff(wantCounts, srv.Counts()); diff != "" {
			t.Errorf("account counts differ (-fault-free +faulty):\n%s", diff)
		}
		for _, id := range []int64{r.endUser.ID, r.endUser2.ID, r.agent.ID} {
			w, _ := clean.User(id)
			g, _ := srv.User(id)
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("user %d differs (-fault-free +faulty):\n%s", id, diff)
			}
		}
		if diff := cmp.Diff(clean.GroupMembershipsOf(r.agent.ID), srv.GroupMembershipsOf(r.agent.ID)); diff != "" {
			t.Errorf("agent's group memberships differ (-fault-free +faulty):\n%s", diff)
		}
		must(t, res.stateErr, "listing after the writes")
		if diff := cmp.Diff(wantState, res.state, ignoreURLs); diff != "" {
			t.Errorf("account after the writes differs (-fault-free +faulty):\n%s", diff)
		}
	})
}

// TestClientPermanentFaults: when faults outlast the retries, or ask for a
// wait above the cap, the client returns a typed error, yields no records
// from the failed page, and never panics.
func TestClientPermanentFaults(t *testing.T) {
	t.Parallel()
	always := func(k zendesktest.FaultKind) zendesktest.Option {
		return zendesktest.WithFaults(zendesktest.Faults{Seed: 5, Rate: 1, Kinds: []zendesktest.FaultKind{k}, RetryAfter: 5, StormLength: 50})
	}
	listUsers := func(t *testing.T, c *zendesk.Client) ([]zendesk.User, error) {
		t.Helper()
		users, err := zendesk.Collect(c.Users.List(ctx(t), nil))
		if err == nil {
			t.Fatal("listing through permanent faults succeeded")
		}
		if len(users) != 0 {
			t.Errorf("%d users yielded before the first page failed", len(users))
		}
		return users, err
	}

	for _, k := range []zendesktest.FaultKind{zendesktest.Fault500, zendesktest.Fault502, zendesktest.Fault503, zendesktest.FaultHTMLError} {
		t.Run(k.String(), func(t *testing.T) {
			t.Parallel()
			srv := startSim(t, always(k))
			c := newClient(t, srv, zendesk.WithMaxRetries(3))
			_, err := listUsers(t, c)
			var ae *zendesk.APIError
			if !errors.As(err, &ae) || ae.StatusCode < 500 {
				t.Fatalf("%v (%T), want a 5xx *APIError", err, err)
			}
			if k == zendesktest.FaultHTMLError && (ae.Code != "" || !strings.Contains(ae.Body, http.StatusText(ae.StatusCode))) {
				t.Errorf("HTML error: code %q body %q, want the page title", ae.Code, ae.Body)
			}
			if n := c.RequestCount(); n != 4 {
				t.Errorf("%d attempts, want 4 (1 + 3 retries)", n)
			}
		})
	}
	for _, k := range []zendesktest.FaultKind{zendesktest.FaultConnReset, zendesktest.FaultTruncatedBody} {
		t.Run(k.String(), func(t *testing.T) {
			t.Parallel()
			srv := startSim(t, always(k), zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 1, EndUsers: 10}))
			c := newClient(t, srv, zendesk.WithMaxRetries(2))
			_, err := listUsers(t, c)
			var de *zendesk.DecodeError
			if errors.As(err, &de) {
				t.Errorf("a cut body surfaced as a decode error: %v", err)
			}
			if !strings.Contains(err.Error(), "GET /api/v2/users") {
				t.Errorf("error %q does not name the request", err)
			}
			if n := c.RequestCount(); n != 3 {
				t.Errorf("%d attempts, want 3 (1 + 2 retries)", n)
			}
		})
	}
	t.Run("503 retry-after above the cap", func(t *testing.T) {
		t.Parallel()
		srv := startSim(t, always(zendesktest.Fault503RetryAfter))
		c := newClient(t, srv, zendesk.WithRetryAfterCap(time.Second))
		_, err := listUsers(t, c)
		ae := apiError(t, err, http.StatusServiceUnavailable)
		if ae.Code != "DatabaseTimeout" {
			t.Errorf("code %q, want DatabaseTimeout", ae.Code)
		}
		if n := c.RequestCount(); n != 1 {
			t.Errorf("%d attempts, want 1 (Retry-After 5s is above the 1s cap)", n)
		}
	})
	t.Run("429 storm above the cap", func(t *testing.T) {
		t.Parallel()
		srv := startSim(t, always(zendesktest.Fault429Storm))
		c := newClient(t, srv, zendesk.WithRetryAfterCap(500*time.Millisecond))
		_, err := listUsers(t, c)
		var rle *zendesk.RateLimitError
		if !errors.As(err, &rle) || rle.RetryAfter != time.Second || !zendesk.IsRateLimited(err) {
			t.Fatalf("%v, want a *RateLimitError asking for 1s", err)
		}
		if rl := c.RateLimit(); rl.Throttled != 1 || c.RequestCount() != 1 {
			t.Errorf("throttled %d in %d attempts, want 1 and 1", rl.Throttled, c.RequestCount())
		}
	})
	t.Run("writes that are not retried", func(t *testing.T) {
		t.Parallel()
		for _, k := range []zendesktest.FaultKind{zendesktest.Fault500, zendesktest.FaultConnReset, zendesktest.FaultTruncatedBody} {
			srv := startSim(t, always(k))
			c := newClient(t, srv)
			g, _, err := c.Groups.Create(ctx(t), &zendesk.CreateGroupRequest{Name: "Never Created"})
			if err == nil || g != nil {
				t.Fatalf("%s: create answered %+v, %v; want an error", k, g, err)
			}
			if k == zendesktest.Fault500 {
				apiError(t, err, http.StatusInternalServerError)
			}
			if n := c.RequestCount(); n != 1 {
				t.Errorf("%s: a POST was sent %d times, want 1 (its outcome is unknown)", k, n)
			}
			if n := srv.Counts().Groups; n != 1 {
				t.Errorf("%s: %d groups, want only the default", k, n)
			}
		}
	})
}

// TestClientFaultsMidListing: when a page fails for good halfway through a
// list, the iterator yields the pages before it and then the typed error:
// the caller cannot mistake a truncated list for a complete one.
func TestClientFaultsMidListing(t *testing.T) {
	t.Parallel()
	clean := startSim(t, zendesktest.WithAccount(faultAccount))
	want, err := zendesk.Collect(newClient(t, clean, zendesk.WithPageSize(faultPageSize)).Users.List(ctx(t), nil))
	must(t, err, "fault-free listing")

	srv := startSim(t, zendesktest.WithAccount(faultAccount),
		zendesktest.WithFaults(zendesktest.Faults{Seed: 13, Rate: 0.2, Kinds: []zendesktest.FaultKind{zendesktest.Fault500}}))
	// Without retries the first fault is permanent.
	c := newClient(t, srv, zendesk.WithPageSize(faultPageSize), zendesk.WithMaxRetries(0))
	got, err := zendesk.Collect(c.Users.List(ctx(t), nil))
	if err == nil {
		t.Fatalf("listing succeeded through %d faults", srv.Stats().Faults)
	}
	apiError(t, err, http.StatusInternalServerError)
	if len(got) == 0 || len(got)%faultPageSize != 0 || len(got) >= len(want) {
		t.Errorf("yielded %d users before the error, want whole pages of %d and fewer than %d", len(got), faultPageSize, len(want))
	}
	if diff := cmp.Diff(want[:len(got)], got, ignoreURLs); diff != "" {
		t.Errorf("the users before the error are not the list's start (-want +got):\n%s", diff)
	}
	t.Logf("failed after %d users", len(got))
}
