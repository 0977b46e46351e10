package provision_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// ExampleStore_Limiter paces two workers on one Zendesk account to one
// budget of 700 requests a minute, shared through their database: each
// opens the store and gives its client the account's shared limiter in
// place of the client's own. Workers on other hosts would open one
// PostgreSQL database (postgres://...) instead of a SQLite file.
func ExampleStore_Limiter() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer(zendesktest.WithRateLimit(700))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	dir, err := os.MkdirTemp("", "zgov")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "sqlite:" + filepath.ToSlash(filepath.Join(dir, "zgov.db")) // or postgres://...

	work := func(worker int) { // in a process of its own, each
		store, err := provision.OpenStore(ctx, dsn)
		if err != nil {
			log.Fatal(err)
		}
		defer store.Close()
		lim, err := store.Limiter(cr.Subdomain, 700) // one bucket per account
		if err != nil {
			log.Fatal(err)
		}
		client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithLimiter(lim),
			zendesk.WithBaseURL(srv.URL), // only for the simulator
			zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
		if err != nil {
			log.Fatal(err)
		}
		me, _, err := client.Users.Me(ctx) // waits for a token of the shared bucket first
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("worker %d acts as %s (%s)\n", worker, me.Email, me.Role)
	}
	work(1)
	work(2)
	fmt.Println("answered 429:", srv.Stats().Throttled)
	// Output:
	// worker 1 acts as owner@zgov-sim.example.com (admin)
	// worker 2 acts as owner@zgov-sim.example.com (admin)
	// answered 429: 0
}
