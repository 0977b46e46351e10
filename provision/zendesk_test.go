package provision_test

import (
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

// TestPlanZendesk plans against the simulator's demo account read by the
// Zendesk backend, then checks the plan against what the backend reports:
// each principal's Basis is what access.PrincipalReader reads back (what
// apply compares), and each grant and deprovisioning step removes what the
// change said it would.
func TestPlanZendesk(t *testing.T) {
	t.Parallel()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()), zendesktest.WithRateLimit(1_000_000),
		zendesktest.WithRequestLog(0), zendesktest.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(client, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithAccountOwner(srv.OwnerID()),
		zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeReplace), zendeskaccess.WithPromoteEndUsers(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	snap, err := access.Sync(ctx, b, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.GuardFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objectTypes, err := b.ObjectTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(facts.ExclusiveTypes, "organization") {
		t.Fatalf("the demo account allows multiple organizations: %+v", facts)
	}

	// The policy names the account's resources as people would: groups
	// and a custom role by name, in another case, an organization by id.
	byType := map[string][]access.ResourceRecord{}
	for _, r := range snap.Resources() {
		byType[r.Type()] = append(byType[r.Type()], r)
	}
	native := func(r access.ResourceRecord) string { _, id, _ := strings.Cut(r.ID(), ":"); return id }
	policy := &provision.Policy{
		Rules: []provision.Rule{
			{DirectoryGroup: "Support Agents", Role: provision.RoleAgent,
				CustomRole:    provision.ByName(strings.ToUpper(byType["custom_role"][0].DisplayName())),
				Groups:        []provision.Ref{provision.ByName(strings.ToLower(byType["group"][1].DisplayName())), provision.ByID(native(byType["group"][2]))},
				Organizations: []provision.Ref{provision.ByID(native(byType["organization"][0]))}},
			{DirectoryGroup: "Customers", Role: provision.RoleEndUser, Organizations: []provision.Ref{provision.ByID(native(byType["organization"][1]))}},
		},
		Ladder: []access.DeprovisionStep{access.DeprovisionDowngrade},
	}
	// The directory: two agents and two end users of the account, in
	// "Support Agents" and "Customers" crosswise, and a new person.
	var agents, endUsers []access.Person
	for _, r := range byType["user"] {
		a := r.Attributes()
		if a["suspended"] == "true" || a["owner"] == "true" {
			continue
		}
		p := access.Person{Email: a["email"], Name: r.DisplayName()}
		switch a["role"] {
		case "agent":
			agents = append(agents, p)
		case "end-user":
			endUsers = append(endUsers, p)
		}
	}
	dir, err := provision.NewDirectory(
		provision.DirectoryGroup{Name: "Support Agents", Members: []access.Person{agents[0], endUsers[0], {Email: "new.hire@example.com", Name: "New Hire"}}},
		provision.DirectoryGroup{Name: "Customers", Members: []access.Person{agents[1], endUsers[1]}},
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.NewPlan(ctx, policy, dir, snap, &provision.PlanOptions{Facts: facts, ObjectTypes: objectTypes, Now: now,
		Guards: provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table(t, p))
	if err := p.CheckAccount(mustInfo(t, b)); err != nil {
		t.Error(err)
	}
	kinds := map[provision.ChangeKind]int{}
	for _, c := range p.Changes {
		kinds[c.Kind]++
	}
	if kinds[provision.ChangeCreateAccount] != 1 || kinds[provision.ChangeGrant] < 5 || kinds[provision.ChangeDeprovision] == 0 {
		t.Errorf("changes by kind: %v", kinds)
	}

	// Basis: what apply will read back matches what the plan recorded.
	principals := slices.Sorted(func(yield func(string) bool) {
		for pid := range p.Basis {
			if !yield(pid) {
				return
			}
		}
	})
	states, err := b.ReadPrincipals(ctx, principals)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range principals {
		if got := provision.StateBasis(states[pid], objectTypes); got != p.Basis[pid] {
			t.Errorf("%s: basis read back %s, plan %s", pid, got, p.Basis[pid])
		}
	}

	// Side effects: carry out each change of an existing account, in plan
	// order, and compare what the backend removed with Change.Removes.
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range p.Changes {
		if c.PrincipalID == "" || c.Blocked != nil {
			continue
		}
		var replaced []access.Grant
		switch c.Kind {
		case provision.ChangeGrant:
			res, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: c.EntitlementID, PrincipalID: c.PrincipalID})
			if err != nil {
				t.Fatalf("%s: %v", c.ID, err)
			}
			replaced = res.Replaced
		case provision.ChangeRevoke:
			continue // the fallback custom role is the backend's business
		case provision.ChangeDeprovision:
			res, err := sys.Deprovision(ctx, c.PrincipalID, c.Step)
			if err != nil {
				t.Fatalf("%s: %v", c.ID, err)
			}
			replaced = res.Replaced
		}
		var got []string
		for _, g := range replaced {
			got = append(got, g.ID())
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(c.Removes))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s removed (-planned +done):\n%s", c.ID, diff)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d changes checked", checked)
	}
}

func mustInfo(t *testing.T, b access.Backend) access.Info {
	t.Helper()
	info, err := b.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info
}
