// Command zendesk-sim serves a seeded, in-memory Zendesk Support API (the
// zendesktest simulator) so that other programs and connectors can be
// pointed at it. It listens on loopback only unless -listen says otherwise,
// prints the base URL and the credentials to use, and serves until
// interrupted.
//
//	go run ./zendesk/zendesktest/cmd/zendesk-sim -users 1000 -agents 50 -groups 20
//
// The account, the credentials and the curl line to try are printed on
// standard output; progress of a large account's generation and notes about
// what could not be generated as asked go to standard error. Exit status: 0
// after an interrupt, 2 for bad flags, 1 when the simulator cannot serve.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

const description = `zendesk-sim serves an in-memory Zendesk Support API (/api/v2 and
/oauth/tokens) seeded with a generated account: users, groups, organizations,
custom roles and memberships. It follows Zendesk's rules, pagination, rate
limits and error bodies, and can inject faults. It prints the base URL, the
credentials (API token and OAuth client) and a curl command to try, then
serves until interrupted.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the simulator could not serve
	exitUsage = 2 // bad flags or arguments
)

// usageError is a problem with the flags: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run is the command: it parses args, generates the account, serves it until
// ctx ends, and returns the exit status. The account and credentials go to
// stdout; progress, notes and errors to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	set, err := parse(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		if ue, ok := errors.AsType[usageError](err); ok {
			fmt.Fprintf(stderr, "zendesk-sim: %s\n", ue.msg)
		} // else the flag package has printed its error
		fmt.Fprintln(stderr, "Run zendesk-sim -h for the flags.")
		return exitUsage
	}
	if err := serve(ctx, set, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "zendesk-sim:", err)
		if _, ok := errors.AsType[usageError](err); ok {
			return exitUsage
		}
		return exitError
	}
	return exitOK
}

// settings is what the flags ask for.
type settings struct {
	opts   []zendesktest.Option
	listen string
}

// parse reads the flags into simulator options. With -h it prints the
// description and usage on stdout and returns flag.ErrHelp.
func parse(args []string, stdout, stderr io.Writer) (settings, error) {
	demo := zendesktest.DemoAccount()
	fs := flag.NewFlagSet("zendesk-sim", flag.ContinueOnError)
	fs.SetOutput(stderr) // where the flag package prints a bad flag
	fs.Usage = func() {} // a bad flag gets one line and a hint, not the whole usage
	listen := fs.String("listen", "127.0.0.1:8089", "address to listen on (loopback unless set explicitly)")
	seed := fs.Int64("seed", demo.Seed, "generator seed")
	users := fs.Int("users", demo.EndUsers, "end-users")
	agents := fs.Int("agents", demo.Agents, "agents")
	admins := fs.Int("admins", demo.Admins, "admins besides the owner")
	groups := fs.Int("groups", demo.Groups, "groups")
	orgs := fs.Int("orgs", demo.Organizations, "organizations")
	gms := fs.Int("group-memberships", demo.GroupMemberships, "group memberships (at least one per agent and admin)")
	oms := fs.Int("org-memberships", demo.OrganizationMemberships, "organization memberships (one per user at most without -multiple-orgs)")
	roles := fs.Int("custom-roles", demo.CustomRoles, "custom roles (Enterprise plans)")
	suspended := fs.Int("suspended", demo.Suspended, "suspended users")
	deleted := fs.Int("deleted", demo.Deleted, "soft-deleted end-users")
	plan := fs.String("plan", string(zendesktest.PlanEnterprise), "plan: team, growth, professional, enterprise, high_volume")
	rpm := fs.Int("rpm", 0, "requests per minute (0 = plan default)")
	noLimit := fs.Bool("no-rate-limit", false, "disable rate limiting")
	hideLimit := fs.Bool("hide-rate-limit", false, "do not send rate-limit headers")
	seats := fs.Int("seats", 0, "agent seats (0 = unlimited)")
	multiOrgs := fs.Bool("multiple-orgs", false, "allow users to belong to multiple organizations")
	bulkImports := fs.Bool("bulk-user-imports", false, "enable users/create_many and create_or_update_many (Zendesk ships them disabled: 403)")
	userUpdates := fs.Int("user-update-limit", 5, "updates of one user allowed per minute (0 = no limit)")
	faultRate := fs.Float64("faults", 0, "probability of an injected fault per request, 0..1")
	faultSeed := fs.Int64("fault-seed", 1, "fault injection seed (with -faults)")
	faultKinds := fs.String("fault-kinds", "", "comma-separated fault kinds (with -faults; default all): 500,502,503,503-retry-after,conn-reset,truncated-body,html-error,429-storm,slow")
	latency := fs.Duration("latency", 0, "latency added to every response")
	tokenTTL := fs.Duration("token-ttl", 2*time.Hour, "OAuth access token lifetime")
	subdomain := fs.String("subdomain", "", "subdomain to report (default zgov-sim)")
	adminEmail := fs.String("admin-email", "", "the account owner's email")
	apiToken := fs.String("api-token", "", "API token (default random)")
	clientID := fs.String("oauth-client-id", "", "OAuth client id")
	clientSecret := fs.String("oauth-client-secret", "", "OAuth client secret (default random)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // asked for: the usage is the answer, on stdout
			fmt.Fprintf(stdout, "%s\n\nUsage: zendesk-sim [flags]\n\nFlags:\n", description)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return settings{}, err
	}
	if fs.NArg() > 0 {
		return settings{}, usagef("unexpected argument %q: zendesk-sim takes flags only", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	for _, c := range []struct {
		name string
		n    int
	}{{"users", *users}, {"agents", *agents}, {"admins", *admins}, {"groups", *groups}, {"orgs", *orgs},
		{"group-memberships", *gms}, {"org-memberships", *oms}, {"custom-roles", *roles},
		{"suspended", *suspended}, {"deleted", *deleted}} {
		if c.n < 0 {
			return settings{}, usagef("-%s must be 0 or more, got %d", c.name, c.n)
		}
	}
	switch {
	case zendesktest.Plan(*plan).RequestsPerMinute() == 0:
		return settings{}, usagef("-plan %q is not one of team, growth, professional, enterprise, high_volume", *plan)
	case *rpm < 0:
		return settings{}, usagef("-rpm must be 0 (the plan's default) or more, got %d", *rpm)
	case *seats < 0:
		return settings{}, usagef("-seats must be 0 (unlimited) or more, got %d", *seats)
	case *userUpdates < 0:
		return settings{}, usagef("-user-update-limit must be 0 (no limit) or more, got %d", *userUpdates)
	case *faultRate < 0 || *faultRate > 1:
		return settings{}, usagef("-faults must be between 0 and 1, got %v", *faultRate)
	case *faultRate == 0 && set["fault-kinds"]:
		return settings{}, usagef("-fault-kinds needs -faults (a rate above 0); without it no fault is injected")
	case *faultRate == 0 && set["fault-seed"]:
		return settings{}, usagef("-fault-seed needs -faults (a rate above 0); without it no fault is injected")
	case *latency < 0:
		return settings{}, usagef("-latency must not be negative, got %v", *latency)
	case *tokenTTL <= 0:
		return settings{}, usagef("-token-ttl must be positive, got %v", *tokenTTL)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return settings{}, usagef("-listen %q: %v", *listen, err)
	}
	if ip := net.ParseIP(host); !set["listen"] && (ip == nil || !ip.IsLoopback()) {
		return settings{}, usagef("refusing to listen on non-loopback %q without an explicit -listen", *listen)
	}

	spec := zendesktest.AccountSpec{Seed: *seed, EndUsers: *users, Agents: *agents, Admins: *admins,
		Groups: *groups, Organizations: *orgs, GroupMemberships: *gms, OrganizationMemberships: *oms,
		CustomRoles: *roles, Suspended: *suspended, Deleted: *deleted}
	opts := []zendesktest.Option{
		zendesktest.WithPlan(zendesktest.Plan(*plan)),
		zendesktest.WithAccount(spec),
		zendesktest.WithRateLimit(*rpm),
		zendesktest.WithAdvertiseRateLimit(!*hideLimit),
		zendesktest.WithMultipleOrganizations(*multiOrgs),
		zendesktest.WithBulkUserImports(*bulkImports),
		zendesktest.WithUserUpdateLimit(*userUpdates),
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
					return settings{}, usagef("-fault-kinds: %q is not one of %s", strings.TrimSpace(name), faultKindNames())
				}
				f.Kinds = append(f.Kinds, k)
			}
		}
		opts = append(opts, zendesktest.WithFaults(f))
	}
	return settings{opts: opts, listen: *listen}, nil
}

func faultKindNames() string {
	var names []string
	for _, k := range append(zendesktest.AllFaultKinds(), zendesktest.FaultSlow) {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// serve generates the account, prints how to reach it and serves it until
// ctx ends. Errors building the simulator are usage errors: the flags asked
// for something it refuses.
func serve(ctx context.Context, set settings, stdout, stderr io.Writer) error {
	start := time.Now()
	progress := &progressPrinter{w: stderr}
	sim, err := zendesktest.New(append(set.opts, zendesktest.WithGenerateProgress(progress.report))...)
	if err != nil {
		return usageError{err.Error()}
	}
	defer sim.Close()
	elapsed := time.Since(start)
	for _, note := range sim.GenerateNotes() {
		fmt.Fprintf(stderr, "zendesk-sim: note: %s\n", note)
	}
	ln, err := net.Listen("tcp", set.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}

	cr := sim.Credentials()
	c := sim.Counts()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "zendesk-sim: %d users (%d admins, %d agents, %d end-users), %d groups, %d organizations, %d+%d memberships, generated in %v\n",
		c.Admins+c.Agents+c.EndUsers, c.Admins, c.Agents, c.EndUsers, c.Groups, c.Organizations,
		c.GroupMemberships, c.OrganizationMemberships, elapsed.Round(time.Millisecond))
	// This is a test server: printing its own credentials is the point.
	fmt.Fprintf(stdout, "base URL:            %s  (API: %s/api/v2)\n", base, base)
	fmt.Fprintf(stdout, "subdomain:           %s\n", cr.Subdomain)
	fmt.Fprintf(stdout, "admin email:         %s\n", cr.AdminEmail)
	fmt.Fprintf(stdout, "API token:           %s\n", cr.APIToken)
	fmt.Fprintf(stdout, "OAuth client id:     %s\n", cr.OAuthClientID)
	fmt.Fprintf(stdout, "OAuth client secret: %s\n", cr.OAuthClientSecret)
	fmt.Fprintf(stdout, "try: %s\n", curlLine(cr.AdminEmail+"/token:"+cr.APIToken, base+"/api/v2/users.json?page[size]=2"))

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

// curlLine is a curl command that a POSIX shell runs as is: single-quoted
// arguments, and -g so that curl does not read the brackets of page[size]
// as a glob range.
func curlLine(userPass, url string) string {
	return "curl -g -u " + shellQuote(userPass) + " " + shellQuote(url)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// progressPrinter prints the generator's progress on stages of at least
// bigStage records, once per tenth of the stage: small accounts are
// generated in a blink and print nothing.
type progressPrinter struct {
	w         io.Writer
	lastTenth map[string]int
}

const bigStage = 100_000

func (p *progressPrinter) report(g zendesktest.GenerateProgress) {
	if g.Total < bigStage {
		return
	}
	if p.lastTenth == nil {
		p.lastTenth = map[string]int{}
	}
	tenth := g.Done * 10 / g.Total
	if last, seen := p.lastTenth[g.Stage]; seen && tenth <= last {
		return
	}
	p.lastTenth[g.Stage] = tenth
	fmt.Fprintf(p.w, "zendesk-sim: generating %s: %3d%% (%d of %d)\n", g.Stage, g.Done*100/g.Total, g.Done, g.Total)
}
