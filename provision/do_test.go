package provision_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
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
// and an admin whom Do cannot tell is not the last are refused with a
// *GuardError, before anything is written or journaled; the change beside
// them goes ahead.
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
	for _, tc := range []struct {
		name  string
		sys   *access.System
		c     provision.Change
		guard provision.GuardName
	}{
		{"owner", ownedSys, provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: f.owner, Step: access.DeprovisionSuspend}, provision.GuardAccountOwner},
		{"self", f.sys, grantC("role:agent:assigned", self), provision.GuardSelf},
		{"protected", f.sys, revokeC(f.groups[0], f.agents[0]), provision.GuardProtectedList},
		{"admin", f.sys, grantC("role:agent:assigned", f.admins[0]), provision.GuardLastAdmin},
		{"admin suspended", f.sys, provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: f.admins[0], Step: access.DeprovisionSuspend}, provision.GuardLastAdmin},
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

// memSystem returns a System over the test account of users, with roles,
// custom roles and organizations exclusive, and the backend.
func memSystem(t *testing.T, users ...user) (*access.System, *memaccess.Backend) {
	t.Helper()
	b, err := memaccess.New(account(users...), memaccess.WithExclusive("role", "custom_role", "organization"))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	return sys, b
}

// TestDoResumes: a change begun and never finished (the process died
// between Begin and Finish) is carried out and finished by the next Do; a
// change the journal shows finished is not carried out again.
func TestDoResumes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys, b := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"}, user{id: "2", email: "bob@example.com", role: "agent"})
	j := newJournal(t, nil)
	ann := grantC("group:2:member", "user:1")
	bob := grantC("group:2:member", "user:2")
	// The crash: ann's grant begun, not carried out, not finished.
	if _, err := j.Begin(ctx, "tb-1/grant", doer, provision.JournalGrantOp(access.GrantRequest{EntitlementID: ann.EntitlementID, PrincipalID: ann.PrincipalID})); err != nil {
		t.Fatal(err)
	}
	// Bob's finished earlier (the journal says so, whatever the system
	// says now).
	if _, err := j.Begin(ctx, "tb-2/grant", doer, provision.JournalGrantOp(access.GrantRequest{EntitlementID: bob.EntitlementID, PrincipalID: bob.PrincipalID})); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Finish(ctx, "tb-2/grant", provision.JournalOutcome{Status: "granted", GrantID: access.GrantID(bob.EntitlementID, bob.PrincipalID)}); err != nil {
		t.Fatal(err)
	}
	before := b.Requests()
	rep, err := provision.Do(ctx, sys, j, []provision.Change{ann, bob}, &provision.DoOptions{Actor: doer, JournalIDs: []string{"tb-1/grant", "tb-2/grant"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]provision.ChangeState{provision.StateApplied, provision.StateDone}, states(rep)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if got := b.Requests() - before; got != 1 {
		t.Errorf("%d requests, want 1 (ann's grant)", got)
	}
	gs, _ := sys.GrantsFor(ctx, "user:2")
	if slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == access.GrantID(bob.EntitlementID, bob.PrincipalID) }) {
		t.Error("bob's grant, finished in the journal, was carried out again")
	}
	unfinished, err := j.Unfinished(ctx)
	if err != nil || len(unfinished) != 0 {
		t.Errorf("unfinished after Do: %v, %v", unfinished, err)
	}
	c, err := j.Change(ctx, "tb-1/grant")
	if err != nil || !c.Done() || c.Finished.Outcome.Status != "granted" {
		t.Errorf("ann's grant in the journal: %+v, %v", c, err)
	}
	checkJournaledOnce(t, j, rep, "Do")

	// Begun, never finished, and protected since: blocked, and finished in
	// the journal as blocked, not left open.
	revoke := revokeC("group:2:member", "user:1")
	if _, err := j.Begin(ctx, "tb-1/expiry", doer, provision.JournalRevokeOp(access.RevokeRequest{EntitlementID: revoke.EntitlementID, PrincipalID: revoke.PrincipalID})); err != nil {
		t.Fatal(err)
	}
	rep, err = provision.Do(ctx, sys, j, []provision.Change{revoke}, &provision.DoOptions{Actor: doer, JournalIDs: []string{"tb-1/expiry"},
		Guards: provision.Guards{Protected: []string{"user:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.State != provision.StateBlocked || !errors.Is(r.Err, provision.ErrGuard) {
		t.Errorf("a resumed revoke of a protected principal: %s %v, want blocked", r.State, r.Err)
	}
	if c, err := j.Change(ctx, "tb-1/expiry"); err != nil || !c.Done() || c.Finished.Outcome.Status != "blocked" {
		t.Errorf("the blocked change in the journal: %+v, %v; want finished as blocked", c, err)
	}
}

// TestDoCreatesAccount: a change with no principal is a create, which
// reports the account's principal.
func TestDoCreatesAccount(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys, _ := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"})
	j := newJournal(t, nil)
	create := provision.Change{Kind: provision.ChangeCreateAccount, Person: &access.Person{Email: "Bob@example.com", Name: "Bob"}, Role: "agent"}
	rep, err := provision.Do(ctx, sys, j, []provision.Change{create}, &provision.DoOptions{Actor: doer, IDPrefix: "hire-1/"})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if r.State != provision.StateApplied || r.Outcome == nil || r.Outcome.PrincipalID == "" {
		t.Fatalf("create: %s %+v %v", r.State, r.Outcome, r.Err)
	}
	if r.Change.ID != "create_account bob@example.com" || r.JournalID != "hire-1/create_account/bob@example.com" {
		t.Errorf("the create is named %q, journaled as %q", r.Change.ID, r.JournalID)
	}
	gs, err := sys.GrantsFor(ctx, r.Outcome.PrincipalID)
	if err != nil || !slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == "role:agent:assigned@"+r.Outcome.PrincipalID }) {
		t.Errorf("the new account holds %v (%v), want the agent role", gs, err)
	}
	checkJournaledOnce(t, j, rep, "Do")
}

