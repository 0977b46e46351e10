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
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

// The scenario most plan tests start from: three rules, a directory of six
// people, and an account where Ann must move organization and gain a custom
// role, Bob must be promoted, Cat is an admin whose custom role is dropped,
// Dan left, Eve changed team, Fay is new and Gus is matched by external id.
const scenarioPolicy = `rules:
  - directory_group: Support Agents
    role: agent
    custom_role: Staff
    groups: [Support, Billing]
    organizations: [Acme]
  - directory_group: Admins
    role: admin
  - directory_group: Tier 2
    role: agent
    custom_role: team leader
    groups: [Tier 2]
    organizations: [Globex]
`

const scenarioDirectory = `groups:
  - name: Support Agents
    members:
      - {email: ann@example.com, name: Ann}
      - BOB@example.com
      - cat@example.com
      - {email: fay@example.com, name: Fay}
      - {email: gus@new.example.com, external_id: ext-gus}
  - name: Admins
    members: [cat@example.com, owner@example.com]
  - name: Tier 2
    members: [eve@example.com, ann@example.com]
`

func scenarioUsers() []user {
	return []user{
		{id: "1", email: "owner@example.com", role: "admin"},
		{id: "2", email: "ann@example.com", role: "agent", grants: []string{"group:1:member", "organization:2:member"}},
		{id: "3", email: "bob@example.com", role: "end-user"},
		{id: "4", email: "cat@example.com", role: "admin", grants: []string{"group:1:member"}},
		{id: "5", email: "dan@example.com", role: "agent", grants: []string{"group:1:member", "group:2:member", "custom_role:1:assigned", "organization:1:member"}},
		{id: "6", email: "eve@example.com", role: "agent", grants: []string{"group:2:member", "group:4:member"}},
		{id: "7", email: "gus@old.example.com", role: "agent", externalID: "ext-gus", grants: []string{"group:1:member", "group:2:member", "custom_role:1:assigned", "organization:1:member"}},
	}
}

// planOf plans policy and directory against users, with organizations
// exclusive unless multiOrg.
func planOf(t testing.TB, policy, directory string, users []user, multiOrg bool, guards provision.Guards) *provision.Plan {
	t.Helper()
	snap, facts, ot := snapshotOf(t, account(users...), multiOrg)
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, policy), parseDirectory(t, directory), snap,
		&provision.PlanOptions{Facts: facts, ObjectTypes: ot, Guards: guards, Now: now})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

// describe shows a plan's changes one per line: the ID, then what it
// removes, its side effects and the guard that blocks it.
func describe(p *provision.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.ID
		if c.Role != "" {
			s += " role=" + c.Role
		}
		if len(c.Removes) > 0 {
			s += " removes=" + strings.Join(c.Removes, ",")
		}
		if len(c.SideEffects) > 0 {
			s += " | " + strings.Join(c.SideEffects, "; ")
		}
		if c.Blocked != nil {
			s += " BLOCKED " + string(c.Blocked.Guard)
		}
		out = append(out, s)
	}
	return out
}

