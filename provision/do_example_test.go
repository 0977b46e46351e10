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

// This example gives an agent a group for a while and takes it away at
// expiry, each change guarded and journaled under the caller's journal ID,
// as a time-bound grant's worker does; the expiry run again (a retried
// job) finds it done and sends nothing.
func ExampleDo() {
	srv, err := zendesktest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	tier2 := srv.AddGroup("Tier 2")
	dan, err := srv.AddUser(zendesktest.UserSpec{Name: "Dan", Email: "dan@example.com", Role: zendesktest.RoleAgent})
	if err != nil {
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
	journal, err := provision.NewJournal(provision.NewMemoryJournalStore())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	actor := provision.JournalActor{Who: "svc:jit", Reason: "incident INC-7", Source: "timebound:42"}
	change := provision.Change{EntitlementID: fmt.Sprintf("group:%d:member", tier2.ID), PrincipalID: fmt.Sprintf("user:%d", dan.ID)}

	// The grant, journaled as timebound-42/grant.
	change.Kind = provision.ChangeGrant
	report, err := provision.Do(ctx, sys, journal, []provision.Change{change},
		&provision.DoOptions{Actor: actor, JournalIDs: []string{"timebound-42/grant"}})
	if err != nil {
		log.Fatal(err) // refused before any write: bad input, a blast-radius cap, ...
	}
	r := report.Results[0]
	fmt.Println(r.Change.ID, "->", r.State, r.Outcome.Status)

	// The expiry, and the same again.
	change.Kind = provision.ChangeRevoke
	for range 2 {
		report, err = provision.Do(ctx, sys, journal, []provision.Change{change},
			&provision.DoOptions{Actor: actor, JournalIDs: []string{"timebound-42/revoke"}})
		if err != nil {
			log.Fatal(err)
		}
		r = report.Results[0]
		fmt.Println(r.Change.ID, "->", r.State, r.Outcome.Status)
	}
	verified, err := journal.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(verified.Entries, "journal entries verified,", verified.Unfinished, "unfinished")
	// Output:
	// grant group:20000000002:member@user:10000000002 -> applied granted
	// revoke group:20000000002:member@user:10000000002 -> applied revoked
	// revoke group:20000000002:member@user:10000000002 -> done revoked
	// 4 journal entries verified, 0 unfinished
}
