package zendeskaccess_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// Endpoints RevokeMany reads and writes, as the simulator's Stats name them.
const (
	countPath   = "GET /api/v2/groups/{id}/users/count"
	listPath    = "GET /api/v2/groups/{id}/memberships"
	perUserPath = "GET /api/v2/users/{id}/group_memberships"
	destroyPath = "DELETE /api/v2/group_memberships/destroy_many"
	pollPath    = "GET /api/v2/job_statuses/show_many"
)

// groupsAccount is a simulator with one agent for each of agents and, for
// each size, a group whose members are the first size agents (beyond the
// default Support group every agent joins). Built the same way twice, it
// gives twins with the same ids.
type groupsAccount struct {
	srv    *zendesktest.Server
	agents []int64
	groups []int64
}

func newGroupsAccount(t *testing.T, agents int, sizes ...int) *groupsAccount {
	t.Helper()
	srv := newServer(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 11, Groups: 1, EndUsers: 2}),
		zendesktest.WithAgentSeats(agents+10), zendesktest.WithRequestLog(20_000))
	a := &groupsAccount{srv: srv}
	for i := range agents {
		u := addUser(t, srv, zendesktest.UserSpec{Name: fmt.Sprintf("Agent %d", i), Email: fmt.Sprintf("agent%d@example.com", i), Role: zendesktest.RoleAgent})
		a.agents = append(a.agents, u.ID)
	}
	for k, size := range sizes {
		g := srv.AddGroup(fmt.Sprintf("Group %d", k))
		a.groups = append(a.groups, g.ID)
		for _, u := range a.agents[:size] {
			if _, err := srv.AddGroupMembership(u, g.ID); err != nil {
				t.Fatalf("AddGroupMembership(%d, %d): %v", u, g.ID, err)
			}
		}
	}
	return a
}

// revokes returns the requests revoking group g from users.
func revokes(g int64, users []int64) []access.RevokeRequest {
	out := make([]access.RevokeRequest, len(users))
	for i, u := range users {
		out[i] = access.RevokeRequest{EntitlementID: groupE(g), PrincipalID: uid(u)}
	}
	return out
}

// revokeCost runs RevokeMany on a fresh backend of srv and returns its
// results and the requests it sent, by endpoint.
func revokeCost(t *testing.T, srv *zendesktest.Server, reqs []access.RevokeRequest, opts ...func(*zendeskaccess.Backend)) ([]access.BulkResult, map[string]int) {
	t.Helper()
	b := newBackend(t, srv)
	for _, o := range opts {
		o(b)
	}
	srv.ResetStats()
	out := b.RevokeMany(t.Context(), reqs, nil)
	return out, srv.Stats().Requests
}

// withoutPolls returns requests without the job polls, whose number depends
// on timing.
func withoutPolls(t *testing.T, requests map[string]int) map[string]int {
	t.Helper()
	if requests[pollPath] == 0 && requests[destroyPath] > 0 {
		t.Errorf("no job polls for %d destroy_many jobs", requests[destroyPath])
	}
	out := map[string]int{}
	for k, v := range requests {
		if k != pollPath {
			out[k] = v
		}
	}
	return out
}

// outcome is what a BulkResult says, comparable across twin simulators
// (errors by the sentinel they wrap: their text holds request ids).
type outcome struct {
	Status       access.Status
	Grant        string
	MembershipID int64
	Attrs        string
	Note         string
	Err          string
}

var sentinels = []error{access.ErrUnknownPrincipal, access.ErrUnknownEntitlement, access.ErrMalformedID, access.ErrNotGrantable}

func outcomes(out []access.BulkResult) []outcome {
	res := make([]outcome, len(out))
	for i, r := range out {
		o := outcome{Status: r.Result.Status, Note: r.Result.Note}
		if g, ok := r.Result.Grant.(*zendeskaccess.Grant); ok {
			o.Grant, o.MembershipID, o.Attrs = g.ID(), g.MembershipID, fmt.Sprint(g.Attributes())
		}
		if r.Err != nil {
			o.Err = "other error"
			for _, s := range sentinels {
				if errors.Is(r.Err, s) {
					o.Err = s.Error()
				}
			}
		}
		res[i] = o
	}
	return res
}

// endState returns every user's grants, read from the simulator's state.
func endState(t *testing.T, srv *zendesktest.Server) map[int64]map[string]bool {
	t.Helper()
	out := map[int64]map[string]bool{}
	for _, u := range allUsers(srv) {
		out[u.ID] = held(t, srv, u.ID)
	}
	return out
}

