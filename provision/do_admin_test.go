package provision_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// unlistedBackend is what withoutHolders keeps of a backend.
type unlistedBackend interface {
	access.Backend
	access.TypeDeclarer
	access.RequestCounter
	access.PrincipalGrantsLister
	access.PrincipalReader
	access.GuardFactsProvider
	access.AccountManager
}

// withoutHolders returns b without access.HolderLister (and without any
// capability unlistedBackend leaves out).
func withoutHolders(b unlistedBackend) access.Backend { return struct{ unlistedBackend }{b} }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// ownedMem is a memaccess backend whose guard facts name an owner.
type ownedMem struct {
	*memaccess.Backend
	owner string
}

func (b ownedMem) GuardFacts(ctx context.Context) (access.GuardFacts, error) {
	f, err := b.Backend.GuardFacts(ctx)
	f.Owners = []string{b.owner}
	return f, err
}

// TestDoAdminWithoutSnapshot: without DoOptions.Snapshot, Do lists the
// admins (access.HolderLister), reads them now, and takes the admin
// entitlement from anyone but the last active admin: a time-bound admin is
// demoted while another admin remains; a suspended admin, or an owner who
// does not hold the admin role, does not count.
func TestDoAdminWithoutSnapshot(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	users := []user{
		{id: "1", email: "a1@example.com", role: "admin"},
		{id: "2", email: "gone@example.com", role: "admin", suspended: true},
		{id: "10", email: "ann@example.com", role: "admin"}, // admin for an hour
		{id: "11", email: "bob@example.com", role: "agent"},
	}
	do := func(t *testing.T, sys *access.System, changes ...provision.Change) *provision.ApplyReport {
		t.Helper()
		rep, err := provision.Do(ctx, sys, newJournal(t, nil), changes, &provision.DoOptions{Actor: doer, IDPrefix: "x/"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	holds := func(t *testing.T, sys *access.System, p, eid string) bool {
		t.Helper()
		gs, err := sys.GrantsFor(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == access.GrantID(eid, p) })
	}
	blockedBy := func(t *testing.T, r provision.ChangeResult, p string) {
		t.Helper()
		var ge *provision.GuardError
		if r.State != provision.StateBlocked || !errors.As(r.Err, &ge) || ge.Guard != provision.GuardLastAdmin || ge.PrincipalID != p {
			t.Errorf("%s: %s %v, want blocked by %s for %s", r.Change.ID, r.State, r.Err, provision.GuardLastAdmin, p)
		}
	}
	const admin, agent = "role:admin:assigned", "role:agent:assigned"

	t.Run("DemotesATimeBoundAdmin", func(t *testing.T) {
		t.Parallel()
		sys, b := memSystem(t, users...)
		before := b.Requests()
		rep := do(t, sys, revokeC(admin, "user:10"))
		// The list of admins, one read of ann and the admins, the revoke.
		if got := b.Requests() - before; got != 3 {
			t.Errorf("%d requests, want 3", got)
		}
		if r := rep.Results[0]; r.State != provision.StateApplied {
			t.Fatalf("revoke admin from ann: %s %v", r.State, r.Err)
		}
		// Revoking the admin role leaves the agent role, and says so.
		if d := cmp.Diff([]string{access.GrantID(agent, "user:10")}, rep.Results[0].Outcome.Added); d != "" {
			t.Errorf("Outcome.Added (-want +got):\n%s", d)
		}
		if holds(t, sys, "user:10", admin) || !holds(t, sys, "user:10", agent) {
			t.Error("ann is not an agent again")
		}
	})

	t.Run("BlocksTheLastActiveAdmin", func(t *testing.T) {
		t.Parallel()
		sys, _ := memSystem(t, users...)
		// Two active admins (user:2 is suspended): one may go, not both.
		rep := do(t, sys, revokeC(admin, "user:1"), revokeC(admin, "user:10"))
		if rep.Results[0].State != provision.StateApplied {
			t.Errorf("the first admin's revoke: %s %v", rep.Results[0].State, rep.Results[0].Err)
		}
		blockedBy(t, rep.Results[1], "user:10")
		if !holds(t, sys, "user:10", admin) {
			t.Error("the last active admin was demoted")
		}
		// Alone now: a grant that replaces the admin role, or a
		// suspension, is blocked too.
		rep = do(t, sys, grantC("role:end-user:assigned", "user:10"), provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: "user:10", Step: access.DeprovisionSuspend})
		blockedBy(t, rep.Results[0], "user:10")
		blockedBy(t, rep.Results[1], "user:10")
	})

	t.Run("GrantThatReplacesAdmin", func(t *testing.T) {
		t.Parallel()
		sys, b := memSystem(t, users...)
		before := b.Requests()
		rep := do(t, sys, grantC("role:end-user:assigned", "user:10"))
		if r := rep.Results[0]; r.State != provision.StateApplied || !slices.Contains(r.Change.Removes, access.GrantID(admin, "user:10")) {
			t.Fatalf("make ann an end user again: %s %v (removes %v)", r.State, r.Err, r.Change.Removes)
		}
		if got := b.Requests() - before; got != 4 {
			t.Errorf("%d requests, want 4 (the read, the admins, their read, the grant)", got)
		}
		// A grant of another role to someone who is no admin lists no
		// admins.
		before = b.Requests()
		if rep := do(t, sys, grantC("role:end-user:assigned", "user:11")); rep.Applied != 1 {
			t.Fatalf("make bob an end user: %v", rep.Results[0].Err)
		}
		if got := b.Requests() - before; got != 2 {
			t.Errorf("%d requests, want 2 (the read, the grant)", got)
		}
	})

	t.Run("DeprovisionListsAdminsOnlyForAnAdmin", func(t *testing.T) {
		t.Parallel()
		sys, b := memSystem(t, users...)
		before := b.Requests()
		rep := do(t, sys, provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: "user:11", Step: access.DeprovisionSuspend})
		if rep.Applied != 1 {
			t.Fatalf("suspend an agent: %v", rep.Results[0].Err)
		}
		if got := b.Requests() - before; got != 2 {
			t.Errorf("suspending an agent: %d requests, want 2 (the read, the suspension: no list of admins)", got)
		}
		before = b.Requests()
		rep = do(t, sys, provision.Change{Kind: provision.ChangeDeprovision, PrincipalID: "user:10", Step: access.DeprovisionSuspend})
		if rep.Applied != 1 {
			t.Fatalf("suspend one of two active admins: %v", rep.Results[0].Err)
		}
		if got := b.Requests() - before; got != 4 {
			t.Errorf("suspending an admin: %d requests, want 4 (the read, the admins, their read, the suspension)", got)
		}
	})

	t.Run("OwnerCountsOnlyAsAdmin", func(t *testing.T) {
		t.Parallel()
		for _, ownerRole := range []string{"agent", "admin"} {
			b, err := memaccess.New(account(user{id: "1", email: "owner@example.com", role: ownerRole}, user{id: "10", email: "ann@example.com", role: "admin"}),
				memaccess.WithExclusive("role", "custom_role", "organization"))
			if err != nil {
				t.Fatal(err)
			}
			sys, err := access.NewSystem(ownedMem{b, "user:1"})
			if err != nil {
				t.Fatal(err)
			}
			rep := do(t, sys, revokeC(admin, "user:10"))
			if ownerRole == "agent" {
				blockedBy(t, rep.Results[0], "user:10")
			} else if rep.Applied != 1 {
				t.Errorf("with the owner an admin: %s %v, want applied", rep.Results[0].State, rep.Results[0].Err)
			}
		}
	})

	t.Run("WithoutHolderLister", func(t *testing.T) {
		t.Parallel()
		_, b := memSystem(t, users...)
		sys, err := access.NewSystem(withoutHolders(b))
		if err != nil {
			t.Fatal(err)
		}
		rep := do(t, sys, revokeC(admin, "user:10"), revokeC(admin, "user:11"))
		blockedBy(t, rep.Results[0], "user:10")
		if !strings.Contains(rep.Results[0].Err.Error(), "access.HolderLister") {
			t.Errorf("the refusal does not say what Do lacks: %v", rep.Results[0].Err)
		}
		if r := rep.Results[1]; r.State != provision.StateDone { // bob is no admin: nothing to revoke
			t.Errorf("revoke admin from an agent: %s %v, want done", r.State, r.Err)
		}
	})
}

