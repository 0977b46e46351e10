package provision_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// ExampleTimeBound grants agent Diego Fischer (user 10000000003 of the
// simulator's demo account) the Billing group (20000000002) for four hours,
// with a worker running in the process, and shows that a snapshot taken with
// the open grants' marks treats the grant as time-bound. (It is the README's
// "Time-bound access" sample; "sqlite::memory:" keeps the state in memory.)
func ExampleTimeBound() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sys, closeSim := demoSystem()
	defer closeSim()
	dsn := "sqlite::memory:"

	store, err := provision.OpenStore(ctx, dsn) // "sqlite:///var/lib/zgov/zgov.db", or "postgres://..." for many workers
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	journal, err := provision.NewJournal(store.Journal())
	if err != nil {
		log.Fatal(err)
	}
	tb, err := provision.NewTimeBound(ctx, store, sys, journal, nil)
	if err != nil {
		log.Fatal(err)
	}
	worker := make(chan error, 1)
	go func() { worker <- tb.Run(ctx) }() // revokes at expiry; more workers may run anywhere (examples/jit-worker)
	g, err := tb.Grant(ctx, provision.TimeBoundRequest{
		PrincipalID: "user:10000000003", EntitlementID: "group:20000000002:member", For: 4 * time.Hour,
		Actor: provision.JournalActor{Who: "ann@example.com", Reason: "month-end close", Source: "ticket:FIN-7"},
	})
	if err != nil {
		log.Fatal(err) // the record and its expiry job commit together, then the grant is made
	}
	fmt.Println(g.GrantID(), g.State, "for", g.ExpiresAt.Sub(g.CreatedAt))

	// Plans treat a marked grant as held until it ends: they neither revoke
	// it nor grant it again as standing access.
	marks, err := tb.Marks(ctx)
	if err != nil {
		log.Fatal(err)
	}
	snap, err := sys.Sync(ctx, &access.SyncOptions{TimeBound: marks})
	if err != nil {
		log.Fatal(err)
	}
	rec, _ := snap.Grant(g.GrantID())
	until, marked := rec.ExpiresAt()
	fmt.Println("time-bound in the snapshot:", marked, until.Equal(g.ExpiresAt.Truncate(time.Second)))

	stop()
	if err := <-worker; err != nil {
		log.Fatal(err)
	}
	// Output:
	// group:20000000002:member@user:10000000003 active for 4h0m0s
	// time-bound in the snapshot: true true
}

// demoSystem returns a System over a simulator of the demo account, and a
// function that stops the simulator.
func demoSystem() (*access.System, func()) {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	cred := srv.Credentials()
	client, err := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
		zendesk.WithOAuthClientCredentials(cred.OAuthClientID, cred.OAuthClientSecret, "read", "write"))
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
	return sys, srv.Close
}

// This example moves the end of a time-bound grant with Extend and ends it
// early with End; a time-bound grant of access its holder had before
// (standing access) ends with that access kept. The journal holds each
// grant and revoke, and the decision to keep.
func ExampleTimeBound_End() {
	ctx := context.Background()
	sys := newExampleSystem() // Ann (user:1) is in Billing (group:10), Bob (user:2) is not
	store, err := provision.OpenStore(ctx, "sqlite::memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	journal, err := provision.NewJournal(store.Journal())
	if err != nil {
		log.Fatal(err)
	}
	tb, err := provision.NewTimeBound(ctx, store, sys, journal, nil)
	if err != nil {
		log.Fatal(err)
	}
	actor := provision.JournalActor{Who: "ann@example.com", Reason: "month-end close"}
	inBilling := func(principal string) bool {
		gs, err := sys.GrantsFor(ctx, principal)
		if err != nil {
			log.Fatal(err)
		}
		for _, g := range gs {
			if g.ID() == access.GrantID("group:10:member", principal) {
				return true
			}
		}
		return false
	}

	bob, err := tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: "user:2", EntitlementID: "group:10:member", For: 4 * time.Hour, Actor: actor})
	if err != nil {
		log.Fatal(err)
	}
	bob, err = tb.Extend(ctx, bob.ID, bob.ExpiresAt.Add(2*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob:", bob.State, "for", bob.ExpiresAt.Sub(bob.CreatedAt), "standing:", bob.Standing)
	bob, err = tb.End(ctx, bob.ID, provision.JournalActor{Who: "ann@example.com", Reason: "the close is done"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob:", bob.State, "by", bob.EndedBy, "- in Billing:", inBilling("user:2"))

	ann, err := tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: "user:1", EntitlementID: "group:10:member", For: time.Hour, Actor: actor})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ann:", ann.State, "standing:", ann.Standing)
	ann, err = tb.End(ctx, ann.ID, provision.JournalActor{Who: "ann@example.com", Reason: "the close is done"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ann:", ann.State, "by", ann.EndedBy, "- in Billing:", inBilling("user:1"))

	for e, err := range journal.Entries(ctx, 0) {
		if err != nil {
			log.Fatal(err)
		}
		if e.Outcome != nil {
			fmt.Println("journal:", e.Op.Name, e.Op.PrincipalID, e.Outcome.Status)
		}
	}
	// Output:
	// bob: active for 6h0m0s standing: false
	// bob: ended by end:ann@example.com - in Billing: false
	// ann: active standing: true
	// ann: kept by end:ann@example.com - in Billing: true
	// journal: grant user:2 granted
	// journal: revoke user:2 revoked
	// journal: grant user:1 already_granted
	// journal: revoke user:1 kept
}
