// Command syncbench measures what a full sync of a Zendesk account costs: it starts a
// seeded simulator, syncs it through the zendesk client and the Zendesk backend, and
// reports requests against the minimum the API allows, 429s, wall time against a floor
// no client could beat, and peak heap.
//
//	go run ./examples/syncbench -users 10000 -agents 1000 -groups 100 -orgs 2000 -rpm 700
//
// The floor (floor_s) is a lower bound on the wall time of any sync of the account
// against this simulator: the larger of
//
//   - the rate floor: the simulator's budget is a token bucket that holds -rpm requests
//     and refills at -rpm per minute, starting full, so N requests take at least
//     (N - rpm) / (rpm/60) seconds, and no time at all when N <= rpm;
//   - the latency floor: every response waits -latency, the account settings and custom
//     roles are read before the streams start, and a cursor stream of k pages sends its
//     requests one after another, so a sync takes at least (1 + k) * latency for its
//     longest stream.
//
// N is the minimum number of requests (min_requests); retries only add to it.
//
// -rpm 0 means no rate limit at all: the simulator enforces none and the client does not
// pace itself, so the floor is the latency floor alone. Negative sizes, rates and
// latencies are refused with exit status 2.
//
// Its last line is one JSON object, for scripts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/zgov-io/zgov/internal/measure"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// params are the command's flags.
type params struct {
	users, agents, admins, groups, orgs int
	groupMemberships, orgMemberships    int
	customRoles                         int
	rpm                                 int
	latency                             time.Duration
	faults                              float64
	faultSeed, seed                     int64
	multipleOrgs                        bool
	allUsers                            bool
}

// result is the JSON summary, the last line of output.
type result struct {
	Requests       int64   `json:"requests"`
	MinRequests    int     `json:"min_requests"`
	Throttled      int     `json:"throttled"`
	FaultsInjected int     `json:"faults_injected"`
	WallS          float64 `json:"wall_s"`
	FloorS         float64 `json:"floor_s"`         // max(rate_floor_s, latency_floor_s)
	RateFloorS     float64 `json:"rate_floor_s"`    // (min_requests - rpm) / (rpm/60), at least 0; 0 when rpm is 0
	LatencyFloorS  float64 `json:"latency_floor_s"` // (1 + pages of the longest stream) * latency
	Resources      int     `json:"resources"`
	Grants         int     `json:"grants"`
	PeakHeapMB     float64 `json:"peak_heap_mb"`
	BaseHeapMB     float64 `json:"base_heap_mb"`
	SnapshotSHA256 string  `json:"snapshot_sha256"`
	RPM            int     `json:"rpm"`
	LatencyMS      int64   `json:"latency_ms"`
	Faults         float64 `json:"faults"`
}

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// cli is main without the process: it parses args, runs the benchmark and returns the
// exit status: 0, 1 if the run failed, 2 for flags it refuses.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if err := run(ctx, stdout, p); err != nil {
		fmt.Fprintln(stderr, "syncbench:", err)
		return 1
	}
	return 0
}

// parseFlags parses and checks the command line. Errors have been written to stderr.
func parseFlags(args []string, stderr io.Writer) (params, error) {
	var p params
	fs := flag.NewFlagSet("syncbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&p.users, "users", 1000, "end-users in the account")
	fs.IntVar(&p.agents, "agents", 100, "agents in the account")
	fs.IntVar(&p.admins, "admins", 5, "admins in the account (besides the owner)")
	fs.IntVar(&p.groups, "groups", 20, "groups")
	fs.IntVar(&p.orgs, "orgs", 200, "organizations")
	fs.IntVar(&p.groupMemberships, "group-memberships", 0, "group memberships (default: 3 per agent or admin)")
	fs.IntVar(&p.orgMemberships, "org-memberships", 0, "organization memberships (default: one per end-user)")
	fs.IntVar(&p.customRoles, "custom-roles", 5, "custom roles (Enterprise)")
	fs.IntVar(&p.rpm, "rpm", 700, "the simulator's rate limit, requests per minute (0: no rate limit, neither in the simulator nor in the client)")
	fs.DurationVar(&p.latency, "latency", 0, "latency the simulator adds to every response")
	fs.Float64Var(&p.faults, "faults", 0, "fraction of requests that fail with injected faults (0 to 1)")
	fs.Int64Var(&p.faultSeed, "fault-seed", 7, "seed of the fault injection")
	fs.Int64Var(&p.seed, "seed", 1, "seed of the generated account")
	fs.BoolVar(&p.multipleOrgs, "multiple-orgs", false, "turn on the multiple-organizations setting")
	fs.BoolVar(&p.allUsers, "all-users", false, "sync all users, not only team members")
	if err := fs.Parse(args); err != nil {
		return p, err // the flag package has printed it, with the usage
	}
	err := p.validate()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: syncbench takes only flags", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, "syncbench:", err)
		fmt.Fprintln(stderr, "run 'syncbench -h' for the flags")
	}
	return p, err
}

