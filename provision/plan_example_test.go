package provision_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// ExampleNewPlan plans day-one access on a simulated Zendesk account from a
// small policy and directory, and prints the plan as a table.
func ExampleNewPlan() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	tier2 := srv.AddGroup("Tier 2")
	srv.AddOrganization("Acme")
	srv.AddCustomRole("Staff", 0)
	// Ann is an end user; Dan is an agent in Tier 2 who left the company.
	if _, err := srv.AddUser(zendesktest.UserSpec{Name: "Ann", Email: "ann@example.com"}); err != nil {
		log.Fatal(err)
	}
	dan, err := srv.AddUser(zendesktest.UserSpec{Name: "Dan", Email: "dan@example.com", Role: zendesktest.RoleAgent})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := srv.AddGroupMembership(dan.ID, tier2.ID); err != nil {
		log.Fatal(err)
	}

	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	b, err := zendeskaccess.New(client, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		log.Fatal(err)
	}
	at := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	snap, err := access.Sync(ctx, b, &access.SyncOptions{Now: at})
	if err != nil {
		log.Fatal(err)
	}
	facts, err := b.GuardFacts(ctx)
	if err != nil {
		log.Fatal(err)
	}
	objectTypes, err := b.ObjectTypes(ctx)
	if err != nil {
		log.Fatal(err)
	}

	policy, err := provision.ParsePolicy("policy.yaml", []byte(`
rules:
  - directory_group: Support Agents
    role: agent
    custom_role: Staff
    groups: [Tier 2]
    organizations: [Acme]
`))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := provision.ParseDirectory("directory.yaml", []byte(`
groups:
  - name: Support Agents
    members:
      - ann@example.com
      - {email: bob@example.com, name: Bob}
`))
	if err != nil {
		log.Fatal(err)
	}
	plan, err := provision.NewPlan(ctx, policy, dir, snap, &provision.PlanOptions{
		Facts: facts, ObjectTypes: objectTypes, Now: at,
		Guards: provision.Guards{MaxTeamShare: 0.5}, // a small account: one leaver is half the team
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := plan.WriteTable(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// plan for zendesk account zgov-sim: snapshot b45592a12071 taken 2026-03-01T09:00:00Z, policy c651a880e27e, made 2026-03-01T09:00:00Z
	// PRINCIPAL                           CHANGE                  ACCESS             BLOCKED  EFFECTS
	// ann@example.com (user:10000000002)  grant                   role agent         -        replaces role end-user; Zendesk adds a new agent to the default group Support
	// ann@example.com (user:10000000002)  grant                   custom role Staff  -        -
	// ann@example.com (user:10000000002)  grant                   organization Acme  -        -
	// ann@example.com (user:10000000002)  grant                   group Tier 2       -        -
	// dan@example.com (user:10000000003)  deprovision: downgrade  -                  -        makes the user an end user: removes role agent and 2 group memberships (Support, Tier 2); frees the agent seat
	// dan@example.com (user:10000000003)  deprovision: suspend    -                  -        blocks sign-in; the account keeps what the downgrade leaves
	// bob@example.com (new)               create account          role agent         -        creates an account for bob@example.com with role agent; Zendesk adds a new agent to the default group Support
	// bob@example.com (new)               grant                   custom role Staff  -        -
	// bob@example.com (new)               grant                   organization Acme  -        -
	// bob@example.com (new)               grant                   group Tier 2       -        -
	// 1 create, 7 grants, 0 revokes, 2 deprovisions; 0 blocked; blast radius: within the caps (3 of 25 destructive changes; 1 of 2 team members touched, cap 50%)
}
