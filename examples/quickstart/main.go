// Command quickstart prints who can do what in a Zendesk account.
//
// With no ZENDESK_SUBDOMAIN set it starts an in-process Zendesk simulator seeded with a
// small demo account, so it runs anywhere with no credentials: it prints an inventory,
// takes a snapshot, grants one access, takes a second snapshot and prints the difference.
// Then it provisions day-one access: from a policy and a directory (policy.yaml and
// directory.yaml, embedded) it plans account creations and grants, prints the plan,
// applies it with a journal, and verifies and exports the journal. Last it grants an
// agent a group for three seconds, runs the worker that ends time-bound grants, and
// prints the revoke at expiry and its journal entries. Then it runs a small access review
// in the same database: a campaign over groups and custom roles, decided in code by their
// owners, closed with its revokes carried out through provision and verified, and its
// evidence exported (each file's size and SHA-256 printed). The state is a SQLite file in
// a temporary directory, removed at the end with the evidence unless -keep-state keeps
// them. A second run given the kept file (-state) finds the earlier grants and their
// journal in it.
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart -keep-state    # prints where the file is
//	go run ./examples/quickstart -state /tmp/zgov-quickstart-123/zgov.db
//
// With ZENDESK_SUBDOMAIN and credentials set it syncs that account into a snapshot,
// read-only, and prints a summary of it (counts by kind and the snapshot's hash), with
// progress on stderr. It never grants, revokes or changes anything there: every request
// it sends is a GET, except the POST that asks for an OAuth token.
//
//	ZENDESK_SUBDOMAIN=acme ZENDESK_OAUTH_CLIENT_ID=... ZENDESK_OAUTH_CLIENT_SECRET=... go run ./examples/quickstart
//	ZENDESK_SUBDOMAIN=acme ZENDESK_EMAIL=admin@acme.com ZENDESK_API_TOKEN=... go run ./examples/quickstart
//
// ZENDESK_BASE_URL, or the -base-url flag, sends the requests elsewhere than
// https://{subdomain}.zendesk.com, for example to a zendesk-sim started with
// go run ./zendesk/zendesktest/cmd/zendesk-sim, which prints its URL and credentials.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// errUsage marks a command line the flag package refused (and has explained on stderr).
var errUsage = errors.New("usage")

// run is main without the process: it reads the command line from args and settings
// with getenv, and writes the results to stdout and progress to stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The environment is read after parsing, not shown as the flag's default: the usage
	// must not print a URL that might carry a password.
	baseURL := fs.String("base-url", "",
		"send requests to this URL instead of https://{ZENDESK_SUBDOMAIN}.zendesk.com (default $ZENDESK_BASE_URL)")
	var st stateOptions
	fs.StringVar(&st.path, "state", "",
		"simulator demo: keep the time-bound grants and the journal in this SQLite file (created if missing, never removed)")
	fs.BoolVar(&st.keep, "keep-state", false,
		"simulator demo: keep the temporary SQLite file of the time-bound grants and print its path")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: quickstart takes only flags", fs.Arg(0))
	}
	if *baseURL == "" {
		*baseURL = getenv("ZENDESK_BASE_URL")
	}

	if getenv("ZENDESK_SUBDOMAIN") == "" && *baseURL == "" {
		return runDemo(ctx, stdout, stderr, st)
	}
	if st.path != "" || st.keep {
		return errors.New("-state and -keep-state are for the demo on the simulator: on a real account the quickstart only reads")
	}
	client, how, err := connectLive(getenv, *baseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Reading %s read-only (%s).\n\n", client.BaseURL(), how)
	return syncLive(ctx, stdout, stderr, client)
}

// runDemo runs the quickstart against a fresh simulator: inventory, a grant, day-one
// access from a policy and a directory, then a time-bound grant (with its state as st
// says, and a countdown on progress).
func runDemo(ctx context.Context, out, progress io.Writer, st stateOptions) error {
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		return err
	}
	defer srv.Close()
	cred := srv.Credentials()
	c, err := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
		zendesk.WithOAuthClientCredentials(cred.OAuthClientID, cred.OAuthClientSecret, "read", "write"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "No ZENDESK_SUBDOMAIN set: using the built-in Zendesk simulator with a demo account.\n\n")
	if err := printInventory(ctx, out, c); err != nil {
		return err
	}
	if err := governDemo(ctx, out, c); err != nil {
		return err
	}
	if err := dayOneDemo(ctx, out, srv, c); err != nil {
		return err
	}
	return timeBoundDemo(ctx, out, progress, srv, c, st)
}

// connectLive returns a read-only client for the account the environment names, and
// says how it authenticates. Error messages never include a credential.
func connectLive(getenv func(string) string, baseURL string) (*zendesk.Client, string, error) {
	subdomain := getenv("ZENDESK_SUBDOMAIN")
	if subdomain == "" {
		return nil, "", errors.New("a base URL is set (ZENDESK_BASE_URL or -base-url) but ZENDESK_SUBDOMAIN is not: " +
			"set it and the credentials too (zendesk-sim prints all of them)")
	}
	var auth zendesk.Option
	var how string
	switch {
	case getenv("ZENDESK_OAUTH_CLIENT_ID") != "":
		// The token may only read: even a bug here could not change the account.
		auth = zendesk.WithOAuthClientCredentials(getenv("ZENDESK_OAUTH_CLIENT_ID"), getenv("ZENDESK_OAUTH_CLIENT_SECRET"), "read")
		how = "OAuth client credentials, scope read"
	case getenv("ZENDESK_API_TOKEN") != "":
		auth = zendesk.WithAPIToken(getenv("ZENDESK_EMAIL"), getenv("ZENDESK_API_TOKEN"))
		how = "API token of " + getenv("ZENDESK_EMAIL")
	default:
		return nil, "", errors.New("ZENDESK_SUBDOMAIN is set but no credentials: set ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_EMAIL and ZENDESK_API_TOKEN")
	}
	opts := []zendesk.Option{auth,
		zendesk.WithHTTPClient(&http.Client{Transport: readOnly{next: http.DefaultTransport}})}
	if baseURL != "" {
		// Checked here so that a malformed URL is never echoed: it could hold a password.
		u, err := url.Parse(baseURL)
		switch {
		case err != nil:
			return nil, "", errors.New("the base URL (ZENDESK_BASE_URL or -base-url) is not a valid URL")
		case u.User != nil:
			return nil, "", errors.New("the base URL (ZENDESK_BASE_URL or -base-url) must not carry credentials: use the ZENDESK_* variables")
		}
		opts = append(opts, zendesk.WithBaseURL(baseURL))
	}
	c, err := zendesk.NewClient(subdomain, opts...)
	if err != nil {
		return nil, "", err
	}
	return c, how, nil
}

// readOnly is the innermost transport of the live client: it refuses, without sending
// it, any request other than a GET or HEAD, except the POST to /oauth/tokens that asks for
// a token. The quickstart never writes to a real account; this makes sure of it.
type readOnly struct{ next http.RoundTripper }

func (t readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.Method == http.MethodGet, req.Method == http.MethodHead,
		req.Method == http.MethodPost && strings.TrimSuffix(req.URL.Path, "/") == "/oauth/tokens":
		return t.next.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, fmt.Errorf("quickstart is read-only on a live account: refused to send %s %s", req.Method, req.URL.Path)
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
