package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/zgov-io/zgov/internal/measure"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// requestLogSize is how many requests the simulator's log keeps: more than any run
// sends during Apply, so that the audit of duplicate writes sees every one.
const requestLogSize = 1 << 20

// takenAt is the time recorded in snapshots and plans, so that they are the same from
// run to run.
func takenAt() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// measurement is what one run of the scenario found.
type measurement struct {
	faults float64

	snapshotUsers    int
	people           int
	plan             *provision.Plan
	creates, grants  int
	parse, planTime  time.Duration
	planPeak, planAt uint64 // heap in use: peak during NewPlan, and just before it
	planAlloc        uint64 // bytes NewPlan allocated

	syncBefore, syncAfter time.Duration
	applyTime             time.Duration
	stats                 zendesktest.Stats // of the simulator, during Apply only
	report                *provision.ApplyReport
	cost                  cost

	before, after  string // snapshot hashes
	endState       string
	journalEntries int64
	journalErr     error
	journalDups    int
	requestDups    int
	lost           []string
	replan         int
}

// runScenario runs the day-one scenario once, with the given fault rate: seed a
// simulator, sync, plan, apply, sync again, and check.
func runScenario(ctx context.Context, p params, faults float64) (*measurement, error) {
	m := &measurement{faults: faults}
	srv, err := newSimulator(p, faults)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	policyYAML, dirYAML, err := seed(srv, p)
	if err != nil {
		return nil, err
	}

	cred := srv.Credentials()
	clientOpts := []zendesk.Option{zendesk.WithBaseURL(srv.URL),
		zendesk.WithAPIToken(cred.AdminEmail, cred.APIToken),
		zendesk.WithMaxRetries(10), zendesk.WithRetryWait(cmp.Or(p.retryMin, 50*time.Millisecond), cmp.Or(p.retryMax, 2*time.Second))}
	if p.rpm == 0 {
		// The unlimited simulator still advertises its plan's limit, which the client
		// would pace itself to.
		clientOpts = append(clientOpts, zendesk.WithLimiter(measure.Unlimited{}))
	}
	client, err := zendesk.NewClient(cred.Subdomain, clientOpts...)
	if err != nil {
		return nil, err
	}
	backend, err := zendeskaccess.New(client, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers),
		zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		return nil, err
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	before, err := sys.Sync(ctx, &access.SyncOptions{Now: takenAt})
	if err != nil {
		return nil, fmt.Errorf("sync before: %w", err)
	}
	m.syncBefore = time.Since(start)
	m.before = before.Hash()
	m.snapshotUsers = len(usersByEmail(before))
	facts, err := backend.GuardFacts(ctx)
	if err != nil {
		return nil, err
	}
	objectTypes, err := backend.ObjectTypes(ctx)
	if err != nil {
		return nil, err
	}

	start = time.Now()
	policy, err := provision.ParsePolicy("policy.yaml", policyYAML)
	if err != nil {
		return nil, err
	}
	dir, err := provision.ParseDirectory("directory.yaml", dirYAML)
	if err != nil {
		return nil, err
	}
	m.parse = time.Since(start)
	for _, g := range dir.Groups() {
		m.people += len(g.Members) // one team each
	}
	planOpts := &provision.PlanOptions{Facts: facts, ObjectTypes: objectTypes, Now: takenAt}

	runtime.GC()
	m.planAt = measure.HeapInUse()
	allocBefore := measure.TotalAlloc()
	peak := measure.StartPeakSampler(5 * time.Millisecond)
	start = time.Now()
	plan, err := provision.NewPlan(ctx, policy, dir, before, planOpts)
	m.planTime = time.Since(start)
	m.planPeak = peak.Stop()
	m.planAlloc = measure.TotalAlloc() - allocBefore
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	// Apply what a reviewer would have approved: the plan as saved, loaded back.
	var saved bytes.Buffer
	if err := plan.Save(&saved); err != nil {
		return nil, err
	}
	if m.plan, err = provision.LoadPlan(&saved); err != nil {
		return nil, err
	}
	for _, c := range m.plan.Changes {
		switch c.Kind {
		case provision.ChangeCreateAccount:
			m.creates++
		case provision.ChangeGrant:
			m.grants++
		}
	}

	store := provision.NewMemoryJournalStore()
	j, err := provision.NewJournal(store)
	if err != nil {
		return nil, err
	}
	srv.ResetStats()
	start = time.Now()
	m.report, err = provision.Apply(ctx, sys, j, m.plan, &provision.ApplyOptions{
		Actor: provision.JournalActor{Who: "svc:dayone", Reason: "day-one access from the directory"},
	})
	m.applyTime = time.Since(start)
	m.stats = srv.Stats()
	log := srv.RequestLog()
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	if m.stats.Total > len(log) {
		return nil, fmt.Errorf("the request log kept %d of the %d requests of Apply: cannot audit the writes", len(log), m.stats.Total)
	}
	m.cost = minCost(m.plan, p, answeredPolls(log))
	if m.requestDups, err = duplicateWrites(log); err != nil {
		return nil, err
	}

	start = time.Now()
	after, err := sys.Sync(ctx, &access.SyncOptions{Now: takenAt})
	if err != nil {
		return nil, fmt.Errorf("sync after: %w", err)
	}
	m.syncAfter = time.Since(start)
	m.after, m.endState = after.Hash(), endStateHash(after)
	m.lost = lostChanges(m.plan, after)

	rep, verr := j.Verify(ctx)
	m.journalErr = verr
	if rep != nil {
		m.journalEntries = rep.Entries
	}
	if m.journalDups, err = journalDuplicates(ctx, j); err != nil {
		return nil, err
	}

	replan, err := provision.NewPlan(ctx, policy, dir, after, planOpts)
	if err != nil {
		return nil, fmt.Errorf("plan again: %w", err)
	}
	m.replan = len(replan.Changes)
	return m, nil
}

