package provision_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// dayOne is a simulated account with a directory and a policy over it: 40
// agents, some of them in the directory's "Support" group, which the policy
// maps to the agent role and two groups; new hires without an account; and
// leavers, agents who hold a managed group but are in no directory group.
type dayOne struct {
	srv    *zendesktest.Server
	b      *zendeskaccess.Backend
	sys    *access.System
	policy *provision.Policy
	dir    *provision.FileDirectory
}

func newDayOne(t *testing.T, opts ...zendesktest.Option) *dayOne {
	t.Helper()
	all := append([]zendesktest.Option{
		zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 11, Agents: 40, Admins: 3, EndUsers: 10, Groups: 4, Organizations: 2, GroupMemberships: 60}),
		zendesktest.WithRateLimit(1_000_000), zendesktest.WithRequestLog(20_000), zendesktest.WithUserUpdateLimit(0),
		zendesktest.WithAgentSeats(1000), zendesktest.WithJobDelay(0),
	}, opts...)
	srv, err := zendesktest.NewServer(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	d := &dayOne{srv: srv}
	d.b = d.backend(t, srv.URL)
	d.sys, err = access.NewSystem(d.b)
	if err != nil {
		t.Fatal(err)
	}
	snap := d.sync(t)
	var groups []string
	var agents []access.Person
	for _, r := range snap.Resources() {
		switch {
		case r.Type() == "group":
			groups = append(groups, r.DisplayName())
		case r.Type() == "user" && r.Attributes()["role"] == "agent" && r.Attributes()["suspended"] != "true":
			agents = append(agents, access.Person{Email: r.Attributes()["email"]})
		}
	}
	d.policy = &provision.Policy{
		Rules:  []provision.Rule{{DirectoryGroup: "Support", Role: provision.RoleAgent, Groups: []provision.Ref{provision.ByName(groups[1]), provision.ByName(groups[2])}}},
		Ladder: []access.DeprovisionStep{access.DeprovisionDowngrade, access.DeprovisionSuspend},
	}
	members := agents[:30] // the other 10 agents are leavers if they hold a managed group
	for i := range 5 {
		members = append(members, access.Person{Email: fmt.Sprintf("hire%d@example.com", i), Name: fmt.Sprintf("Hire %d", i)})
	}
	d.dir, err = provision.NewDirectory(provision.DirectoryGroup{Name: "Support", Members: members})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *dayOne) backend(t *testing.T, baseURL string) *zendeskaccess.Backend {
	t.Helper()
	cr := d.srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(baseURL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(c, zendeskaccess.WithAccountOwner(d.srv.OwnerID()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d *dayOne) sync(t *testing.T) *access.Snapshot {
	t.Helper()
	snap, err := d.sys.Sync(t.Context(), &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func (d *dayOne) plan(t *testing.T, guards provision.Guards) *provision.Plan {
	t.Helper()
	ctx := t.Context()
	snap := d.sync(t)
	facts, err := d.b.GuardFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	types, err := d.b.ObjectTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.NewPlan(ctx, d.policy, d.dir, snap, &provision.PlanOptions{Facts: facts, ObjectTypes: types, Guards: guards, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var applier = provision.JournalActor{Who: "svc:dayone-test", Reason: "day-one access"}

func TestApplyConverges(t *testing.T) {
	t.Parallel()
	d := newDayOne(t)
	ctx := t.Context()
	plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	if len(plan.Changes) == 0 {
		t.Fatal("the plan has no changes")
	}
	j := newJournal(t, nil)
	var phases []string
	rep, err := provision.Apply(ctx, d.sys, j, plan, &provision.ApplyOptions{Actor: applier, Progress: func(p provision.ApplyProgress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if rep.Failed != 0 || rep.Stale != 0 || rep.Applied == 0 {
		for _, r := range rep.Results {
			if r.State != provision.StateApplied && r.State != provision.StateDone {
				t.Logf("%s: %s %v", r.Change.ID, r.State, r.Err)
			}
		}
		t.Fatalf("Apply: %d applied, %d done, %d stale, %d blocked, %d failed", rep.Applied, rep.Done, rep.Stale, rep.Blocked, rep.Failed)
	}
	t.Logf("%d changes: %d applied, %d done, %d blocked; phases %v", len(plan.Changes), rep.Applied, rep.Done, rep.Blocked, phases)

	// A new plan finds nothing left to do but what guards block.
	again := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	for _, c := range again.Changes {
		if c.Blocked == nil {
			t.Errorf("after Apply the plan still has %s", c.ID)
		}
	}
	// The journal verifies, and holds each change once, finished.
	report, err := j.Verify(ctx)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if report.Unfinished != 0 {
		t.Errorf("%d unfinished changes in the journal", report.Unfinished)
	}
	checkJournaledOnce(t, j, rep, "Apply")
	// Applying the same plan again does nothing: the journal says it is done.
	d.srv.ResetStats()
	rep2, err := provision.Apply(ctx, d.sys, j, plan, &provision.ApplyOptions{Actor: applier})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Applied != 0 || rep2.Done != rep.Applied+rep.Done {
		t.Errorf("second Apply: %d applied, %d done; want 0 and %d", rep2.Applied, rep2.Done, rep.Applied+rep.Done)
	}
	if w := writes(d.srv); w != 0 {
		t.Errorf("second Apply sent %d writes", w)
	}
}

// checkJournaledOnce checks that the journal holds, for every change of rep
// not blocked by a guard, exactly one started and one finished entry, and no
// other entries.
func checkJournaledOnce(t *testing.T, j *provision.Journal, rep *provision.ApplyReport, label string) {
	t.Helper()
	count := map[string]int{}
	for e, err := range j.Entries(t.Context(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		count[e.ChangeID+" "+string(e.Kind)]++
	}
	journaled := 0
	for _, r := range rep.Results {
		if r.State == provision.StateBlocked {
			continue
		}
		journaled++
		for _, k := range []provision.JournalEntryKind{provision.JournalStarted, provision.JournalFinished} {
			if c := count[r.JournalID+" "+string(k)]; c != 1 {
				t.Errorf("%s: %s has %d %s entries, want 1", label, r.JournalID, c, k)
			}
		}
	}
	if len(count) != 2*journaled {
		t.Errorf("%s: the journal holds %d kinds of entry, want %d (each change started and finished)", label, len(count), 2*journaled)
	}
}

// writes counts the requests that change something.
func writes(srv *zendesktest.Server) int {
	n := 0
	for _, r := range srv.RequestLog() {
		if r.Method != "GET" && !strings.HasPrefix(r.Path, "/oauth") {
			n++
		}
	}
	return n
}

// TestApplyStaleAndInEffect changes principals between plan and apply. A
// change already in effect is done. A principal changed exactly as the start
// of its planned changes (as an earlier, interrupted run would have left it)
// gets the rest; one changed otherwise has the rest skipped as stale.
func TestApplyStaleAndInEffect(t *testing.T) {
	t.Parallel()
	d := newDayOne(t)
	ctx := t.Context()
	plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	var leavers []string
	var member string
	for _, c := range plan.Changes {
		switch {
		case c.Kind == provision.ChangeDeprovision && c.Step == access.DeprovisionDowngrade && c.Blocked == nil:
			leavers = append(leavers, c.PrincipalID)
		case c.Kind == provision.ChangeGrant && c.PrincipalID != "" && member == "":
			member = c.PrincipalID
		}
	}
	if len(leavers) < 2 || member == "" {
		t.Fatalf("the plan has too few leavers or no member to change: %v %v", leavers, member)
	}
	demoted, suspended := leavers[0], leavers[1]
	// By hand: demote one leaver (the plan's first step for them), suspend
	// another (its second step, without the first), promote a member.
	if _, err := d.sys.Grant(ctx, access.GrantRequest{EntitlementID: "role:end-user:assigned", PrincipalID: demoted}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.sys.Deprovision(ctx, suspended, access.DeprovisionSuspend); err != nil {
		t.Fatal(err)
	}
	if _, err := d.sys.Grant(ctx, access.GrantRequest{EntitlementID: "role:admin:assigned", PrincipalID: member}); err != nil {
		t.Fatal(err)
	}
	rep, err := provision.Apply(ctx, d.sys, newJournal(t, nil), plan, &provision.ApplyOptions{Actor: applier})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[access.DeprovisionStep]provision.ChangeState{
		demoted:   {access.DeprovisionDowngrade: provision.StateDone, access.DeprovisionSuspend: provision.StateApplied},
		suspended: {access.DeprovisionDowngrade: provision.StateStale, access.DeprovisionSuspend: provision.StateDone},
	}
	for _, r := range rep.Results {
		c := r.Change
		switch {
		case c.PrincipalID == member && r.State != provision.StateStale:
			t.Errorf("%s of the member promoted by hand: %s, want stale", c.ID, r.State)
		case want[c.PrincipalID] != nil && r.State != want[c.PrincipalID][c.Step]:
			t.Errorf("%s: %s, want %s", c.ID, r.State, want[c.PrincipalID][c.Step])
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	t.Parallel()
	d := newDayOne(t)
	ctx := t.Context()
	// Default caps: the leavers' downgrades and suspensions are too many.
	plan := d.plan(t, provision.Guards{MaxDestructive: 1})
	if plan.Guards.Run == nil {
		t.Fatal("the plan passed a cap of 1 destructive change")
	}
	if _, err := provision.Apply(ctx, d.sys, newJournal(t, nil), plan, &provision.ApplyOptions{Actor: applier}); !errors.Is(err, provision.ErrGuard) {
		t.Errorf("Apply of a plan over its cap: %v, want ErrGuard", err)
	}
	// Another account.
	other := newDayOne(t, zendesktest.WithCredentials(zendesktest.Credentials{Subdomain: "other"}))
	plan = d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	if _, err := provision.Apply(ctx, other.sys, newJournal(t, nil), plan, &provision.ApplyOptions{Actor: applier}); !errors.Is(err, provision.ErrWrongAccount) {
		t.Errorf("Apply to another account: %v, want ErrWrongAccount", err)
	}
	if w := writes(other.srv); w != 0 {
		t.Errorf("refused Apply sent %d writes", w)
	}
	// No actor.
	if _, err := provision.Apply(ctx, d.sys, newJournal(t, nil), plan, nil); !errors.Is(err, provision.ErrJournalInput) {
		t.Errorf("Apply without an actor: %v, want ErrJournalInput", err)
	}
}

// TestApplyResumes cuts a run short after some changes and runs it again
// against the same journal: the second run carries out the rest, and no
// change is carried out twice.
func TestApplyResumes(t *testing.T) {
	t.Parallel()
	for _, cut := range []int{1, 7, 30} {
		d := newDayOne(t)
		plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
		j := newJournal(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		_, err := provision.Apply(ctx, d.sys, j, plan, &provision.ApplyOptions{Actor: applier, Progress: func(p provision.ApplyProgress) {
			if p.Phase != "check" {
				if n++; n == cut {
					cancel()
				}
			}
		}})
		cancel()
		if err == nil {
			t.Logf("cut %d: the first run finished before it was cut", cut)
		}
		rep, err := provision.Apply(t.Context(), d.sys, j, plan, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatalf("cut %d: resumed Apply: %v", cut, err)
		}
		if rep.Failed != 0 || rep.Stale != 0 {
			for _, r := range rep.Results {
				if r.State == provision.StateFailed || r.State == provision.StateStale {
					t.Logf("%s: %s %v", r.Change.ID, r.State, r.Err)
				}
			}
			t.Errorf("cut %d: resumed Apply: %d stale, %d failed", cut, rep.Stale, rep.Failed)
		}
		for _, c := range d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}).Changes {
			if c.Blocked == nil {
				t.Errorf("cut %d: after resuming, the plan still has %s", cut, c.ID)
			}
		}
		if report, err := j.Verify(t.Context()); err != nil || report.Unfinished != 0 {
			t.Errorf("cut %d: journal: %v, %d unfinished", cut, err, report.Unfinished)
		}
	}
}

// TestApplyResumesFromDurableJournal cuts a run short with its journal in a
// SQLite file, closes the store as a process that ends would, and applies
// the plan again through a fresh Journal over the reopened file: the changes
// the first run finished are done, not carried out again, and every change
// is journaled exactly once, started and finished, in a journal that
// verifies across both runs.
func TestApplyResumesFromDurableJournal(t *testing.T) {
	t.Parallel()
	for _, cut := range []int{1, 7, 30} {
		d := newDayOne(t)
		plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
		dsn := "sqlite://" + filepath.Join(t.TempDir(), "journal.db")
		clock := stepClock(time.Second) // one clock across both runs, so times keep rising
		store, err := provision.OpenSQLJournalStore(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		j, err := provision.NewJournal(store, provision.WithJournalClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		_, err = provision.Apply(ctx, d.sys, j, plan, &provision.ApplyOptions{Actor: applier, Progress: func(p provision.ApplyProgress) {
			if p.Phase != "check" {
				if n++; n == cut {
					cancel()
				}
			}
		}})
		cancel()
		if err == nil {
			t.Logf("cut %d: the first run finished before it was cut", cut)
		}
		anchor, err := j.Head(t.Context())
		if err != nil || anchor.Seq == 0 {
			t.Fatalf("cut %d: the first run journaled nothing (%v)", cut, err)
		}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}

		// The next process.
		j, err = provision.NewJournal(openSQLStore(t, dsn), provision.WithJournalClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		finished := map[string]bool{}
		for e, err := range j.Entries(t.Context(), 1) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == provision.JournalFinished {
				finished[e.ChangeID] = true
			}
		}
		rep, err := provision.Apply(t.Context(), d.sys, j, plan, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatalf("cut %d: resumed Apply: %v", cut, err)
		}
		if rep.Failed != 0 || rep.Stale != 0 {
			t.Errorf("cut %d: resumed Apply: %d stale, %d failed", cut, rep.Stale, rep.Failed)
		}
		for _, c := range d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}).Changes {
			if c.Blocked == nil {
				t.Errorf("cut %d: after resuming, the plan still has %s", cut, c.ID)
			}
		}
		for _, r := range rep.Results {
			if finished[r.JournalID] && r.State != provision.StateDone {
				t.Errorf("cut %d: %s, finished by the first run, is %s in the second", cut, r.Change.ID, r.State)
			}
		}
		checkJournaledOnce(t, j, rep, fmt.Sprintf("cut %d", cut))
		// The first run's entries are still there, under the second's.
		if report, err := j.Verify(t.Context(), anchor); err != nil || report.Unfinished != 0 || report.Anchors != 1 {
			t.Errorf("cut %d: journal: %v, %+v", cut, err, report)
		}
		t.Logf("cut %d: the first run journaled %d entries and finished %d changes; the second applied %d and found %d done", cut, anchor.Seq, len(finished), rep.Applied, rep.Done)
	}
}

// TestApplyGuardsHoldWithoutThePlan edits plans after NewPlan: a plan whose
// hash no longer matches is refused, and a change that takes the owner's or
// the credential's own access is blocked by Apply itself, whatever the plan
// says.
func TestApplyGuardsHoldWithoutThePlan(t *testing.T) {
	t.Parallel()
	d := newDayOne(t)
	ctx := t.Context()
	plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	var buf strings.Builder
	if err := plan.Save(&buf); err != nil {
		t.Fatal(err)
	}
	plan.Changes = plan.Changes[1:] // edited after Save
	if _, err := provision.Apply(ctx, d.sys, newJournal(t, nil), plan, &provision.ApplyOptions{Actor: applier}); !errors.Is(err, provision.ErrPlanModified) {
		t.Errorf("Apply of a plan edited after Save: %v, want ErrPlanModified", err)
	}

	plan = d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	owner := fmt.Sprintf("user:%d", d.srv.OwnerID())
	plan.Changes = append(plan.Changes, provision.Change{ID: "deprovision " + owner + " suspend", Kind: provision.ChangeDeprovision,
		PrincipalID: owner, Step: access.DeprovisionSuspend})
	d.srv.ResetStats()
	rep, err := provision.Apply(ctx, d.sys, newJournal(t, nil), plan, &provision.ApplyOptions{Actor: applier})
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Results[len(rep.Results)-1]
	if last.State != provision.StateBlocked || !errors.Is(last.Err, provision.ErrGuard) {
		t.Errorf("suspending the owner: %s %v, want blocked by a guard", last.State, last.Err)
	}
	if u, _ := d.srv.User(d.srv.OwnerID()); u.Suspended {
		t.Error("the owner was suspended")
	}
}
