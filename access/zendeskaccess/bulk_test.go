package zendeskaccess_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// bulkAccount has 150 agents and 4 groups: enough for several jobs.
func bulkAccount(t *testing.T) *zendesktest.Server {
	t.Helper()
	return newServer(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 7, Agents: 150, EndUsers: 5, Groups: 4, Organizations: 2}),
		zendesktest.WithAgentSeats(1000), zendesktest.WithRequestLog(5000))
}

func TestGrantManyUsesBulkJobs(t *testing.T) {
	t.Parallel()
	srv := bulkAccount(t)
	b := newBackend(t, srv)
	var reqs []access.GrantRequest
	want := map[string]access.Status{}
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		for _, g := range groups(srv) {
			req := access.GrantRequest{EntitlementID: groupE(g.ID), PrincipalID: uid(u.ID)}
			st := access.StatusGranted
			if held(t, srv, u.ID)[req.GrantID()] {
				st = access.StatusAlreadyGranted
			}
			reqs = append(reqs, req)
			want[req.GrantID()] = st
		}
	}
	endUser := liveUsers(srv, zendesktest.RoleEndUser)[0]
	reqs = append(reqs,
		access.GrantRequest{EntitlementID: groupE(groupBase + 999), PrincipalID: uid(liveUsers(srv, zendesktest.RoleAgent)[0].ID)},
		access.GrantRequest{EntitlementID: groupE(groups(srv)[1].ID), PrincipalID: uid(endUser.ID)},
		access.GrantRequest{EntitlementID: "group:01:member", PrincipalID: uid(endUser.ID)},
	)
	srv.ResetStats()
	var progress []int
	out := b.GrantMany(t.Context(), reqs, func(n int) { progress = append(progress, n) })
	n := len(reqs)
	for i, res := range out[:n-3] {
		if res.Err != nil || res.Result.Status != want[reqs[i].GrantID()] || res.Result.Grant == nil || res.Result.Grant.ID() != reqs[i].GrantID() {
			t.Errorf("%s: %+v, %v; want %s", reqs[i].GrantID(), res.Result, res.Err, want[reqs[i].GrantID()])
		}
	}
	if !errors.Is(out[n-3].Err, access.ErrUnknownEntitlement) {
		t.Errorf("unknown group: %v, want ErrUnknownEntitlement", out[n-3].Err)
	}
	var notAgent *zendeskaccess.NotAgentError
	if !errors.As(out[n-2].Err, &notAgent) {
		t.Errorf("end user: %v, want a *NotAgentError", out[n-2].Err)
	}
	if !errors.Is(out[n-1].Err, access.ErrMalformedID) {
		t.Errorf("malformed id: %v, want ErrMalformedID", out[n-1].Err)
	}
	if len(progress) != n || progress[n-1] != n {
		t.Errorf("progress reported %d times, last %v; want %d, ending at %d", len(progress), progress[len(progress)-1:], n, n)
	}
	// The 600 grants and the two that fail are ceil(602/100) = 7 jobs;
	// the two failures then fall back to single calls.
	st := srv.Stats()
	if got := st.Requests["POST /api/v2/group_memberships/create_many"]; got != 7 {
		t.Errorf("%d create_many requests, want 7", got)
	}
	if got := st.Requests["POST /api/v2/group_memberships"]; got > 1 {
		t.Errorf("%d single creates, want at most 1 (the fallbacks read first)", got)
	}
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		h := held(t, srv, u.ID)
		for _, g := range groups(srv) {
			if !h[access.GrantID(groupE(g.ID), uid(u.ID))] {
				t.Errorf("user %d is not in group %d after GrantMany", u.ID, g.ID)
			}
		}
	}
	// Again: every item is already granted, through the same jobs.
	for i, res := range b.GrantMany(t.Context(), reqs[:n-3], nil) {
		if res.Err != nil || res.Result.Status != access.StatusAlreadyGranted {
			t.Errorf("again %s: %+v, %v; want already granted", reqs[i].GrantID(), res.Result, res.Err)
		}
	}
}

func TestRevokeManyUsesBulkJobs(t *testing.T) {
	t.Parallel()
	srv := bulkAccount(t)
	b := newBackend(t, srv)
	sync(t, b) // the backend learns the groups
	var reqs []access.RevokeRequest
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		for _, g := range groups(srv)[1:] {
			reqs = append(reqs, access.RevokeRequest{EntitlementID: groupE(g.ID), PrincipalID: uid(u.ID)})
		}
	}
	srv.ResetStats()
	out := b.RevokeMany(t.Context(), reqs, nil)
	revoked := 0
	for i, res := range out {
		if res.Err != nil {
			t.Errorf("%s: %v", reqs[i].GrantID(), res.Err)
			continue
		}
		if res.Result.Status == access.StatusRevoked {
			revoked++
		}
	}
	st := srv.Stats()
	if got, wantJobs := st.Requests["DELETE /api/v2/group_memberships/destroy_many"], (revoked+99)/100; got != wantJobs {
		t.Errorf("%d destroy_many requests for %d memberships, want %d", got, revoked, wantJobs)
	}
	if got := st.Requests["DELETE /api/v2/group_memberships/{id}"]; got != 0 {
		t.Errorf("%d single deletes, want 0", got)
	}
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		for _, g := range groups(srv)[1:] {
			if held(t, srv, u.ID)[access.GrantID(groupE(g.ID), uid(u.ID))] {
				t.Errorf("user %d is still in group %d", u.ID, g.ID)
			}
		}
	}
}

