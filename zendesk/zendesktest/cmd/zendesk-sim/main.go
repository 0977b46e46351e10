// Command zendesk-sim serves a seeded, in-memory Zendesk Support API (the
// zendesktest simulator) so that other programs and connectors can be
// pointed at it. It listens on loopback only unless -listen says otherwise,
// prints the base URL and the credentials to use, and serves until
// interrupted.
//
//	go run ./zendesk/zendesktest/cmd/zendesk-sim -users 1000 -agents 50 -groups 20
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "zendesk-sim:", err)
		os.Exit(1)
	}
}

func run(args []string, out *os.File) error {
	demo := zendesktest.DemoAccount()
	fs := flag.NewFlagSet("zendesk-sim", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8089", "address to listen on (loopback unless set explicitly)")
	seed := fs.Int64("seed", demo.Seed, "generator seed")
	users := fs.Int("users", demo.EndUsers, "end-users")
	agents := fs.Int("agents", demo.Agents, "agents")
	admins := fs.Int("admins", demo.Admins, "admins besides the owner")
	groups := fs.Int("groups", demo.Groups, "groups")
	orgs := fs.Int("orgs", demo.Organizations, "organizations")
	gms := fs.Int("group-memberships", demo.GroupMemberships, "group memberships")
	oms := fs.Int("org-memberships", demo.OrganizationMemberships, "organization memberships")
	roles := fs.Int("custom-roles", demo.CustomRoles, "custom roles (Enterprise plans)")
	suspended := fs.Int("suspended", demo.Suspended, "suspended users")
	deleted := fs.Int("deleted", demo.Deleted, "soft-deleted end-users")
	plan := fs.String("plan", string(zendesktest.PlanEnterprise), "plan: team, growth, professional, enterprise, high_volume")
	rpm := fs.Int("rpm", 0, "requests per minute (0 = plan default)")
	noLimit := fs.Bool("no-rate-limit", false, "disable rate limiting")
	hideLimit := fs.Bool("hide-rate-limit", false, "do not send rate-limit headers")
	seats := fs.Int("seats", 0, "agent seats (0 = unlimited)")
	multiOrgs := fs.Bool("multiple-orgs", false, "allow users to belong to multiple organizations")
	faultRate := fs.Float64("faults", 0, "probability of an injected fault per request, 0..1")
	faultSeed := fs.Int64("fault-seed", 1, "fault injection seed")
	faultKinds := fs.String("fault-kinds", "", "comma-separated fault kinds (default all): 500,502,503,503-retry-after,conn-reset,truncated-body,html-error,429-storm,slow")
	latency := fs.Duration("latency", 0, "latency added to every response")
	tokenTTL := fs.Duration("token-ttl", 2*time.Hour, "OAuth access token lifetime")
	subdomain := fs.String("subdomain", "", "subdomain to report (default zgov-sim)")
	adminEmail := fs.String("admin-email", "", "the account owner's email")
	apiToken := fs.String("api-token", "", "API token (default random)")
	clientID := fs.String("oauth-client-id", "", "OAuth client id")
	clientSecret := fs.String("oauth-client-secret", "", "OAuth client secret (default random)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicitListen := false
	fs.Visit(func(f *flag.Flag) { explicitListen = explicitListen || f.Name == "listen" })

	opts := []zendesktest.Option{
		zendesktest.WithPlan(zendesktest.Plan(*plan)),
		zendesktest.WithAccount(zendesktest.AccountSpec{Seed: *seed, EndUsers: *users, Agents: *agents, Admins: *admins,
			Groups: *groups, Organizations: *orgs, GroupMemberships: *gms, OrganizationMemberships: *oms,
			CustomRoles: *roles, Suspended: *suspended, Deleted: *deleted}),
		zendesktest.WithRateLimit(*rpm),
		zendesktest.WithAdvertiseRateLimit(!*hideLimit),
		zendesktest.WithMultipleOrganizations(*multiOrgs),
		zendesktest.WithLatency(*latency),
		zendesktest.WithTokenTTL(*tokenTTL),
		zendesktest.WithCredentials(zendesktest.Credentials{Subdomain: *subdomain, AdminEmail: *adminEmail,
			APIToken: *apiToken, OAuthClientID: *clientID, OAuthClientSecret: *clientSecret}),
	}
	if *noLimit {
		opts = append(opts, zendesktest.WithoutRateLimit())
	}
	if *seats > 0 {
		opts = append(opts, zendesktest.WithAgentSeats(*seats))
	}
	if *faultRate > 0 {
		f := zendesktest.Faults{Seed: *faultSeed, Rate: *faultRate}
		if *faultKinds != "" {
			for _, name := range strings.Split(*faultKinds, ",") {
				k, err := zendesktest.ParseFaultKind(strings.TrimSpace(name))
				if err != nil {
					return err
				}
				f.Kinds = append(f.Kinds, k)
			}
		}
		opts = append(opts, zendesktest.WithFaults(f))
	}

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", *listen, err)
	}
	if ip := net.ParseIP(host); !explicitListen && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing to listen on non-loopback %q without an explicit -listen", *listen)
	}

	start := time.Now()
	sim, err := zendesktest.New(opts...)
	if err != nil {
		return err
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}

	cr := sim.Credentials()
	c := sim.Counts()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "zendesk-sim: %d users (%d admins, %d agents, %d end-users), %d groups, %d organizations, %d+%d memberships, generated in %v\n",
		c.Admins+c.Agents+c.EndUsers, c.Admins, c.Agents, c.EndUsers, c.Groups, c.Organizations,
		c.GroupMemberships, c.OrganizationMemberships, time.Since(start).Round(time.Millisecond))
	// This is a test server: printing its own credentials is the point.
	fmt.Fprintf(out, "base URL:            %s  (API: %s/api/v2)\n", base, base)
	fmt.Fprintf(out, "subdomain:           %s\n", cr.Subdomain)
	fmt.Fprintf(out, "admin email:         %s\n", cr.AdminEmail)
	fmt.Fprintf(out, "API token:           %s\n", cr.APIToken)
	fmt.Fprintf(out, "OAuth client id:     %s\n", cr.OAuthClientID)
	fmt.Fprintf(out, "OAuth client secret: %s\n", cr.OAuthClientSecret)
	fmt.Fprintf(out, "try: curl -u '%s/token:%s' '%s/api/v2/users.json?page[size]=2'\n", cr.AdminEmail, cr.APIToken, base)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
