package provision_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// doFixture is a simulated Zendesk account for Do: agents, admins, and two
// groups nobody is in yet.
type doFixture struct {
	srv    *zendesktest.Server
	b      *zendeskaccess.Backend
	sys    *access.System
	snap   *access.Snapshot
	agents []string // active agents, by principal ID
	admins []string // active admins but the owner
	owner  string
	groups [2]string // the entitlements of the two empty groups
}

func newDoFixture(t *testing.T, agents int, backendOpts ...zendeskaccess.Option) *doFixture {
	t.Helper()
	srv, err := zendesktest.NewServer(
		zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 5, Agents: agents, Admins: 2, EndUsers: 3, Groups: 2}),
		zendesktest.WithRateLimit(1_000_000), zendesktest.WithRequestLog(20_000), zendesktest.WithUserUpdateLimit(0),
		zendesktest.WithAgentSeats(1000), zendesktest.WithJobDelay(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	f := &doFixture{srv: srv, owner: fmt.Sprintf("user:%d", srv.OwnerID())}
	for i := range f.groups {
		f.groups[i] = fmt.Sprintf("group:%d:member", srv.AddGroup(fmt.Sprintf("Just in time %d", i)).ID)
	}
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	if f.b, err = zendeskaccess.New(c, backendOpts...); err != nil {
		t.Fatal(err)
	}
	if f.sys, err = access.NewSystem(f.b); err != nil {
		t.Fatal(err)
	}
	if f.snap, err = f.sys.Sync(t.Context(), &access.SyncOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.snap.Resources() {
		a := r.Attributes()
		if r.Type() != "user" || a["suspended"] == "true" || r.ID() == f.owner {
			continue
		}
		switch a["role"] {
		case "agent":
			f.agents = append(f.agents, r.ID())
		case "admin":
			f.admins = append(f.admins, r.ID())
		}
	}
	if len(f.agents) < agents || len(f.admins) < 2 {
		t.Fatalf("the account has %d agents and %d admins, want %d and 2", len(f.agents), len(f.admins), agents)
	}
	return f
}

// holds reports whether the simulator shows principal holding eid.
func (f *doFixture) holds(t *testing.T, eid, principal string) bool {
	t.Helper()
	gs, err := f.sys.GrantsFor(t.Context(), principal)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == access.GrantID(eid, principal) })
}

var doer = provision.JournalActor{Who: "svc:jit", Reason: "access for an incident", Source: "timebound:INC-7"}

func grantC(eid, principal string) provision.Change {
	return provision.Change{Kind: provision.ChangeGrant, EntitlementID: eid, PrincipalID: principal}
}

func revokeC(eid, principal string) provision.Change {
	return provision.Change{Kind: provision.ChangeRevoke, EntitlementID: eid, PrincipalID: principal}
}

func states(rep *provision.ApplyReport) []provision.ChangeState {
	out := make([]provision.ChangeState, len(rep.Results))
	for i, r := range rep.Results {
		out[i] = r.State
	}
	return out
}