func TestCreateAccountsInBulk(t *testing.T) {
	t.Parallel()
	for _, imports := range []bool{true, false} {
		srv := newServer(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 3, Agents: 5, Groups: 2}),
			zendesktest.WithAgentSeats(1000), zendesktest.WithBulkUserImports(imports))
		b := newBackend(t, srv)
		existing := liveUsers(srv, zendesktest.RoleAgent)
		var reqs []access.AccountRequest
		for i := range 250 {
			reqs = append(reqs, access.AccountRequest{Person: access.Person{Email: fmt.Sprintf("new%03d@example.com", i), Name: fmt.Sprintf("New %d", i)}})
		}
		for _, u := range existing {
			reqs = append(reqs, access.AccountRequest{Person: access.Person{Email: u.Email}})
		}
		srv.ResetStats()
		out := b.CreateAccounts(t.Context(), reqs, nil)
		for i, res := range out {
			want := access.AccountCreated
			if i >= 250 {
				want = access.AccountExists
			}
			if res.Err != nil || res.Result.Status != want {
				t.Errorf("imports %v: %s: %+v, %v; want %s", imports, reqs[i].Person.Email, res.Result, res.Err, want)
			}
		}
		st := srv.Stats()
		jobs, singles := st.Requests["POST /api/v2/users/create_many"], st.Requests["POST /api/v2/users"]
		if imports && (jobs != 3 || singles != 0) {
			t.Errorf("imports on: %d create_many and %d single creates, want 3 and 0", jobs, singles)
		}
		if !imports && (jobs != 1 || singles != 250) {
			t.Errorf("imports off: %d create_many and %d single creates, want 1 (refused) and 250", jobs, singles)
		}
		if got := len(liveUsers(srv, zendesktest.RoleAgent)); got != len(existing)+250 {
			t.Errorf("imports %v: %d agents, want %d", imports, got, len(existing)+250)
		}
	}
}

// TestBulkRequestsWithUnknownOutcome loses the answer to the first bulk
// request of each kind: the request is sent again (a repeat is detectable)
// instead of falling back to a single call per item, and every item ends as
// it should.
func TestBulkRequestsWithUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv := newServer(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 5, Agents: 20, Groups: 3}),
		zendesktest.WithAgentSeats(1000), zendesktest.WithBulkUserImports(true), zendesktest.WithRequestLog(5000))
	p := newProxy(t, srv)
	b := p.backend(t)
	var lost gosync.Map
	p.set(func(r *http.Request) string {
		if strings.HasSuffix(r.URL.Path, "/create_many") {
			if _, seen := lost.LoadOrStore(r.URL.Path, true); !seen {
				return "lose"
			}
		}
		return ""
	})
	var reqs []access.GrantRequest
	agents := liveUsers(srv, zendesktest.RoleAgent)
	for _, u := range agents {
		reqs = append(reqs, access.GrantRequest{EntitlementID: groupE(groups(srv)[2].ID), PrincipalID: uid(u.ID)})
	}
	for i, res := range b.GrantMany(t.Context(), reqs, nil) {
		if res.Err != nil || res.Result.Status == "" {
			t.Errorf("%s: %+v, %v", reqs[i].GrantID(), res.Result, res.Err)
		}
	}
	var people []access.AccountRequest
	for i := range 10 {
		people = append(people, access.AccountRequest{Person: access.Person{Email: fmt.Sprintf("lost%d@example.com", i)}})
	}
	for i, res := range b.CreateAccounts(t.Context(), people, nil) {
		if res.Err != nil || res.Result.Status == "" {
			t.Errorf("%s: %+v, %v", people[i].Person.Email, res.Result, res.Err)
		}
	}
	st := srv.Stats()
	if n := st.Requests["POST /api/v2/group_memberships"] + st.Requests["POST /api/v2/users"]; n != 0 {
		t.Errorf("%d single creates after a lost bulk answer, want 0 (the bulk request is sent again)", n)
	}
	for _, u := range agents {
		if !held(t, srv, u.ID)[access.GrantID(groupE(groups(srv)[2].ID), uid(u.ID))] {
			t.Errorf("user %d is not in the group", u.ID)
		}
	}
}

// TestCreateAccountUnknownOutcome fails the first create with a 500: the
// account is looked for and, not there, created again: one account.
func TestCreateAccountUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv := newServer(t, zendesktest.WithAgentSeats(10))
	p := newProxy(t, srv)
	b := p.backend(t)
	var n atomic.Int32
	p.set(func(r *http.Request) string {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v2/users" && n.Add(1) == 1 {
			return "fail500"
		}
		return ""
	})
	res, err := b.CreateAccount(t.Context(), access.AccountRequest{Person: access.Person{Email: "once@example.com"}})
	if err != nil || res.Status != access.AccountCreated {
		t.Fatalf("CreateAccount = %+v, %v; want created", res, err)
	}
	count := 0
	for _, u := range liveUsers(srv) {
		if u.Email == "once@example.com" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d accounts for once@example.com, want 1", count)
	}
}