func TestPlanScenario(t *testing.T) {
	t.Parallel()
	p := planOf(t, scenarioPolicy, scenarioDirectory, scenarioUsers(), false, provision.Guards{MaxTeamShare: 1})
	want := []string{
		"grant custom_role:1:assigned@user:2",
		"grant organization:1:member@user:2 removes=organization:2:member@user:2 | moves the user out of organization Globex",
		"grant group:2:member@user:2",
		"grant group:3:member@user:2",
		"grant role:agent:assigned@user:3 removes=role:end-user:assigned@user:3 | replaces role end-user; Zendesk adds a new agent to the default group Support",
		"grant custom_role:1:assigned@user:3",
		"grant organization:1:member@user:3",
		"grant group:1:member@user:3",
		"grant group:2:member@user:3",
		"grant organization:1:member@user:4",
		"grant group:2:member@user:4",
		"deprovision user:5 downgrade removes=role:agent:assigned@user:5,custom_role:1:assigned@user:5,group:1:member@user:5,group:2:member@user:5" +
			" | makes the user an end user: removes role agent, custom role Staff and 2 group memberships (Support, Billing); frees the agent seat",
		"deprovision user:5 suspend | blocks sign-in; the account keeps what the downgrade leaves",
		"grant custom_role:2:assigned@user:6",
		"grant organization:2:member@user:6",
		"grant group:3:member@user:6",
		"revoke group:2:member@user:6", // managed by Support Agents; VIP (4) is not managed
		"create_account fay@example.com role=agent | creates an account for fay@example.com with role agent",
		"grant custom_role:1:assigned for fay@example.com",
		"grant organization:1:member for fay@example.com",
		"grant group:1:member for fay@example.com",
		"grant group:2:member for fay@example.com",
	}
	if diff := cmp.Diff(want, describe(p)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	fay := p.Changes[len(p.Changes)-1].Person
	if fay == nil || *fay != (access.Person{Email: "fay@example.com", Name: "Fay"}) || p.Changes[len(p.Changes)-1].PrincipalID != "" {
		t.Errorf("a grant awaiting a create carries %+v", p.Changes[len(p.Changes)-1])
	}

	wantConflicts := []provision.Conflict{
		{Principal: "user:2", Type: "custom_role", Kept: "custom_role:1:assigned", Dropped: []string{"custom_role:2:assigned"},
			Reason: "an agent holds one custom role: rules[0] (Support Agents) comes first"},
		{Principal: "user:2", Type: "organization", Kept: "organization:1:member", Dropped: []string{"organization:2:member"},
			Reason: "a user belongs to one organization at most on this account: rules[0] (Support Agents) comes first"},
		{Principal: "user:4", Type: "custom_role", Dropped: []string{"custom_role:1:assigned"},
			Reason: "admins hold no custom role in Zendesk: the highest role given is admin"},
	}
	if diff := cmp.Diff(wantConflicts, p.Conflicts); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}

	snap, _, _ := snapshotOf(t, account(scenarioUsers()...), false)
	if p.Backend != "memory" || p.Account != "acme" || p.SnapshotHash != snap.Hash() || !p.SnapshotTakenAt.Equal(clock) ||
		!p.CreatedAt.Equal(clock) || p.PolicyDigest != parsePolicy(t, scenarioPolicy).Digest() || p.Version != provision.PlanVersion {
		t.Errorf("plan header: %+v", p)
	}
	if p.Guards.Run != nil || p.Guards.Destructive != 5 || p.Guards.TeamTouched != 3 {
		t.Errorf("guard report: %+v", p.Guards)
	}
}

// TestPlanBasis checks that the plan records, for each principal it
// changes, the Basis apply will compare: what SnapshotBasis computes.
func TestPlanBasis(t *testing.T) {
	t.Parallel()
	users := scenarioUsers()
	users[4].suspended = true // Dan: a suspended leaver
	snap, facts, ot := snapshotOf(t, account(users...), false)
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, scenarioPolicy), parseDirectory(t, scenarioDirectory), snap,
		&provision.PlanOptions{Facts: facts, ObjectTypes: ot, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, c := range p.Changes {
		if c.PrincipalID != "" {
			want[c.PrincipalID] = provision.SnapshotBasis(snap, c.PrincipalID, ot)
		}
	}
	if diff := cmp.Diff(want, p.Basis); diff != "" {
		t.Errorf("basis (-want +got):\n%s", diff)
	}
	if len(want) != 5 || p.Basis["user:5"] == provision.SnapshotBasis(snap, "user:6", ot) {
		t.Errorf("basis of %d principals: %v", len(want), p.Basis)
	}
	for _, c := range p.Changes {
		if c.ID == "deprovision user:5 suspend" {
			t.Error("a suspended leaver is suspended again")
		}
	}
}

func TestPlanPrune(t *testing.T) {
	t.Parallel()
	pruned := scenarioPolicy + "prune: true\n"
	p := planOf(t, pruned, scenarioDirectory, scenarioUsers(), false, provision.Guards{MaxTeamShare: 1})
	var revokes []string
	for _, c := range p.Changes {
		if c.Kind == provision.ChangeRevoke {
			revokes = append(revokes, c.ID)
		}
	}
	// Eve's VIP membership is not in the policy: only pruning revokes it.
	if want := []string{"revoke group:2:member@user:6", "revoke group:4:member@user:6"}; !cmp.Equal(want, revokes) {
		t.Errorf("revokes with prune: %v, want %v", revokes, want)
	}
}