// TestRevokeManyListsALargeGroup revokes a group of 1,000 agents from all of
// them: one count, 10 pages of the group's memberships and 10 destroy_many
// jobs, instead of 1,000 per-user reads; the results and the end state are
// those of the per-user reads on a twin.
func TestRevokeManyListsALargeGroup(t *testing.T) {
	t.Parallel()
	acct, twin := newGroupsAccount(t, 1000, 1000), newGroupsAccount(t, 1000, 1000)
	reqs := revokes(acct.groups[0], acct.agents)
	out, got := revokeCost(t, acct.srv, reqs)
	want := map[string]int{countPath: 1, listPath: 10, destroyPath: 10}
	if d := cmp.Diff(want, withoutPolls(t, got)); d != "" {
		t.Errorf("requests per endpoint (-want +got):\n%s", d)
	}
	for _, rec := range acct.srv.RequestLog() {
		if strings.HasSuffix(rec.Path, "/memberships") && !strings.Contains(rec.Query, "page%5Bsize%5D=100") && !strings.Contains(rec.Query, "page[size]=100") {
			t.Errorf("list request %s?%s without page[size]=100", rec.Path, rec.Query)
		}
	}
	before, old := revokeCost(t, twin.srv, reqs, zendeskaccess.ReadUsersOnly)
	if d := cmp.Diff(outcomes(before), outcomes(out)); d != "" {
		t.Errorf("results differ from the per-user reads' (-per user +listed):\n%s", d)
	}
	for i, o := range outcomes(out) {
		if o.Status != access.StatusRevoked || o.MembershipID == 0 {
			t.Errorf("%s: %+v, want revoked", reqs[i].GrantID(), o)
		}
	}
	if d := cmp.Diff(endState(t, twin.srv), endState(t, acct.srv)); d != "" {
		t.Errorf("end states differ (-per user +listed):\n%s", d)
	}
	total := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	t.Logf("revoking a group of 1,000 from all its members: before %d requests %v; after %d requests %v", total(old), old, total(got), got)
}

// TestRevokeManyReadsFewUsers revokes a group of 5,000 agents from 3 of them:
// listing would take 50 pages, so the 3 users are read (after one count).
func TestRevokeManyReadsFewUsers(t *testing.T) {
	t.Parallel()
	acct := newGroupsAccount(t, 5000, 5000)
	out, got := revokeCost(t, acct.srv, revokes(acct.groups[0], acct.agents[:3]))
	want := map[string]int{countPath: 1, perUserPath: 3, destroyPath: 1}
	if d := cmp.Diff(want, withoutPolls(t, got)); d != "" {
		t.Errorf("requests per endpoint (-want +got):\n%s", d)
	}
	for _, r := range out {
		if r.Err != nil || r.Result.Status != access.StatusRevoked {
			t.Errorf("%+v, %v; want revoked", r.Result, r.Err)
		}
	}
	// Two users: no count is worth its request.
	_, got = revokeCost(t, acct.srv, revokes(acct.groups[0], acct.agents[3:5]))
	if want := map[string]int{perUserPath: 2, destroyPath: 1}; !cmp.Equal(want, withoutPolls(t, got)) {
		t.Errorf("2 users: requests %v, want %v and polls", got, want)
	}
}

// TestRevokeManyUsesTheSyncsSizes: after a sync, the sizes its
// group_memberships stream counted replace the count requests.
func TestRevokeManyUsesTheSyncsSizes(t *testing.T) {
	t.Parallel()
	acct := newGroupsAccount(t, 1000, 1000, 300)
	b := newBackend(t, acct.srv)
	sync(t, b)
	acct.srv.ResetStats()
	reqs := append(revokes(acct.groups[0], acct.agents[:500]), revokes(acct.groups[1], acct.agents[:2])...)
	for i, r := range b.RevokeMany(t.Context(), reqs, nil) {
		if r.Err != nil || r.Result.Status != access.StatusRevoked {
			t.Errorf("%s: %+v, %v; want revoked", reqs[i].GrantID(), r.Result, r.Err)
		}
	}
	// Group 0 is listed (10 pages at most, against 500 users; the list
	// stops once it has found them, and the simulator lists by membership
	// id, so after 5 pages); group 1's 2 users are read, as no count is.
	want := map[string]int{listPath: 5, perUserPath: 2, destroyPath: 6}
	if d := cmp.Diff(want, withoutPolls(t, acct.srv.Stats().Requests)); d != "" {
		t.Errorf("requests per endpoint (-want +got):\n%s", d)
	}
}