// TestDoLastAdmin: with a snapshot, Do counts the admins it shows, read
// again now: demoting one of two is allowed, not both; and an admin
// demoted since the snapshot no longer counts.
func TestDoLastAdmin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	users := []user{{id: "1", email: "a1@example.com", role: "admin"}, {id: "2", email: "a2@example.com", role: "admin"}, {id: "3", email: "ag@example.com", role: "agent"}}
	demote := func(p string) provision.Change { return grantC("role:agent:assigned", p) }

	sys, _ := memSystem(t, users...)
	snap, err := sys.Sync(ctx, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	changes := []provision.Change{demote("user:1"), {Kind: provision.ChangeDeprovision, PrincipalID: "user:2", Step: access.DeprovisionSuspend}}
	rep, err := provision.Do(ctx, sys, newJournal(t, nil), changes, &provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: snap,
		Guards: provision.Guards{MaxTeamShare: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var ge *provision.GuardError
	if rep.Results[0].State != provision.StateApplied || rep.Results[1].State != provision.StateBlocked ||
		!errors.As(rep.Results[1].Err, &ge) || ge.Guard != provision.GuardLastAdmin {
		t.Errorf("demote one admin, suspend the other: %v (%v), want applied, blocked by the last-admin guard", states(rep), rep.Results[1].Err)
	}

	// The snapshot shows two admins, but one was demoted since: the other
	// is the last.
	sys, b := memSystem(t, users...)
	if snap, err = sys.Sync(ctx, &access.SyncOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: "role:agent:assigned", PrincipalID: "user:2"}); err != nil {
		t.Fatal(err)
	}
	before := b.Requests()
	rep, err = provision.Do(ctx, sys, newJournal(t, nil), []provision.Change{demote("user:1")}, &provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: snap,
		Guards: provision.Guards{MaxTeamShare: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.State != provision.StateBlocked || !errors.As(r.Err, &ge) || ge.Guard != provision.GuardLastAdmin {
		t.Errorf("demote the last admin the snapshot does not know is last: %s %v", r.State, r.Err)
	}
	if got := b.Requests() - before; got != 1 {
		t.Errorf("%d requests, want 1 (the read of the admins)", got)
	}

	// A snapshot of another account is refused.
	other, _ := memSystem(t, users...)
	otherSnap, err := other.Sync(ctx, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	otherSnap = renamed(t, otherSnap, "globex")
	if _, err := provision.Do(ctx, sys, newJournal(t, nil), []provision.Change{demote("user:1")}, &provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: otherSnap}); !errors.Is(err, provision.ErrWrongAccount) {
		t.Errorf("a snapshot of another account: %v, want ErrWrongAccount", err)
	}
}

// renamed returns snap as if taken of another account.
func renamed(t *testing.T, snap *access.Snapshot, account string) *access.Snapshot {
	t.Helper()
	d := memaccess.Data{Name: snap.Provenance().Backend, Account: account, ResourceTypes: snap.ResourceTypes()}
	for _, r := range snap.Resources() {
		d.Resources = append(d.Resources, r)
	}
	for _, e := range snap.Entitlements() {
		d.Entitlements = append(d.Entitlements, e)
	}
	for _, g := range snap.Grants() {
		d.Grants = append(d.Grants, g)
	}
	b, err := memaccess.New(d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := access.Sync(t.Context(), b, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDoCaps: more destructive changes than MaxDestructive refuse the
// call as a whole, before anything is written; the share cap applies with a
// snapshot only.
func TestDoCaps(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var users []user
	for i := 1; i <= 12; i++ {
		users = append(users, user{id: itoa(i), email: fmt.Sprintf("u%d@example.com", i), role: "agent", grants: []string{"group:2:member"}})
	}
	sys, b := memSystem(t, users...)
	snap, err := sys.Sync(ctx, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	revokes := []provision.Change{revokeC("group:2:member", "user:1"), revokeC("group:2:member", "user:2"), revokeC("group:2:member", "user:3")}
	for _, tc := range []struct {
		name string
		opts provision.DoOptions
		ok   bool
	}{
		{"count cap", provision.DoOptions{Guards: provision.Guards{MaxDestructive: 2}}, false},
		{"share cap with a snapshot", provision.DoOptions{Snapshot: snap}, false}, // 3 of 12 > 10%
		{"share cap without a snapshot", provision.DoOptions{}, true},
	} {
		j := newJournal(t, nil)
		before := b.Requests()
		opts := tc.opts
		opts.Actor, opts.IDPrefix = doer, "caps/"
		rep, err := provision.Do(ctx, sys, j, revokes, &opts)
		var ge *provision.GuardError
		switch {
		case tc.ok && (err != nil || rep.Applied != 3):
			t.Errorf("%s: %v, %+v; want all applied", tc.name, err, rep)
		case !tc.ok && (!errors.As(err, &ge) || ge.Guard != provision.GuardBlastRadius || rep != nil):
			t.Errorf("%s: %v, %v; want a blast-radius GuardError and no report", tc.name, err, rep)
		case !tc.ok:
			if head, _ := j.Head(ctx); head.Seq != 0 {
				t.Errorf("%s: refused, but journaled %d entries", tc.name, head.Seq)
			}
			if got := b.Requests() - before; got != 0 {
				t.Errorf("%s: refused, but sent %d requests", tc.name, got)
			}
		}
	}
}

// TestDoRefusesBadInput: bad input is an error naming what is wrong, with
// nothing journaled and no request sent.
func TestDoRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys, b := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"})
	g := grantC("group:1:member", "user:1")
	ok := provision.DoOptions{Actor: doer, IDPrefix: "bad/"}
	with := func(edit func(*provision.DoOptions)) *provision.DoOptions {
		o := ok
		edit(&o)
		return &o
	}
	for _, tc := range []struct {
		name    string
		sys     *access.System
		nilJ    bool
		changes []provision.Change
		opts    *provision.DoOptions
		is      error
		want    string
	}{
		{name: "nil system", changes: []provision.Change{g}, opts: &ok, want: "nil System"},
		{name: "nil journal", sys: sys, nilJ: true, changes: []provision.Change{g}, opts: &ok, want: "nil System or Journal"},
		{name: "nil options", sys: sys, changes: []provision.Change{g}, want: "nil DoOptions"},
		{name: "no source", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Actor.Source = "" }), is: provision.ErrJournalInput, want: "actor.source"},
		{name: "no who", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Actor.Who = "" }), is: provision.ErrJournalInput, want: "actor.who"},
		{name: "no journal IDs", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.IDPrefix = "" }), is: provision.ErrInvalidChange, want: "IDPrefix"},
		{name: "journal IDs short", sys: sys, changes: []provision.Change{g, grantC("group:2:member", "user:1")},
			opts: with(func(o *provision.DoOptions) { o.JournalIDs = []string{"a"} }), is: provision.ErrInvalidChange, want: "1 JournalIDs for 2 changes"},
		{name: "journal ID twice", sys: sys, changes: []provision.Change{g, grantC("group:2:member", "user:1")},
			opts: with(func(o *provision.DoOptions) { o.JournalIDs = []string{"a", "a"} }), is: provision.ErrInvalidChange, want: `one journal ID "a"`},
		{name: "journal ID with a space", sys: sys, changes: []provision.Change{g},
			opts: with(func(o *provision.DoOptions) { o.JournalIDs = []string{"a b"} }), is: provision.ErrInvalidChange, want: "JournalIDs[0]"},
		{name: "change twice", sys: sys, changes: []provision.Change{g, g}, opts: &ok, is: provision.ErrInvalidChange, want: "one ID"},
		{name: "grant and revoke", sys: sys, changes: []provision.Change{g, revokeC("group:1:member", "user:1")}, opts: &ok, is: provision.ErrInvalidChange, want: "both change"},
		{name: "aliased principal", sys: sys, changes: []provision.Change{grantC("group:1:member", "user:01")}, opts: &ok, is: access.ErrMalformedID, want: "changes[0]"},
		{name: "aliased group", sys: sys, changes: []provision.Change{revokeC("group:+1:member", "user:1")}, opts: &ok, is: access.ErrMalformedID, want: "changes[0]"},
		{name: "aliased deprovision", sys: sys, changes: []provision.Change{{Kind: provision.ChangeDeprovision, PrincipalID: "user:007", Step: access.DeprovisionSuspend}},
			opts: &ok, is: access.ErrMalformedID, want: "user:007"},
		{name: "no step", sys: sys, changes: []provision.Change{{Kind: provision.ChangeDeprovision, PrincipalID: "user:1", Step: "fire"}},
			opts: &ok, is: provision.ErrInvalidChange, want: "valid step"},
		{name: "grant to nobody", sys: sys, changes: []provision.Change{{Kind: provision.ChangeGrant, EntitlementID: "group:1:member", Person: &access.Person{Email: "x@example.com"}}},
			opts: &ok, is: provision.ErrInvalidChange, want: "names no principal"},
		{name: "create without person", sys: sys, changes: []provision.Change{{Kind: provision.ChangeCreateAccount}}, opts: &ok, is: provision.ErrInvalidChange, want: "no person"},
		{name: "create with principal", sys: sys, changes: []provision.Change{{Kind: provision.ChangeCreateAccount, PrincipalID: "user:1", Person: &access.Person{Email: "x@example.com"}}},
			opts: &ok, is: provision.ErrInvalidChange, want: "names principal"},
		{name: "create bad person", sys: sys, changes: []provision.Change{{Kind: provision.ChangeCreateAccount, Person: &access.Person{Email: "x at example"}}},
			opts: &ok, is: access.ErrInvalidPerson, want: "changes[0]"},
		{name: "unknown kind", sys: sys, changes: []provision.Change{{Kind: "promote", PrincipalID: "user:1"}}, opts: &ok, is: provision.ErrInvalidChange, want: `unknown kind "promote"`},
		{name: "negative cap", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Guards.MaxDestructive = -1 }), want: "MaxDestructive"},
		{name: "aliased protected", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Guards.Protected = []string{"user:01"} }),
			is: access.ErrMalformedID, want: "protected"},
	} {
		j := newJournal(t, nil)
		if tc.nilJ {
			j = nil
		}
		before := b.Requests()
		var rep *provision.ApplyReport
		var err error
		noPanic(t, tc.name, func() { rep, err = provision.Do(ctx, tc.sys, j, tc.changes, tc.opts) })
		if err == nil || rep != nil || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, %v; want an error saying %q (is %v) and no report", tc.name, rep, err, tc.want, tc.is)
		}
		if j != nil {
			if head, _ := j.Head(ctx); head.Seq != 0 {
				t.Errorf("%s: %d entries journaled", tc.name, head.Seq)
			}
		}
		if got := b.Requests() - before; got != 0 {
			t.Errorf("%s: %d requests", tc.name, got)
		}
	}
	// No changes: an empty report.
	rep, err := provision.Do(ctx, sys, newJournal(t, nil), nil, &ok)
	if err != nil || len(rep.Results) != 0 {
		t.Errorf("no changes: %+v, %v", rep, err)
	}
}