// TestPlanMultipleOrganizations checks that organizations add up where a
// user may belong to several.
func TestPlanMultipleOrganizations(t *testing.T) {
	t.Parallel()
	p := planOf(t, scenarioPolicy, scenarioDirectory, scenarioUsers(), true, provision.Guards{MaxTeamShare: 1})
	var ann []string
	for _, c := range p.Changes {
		if c.PrincipalID == "user:2" && strings.Contains(c.ID, "organization") {
			ann = append(ann, strings.Join(append([]string{c.ID}, c.Removes...), " removes "))
		}
	}
	if want := []string{"grant organization:1:member@user:2"}; !cmp.Equal(want, ann) {
		t.Errorf("Ann's organization changes: %v, want %v (she keeps Globex)", ann, want)
	}
	for _, c := range p.Conflicts {
		if c.Type == "organization" {
			t.Errorf("conflict on an account with multiple organizations: %+v", c)
		}
	}

	// A rule naming two organizations is fine here, and an error where a
	// user belongs to one at most.
	two := "rules:\n  - directory_group: Support Agents\n    organizations: [Acme, Globex]\n"
	planOf(t, two, scenarioDirectory, scenarioUsers(), true, provision.Guards{MaxTeamShare: 1})
	snap, facts, _ := snapshotOf(t, account(scenarioUsers()...), false)
	_, err := provision.NewPlan(t.Context(), parsePolicy(t, two), parseDirectory(t, scenarioDirectory), snap, &provision.PlanOptions{Facts: facts})
	want := "policy.yaml:3: rules[0].organizations: the account puts a user in one organization at most (multiple organizations are off), and the rule names 2: organization Acme, organization Globex"
	if err == nil || err.Error() != want || !errors.Is(err, provision.ErrInvalidPolicy) {
		t.Errorf("two organizations on a single-organization account: %v\nwant %s", err, want)
	}
}

