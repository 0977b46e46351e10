package provision_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

// guardSnapshot is a generated account of users users: user i is an agent
// when i%3 == 1, an admin when i%3 == 2 and an end user otherwise.
func guardSnapshot(t *testing.T, users int) (*access.Snapshot, access.GuardFacts) {
	t.Helper()
	b, err := memaccess.New(memaccess.Generate(users, 2, 2), memaccess.WithExclusive("role", "organization"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.GuardFacts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return snap, facts
}

func revoke(eid, principal string) provision.Change {
	return provision.Change{ID: "revoke " + access.GrantID(eid, principal), Kind: provision.ChangeRevoke, PrincipalID: principal, EntitlementID: eid}
}

func deprovision(principal string, step access.DeprovisionStep) provision.Change {
	return provision.Change{ID: fmt.Sprintf("deprovision %s %s", principal, step), Kind: provision.ChangeDeprovision, PrincipalID: principal, Step: step}
}

func TestGuardsPerChange(t *testing.T) {
	t.Parallel()
	snap, facts := guardSnapshot(t, 9) // admins: user:2, user:5, user:8
	facts.Owners = []string{"user:2"}
	facts.Self = "user:4"
	g := provision.Guards{Protected: []string{"user:7"}}
	changes := []provision.Change{
		deprovision("user:2", access.DeprovisionSuspend),   // owner
		revoke("group:1:member", "user:4"),                 // self
		deprovision("user:7", access.DeprovisionDowngrade), // protected list
		{ID: "grant group:2:member@user:7", Kind: provision.ChangeGrant, PrincipalID: "user:7", EntitlementID: "group:2:member"}, // a grant takes nothing
		deprovision("user:5", access.DeprovisionSoftDelete),                                                                      // admin 5 of 2, 5, 8: fine
		revoke("role:admin:assigned", "user:8"),                                                                                  // the last active admin (2 is the owner, but still an admin)...
		deprovision("user:1", access.DeprovisionSuspend),                                                                         // an agent: fine
	}
	rep, err := g.Check(snap, facts, changes)
	if err != nil {
		t.Fatal(err)
	}
	want := []provision.GuardName{provision.GuardAccountOwner, provision.GuardSelf, provision.GuardProtectedList, "", "", "", ""}
	for i, c := range changes {
		var got provision.GuardName
		if c.Blocked != nil {
			got = c.Blocked.Guard
		}
		if got != want[i] {
			t.Errorf("%s: blocked by %q, want %q", c.ID, got, want[i])
		}
	}
	if rep.Blocked != 3 || rep.Destructive != 3 {
		t.Errorf("report: %d blocked, %d destructive; want 3 and 3", rep.Blocked, rep.Destructive)
	}

	// Without the owner's exemption counting, removing admins one by one
	// stops at the last.
	facts.Owners, facts.Self = nil, ""
	changes = []provision.Change{
		revoke("role:admin:assigned", "user:2"),
		deprovision("user:5", access.DeprovisionSuspend),
		{ID: "grant role:agent", Kind: provision.ChangeGrant, PrincipalID: "user:8", EntitlementID: "role:agent:assigned",
			Removes: []string{"role:admin:assigned@user:8"}},
	}
	if _, err := g.Check(snap, facts, changes); err != nil {
		t.Fatal(err)
	}
	for i, c := range changes {
		blocked := c.Blocked != nil && c.Blocked.Guard == provision.GuardLastAdmin
		if blocked != (i == 2) {
			t.Errorf("%s: last-admin block = %v, want %v", c.ID, blocked, i == 2)
		}
	}
	if err := error(changes[2].Blocked); !errors.Is(err, provision.ErrGuard) {
		t.Errorf("GuardError does not match ErrGuard: %v", err)
	}
}

func TestGuardsBlastRadius(t *testing.T) {
	t.Parallel()
	snap, facts := guardSnapshot(t, 300) // 200 team members
	var changes []provision.Change
	for i := 1; i <= 30; i++ {
		changes = append(changes, revoke(fmt.Sprintf("group:%d:member", 1+i%2), fmt.Sprintf("user:%d", 3*i))) // end users
	}
	rep, err := provision.Guards{}.Check(snap, facts, changes)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Run == nil || rep.Run.Guard != provision.GuardBlastRadius || rep.Destructive != 30 || rep.MaxDestructive != provision.DefaultMaxDestructive {
		t.Fatalf("30 destructive changes under the default cap: %+v", rep)
	}
	if rep, _ := (provision.Guards{MaxDestructive: 30}).Check(snap, facts, changes); rep.Run != nil {
		t.Errorf("a raised cap still refuses: %v", rep.Run)
	}

	// 21 agents of 200 team members is over 10%.
	changes = nil
	for i := 0; i < 21; i++ {
		changes = append(changes, deprovision(fmt.Sprintf("user:%d", 3*i+1), access.DeprovisionSuspend))
	}
	rep, _ = provision.Guards{MaxDestructive: 100}.Check(snap, facts, changes)
	if rep.Run == nil || rep.TeamTouched != 21 || rep.TeamMembers != 200 {
		t.Errorf("21 of 200 team members: %+v", rep)
	}
	if rep, _ := (provision.Guards{MaxDestructive: 100, MaxTeamShare: 0.2}).Check(snap, facts, changes); rep.Run != nil {
		t.Errorf("a raised share still refuses: %v", rep.Run)
	}
}

func TestGuardsBadInput(t *testing.T) {
	t.Parallel()
	for _, g := range []provision.Guards{
		{MaxDestructive: -1},
		{MaxTeamShare: -0.1},
		{MaxTeamShare: 1.5},
		{MaxTeamShare: math.NaN()},
		{Protected: []string{"user 1"}},
	} {
		if err := g.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted bad guards", g)
		}
	}
}