// TestDoAdminWithoutSnapshotZendesk demotes admins on the simulator: Zendesk
// makes them agents, and the outcome says so. Without a snapshot Do's check
// of the other admins costs one request (GET /users?role=admin, one page
// for the account's admins), none per admin: the admins are read in the
// one GET /users/show_many that reads the principal anyway.
func TestDoAdminWithoutSnapshotZendesk(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newDoFixture(t, 2)
	if _, err := f.b.GuardFacts(ctx); err != nil { // reads /users/me once, for both calls
		t.Fatal(err)
	}
	demote := func(p string, snap *access.Snapshot) (*provision.ApplyReport, map[string]int) {
		t.Helper()
		f.srv.ResetStats()
		rep, err := provision.Do(ctx, f.sys, newJournal(t, nil), []provision.Change{revokeC("role:admin:assigned", p)},
			&provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: snap, Guards: provision.Guards{MaxTeamShare: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if r := rep.Results[0]; r.State != provision.StateApplied {
			t.Fatalf("demote %s: %s %v", p, r.State, r.Err)
		}
		if d := cmp.Diff([]string{access.GrantID("role:agent:assigned", p)}, rep.Results[0].Outcome.Added); d != "" {
			t.Errorf("demote %s: Outcome.Added (-want +got):\n%s", p, d)
		}
		if u, _ := f.srv.User(userID(t, p)); u.Role != zendesktest.RoleAgent {
			t.Errorf("demote %s: the simulator shows %s, want agent", p, u.Role)
		}
		return rep, f.srv.Stats().Requests
	}
	demote(f.admins[0], f.snap)
	_, got := demote(f.admins[1], nil)
	want := map[string]int{
		"GET /api/v2/users":           1, // the admins
		"GET /api/v2/users/show_many": 1, // the principal and the admins, read now
		"GET /api/v2/users/{id}":      1, // the revoke reads the user
		"PUT /api/v2/users/{id}":      1, // and demotes them
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests to demote an admin without a snapshot (-want +got):\n%s", d)
	}

	// An end user made admin for a while is an end user again by one
	// grant that replaces the admin role (Zendesk would leave an agent
	// after a revoke): the guard lists the admins for it, after the read.
	eve, err := f.srv.AddUser(zendesktest.UserSpec{Name: "Eve", Email: "eve@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	evePID := access.ResourceID("user", itoa64(eve.ID))
	if _, err := f.sys.Grant(ctx, access.GrantRequest{EntitlementID: "role:admin:assigned", PrincipalID: evePID}); err != nil {
		t.Fatal(err)
	}
	f.srv.ResetStats()
	rep, err := provision.Do(ctx, f.sys, newJournal(t, nil), []provision.Change{grantC("role:end-user:assigned", evePID)}, &provision.DoOptions{Actor: doer, IDPrefix: "z/"})
	if err != nil || rep.Applied != 1 {
		t.Fatalf("make eve an end user again: %v %v", err, rep.Results[0].Err)
	}
	if u, _ := f.srv.User(eve.ID); u.Role != zendesktest.RoleEndUser {
		t.Errorf("eve is %s, want end-user", u.Role)
	}
	if got := f.srv.Stats().Requests; got["GET /api/v2/users"] != 1 || got["GET /api/v2/users/show_many"] != 2 {
		t.Errorf("requests to make an admin an end user: %v; want the admins listed once, the principals and admins read in two", got)
	}

	// A suspension lists the admins only when the read shows an admin.
	f.srv.ResetStats()
	rep, err = provision.Do(ctx, f.sys, newJournal(t, nil), []provision.Change{{Kind: provision.ChangeDeprovision, PrincipalID: f.agents[0], Step: access.DeprovisionSuspend}},
		&provision.DoOptions{Actor: doer, IDPrefix: "y/"})
	if err != nil || rep.Applied != 1 {
		t.Fatalf("suspend an agent: %v %v", err, rep.Results[0].Err)
	}
	if n := f.srv.Stats().Requests["GET /api/v2/users"]; n != 0 {
		t.Errorf("suspending an agent listed the admins %d times", n)
	}
}