// TestRevokeManyMixedGroups mixes groups listed and read user by user with
// every case RevokeMany must keep: non-members, an end user, a soft-deleted
// user, a user who does not exist, an unknown and a deleted group, a
// duplicate request, a role and a malformed id. Results and end state equal
// those of the per-user reads on a twin.
func TestRevokeManyMixedGroups(t *testing.T) {
	t.Parallel()
	build := func() (*groupsAccount, []access.RevokeRequest) {
		a := newGroupsAccount(t, 1200, 1000, 1200, 60, 10)
		srv := a.srv
		c := newClient(t, srv)
		deletedUser := a.agents[999] // a member of groups 0 to 2, soft-deleted
		if _, _, err := c.Users.Delete(t.Context(), deletedUser); err != nil {
			t.Fatal(err)
		}
		deletedGroup := a.groups[3]
		if _, err := c.Groups.Delete(t.Context(), deletedGroup); err != nil {
			t.Fatal(err)
		}
		endUser := liveUsers(srv, zendesktest.RoleEndUser)[0].ID
		A, B, C := a.groups[0], a.groups[1], a.groups[2]
		var reqs []access.RevokeRequest
		reqs = append(reqs, revokes(A, a.agents[:1000])...)     // its members (one deleted)
		reqs = append(reqs, revokes(A, a.agents[1000:1005])...) // non-members
		reqs = append(reqs, revokes(A, []int64{endUser, userBase + 99_999})...)
		reqs = append(reqs, revokes(B, a.agents[:3])...)    // 3 of 1,200: read
		reqs = append(reqs, revokes(C, a.agents[10:50])...) // 40 of 60: one page
		reqs = append(reqs, revokes(groupBase+999, a.agents[:3])...)
		reqs = append(reqs, revokes(deletedGroup, a.agents[:3])...)
		reqs = append(reqs, revokes(A, a.agents[5:6])...) // a duplicate
		reqs = append(reqs,
			access.RevokeRequest{EntitlementID: roleE("admin"), PrincipalID: uid(a.agents[7])},
			access.RevokeRequest{EntitlementID: "group:01:member", PrincipalID: uid(a.agents[7])})
		return a, reqs
	}
	acct, reqs := build()
	twin, _ := build()
	out, got := revokeCost(t, acct.srv, reqs)
	before, old := revokeCost(t, twin.srv, reqs, zendeskaccess.ReadUsersOnly)
	if d := cmp.Diff(outcomes(before), outcomes(out)); d != "" {
		t.Errorf("results differ from the per-user reads' (-per user +listed):\n%s", d)
	}
	if d := cmp.Diff(endState(t, twin.srv), endState(t, acct.srv)); d != "" {
		t.Errorf("end states differ (-per user +listed):\n%s", d)
	}
	// Counts for the 5 groups of 3 or more users, pages for A (10) and C
	// (1), and per-user reads for the rest: far fewer than before.
	if got[countPath] != 5 || got[listPath] != 11 || got[perUserPath]*10 > old[perUserPath] {
		t.Errorf("%d counts, %d pages, %d per-user reads (%d before); want 5, 11, under a tenth (%v)",
			got[countPath], got[listPath], got[perUserPath], old[perUserPath], got)
	}
	t.Logf("mixed: before %v; after %v", old, got)
	o, n := outcomes(out), len(reqs)
	for i := range reqs {
		want := access.Status("")
		switch {
		case i < 999, i >= 1007 && i < 1050, i == n-3:
			want = access.StatusRevoked
		case i >= 1000 && i < 1006, i == n-2:
			want = access.StatusAlreadyRevoked // non-members, the end user, a role not held
		}
		if want != "" && (o[i].Status != want || o[i].Err != "") {
			t.Errorf("%d %s: %+v, want %s", i, reqs[i].GrantID(), o[i], want)
		}
	}
	if o[999].Err != access.ErrUnknownPrincipal.Error() || o[1006].Err != access.ErrUnknownPrincipal.Error() || o[1050].Err != access.ErrUnknownEntitlement.Error() ||
		o[1053].Err != access.ErrUnknownEntitlement.Error() || o[n-1].Err != access.ErrMalformedID.Error() {
		t.Errorf("deleted user %+v, unknown user %+v, unknown group %+v, deleted group %+v, malformed %+v", o[999], o[1006], o[1050], o[1053], o[n-1])
	}
}

// TestRevokeManyListFails: a group list that fails after its first page
// leaves the users that page did not show to the per-user reads, with the
// same results.
func TestRevokeManyListFails(t *testing.T) {
	t.Parallel()
	acct := newGroupsAccount(t, 300, 300)
	p := newProxy(t, acct.srv)
	p.set(func(r *http.Request) string {
		if strings.Contains(r.URL.Path, "/memberships") && r.URL.Query().Get("page[after]") != "" {
			return "refuse" // the second page
		}
		return ""
	})
	b := p.backend(t)
	acct.srv.ResetStats()
	reqs := revokes(acct.groups[0], acct.agents)
	for i, r := range b.RevokeMany(t.Context(), reqs, nil) {
		if r.Err != nil || r.Result.Status != access.StatusRevoked {
			t.Errorf("%s: %+v, %v; want revoked", reqs[i].GrantID(), r.Result, r.Err)
		}
	}
	st := acct.srv.Stats().Requests
	if st[listPath] != 1 || st[perUserPath] != 200 {
		t.Errorf("%d pages and %d per-user reads, want 1 (the second refused) and 200 (those the first page did not show)", st[listPath], st[perUserPath])
	}
	for _, u := range acct.agents {
		if held(t, acct.srv, u)[access.GrantID(groupE(acct.groups[0]), uid(u))] {
			t.Errorf("user %d is still a member", u)
		}
	}
}
