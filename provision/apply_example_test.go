package provision_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// giveDayOneAccess is the README's provisioning sample: policy and directory, plan,
// apply, journal verified.
func giveDayOneAccess(ctx context.Context, sys *access.System, backend *zendeskaccess.Backend, policyYAML, directoryYAML []byte) error {
	policy, err := provision.ParsePolicy("policy.yaml", policyYAML) // errors name file, line and field
	if err != nil {
		return err
	}
	dir, err := provision.ParseDirectory("directory.yaml", directoryYAML) // the identity provider's groups
	if err != nil {
		return err
	}
	snap, err := sys.Sync(ctx, nil)
	if err != nil {
		return err
	}
	facts, err := backend.GuardFacts(ctx) // the owner, the credential's own user, the admins
	if err != nil {
		return err
	}
	types, err := backend.ObjectTypes(ctx)
	if err != nil {
		return err
	}
	plan, err := provision.NewPlan(ctx, policy, dir, snap, &provision.PlanOptions{Facts: facts, ObjectTypes: types,
		Guards: provision.Guards{MaxTeamShare: 0.5}}) // raised: in a tiny account one leaver is half the team
	if err != nil {
		return err
	}
	// plan.WriteTable(os.Stdout) shows it for review; plan.Save(w) keeps it.
	// provision.OpenSQLJournalStore(ctx, "sqlite:///var/lib/zgov/zgov.db") keeps the journal across runs.
	journal, err := provision.NewJournal(provision.NewMemoryJournalStore())
	if err != nil {
		return err
	}
	report, err := provision.Apply(ctx, sys, journal, plan, &provision.ApplyOptions{
		Actor: provision.JournalActor{Who: "svc:hr-sync", Source: "ticket:IT-42"},
	})
	if err != nil {
		return err // refused before any write: another account, a blast-radius cap, ...
	}
	fmt.Println(report.Applied, "applied,", report.Done, "done already,", report.Stale, "stale,", report.Failed, "failed")
	verified, err := journal.Verify(ctx) // the hash chain is intact
	if err != nil {
		return err
	}
	fmt.Println(verified.Entries, "journal entries verified")
	return nil
}

// Example_dayOne gives day-one access on a simulated account: a new hire
// gets an account (Zendesk puts the new agent in Support itself, so that
// grant is done already) and Tier 2, an agent who left is downgraded and
// suspended, and every change is journaled.
func Example_dayOne() {
	srv, err := zendesktest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.AddGroup("Tier 2")
	if _, err := srv.AddUser(zendesktest.UserSpec{Name: "Dan", Email: "dan@example.com", Role: zendesktest.RoleAgent}); err != nil {
		log.Fatal(err)
	}
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	backend, err := zendeskaccess.New(client, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		log.Fatal(err)
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		log.Fatal(err)
	}
	policy := []byte(`
rules:
  - directory_group: Support Agents
    role: agent
    groups: [Support, Tier 2]
`)
	directory := []byte(`
groups:
  - name: Support Agents
    members: [{email: bob@example.com, name: Bob}]
`)
	if err := giveDayOneAccess(context.Background(), sys, backend, policy, directory); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 4 applied, 1 done already, 0 stale, 0 failed
	// 10 journal entries verified
}
