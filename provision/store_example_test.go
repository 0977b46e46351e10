package provision_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// ExampleOpenStore keeps a plan and the journal in one database: one
// process saves the plan for review, the next lists the saved plans, loads
// the reviewed one (checked against its hash) and journals its changes
// next to it. With "postgres://user:password@host:5432/zgov" the processes
// may run on different machines.
func ExampleOpenStore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "zgov")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "sqlite:" + filepath.ToSlash(filepath.Join(dir, "zgov.db")) // or postgres://...

	// The planning process.
	plan, err := examplePlan(ctx)
	if err != nil {
		log.Fatal(err)
	}
	store, err := provision.OpenStore(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.SavePlan(ctx, plan); err != nil { // sets plan.Hash
		log.Fatal(err)
	}
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}

	// The applying process, after review.
	store, err = provision.OpenStore(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	plans, err := store.Plans(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range plans {
		fmt.Printf("saved: plan for %s account %s, made %s, changes: %d\n", p.Backend, p.Account, p.CreatedAt.Format(time.RFC3339), p.Changes)
	}
	loaded, err := store.LoadPlan(ctx, plans[0].Hash)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range loaded.Changes {
		fmt.Println("loaded:", c.ID)
	}
	// The journal lives in the same database; Apply carries the plan out.
	journal, err := provision.NewJournal(store.Journal())
	if err != nil {
		log.Fatal(err)
	}
	_ = journal // provision.Apply(ctx, sys, journal, loaded, opts)
	// Output:
	// saved: plan for zendesk account zgov-sim, made 2026-03-01T09:00:00Z, changes: 1
	// loaded: grant group:20000000002:member@user:10000000002
}

// examplePlan plans Ann into the group Tier 2, on a simulated account.
func examplePlan(ctx context.Context) (*provision.Plan, error) {
	srv, err := zendesktest.NewServer()
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	srv.AddGroup("Tier 2")
	if _, err := srv.AddUser(zendesktest.UserSpec{Name: "Ann", Email: "ann@example.com", Role: zendesktest.RoleAgent}); err != nil {
		return nil, err
	}
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		return nil, err
	}
	b, err := zendeskaccess.New(client, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		return nil, err
	}
	at := func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }
	snap, err := access.Sync(ctx, b, &access.SyncOptions{Now: at})
	if err != nil {
		return nil, err
	}
	policy, err := provision.ParsePolicy("policy.yaml", []byte("rules:\n  - {directory_group: Support, role: agent, groups: [Tier 2]}\n"))
	if err != nil {
		return nil, err
	}
	dir, err := provision.ParseDirectory("directory.yaml", []byte("groups:\n  - {name: Support, members: [ann@example.com]}\n"))
	if err != nil {
		return nil, err
	}
	return provision.NewPlan(ctx, policy, dir, snap, &provision.PlanOptions{Now: at})
}