// TestPlanRoleChanges checks what demotions and promotions say they
// remove.
func TestPlanRoleChanges(t *testing.T) {
	t.Parallel()
	policy := `rules:
  - directory_group: Customers
    role: end-user
    organizations: [Acme]
  - directory_group: Admins
    role: admin
`
	dir := `groups:
  - name: Customers
    members: [ann@example.com]
  - name: Admins
    members: [bob@example.com]
`
	users := []user{
		{id: "1", email: "owner@example.com", role: "admin"},
		{id: "2", email: "ann@example.com", role: "agent", grants: []string{"group:1:member", "group:4:member", "custom_role:2:assigned", "organization:1:member"}},
		{id: "3", email: "bob@example.com", role: "agent", grants: []string{"custom_role:1:assigned"}},
	}
	p := planOf(t, policy, dir, users, false, provision.Guards{MaxTeamShare: 1})
	want := []string{
		"grant role:end-user:assigned@user:2 removes=role:agent:assigned@user:2,custom_role:2:assigned@user:2,group:1:member@user:2,group:4:member@user:2" +
			" | replaces role agent; the demotion to end user removes custom role Team Leader and 2 group memberships (Support, VIP)",
		"grant role:admin:assigned@user:3 removes=role:agent:assigned@user:3,custom_role:1:assigned@user:3" +
			" | replaces role agent; Zendesk removes custom role Staff: admins hold no custom role",
	}
	if diff := cmp.Diff(want, describe(p)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestPlanLadder(t *testing.T) {
	t.Parallel()
	users := append(scenarioUsers(),
		user{id: "8", email: "hal@example.com", role: "end-user", grants: []string{"organization:1:member"}},                          // an end user: no downgrade
		user{id: "9", email: "ivy@example.com", role: "agent", suspended: true, grants: []string{"group:1:member", "group:4:member"}}, // suspended already
		user{id: "10", email: "jo@example.com", role: "agent", grants: []string{"group:4:member"}},                                    // holds nothing managed: not a leaver
	)
	for _, tc := range []struct {
		ladder string
		want   []string
	}{
		{"", []string{
			"deprovision user:5 downgrade", "deprovision user:5 suspend",
			"deprovision user:8 suspend",
			"deprovision user:9 downgrade",
		}},
		{"ladder: [none]\n", nil},
		{"ladder: [suspend, soft_delete]\n", []string{
			"deprovision user:5 suspend", "deprovision user:5 soft_delete",
			"deprovision user:8 suspend", "deprovision user:8 soft_delete",
			"deprovision user:9 soft_delete",
		}},
	} {
		p := planOf(t, scenarioPolicy+tc.ladder, scenarioDirectory, users, false, provision.Guards{MaxTeamShare: 1})
		var got []string
		for _, c := range p.Changes {
			if c.Kind == provision.ChangeDeprovision {
				got = append(got, c.ID)
				if c.Step == access.DeprovisionSoftDelete && c.PrincipalID == "user:9" {
					if want := []string{"role:agent:assigned@user:9", "group:1:member@user:9", "group:4:member@user:9"}; !cmp.Equal(want, c.Removes) {
						t.Errorf("a deletion removes %v, want %v", c.Removes, want)
					}
				}
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ladder %q (-want +got):\n%s", tc.ladder, diff)
		}
	}
}

// TestPlanGuards checks that guards mark the changes they block and the
// run a cap refuses, and that the table shows both.
func TestPlanGuards(t *testing.T) {
	t.Parallel()
	users := scenarioUsers()
	users[0].grants = []string{"group:2:member"} // the owner, in no directory group, holds a managed group
	snap, facts, ot := snapshotOf(t, account(users...), false)
	facts.Owners = []string{"user:1"}
	dir := strings.Replace(scenarioDirectory, "[cat@example.com, owner@example.com]", "[cat@example.com]", 1)
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, scenarioPolicy), parseDirectory(t, dir), snap,
		&provision.PlanOptions{Facts: facts, ObjectTypes: ot, Now: now, Guards: provision.Guards{Protected: []string{"user:6"}}})
	if err != nil {
		t.Fatal(err)
	}
	blocked := map[string]provision.GuardName{}
	for _, c := range p.Changes {
		if c.Blocked != nil {
			blocked[c.ID] = c.Blocked.Guard
		}
	}
	want := map[string]provision.GuardName{
		"deprovision user:1 downgrade": provision.GuardAccountOwner,
		"deprovision user:1 suspend":   provision.GuardAccountOwner,
		"revoke group:2:member@user:6": provision.GuardProtectedList,
	}
	if diff := cmp.Diff(want, blocked); diff != "" {
		t.Errorf("blocked (-want +got):\n%s", diff)
	}
	if p.Guards.Run == nil || p.Guards.Run.Guard != provision.GuardBlastRadius || p.Guards.Blocked != 3 {
		t.Errorf("guard report: %+v", p.Guards)
	}
	tab := table(t, p)
	for _, s := range []string{
		"owner@example.com (user:1)  deprovision: downgrade  -                        account_owner   makes the user an end user",
		"eve@example.com (user:6)    revoke                  group Billing            protected_list  -\n",
		"; 3 blocked; blast radius: refused: touches 2 of 6 team members, more than the cap of 10% (raise Guards.MaxTeamShare to allow it)\n",
	} {
		if !strings.Contains(tab, s) {
			t.Errorf("table lacks %q:\n%s", s, tab)
		}
	}
}

func TestPlanTable(t *testing.T) {
	t.Parallel()
	p := planOf(t, scenarioPolicy, scenarioDirectory, scenarioUsers(), false, provision.Guards{MaxTeamShare: 1})
	got := table(t, p)
	want := `plan for memory account acme: snapshot ` + p.SnapshotHash[:12] + ` taken 2026-03-01T09:00:00Z, policy ` + p.PolicyDigest[:12] + `, made 2026-03-01T09:00:00Z
PRINCIPAL                 CHANGE                  ACCESS                   BLOCKED  EFFECTS
ann@example.com (user:2)  grant                   custom role Staff        -        -
ann@example.com (user:2)  grant                   organization Acme        -        moves the user out of organization Globex
ann@example.com (user:2)  grant                   group Billing            -        -
ann@example.com (user:2)  grant                   group Tier 2             -        -
bob@example.com (user:3)  grant                   role agent               -        replaces role end-user; Zendesk adds a new agent to the default group Support
bob@example.com (user:3)  grant                   custom role Staff        -        -
bob@example.com (user:3)  grant                   organization Acme        -        -
bob@example.com (user:3)  grant                   group Support            -        -
bob@example.com (user:3)  grant                   group Billing            -        -
cat@example.com (user:4)  grant                   organization Acme        -        -
cat@example.com (user:4)  grant                   group Billing            -        -
dan@example.com (user:5)  deprovision: downgrade  -                        -        makes the user an end user: removes role agent, custom role Staff and 2 group memberships (Support, Billing); frees the agent seat
dan@example.com (user:5)  deprovision: suspend    -                        -        blocks sign-in; the account keeps what the downgrade leaves
eve@example.com (user:6)  grant                   custom role Team Leader  -        -
eve@example.com (user:6)  grant                   organization Globex      -        -
eve@example.com (user:6)  grant                   group Tier 2             -        -
eve@example.com (user:6)  revoke                  group Billing            -        -
fay@example.com (new)     create account          role agent               -        creates an account for fay@example.com with role agent
fay@example.com (new)     grant                   custom role Staff        -        -
fay@example.com (new)     grant                   organization Acme        -        -
fay@example.com (new)     grant                   group Support            -        -
fay@example.com (new)     grant                   group Billing            -        -
conflicts:
  ann@example.com (user:2): custom role: kept custom role Staff, dropped custom role Team Leader: an agent holds one custom role: rules[0] (Support Agents) comes first
  ann@example.com (user:2): organization: kept organization Acme, dropped organization Globex: a user belongs to one organization at most on this account: rules[0] (Support Agents) comes first
  cat@example.com (user:4): custom role: kept none, dropped custom role Staff: admins hold no custom role in Zendesk: the highest role given is admin
1 create, 18 grants, 1 revoke, 2 deprovisions; 0 blocked; blast radius: within the caps (5 of 25 destructive changes; 3 of 6 team members touched, cap 100%)
`
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	for i, line := range strings.Split(got, "\n") {
		if strings.TrimRight(line, " ") != line {
			t.Errorf("line %d ends in spaces: %q", i+1, line)
		}
	}
}

// TestPlanUnknownNames checks that a policy naming what the snapshot lacks
// is refused, naming the file, line and field.
func TestPlanUnknownNames(t *testing.T) {
	t.Parallel()
	snap, facts, _ := snapshotOf(t, account(scenarioUsers()...), false)
	noAdmin, _, _ := snapshotOf(t, func() memaccess.Data {
		d := account(scenarioUsers()[1:2]...)
		d.Resources = slices.DeleteFunc(d.Resources, func(r access.Resource) bool { return r.ID() == "role:admin" })
		d.Entitlements = slices.DeleteFunc(d.Entitlements, func(e access.Entitlement) bool { return e.ID() == "role:admin:assigned" })
		return d
	}(), false)
	dir := parseDirectory(t, scenarioDirectory)
	for _, tc := range []struct {
		name, policy string
		snap         *access.Snapshot
		kind         error
		want         string
	}{
		{"group", "rules:\n  - directory_group: Tier 2\n    role: agent\n    groups:\n      - Support\n      - Tier 3\n", snap, provision.ErrUnknownName,
			`policy.yaml:6: rules[0].groups[1]: no group named "Tier 3" in the snapshot`},
		{"group by id", "rules:\n  - directory_group: Tier 2\n    role: agent\n    groups: [77]\n", snap, provision.ErrUnknownName,
			"policy.yaml:4: rules[0].groups[0]: no group with id 77 in the snapshot"},
		{"ambiguous group", "rules:\n  - directory_group: Tier 2\n    role: agent\n    groups: [DUPLICATE]\n", snap, provision.ErrAmbiguousName,
			`policy.yaml:4: rules[0].groups[0]: 2 groups are named "DUPLICATE" (group:5, group:6): name one by id`},
		{"organization", "rules:\n  - directory_group: Tier 2\n    organizations: [Initech]\n", snap, provision.ErrUnknownName,
			`policy.yaml:3: rules[0].organizations[0]: no organization named "Initech" in the snapshot`},
		{"custom role", "rules:\n  - directory_group: Tier 2\n    role: agent\n    custom_role: Light Agent\n", snap, provision.ErrUnknownName,
			`policy.yaml:4: rules[0].custom_role: no custom role named "Light Agent" in the snapshot`},
		{"role", "rules:\n  - directory_group: Admins\n    role: admin\n", noAdmin, provision.ErrUnknownName,
			`policy.yaml:3: rules[0].role: no role "admin" in the snapshot`},
		{"directory group", "rules:\n  - directory_group: Tier 2\n    role: agent\n  - directory_group: Tier 3\n    role: agent\n", snap, provision.ErrUnknownDirectoryGroup,
			`policy.yaml:4: rules[1].directory_group: the directory has no group "Tier 3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := provision.NewPlan(t.Context(), parsePolicy(t, tc.policy), dir, tc.snap, &provision.PlanOptions{Facts: facts})
			if err == nil || err.Error() != tc.want || !errors.Is(err, tc.kind) {
				t.Errorf("error: %v\n want %s (%v)", err, tc.want, tc.kind)
			}
			var fe *provision.FieldError
			if !errors.As(err, &fe) || fe.Line == 0 {
				t.Errorf("not a *FieldError with a line: %#v", err)
			}
		})
	}

	// A policy built in Go is named "policy", without lines.
	p := &provision.Policy{Rules: []provision.Rule{{DirectoryGroup: "Tier 2", Role: provision.RoleAgent, Groups: []provision.Ref{provision.ByName("Tier 3")}}}}
	_, err := provision.NewPlan(t.Context(), p, dir, snap, nil)
	if want := `policy: rules[0].groups[0]: no group named "Tier 3" in the snapshot`; err == nil || err.Error() != want {
		t.Errorf("error: %v\n want %s", err, want)
	}
}

// people is a Directory that serves fixed groups without checking them,
// as a connector might.
type people map[string][]access.Person

func (d people) Members(_ context.Context, name string) ([]access.Person, error) {
	if name == "broken" {
		return nil, errors.New("identity provider unavailable")
	}
	m, ok := d[name]
	if !ok {
		return nil, fmt.Errorf("no group %q: %w", name, provision.ErrUnknownDirectoryGroup)
	}
	return m, nil
}

// TestPlanBadInput checks the other refusals before any change is planned.
func TestPlanBadInput(t *testing.T) {
	t.Parallel()
	snap, facts, _ := snapshotOf(t, account(scenarioUsers()...), false)
	policy := parsePolicy(t, "rules:\n  - directory_group: Tier 2\n    role: agent\n  - directory_group: Admins\n    role: admin\n")
	good := people{"Tier 2": {{Email: "ann@example.com"}}, "Admins": {{Email: "cat@example.com"}}}
	for _, tc := range []struct {
		name   string
		policy *provision.Policy
		dir    provision.Directory
		snap   *access.Snapshot
		opts   *provision.PlanOptions
		match  error
		want   string
	}{
		{"person without e-mail", policy, people{"Tier 2": {{Name: "Ann"}}, "Admins": nil}, snap, nil, access.ErrInvalidPerson,
			`provision: plan: directory group "Tier 2": access: person "": no e-mail address: invalid person`},
		{"two external ids", policy, people{"Tier 2": {{Email: "ann@example.com", ExternalID: "a"}}, "Admins": {{Email: "ANN@example.com", ExternalID: "b"}}}, snap, nil,
			provision.ErrInvalidDirectory, `provision: plan: ANN@example.com has external id "b" in directory group "Admins" and "a" in another: invalid directory`},
		{"directory fails", parsePolicy(t, "rules:\n  - directory_group: broken\n    role: agent\n"), good, snap, nil, nil,
			`provision: plan: read directory group "broken": identity provider unavailable`},
		{"negative cap", policy, good, snap, &provision.PlanOptions{Guards: provision.Guards{MaxDestructive: -1}}, nil,
			"provision: plan: provision: guards: MaxDestructive -1 is negative"},
		{"negative share", policy, good, snap, &provision.PlanOptions{Guards: provision.Guards{MaxTeamShare: -0.5}}, nil,
			"provision: plan: provision: guards: MaxTeamShare -0.5 is not between 0 and 1"},
		{"invalid policy", &provision.Policy{}, good, snap, nil, provision.ErrInvalidPolicy, "policy: rules: no rules: the policy would manage nothing"},
		{"no policy", nil, good, snap, nil, nil, "provision: plan: no policy"},
		{"no directory", policy, nil, snap, nil, nil, "provision: plan: no directory"},
		{"no snapshot", policy, good, nil, nil, nil, "provision: plan: no snapshot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			if opts == nil {
				opts = &provision.PlanOptions{Facts: facts}
			}
			p, err := provision.NewPlan(t.Context(), tc.policy, tc.dir, tc.snap, opts)
			if p != nil || err == nil || err.Error() != tc.want || tc.match != nil && !errors.Is(err, tc.match) {
				t.Errorf("NewPlan: %v, %v\nwant error %s", p, err, tc.want)
			}
		})
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := provision.NewPlan(ctx, policy, parseDirectory(t, scenarioDirectory), snap, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("NewPlan with a cancelled context: %v", err)
	}
}

// TestPlanMergesPeople checks that one person met in several groups, with
// their e-mail address spelled differently, is one person, with the access
// of all their groups, and that the merge does not depend on the order.
func TestPlanMergesPeople(t *testing.T) {
	t.Parallel()
	snap, facts, _ := snapshotOf(t, account(scenarioUsers()...), false)
	policy := parsePolicy(t, scenarioPolicy)
	plan := func(dir people) []string {
		p, err := provision.NewPlan(t.Context(), policy, dir, snap, &provision.PlanOptions{Facts: facts, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return describe(p)
	}
	a := plan(people{
		"Support Agents": {{Email: "New@Example.com", Name: "Zed"}},
		"Admins":         {},
		"Tier 2":         {{Email: "new@example.com", Name: "Ned", ExternalID: "x"}},
	})
	b := plan(people{
		"Support Agents": {{Email: "new@example.com", Name: "Ned", ExternalID: "x"}},
		"Admins":         {},
		"Tier 2":         {{Email: "New@Example.com", Name: "Zed"}},
	})
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("the order of the groups changes the plan (-a +b):\n%s", diff)
	}
	want := []string{
		"create_account new@example.com role=agent | creates an account for New@Example.com with role agent",
		"grant custom_role:1:assigned for new@example.com",
		"grant organization:1:member for new@example.com",
		"grant group:1:member for new@example.com",
		"grant group:2:member for new@example.com",
		"grant group:3:member for new@example.com",
	}
	if diff := cmp.Diff(want, a[len(a)-len(want):]); diff != "" {
		t.Errorf("changes of the merged person (-want +got):\n%s", diff)
	}
}

// TestPlanSuspendedAccount checks that a covered person whose account is
// suspended gets their access, and a word that the plan leaves the
// suspension alone.
func TestPlanSuspendedAccount(t *testing.T) {
	t.Parallel()
	users := scenarioUsers()
	users[5].suspended = true // Eve
	p := planOf(t, scenarioPolicy, scenarioDirectory, users, false, provision.Guards{MaxTeamShare: 1})
	var eve []string
	for _, line := range describe(p) {
		if strings.Contains(line, "@user:6") {
			eve = append(eve, line)
		}
	}
	want := []string{
		"grant custom_role:2:assigned@user:6 | the account is suspended, and the plan does not reactivate it",
		"grant organization:2:member@user:6",
		"grant group:3:member@user:6",
		"revoke group:2:member@user:6",
	}
	if diff := cmp.Diff(want, eve); diff != "" {
		t.Errorf("Eve's changes (-want +got):\n%s", diff)
	}
}