// validate refuses negative sizes, rates and latencies, and a fault rate outside [0, 1].
func (p params) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"users", p.users}, {"agents", p.agents}, {"admins", p.admins}, {"groups", p.groups},
		{"orgs", p.orgs}, {"group-memberships", p.groupMemberships}, {"org-memberships", p.orgMemberships},
		{"custom-roles", p.customRoles}, {"rpm", p.rpm},
	} {
		if f.v < 0 {
			return fmt.Errorf("-%s %d is negative", f.name, f.v)
		}
	}
	if p.latency < 0 {
		return fmt.Errorf("-latency %v is negative", p.latency)
	}
	if !(p.faults >= 0 && p.faults <= 1) { // also refuses NaN
		return fmt.Errorf("-faults %v is not between 0 and 1", p.faults)
	}
	return nil
}

// run runs the benchmark described by p and writes the report to out, the JSON summary
// last.
func run(ctx context.Context, out io.Writer, p params) error {
	if err := p.validate(); err != nil {
		return err
	}
	if p.groupMemberships == 0 {
		p.groupMemberships = 3 * (p.agents + p.admins)
	}
	if p.orgMemberships == 0 {
		p.orgMemberships = p.users
	}
	opts := []zendesktest.Option{
		zendesktest.WithAccount(zendesktest.AccountSpec{
			Seed: p.seed, EndUsers: p.users, Agents: p.agents, Admins: p.admins,
			Groups: p.groups, Organizations: p.orgs, GroupMemberships: p.groupMemberships,
			OrganizationMemberships: p.orgMemberships, CustomRoles: p.customRoles,
		}),
		zendesktest.WithMultipleOrganizations(p.multipleOrgs),
		zendesktest.WithRequestLog(0),
	}
	if p.rpm > 0 {
		opts = append(opts, zendesktest.WithRateLimit(p.rpm))
	} else {
		// zendesktest.WithRateLimit(0) would mean the plan's default, not "none".
		opts = append(opts, zendesktest.WithoutRateLimit())
	}
	if p.latency > 0 {
		opts = append(opts, zendesktest.WithLatency(p.latency))
	}
	if p.faults > 0 {
		opts = append(opts, zendesktest.WithFaults(zendesktest.Faults{Seed: p.faultSeed, Rate: p.faults, RetryAfter: 1, StormLength: 3}))
	}
	srv, err := zendesktest.NewServer(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	counts := srv.Counts()

	cred := srv.Credentials()
	clientOpts := []zendesk.Option{zendesk.WithBaseURL(srv.URL),
		zendesk.WithAPIToken(cred.AdminEmail, cred.APIToken),
		zendesk.WithMaxRetries(10), zendesk.WithRetryWait(50*time.Millisecond, 2*time.Second)}
	if p.rpm == 0 {
		// The unlimited simulator still advertises its plan's limit, which the client
		// would pace itself to.
		clientOpts = append(clientOpts, zendesk.WithLimiter(measure.Unlimited{}))
	}
	client, err := zendesk.NewClient(cred.Subdomain, clientOpts...)
	if err != nil {
		return err
	}
	scope := zendeskaccess.ScopeTeamMembers
	if p.allUsers {
		scope = zendeskaccess.ScopeAllUsers
	}
	backend, err := zendeskaccess.New(client, zendeskaccess.WithScope(scope))
	if err != nil {
		return err
	}

	runtime.GC()
	base := measure.HeapInUse()
	peak := measure.StartPeakSampler(20 * time.Millisecond)
	start := time.Now()
	snap, err := access.Sync(ctx, backend, &access.SyncOptions{Now: func() time.Time { return time.Unix(0, 0).UTC() }})
	wall := time.Since(start)
	peakHeap := peak.Stop()
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	stats := srv.Stats()

	streams := expectedStreams(counts, p)
	minReq, longest := 0, 0
	for _, s := range streams {
		minReq += s.pages
		if s.chain {
			longest = max(longest, s.pages)
		}
	}
	rounds := 1 + longest // the account state, then the longest stream
	fl := floorOf(minReq, p.rpm, rounds, p.latency)

	c := snap.Counts()
	r := result{
		Requests: snap.Provenance().Requests, MinRequests: minReq, Throttled: stats.Throttled,
		FaultsInjected: stats.Faults, WallS: measure.Round(wall.Seconds()),
		FloorS: measure.Round(fl.total().Seconds()), RateFloorS: measure.Round(fl.rate.Seconds()), LatencyFloorS: measure.Round(fl.latency.Seconds()),
		Resources: c.Resources, Grants: c.Grants, PeakHeapMB: measure.Round(measure.MB(peakHeap)), BaseHeapMB: measure.Round(measure.MB(base)),
		SnapshotSHA256: snap.Hash(), RPM: p.rpm, LatencyMS: p.latency.Milliseconds(), Faults: p.faults,
	}
	// Encode before printing anything, so that the report always ends with its summary.
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode the summary: %w", err)
	}

	rpm := fmt.Sprintf("%d rpm", p.rpm)
	if p.rpm == 0 {
		rpm = "no rate limit"
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "account\t%d end-users, %d agents, %d admins, %d groups, %d orgs, %d group memberships, %d org memberships\n",
		counts.EndUsers, counts.Agents, counts.Admins+1, counts.Groups, counts.Organizations, counts.GroupMemberships, counts.OrganizationMemberships)
	fmt.Fprintf(tw, "simulator\t%s, latency %s, faults %.0f%% (%d injected)\n", rpm, p.latency, 100*p.faults, stats.Faults)
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintf(tw, "stream\texpected pages\n")
	for _, s := range streams {
		fmt.Fprintf(tw, "%s\t%d\n", s.name, s.pages)
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintf(tw, "endpoint\trequests\n")
	keys := make([]string, 0, len(stats.Requests))
	for k := range stats.Requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%d\n", k, stats.Requests[k])
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintf(tw, "requests\t%d (minimum %d)\n", r.Requests, r.MinRequests)
	fmt.Fprintf(tw, "throttled (429)\t%d\n", r.Throttled)
	fmt.Fprintf(tw, "wall\t%.3fs (%s)\n", r.WallS, ratio(r.WallS, r.FloorS))
	fmt.Fprintf(tw, "floor\t%.3fs, the larger of\n", r.FloorS)
	fmt.Fprintf(tw, "  rate\t%.3fs: %s\n", r.RateFloorS, fl.rateWhy)
	fmt.Fprintf(tw, "  latency\t%.3fs: %d rounds (account state, then %d pages of the longest stream) of %s\n", r.LatencyFloorS, rounds, longest, p.latency)
	fmt.Fprintf(tw, "snapshot\t%d resources, %d grants, sha256 %s\n", r.Resources, r.Grants, r.SnapshotSHA256)
	fmt.Fprintf(tw, "peak heap\t%.1f MB (%.1f MB before the sync, simulator included)\n", r.PeakHeapMB, r.BaseHeapMB)
	tw.Flush()
	_, err = fmt.Fprintln(out, string(line))
	return err
}

// floor is a lower bound on the wall time of a sync, in its two parts.
type floor struct {
	rate, latency time.Duration
	rateWhy       string // how rate was found, for the report
}

func (f floor) total() time.Duration { return max(f.rate, f.latency) }

// floorOf returns the floor of a sync that sends at least minReq requests to a simulator
// allowing rpm requests a minute (0: unlimited) in a bucket of rpm that starts full, and
// that needs rounds responses one after another, each delayed by latency.
func floorOf(minReq, rpm, rounds int, latency time.Duration) floor {
	f := floor{latency: time.Duration(rounds) * latency}
	switch {
	case rpm == 0:
		f.rateWhy = "no rate limit"
	case minReq <= rpm:
		f.rateWhy = fmt.Sprintf("%s fit in the simulator's full bucket of %d", requests(minReq), rpm)
	default:
		f.rate = time.Duration(minReq-rpm) * time.Minute / time.Duration(rpm)
		f.rateWhy = fmt.Sprintf("%s beyond the full bucket of %d, at %d a minute", requests(minReq-rpm), rpm, rpm)
	}
	return f
}

// requests returns "1 request" or "n requests".
func requests(n int) string {
	if n == 1 {
		return "1 request"
	}
	return fmt.Sprintf("%d requests", n)
}

// stream is one collection the sync must read, and the pages it takes at 100 a page.
// chain marks a stream read as one cursor list, whose pages are requested one after
// another; the reads of the account state (account settings and custom roles) are not
// streams but are sent together before the streams start.
type stream struct {
	name  string
	pages int
	chain bool
}

// expectedStreams lists the requests a minimal sync needs: one cursor stream per
// collection (an empty list still costs one request), plus the account settings and
// custom roles reads.
func expectedStreams(c zendesktest.AccountCounts, p params) []stream {
	pages := func(n int) int { return max(1, (n+99)/100) }
	users := c.Agents + c.Admins
	if p.allUsers {
		users += c.EndUsers
	}
	s := []stream{
		{"account settings", 1, false},
		{"users", pages(users), true},
		{"groups", pages(c.Groups), true},
		{"group_memberships", pages(c.GroupMemberships), true},
		{"organizations", pages(c.Organizations), true},
		{"custom_roles", 1, false},
	}
	if p.multipleOrgs {
		// With team members only, the backend may switch to per-user lists read
		// concurrently: not one chain of pages.
		s = append(s, stream{"organization_memberships", pages(c.OrganizationMemberships), p.allUsers})
	}
	return s
}

// ratio describes wall against floor; a zero floor has no ratio.
func ratio(wall, floor float64) string {
	if floor == 0 {
		return "floor 0"
	}
	return fmt.Sprintf("%.2f x the floor", wall/floor)
}