// newSimulator starts a simulator with the account p describes: the owner, the admins,
// the agents (each in the default group "Support"), the end users (half of them in an
// organization) and the custom roles.
func newSimulator(p params, faults float64) (*zendesktest.Server, error) {
	orgMembers := 0
	if p.orgs > 0 {
		orgMembers = p.endUsers() / 2
	}
	opts := []zendesktest.Option{
		zendesktest.WithAccount(zendesktest.AccountSpec{
			Seed: p.seed, EndUsers: p.endUsers(), Agents: p.agents(), Admins: p.admins,
			Groups: 1, Organizations: p.orgs, OrganizationMemberships: orgMembers, CustomRoles: p.customRoles,
		}),
		zendesktest.WithBulkUserImports(p.bulkImports),
		zendesktest.WithJobDelay(p.jobDelay),
		zendesktest.WithRequestLog(requestLogSize),
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
	if faults > 0 {
		opts = append(opts, zendesktest.WithFaults(zendesktest.Faults{Seed: p.faultSeed, Rate: faults, RetryAfter: 1, StormLength: 3}))
	}
	return zendesktest.NewServer(opts...)
}

// seed adds the team groups to the simulated account, puts the agents who need no grant
// in their team's group, and returns the policy and the directory as YAML.
//
// Agent k (by id) is in team k mod groups; new hire k too. Of the agents, grants -
// new-hires, spread evenly, are not yet in their team's group: each gets one grant.
func seed(srv *zendesktest.Server, p params) (policy, dir []byte, err error) {
	type member struct{ email, name string }
	teams := make([]string, p.groups)
	members := make([][]member, p.groups)
	var pol strings.Builder
	pol.WriteString("# One rule per team: its people are agents in the team's group.\nrules:\n")
	var teamIDs []int64
	for i := range teams {
		teams[i] = "Team " + strconv.Itoa(i+1)
		teamIDs = append(teamIDs, srv.AddGroup(teams[i]).ID)
		fmt.Fprintf(&pol, "  - directory_group: %s\n    role: agent\n    groups: [%s]\n", strconv.Quote(teams[i]), strconv.Quote(teams[i]))
	}

	var agents []zendesktest.User
	for id := srv.OwnerID(); ; id++ {
		u, ok := srv.User(id)
		if !ok {
			break
		}
		if u.Active && u.Role == zendesktest.RoleAgent {
			agents = append(agents, u)
		}
	}
	if len(agents) != p.agents() {
		return nil, nil, fmt.Errorf("the simulator made %d agents, not %d", len(agents), p.agents())
	}
	need := p.grants - p.newHires
	for k, u := range agents {
		t := k % p.groups
		members[t] = append(members[t], member{u.Email, u.Name})
		// Exactly need of the agents are picked, spread over the list.
		if k*need/len(agents) == (k+1)*need/len(agents) {
			if _, err := srv.AddGroupMembership(u.ID, teamIDs[t]); err != nil {
				return nil, nil, err
			}
		}
	}
	for k := range p.newHires {
		t := k % max(p.groups, 1)
		n := strconv.Itoa(k + 1)
		members[t] = append(members[t], member{"new.hire." + n + "@corp.example", "New Hire " + n})
	}

	var d strings.Builder
	d.WriteString("# The identity provider's teams.\ngroups:\n")
	for i, t := range teams {
		fmt.Fprintf(&d, "  - name: %s\n", strconv.Quote(t))
		if len(members[i]) == 0 {
			d.WriteString("    members: []\n")
			continue
		}
		d.WriteString("    members:\n")
		for _, m := range members[i] {
			fmt.Fprintf(&d, "      - {email: %s, name: %s}\n", strconv.Quote(m.email), strconv.Quote(m.name))
		}
	}
	return []byte(pol.String()), []byte(d.String()), nil
}