// TestDoJournalsEachChangeOnce carries out a grant batch, a role change
// and a suspension: each is journaled started and finished once, under the
// caller's journal IDs; the same call again sends no request.
func TestDoJournalsEachChangeOnce(t *testing.T) {
	t.Parallel()
	f := newDoFixture(t, 8)
	ctx := t.Context()
	j := newJournal(t, nil)
	changes := []provision.Change{
		grantC(f.groups[0], f.agents[0]),
		grantC(f.groups[0], f.agents[1]),
		grantC(f.groups[1], f.agents[1]),
		grantC("role:admin:assigned", f.agents[2]),
		{Kind: provision.ChangeDeprovision, PrincipalID: f.agents[3], Step: access.DeprovisionSuspend},
	}
	ids := []string{"tb-1/grant", "tb-2/grant", "tb-3/grant", "tb-4/grant", "offboard-5/suspend"}
	var progress []provision.ApplyProgress
	rep, err := provision.Do(ctx, f.sys, j, changes, &provision.DoOptions{Actor: doer, JournalIDs: ids,
		Progress: func(p provision.ApplyProgress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Repeat([]provision.ChangeState{provision.StateApplied}, len(changes))
	if diff := cmp.Diff(want, states(rep)); diff != "" {
		for _, r := range rep.Results {
			t.Logf("%s: %s %v", r.Change.ID, r.State, r.Err)
		}
		t.Fatalf("states (-want +got):\n%s", diff)
	}
	if rep.Applied != len(changes) {
		t.Errorf("Applied = %d, want %d", rep.Applied, len(changes))
	}
	for i, r := range rep.Results {
		if r.JournalID != ids[i] {
			t.Errorf("result %d: journal ID %q, want %q", i, r.JournalID, ids[i])
		}
	}
	if got := rep.Results[0].Change.ID; got != "grant "+access.GrantID(f.groups[0], f.agents[0]) {
		t.Errorf("the first change is named %q", got)
	}
	// The role grant replaces the agent role: Do read it and says so.
	if got, want := rep.Results[3].Change.Removes, []string{access.GrantID("role:agent:assigned", f.agents[2])}; !slices.Equal(got, want) {
		t.Errorf("the role grant's Removes = %v, want %v", got, want)
	}
	if !f.holds(t, f.groups[0], f.agents[0]) || !f.holds(t, "role:admin:assigned", f.agents[2]) {
		t.Error("the grants are not in the account")
	}
	if u, _ := f.srv.User(userID(t, f.agents[3])); !u.Suspended {
		t.Error("the agent is not suspended")
	}
	if len(progress) == 0 || progress[len(progress)-1].Phase != "deprovision" {
		t.Errorf("progress %v, want it to end with the deprovision phase", progress)
	}
	checkJournaledOnce(t, j, rep, "Do")
	for e, err := range j.Entries(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Actor != doer {
			t.Errorf("entry %d: actor %+v, want %+v", e.Seq, e.Actor, doer)
		}
	}
	head, err := j.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Again, with the same journal IDs: all done, not a request.
	f.srv.ResetStats()
	rep2, err := provision.Do(ctx, f.sys, j, changes, &provision.DoOptions{Actor: doer, JournalIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Done != len(changes) {
		t.Errorf("the second Do: %v, want all done", states(rep2))
	}
	if n := f.srv.Stats().Total; n != 0 {
		t.Errorf("the second Do sent %d requests, want 0: %v", n, f.srv.Stats().Requests)
	}
	if head2, _ := j.Head(ctx); head2 != head {
		t.Errorf("the second Do journaled: head %v, was %v", head2, head)
	}
	if _, err := j.Verify(ctx); err != nil {
		t.Error(err)
	}
}

func userID(t *testing.T, principal string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(principal, "user:%d", &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDoBulkRevokes grants 250 group memberships and revokes them, as a
// batch of time-bound grants and their expiry: each way in
// ceil(250/100) = 3 bulk jobs, not 250 writes.
func TestDoBulkRevokes(t *testing.T) {
	t.Parallel()
	f := newDoFixture(t, 130)
	ctx := t.Context()
	j := newJournal(t, nil)
	var grants, revokes []provision.Change
	for i := range 250 {
		eid, p := f.groups[i/130], f.agents[i%130]
		grants = append(grants, grantC(eid, p))
		revokes = append(revokes, revokeC(eid, p))
	}
	f.srv.ResetStats()
	rep, err := provision.Do(ctx, f.sys, j, grants, &provision.DoOptions{Actor: doer, IDPrefix: "tb-batch-1/"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 250 {
		t.Fatalf("grants: %d applied, want 250 (%+v)", rep.Applied, rep.Results[0])
	}
	st := f.srv.Stats()
	if got := st.Requests["POST /api/v2/group_memberships/create_many"]; got != 3 {
		t.Errorf("%d create_many requests for 250 grants, want 3", got)
	}
	if got := st.Requests["POST /api/v2/group_memberships"]; got != 0 {
		t.Errorf("%d single creates, want 0", got)
	}
	t.Logf("250 grants: %d requests: %v", st.Total, st.Requests)
	if got := rep.Results[0].JournalID; got != "tb-batch-1/grant/"+access.GrantID(f.groups[0], f.agents[0]) {
		t.Errorf("journal ID %q, want IDPrefix and the change ID", got)
	}

	// The expiry: 250 revokes, more than the default cap of 25.
	if _, err := provision.Do(ctx, f.sys, j, revokes, &provision.DoOptions{Actor: doer, IDPrefix: "tb-batch-1-expiry/"}); !errors.Is(err, provision.ErrGuard) {
		t.Fatalf("250 revokes under the default cap: %v, want a blast-radius GuardError", err)
	}
	f.srv.ResetStats()
	opts := &provision.DoOptions{Actor: doer, IDPrefix: "tb-batch-1-expiry/", Guards: provision.Guards{MaxDestructive: 250}}
	rep, err = provision.Do(ctx, f.sys, j, revokes, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 250 {
		t.Fatalf("revokes: %d applied, want 250 (%+v)", rep.Applied, rep.Results[0])
	}
	st = f.srv.Stats()
	if got := st.Requests["DELETE /api/v2/group_memberships/destroy_many"]; got != 3 {
		t.Errorf("%d destroy_many requests for 250 revokes, want 3", got)
	}
	if got := st.Requests["DELETE /api/v2/group_memberships/{id}"] + st.Requests["DELETE /api/v2/users/{id}/group_memberships/{id}"]; got != 0 {
		t.Errorf("%d single deletes, want 0", got)
	}
	polls := st.Requests["GET /api/v2/job_statuses/show_many"] + st.Requests["GET /api/v2/job_statuses/{id}"]
	if polls == 0 {
		t.Errorf("no job polls: %v", st.Requests)
	}
	// Besides the jobs and their polls, the backend reads each user's
	// memberships once (130 users) to find the memberships' ids.
	if want := 3 + polls + 130; st.Total > want {
		t.Errorf("250 revokes took %d requests, want at most %d: %v", st.Total, want, st.Requests)
	}
	t.Logf("250 revokes: %d requests: %v", st.Total, st.Requests)
	for _, p := range f.agents[:3] {
		if f.holds(t, f.groups[0], p) {
			t.Errorf("%s still holds %s", p, f.groups[0])
		}
	}
	checkJournaledOnce(t, j, &provision.ApplyReport{Results: slices.Concat(mustResults(t, ctx, f, j, grants, "tb-batch-1/"), rep.Results)}, "Do")

	// The expiry again (a retried job): nothing sent.
	f.srv.ResetStats()
	rep, err = provision.Do(ctx, f.sys, j, revokes, opts)
	if err != nil || rep.Done != 250 {
		t.Fatalf("the expiry again: %v, %d done", err, rep.Done)
	}
	if n := f.srv.Stats().Total; n != 0 {
		t.Errorf("the expiry again sent %d requests", n)
	}
}

// mustResults runs Do again over changes already done, for their results.
func mustResults(t *testing.T, ctx context.Context, f *doFixture, j *provision.Journal, changes []provision.Change, prefix string) []provision.ChangeResult {
	t.Helper()
	rep, err := provision.Do(ctx, f.sys, j, changes, &provision.DoOptions{Actor: doer, IDPrefix: prefix})
	if err != nil || rep.Done != len(changes) {
		t.Fatalf("Do again: %v, %d done of %d", err, rep.Done, len(changes))
	}
	return rep.Results
}

// TestDoGuards: the owner, the credential's own user, a protected principal
// and an admin whom Do cannot tell is not the last (the backend lists no
// admins: no access.HolderLister) are refused with a *GuardError, before
// anything is written or journaled; the change beside them goes ahead.
func TestDoGuards(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newDoFixture(t, 4)
	owned, err := zendeskaccess.New(mustClient(t, f.srv), zendeskaccess.WithAccountOwner(f.srv.OwnerID()))
	if err != nil {
		t.Fatal(err)
	}
	ownedSys, err := access.NewSystem(owned)
	if err != nil {
		t.Fatal(err)
	}
	self := f.owner // the simulator's credential is the owner's
	unlisted, err := access.NewSystem(withoutHolders(f.b))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		sys   *access.System
		c     provision.Change
		guard provision.GuardName
	}{
		{"owner", ownedSys, provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: f.owner, Step: access.DeprovisionSuspend}, provision.GuardAccountOwner},
		{"self", f.sys, grantC("role:agent:assigned", self), provision.GuardSelf},
		{"protected", f.sys, revokeC(f.groups[0], f.agents[0]), provision.GuardProtectedList},
		{"admin", unlisted, grantC("role:agent:assigned", f.admins[0]), provision.GuardLastAdmin},
		{"admin suspended", unlisted, provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: f.admins[0], Step: access.DeprovisionSuspend}, provision.GuardLastAdmin},
	} {
		j := newJournal(t, nil)
		f.srv.ResetStats()
		changes := []provision.Change{tc.c, grantC(f.groups[1], f.agents[1])}
		rep, err := provision.Do(ctx, tc.sys, j, changes, &provision.DoOptions{Actor: doer, IDPrefix: "guards/" + strings.ReplaceAll(tc.name, " ", "-") + "/",
			Guards: provision.Guards{Protected: []string{f.agents[0]}}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var ge *provision.GuardError
		if r := rep.Results[0]; r.State != provision.StateBlocked || !errors.As(r.Err, &ge) || ge.Guard != tc.guard || ge.PrincipalID != tc.c.PrincipalID {
			t.Errorf("%s: %s %v, want blocked by %s", tc.name, r.State, r.Err, tc.guard)
		} else if tc.guard == provision.GuardLastAdmin && !strings.Contains(ge.Detail, "access.HolderLister") {
			t.Errorf("%s: %q does not say what Do lacks", tc.name, ge.Detail)
		}
		if r := rep.Results[1]; r.State != provision.StateApplied && r.State != provision.StateDone {
			t.Errorf("%s: the change beside it: %s %v", tc.name, r.State, r.Err)
		}
		// Only the other change is journaled, and only it was written.
		n := 0
		for e, err := range j.Entries(ctx, 1) {
			if err != nil {
				t.Fatal(err)
			}
			if e.ChangeID == rep.Results[0].JournalID {
				t.Errorf("%s: the blocked change is journaled: %+v", tc.name, e)
			}
			n++
		}
		if n > 2 {
			t.Errorf("%s: %d journal entries, want 2", tc.name, n)
		}
		for _, r := range f.srv.RequestLog() {
			if r.Method != "GET" && !strings.Contains(r.Path, "group_memberships") {
				t.Errorf("%s: the blocked change was written: %s %s", tc.name, r.Method, r.Path)
			}
		}
	}
	if u, _ := f.srv.User(f.srv.OwnerID()); u.Suspended || u.Role != zendesktest.RoleAdmin {
		t.Errorf("the owner was changed: %+v", u)
	}
	if !f.holds(t, "role:admin:assigned", f.admins[0]) {
		t.Error("the admin was demoted")
	}

	// With a snapshot, Do knows the other admins (read again now): the
	// demotion goes ahead.
	rep, err := provision.Do(ctx, f.sys, newJournal(t, nil), []provision.Change{grantC("role:agent:assigned", f.admins[0])},
		&provision.DoOptions{Actor: doer, IDPrefix: "demote/", Snapshot: f.snap, Guards: provision.Guards{MaxTeamShare: 1}})
	if err != nil || rep.Applied != 1 {
		t.Fatalf("demoting one of several admins with a snapshot: %v, %v %v", err, states(rep), rep.Results[0].Err)
	}
}

func mustClient(t *testing.T, srv *zendesktest.Server) *zendesk.Client {
	t.Helper()
	cr := srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDoFailedChange: a change the backend refuses is StateFailed with its
// error, journaled finished with it; the same journal ID again is failed
// without a request (a retry needs a new ID).
func TestDoFailedChange(t *testing.T) {
	t.Parallel()
	f := newDoFixture(t, 2)
	ctx := t.Context()
	j := newJournal(t, nil)
	changes := []provision.Change{grantC("group:999999:member", f.agents[0]), grantC(f.groups[0], f.agents[1])}
	ids := []string{"tb-9/grant", "tb-10/grant"}
	rep, err := provision.Do(ctx, f.sys, j, changes, &provision.DoOptions{Actor: doer, JournalIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.State != provision.StateFailed || !errors.Is(r.Err, access.ErrUnknownEntitlement) {
		t.Errorf("a grant of an unknown group: %s %v, want failed with ErrUnknownEntitlement", r.State, r.Err)
	}
	if rep.Failed != 1 || rep.Applied != 1 {
		t.Errorf("%d failed, %d applied; want 1 and 1", rep.Failed, rep.Applied)
	}
	c, err := j.Change(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if !c.Done() || c.Finished.Outcome.Error == "" || c.Finished.Outcome.ErrorClass != "unknown_entitlement" {
		t.Errorf("journaled %+v, want finished with the error", c.Finished)
	}
	checkJournaledOnce(t, j, rep, "Do")

	f.srv.ResetStats()
	rep, err = provision.Do(ctx, f.sys, j, changes, &provision.DoOptions{Actor: doer, JournalIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.State != provision.StateFailed || r.Err == nil || !strings.Contains(r.Err.Error(), ids[0]) {
		t.Errorf("the failed change again: %s %v, want failed, naming its journal ID", r.State, r.Err)
	}
	if n := f.srv.Stats().Total; n != 0 {
		t.Errorf("Do of journaled changes sent %d requests", n)
	}
}