func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// blockingBackend holds every Grant until release is closed.
type blockingBackend struct {
	*memaccess.Backend
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingBackend) Grant(ctx context.Context, req access.GrantRequest) (access.Result, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.Backend.Grant(ctx, req)
}

// TestDoConcurrentCalls: a change one call is carrying out is stale for
// another call through the same Journal, which does not carry it out too.
func TestDoConcurrentCalls(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, mb := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"})
	b := &blockingBackend{Backend: mb, entered: make(chan struct{}), release: make(chan struct{})}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	j := newJournal(t, nil)
	changes := []provision.Change{grantC("group:2:member", "user:1")}
	opts := &provision.DoOptions{Actor: doer, JournalIDs: []string{"tb-1/grant"}}
	done := make(chan *provision.ApplyReport)
	go func() {
		rep, err := provision.Do(ctx, sys, j, changes, opts)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	<-b.entered
	rep, err := provision.Do(ctx, sys, j, changes, opts)
	if err != nil || rep.Results[0].State != provision.StateStale {
		t.Errorf("the second call: %v, %+v; want stale", err, rep.Results[0])
	}
	close(b.release)
	first := <-done
	if first.Results[0].State != provision.StateApplied {
		t.Errorf("the first call: %+v", first.Results[0])
	}
	checkJournaledOnce(t, j, first, "Do")
}
