// Command quickstart prints who can do what in a Zendesk account.
//
// With no ZENDESK_SUBDOMAIN set it starts an in-process Zendesk simulator seeded with a
// small demo account, so it runs anywhere with no credentials:
//
//	go run ./examples/quickstart
//
// With ZENDESK_SUBDOMAIN and credentials set it reads that account, read-only:
//
//	ZENDESK_SUBDOMAIN=acme ZENDESK_OAUTH_CLIENT_ID=... ZENDESK_OAUTH_CLIENT_SECRET=... go run ./examples/quickstart
//	ZENDESK_SUBDOMAIN=acme ZENDESK_EMAIL=admin@acme.com ZENDESK_API_TOKEN=... go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is main without the process: it writes to out and reads settings with getenv.
func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	client, live, cleanup, err := connect(getenv)
	if err != nil {
		return err
	}
	defer cleanup()
	if live {
		fmt.Fprintf(out, "Reading %s (read-only).\n\n", client.BaseURL())
	} else {
		fmt.Fprintf(out, "No ZENDESK_SUBDOMAIN set: using the built-in Zendesk simulator with a demo account.\n\n")
	}
	if err := printInventory(ctx, out, client); err != nil {
		return err
	}
	if live {
		return nil
	}
	return governDemo(ctx, out, client)
}

// connect returns a client for the account named by the environment, or for a fresh
// simulator when none is named. live reports which.
func connect(getenv func(string) string) (c *zendesk.Client, live bool, cleanup func(), err error) {
	subdomain := getenv("ZENDESK_SUBDOMAIN")
	if subdomain != "" {
		var auth zendesk.Option
		switch {
		case getenv("ZENDESK_OAUTH_CLIENT_ID") != "":
			auth = zendesk.WithOAuthClientCredentials(getenv("ZENDESK_OAUTH_CLIENT_ID"), getenv("ZENDESK_OAUTH_CLIENT_SECRET"), "read")
		case getenv("ZENDESK_API_TOKEN") != "":
			auth = zendesk.WithAPIToken(getenv("ZENDESK_EMAIL"), getenv("ZENDESK_API_TOKEN"))
		default:
			return nil, false, nil, errors.New("ZENDESK_SUBDOMAIN is set but no credentials: set ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_EMAIL and ZENDESK_API_TOKEN")
		}
		c, err := zendesk.NewClient(subdomain, auth)
		return c, true, func() {}, err
	}
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		return nil, false, nil, err
	}
	cred := srv.Credentials()
	c, err = zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
		zendesk.WithOAuthClientCredentials(cred.OAuthClientID, cred.OAuthClientSecret, "read", "write"))
	if err != nil {
		srv.Close()
		return nil, false, nil, err
	}
	return c, false, srv.Close, nil
}

// printInventory lists users by role, groups with member counts, organizations and
// custom roles, one cursor stream each.
func printInventory(ctx context.Context, out io.Writer, c *zendesk.Client) error {
	byRole := map[zendesk.Role][]zendesk.User{}
	suspended := 0
	for u, err := range c.Users.List(ctx, nil) {
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		byRole[u.Role] = append(byRole[u.Role], u)
		if u.Suspended {
			suspended++
		}
	}
	fmt.Fprintln(out, "Users by role")
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	for _, r := range []zendesk.Role{zendesk.RoleAdmin, zendesk.RoleAgent, zendesk.RoleEndUser} {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", r, len(byRole[r]), sample(byRole[r], 3))
	}
	fmt.Fprintf(tw, "  suspended\t%d\t\n", suspended)
	tw.Flush()

	members := map[int64]int{}
	for m, err := range c.GroupMemberships.List(ctx) {
		if err != nil {
			return fmt.Errorf("list group memberships: %w", err)
		}
		members[m.GroupID]++
	}
	fmt.Fprintln(out, "\nGroups (members)")
	for g, err := range c.Groups.List(ctx) {
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		if g.Deleted {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\n", g.Name, members[g.ID])
	}
	tw.Flush()

	fmt.Fprintln(out, "\nOrganizations")
	for o, err := range c.Organizations.List(ctx) {
		if err != nil {
			return fmt.Errorf("list organizations: %w", err)
		}
		fmt.Fprintf(out, "  %s\n", o.Name)
	}

	fmt.Fprintln(out, "\nCustom roles")
	roles, err := zendesk.Collect(c.CustomRoles.List(ctx))
	switch {
	case errors.Is(err, zendesk.ErrForbidden):
		fmt.Fprintln(out, "  (not available on this plan)")
	case err != nil:
		return fmt.Errorf("list custom roles: %w", err)
	default:
		sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
		for _, r := range roles {
			fmt.Fprintf(tw, "  %s\tteam members: %d\n", r.Name, r.TeamMemberCount)
		}
		tw.Flush()
	}
	return nil
}

func sample(users []zendesk.User, n int) string {
	names := make([]string, 0, n)
	for i := 0; i < len(users) && i < n; i++ {
		names = append(names, users[i].Name)
	}
	if len(users) > n {
		names = append(names, "…")
	}
	return strings.Join(names, ", ")
}
