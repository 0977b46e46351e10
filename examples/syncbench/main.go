// Command syncbench measures what a full sync of a Zendesk account costs: it starts a
// seeded simulator, syncs it through the zendesk client and the Zendesk backend, and
// reports requests against the minimum the API allows, 429s, wall time against the
// floor set by the rate limit and latency, and peak heap.
//
//	go run ./examples/syncbench -users 10000 -agents 1000 -groups 100 -orgs 2000 -rpm 700
//
// Its last line is one JSON object, for scripts.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

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
	FloorS         float64 `json:"floor_s"`
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
	var p params
	flag.IntVar(&p.users, "users", 1000, "end-users in the account")
	flag.IntVar(&p.agents, "agents", 100, "agents in the account")
	flag.IntVar(&p.admins, "admins", 5, "admins in the account (besides the owner)")
	flag.IntVar(&p.groups, "groups", 20, "groups")
	flag.IntVar(&p.orgs, "orgs", 200, "organizations")
	flag.IntVar(&p.groupMemberships, "group-memberships", 0, "group memberships (default: 3 per agent or admin)")
	flag.IntVar(&p.orgMemberships, "org-memberships", 0, "organization memberships (default: one per end-user)")
	flag.IntVar(&p.customRoles, "custom-roles", 5, "custom roles (Enterprise)")
	flag.IntVar(&p.rpm, "rpm", 700, "the simulator's rate limit, requests per minute")
	flag.DurationVar(&p.latency, "latency", 0, "latency the simulator adds to every response")
	flag.Float64Var(&p.faults, "faults", 0, "fraction of requests that fail with injected faults (0 to 1)")
	flag.Int64Var(&p.faultSeed, "fault-seed", 7, "seed of the fault injection")
	flag.Int64Var(&p.seed, "seed", 1, "seed of the generated account")
	flag.BoolVar(&p.multipleOrgs, "multiple-orgs", false, "turn on the multiple-organizations setting")
	flag.BoolVar(&p.allUsers, "all-users", false, "sync all users, not only team members")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, p); err != nil {
		fmt.Fprintln(os.Stderr, "syncbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, p params) error {
	if p.faults < 0 || p.faults > 1 {
		return fmt.Errorf("-faults %v is not between 0 and 1", p.faults)
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
		zendesktest.WithRateLimit(p.rpm),
		zendesktest.WithRequestLog(0),
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
	client, err := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL),
		zendesk.WithAPIToken(cred.AdminEmail, cred.APIToken),
		zendesk.WithMaxRetries(10), zendesk.WithRetryWait(50*time.Millisecond, 2*time.Second))
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
	base := heapInUse()
	peak := newPeakSampler()
	start := time.Now()
	snap, err := access.Sync(ctx, backend, &access.SyncOptions{Now: func() time.Time { return time.Unix(0, 0).UTC() }})
	wall := time.Since(start)
	peakHeap := peak.stop()
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	stats := srv.Stats()

	streams := expectedStreams(counts, p)
	minReq, longest := 0, 0
	for _, s := range streams {
		minReq += s.pages
		longest = max(longest, s.pages)
	}
	floor := math.Max(float64(minReq)/(float64(p.rpm)/60), float64(longest)*p.latency.Seconds())

	c := snap.Counts()
	r := result{
		Requests: snap.Provenance().Requests, MinRequests: minReq, Throttled: stats.Throttled,
		FaultsInjected: stats.Faults, WallS: round(wall.Seconds()), FloorS: round(floor),
		Resources: c.Resources, Grants: c.Grants, PeakHeapMB: round(mb(peakHeap)), BaseHeapMB: round(mb(base)),
		SnapshotSHA256: snap.Hash(), RPM: p.rpm, LatencyMS: p.latency.Milliseconds(), Faults: p.faults,
	}

	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "account\t%d end-users, %d agents, %d admins, %d groups, %d orgs, %d group memberships, %d org memberships\n",
		counts.EndUsers, counts.Agents, counts.Admins+1, counts.Groups, counts.Organizations, counts.GroupMemberships, counts.OrganizationMemberships)
	fmt.Fprintf(tw, "simulator\t%d rpm, latency %s, faults %.0f%% (%d injected)\n", p.rpm, p.latency, 100*p.faults, stats.Faults)
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
	fmt.Fprintf(tw, "wall\t%.2fs (floor %.2fs, ratio %.2f)\n", r.WallS, r.FloorS, ratio(r.WallS, r.FloorS))
	fmt.Fprintf(tw, "snapshot\t%d resources, %d grants, sha256 %s\n", r.Resources, r.Grants, r.SnapshotSHA256)
	fmt.Fprintf(tw, "peak heap\t%.1f MB (%.1f MB before the sync, simulator included)\n", r.PeakHeapMB, r.BaseHeapMB)
	tw.Flush()
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(line))
	return err
}

// stream is one collection the sync must read, and the pages it takes at 100 a page.
type stream struct {
	name  string
	pages int
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
		{"account settings", 1},
		{"users", pages(users)},
		{"groups", pages(c.Groups)},
		{"group_memberships", pages(c.GroupMemberships)},
		{"organizations", pages(c.Organizations)},
		{"custom_roles", 1},
	}
	if p.multipleOrgs {
		s = append(s, stream{"organization_memberships", pages(c.OrganizationMemberships)})
	}
	return s
}

// peakSampler records the largest heap in use while a sync runs.
type peakSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func newPeakSampler() *peakSampler {
	s := &peakSampler{done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			s.peak = max(s.peak, heapInUse())
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

func (s *peakSampler) stop() uint64 {
	close(s.done)
	s.wg.Wait()
	return max(s.peak, heapInUse())
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func round(f float64) float64 { return math.Round(f*1000) / 1000 }

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.Inf(1)
	}
	return a / b
}
