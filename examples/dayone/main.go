// Command dayone measures day-one provisioning: it seeds a Zendesk simulator, reads it
// into a snapshot, plans from a directory and a policy what new hires and existing staff
// should get, applies the plan with a journal, reads the account again, and reports what
// it cost and whether the end state is the planned one.
//
//	go run ./examples/dayone
//	go run ./examples/dayone -people 10000 -users 100000 -groups 50 -new-hires 500 -grants 5000
//
// # The scenario
//
// The account holds -users users in all (the owner, -admins admins, the agents, and end
// users for the rest) and is read with all users in scope, so the snapshot holds every
// one of them. There are -groups team groups, "Team 1" ... "Team N", besides the default
// group "Support" that Zendesk puts every new agent in. The directory (the identity
// provider) holds -people people, each in one team: every agent of the account, and
// -new-hires people who have no account yet. The policy, one rule per team, gives its
// people role agent and the team's group. -grants - -new-hires of the agents are not yet
// in their team's group; the others are. So the plan is: -new-hires account creations,
// then -grants group-membership grants (one per new hire, one per agent not yet in their
// group), and nothing else: no revokes, no leavers.
//
// The policy and the directory are written as YAML and read with provision.ParsePolicy
// and provision.ParseDirectory, the path a file takes; the plan is saved and loaded back
// (Plan.Save, provision.LoadPlan) before it is applied, as a reviewed plan would be.
//
// # What is measured
//
// Plan: the wall time of provision.NewPlan (plan_s), the peak heap in use while it runs
// (plan_mb; the whole process, so the in-process simulator and the snapshot are counted
// too: plan_base_mb is the heap just before), and what it allocated (plan_alloc_mb).
//
// Apply: every request the simulator received between the start and the end of
// provision.Apply (requests), the 429s it sent because the budget was spent (throttled),
// the faults it injected, the wall time (apply_s), and the states Apply left the changes
// in.
//
// min_requests is the fewest requests this Apply can send, computed from the plan and
// the configuration (see minCost): its parts, for a plan of C creations, G group
// grants and P existing principals with changes:
//
//   - account state: 1 GET /account/settings and 1 GET /custom_roles (one answer holds
//     every custom role): provision.Apply reads access.Info first, which reads both; the
//     backend's GuardFacts and ObjectTypes are read before planning, not during Apply;
//   - the per-principal check: ceil(P/100) GET /users/show_many (Apply compares what
//     each principal holds with what the plan saw, 100 users a request; a new hire has
//     no account to check, and a bulk create that Zendesk answers "already a member"
//     for an item is that item's check);
//   - account creations: ceil(C/100) POST /users/create_many with -bulk-imports; without
//     it, one POST /users/create_many that Zendesk refuses (403: imports are off), then
//     a GET /users/search (does the person have an account?) and a POST /users for each
//     creation;
//   - grants: ceil(G/100) POST /group_memberships/create_many;
//   - job polls: the GET /job_statuses/show_many requests Zendesk answered. How many are
//     needed depends on how long Zendesk takes to run the jobs, not on the plan, so they
//     are counted, not computed; job_waves is their floor, one poll per wave of jobs
//     waited for together (the first creation job alone, then up to 30 jobs at a time).
//
// naive_requests is one request per change, as connectors that grant one at a time send.
// wall_bound_s is 1.2 x min_requests / (rpm/60): the time the requests take when the
// client's budget allows rpm a minute, with a fifth to spare; it is 0 with -rpm 0.
//
// # What is checked
//
// After Apply the account is read again (snapshot_sha256_after). lost counts planned
// changes not in effect in it: an account not created (or without its role), a grant not
// held. duplicates counts changes done twice: a change ID the journal started or finished
// more than once, an operation the journal shows carried out (granted, created) under
// more than one change, and an item (a membership, an e-mail address) that the
// simulator's request log shows in more than one write it accepted (2xx). The journal is
// verified (journal_verified) and counted (journal_entries), and the plan is made again
// against the new snapshot (replan_changes: 0 when the account is where the policy wants
// it).
//
// end_state_sha256 is the hash of the after-snapshot with each user's id replaced by the
// user's e-mail address. Zendesk numbers new users in the order their creation jobs
// arrive, and Apply submits creation jobs concurrently, so two runs that end in the same
// state may give the new accounts different ids, and then different snapshot hashes;
// end_state_sha256 is what must not differ. With -faults above 0 (and -compare-faults),
// the whole scenario first runs without faults, and same_end_state says whether both
// runs ended in the same state (same_snapshot compares the raw snapshot hashes too).
//
// Negative sizes, rates and latencies, a fault rate outside [0, 1] and sizes that do not
// fit together are refused with exit status 2. A run that loses or duplicates a change,
// fails one, whose journal does not verify, or whose end state differs from the
// fault-free one exits with status 1 after its report. The
// last line of output is one JSON object, for scripts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// params are the command's flags.
type params struct {
	people, users, admins, groups int
	newHires, grants              int
	orgs, customRoles             int
	rpm                           int
	latency, jobDelay             time.Duration
	faults                        float64
	faultSeed, seed               int64
	bulkImports, compareFaults    bool
	// retryMin and retryMax bound the client's backoff between retries that Zendesk gave
	// no Retry-After for (0: 50ms and 2s). Not flags: tests shorten them.
	retryMin, retryMax time.Duration
}

// agents returns the number of agents in the account: every person in the directory who
// is not a new hire.
func (p params) agents() int { return p.people - p.newHires }

// endUsers returns the number of end users: the users who are neither the owner, nor an
// admin, nor an agent.
func (p params) endUsers() int { return p.users - 1 - p.admins - p.agents() }

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// cli is main without the process: it parses args, runs the benchmark and returns the
// exit status: 0, 1 if the run failed or found a change lost or done twice, 2 for flags
// it refuses.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if err := run(ctx, stdout, p); err != nil {
		fmt.Fprintln(stderr, "dayone:", err)
		return 1
	}
	return 0
}

// parseFlags parses and checks the command line. Errors have been written to stderr.
func parseFlags(args []string, stderr io.Writer) (params, error) {
	var p params
	fs := flag.NewFlagSet("dayone", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&p.people, "people", 300, "people in the directory: the account's agents and the new hires")
	fs.IntVar(&p.users, "users", 1000, "users in the account and its snapshot: the owner, admins, agents and end users")
	fs.IntVar(&p.admins, "admins", 2, "admins besides the owner (not in the directory)")
	fs.IntVar(&p.groups, "groups", 10, "team groups, one directory group and one policy rule each")
	fs.IntVar(&p.newHires, "new-hires", 30, "people in the directory without an account: one creation and one grant each")
	fs.IntVar(&p.grants, "grants", 250, "group-membership grants planned: one per new hire, the rest for agents not yet in their team")
	fs.IntVar(&p.orgs, "orgs", 20, "organizations (end users belong to them; the policy leaves them alone)")
	fs.IntVar(&p.customRoles, "custom-roles", 2, "custom roles (most agents hold one; the policy leaves them alone)")
	fs.IntVar(&p.rpm, "rpm", 700, "the simulator's rate limit, requests per minute (0: no rate limit, neither in the simulator nor in the client)")
	fs.DurationVar(&p.latency, "latency", 0, "latency the simulator adds to every response")
	fs.DurationVar(&p.jobDelay, "job-delay", 20*time.Millisecond, "how long a bulk job stays queued, and then working, in the simulator")
	fs.Float64Var(&p.faults, "faults", 0, "fraction of requests that fail with injected faults (0 to 1)")
	fs.Int64Var(&p.faultSeed, "fault-seed", 7, "seed of the fault injection")
	fs.Int64Var(&p.seed, "seed", 1, "seed of the generated account")
	fs.BoolVar(&p.bulkImports, "bulk-imports", true, "enable Zendesk's bulk user imports (POST /users/create_many)")
	fs.BoolVar(&p.compareFaults, "compare-faults", true, "with -faults above 0, run the scenario without faults first and compare the end states")
	if err := fs.Parse(args); err != nil {
		return p, err // the flag package has printed it, with the usage
	}
	err := p.validate()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: dayone takes only flags", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, "dayone:", err)
		fmt.Fprintln(stderr, "run 'dayone -h' for the flags")
	}
	return p, err
}

// validate refuses negative sizes, rates and latencies, a fault rate outside [0, 1], and
// sizes that do not fit together.
func (p params) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"people", p.people}, {"users", p.users}, {"admins", p.admins}, {"groups", p.groups},
		{"new-hires", p.newHires}, {"grants", p.grants}, {"orgs", p.orgs}, {"custom-roles", p.customRoles},
		{"rpm", p.rpm},
	} {
		if f.v < 0 {
			return fmt.Errorf("-%s %d is negative", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"latency", p.latency}, {"job-delay", p.jobDelay}} {
		if f.v < 0 {
			return fmt.Errorf("-%s %v is negative", f.name, f.v)
		}
	}
	if !(p.faults >= 0 && p.faults <= 1) { // also refuses NaN
		return fmt.Errorf("-faults %v is not between 0 and 1", p.faults)
	}
	switch {
	case p.groups == 0 && p.people > 0:
		return errors.New("-groups 0: the people need at least one team group")
	case p.newHires > p.people:
		return fmt.Errorf("-new-hires %d is more than the %d people in the directory", p.newHires, p.people)
	case p.grants < p.newHires:
		return fmt.Errorf("-grants %d is fewer than the %d new hires, who get one grant each", p.grants, p.newHires)
	case p.grants-p.newHires > p.agents():
		return fmt.Errorf("-grants %d: the %d new hires take %d and the %d agents (people who are not new hires) one each at most",
			p.grants, p.newHires, p.newHires, p.agents())
	case p.endUsers() < 0:
		return fmt.Errorf("-users %d is fewer than the owner, %d admins and %d agents", p.users, p.admins, p.agents())
	}
	return nil
}

// result is the JSON summary, the last line of output. The fields are explained in the
// package documentation.
type result struct {
	People         int     `json:"people"`
	Users          int     `json:"users"`
	Changes        int     `json:"changes"`
	Creates        int     `json:"creates"`
	Grants         int     `json:"grants"`
	SyncBeforeS    float64 `json:"sync_before_s"`
	SyncAfterS     float64 `json:"sync_after_s"`
	ParseS         float64 `json:"parse_s"`
	PlanS          float64 `json:"plan_s"`
	PlanMB         float64 `json:"plan_mb"`
	PlanBaseMB     float64 `json:"plan_base_mb"`
	PlanAllocMB    float64 `json:"plan_alloc_mb"`
	ApplyS         float64 `json:"apply_s"`
	WallBoundS     float64 `json:"wall_bound_s"`
	Requests       int     `json:"requests"`
	MinRequests    int     `json:"min_requests"`
	NaiveRequests  int     `json:"naive_requests"`
	JobPolls       int     `json:"job_polls"`
	JobWaves       int     `json:"job_waves"`
	Throttled      int     `json:"throttled"`
	FaultsInjected int     `json:"faults_injected"`
	Applied        int     `json:"applied"`
	Done           int     `json:"done"`
	Stale          int     `json:"stale"`
	Blocked        int     `json:"blocked"`
	Failed         int     `json:"failed"`

	SnapshotSHA256Before string `json:"snapshot_sha256_before"`
	SnapshotSHA256After  string `json:"snapshot_sha256_after"`
	EndStateSHA256       string `json:"end_state_sha256"`
	JournalEntries       int64  `json:"journal_entries"`
	JournalVerified      bool   `json:"journal_verified"`
	Duplicates           int    `json:"duplicates"`
	Lost                 int    `json:"lost"`
	ReplanChanges        int    `json:"replan_changes"`

	// Set when the scenario also ran without faults (-faults above 0, -compare-faults).
	FaultFreeSnapshotSHA256After string `json:"fault_free_snapshot_sha256_after,omitempty"`
	FaultFreeEndStateSHA256      string `json:"fault_free_end_state_sha256,omitempty"`
	FaultFreeRequests            int    `json:"fault_free_requests,omitempty"`
	SameSnapshot                 *bool  `json:"same_snapshot,omitempty"`
	SameEndState                 *bool  `json:"same_end_state,omitempty"`

	RPM         int     `json:"rpm"`
	LatencyMS   int64   `json:"latency_ms"`
	Faults      float64 `json:"faults"`
	BulkImports bool    `json:"bulk_imports"`
}

// run runs the benchmark described by p and writes the report to out, the JSON summary
// last. It returns an error after the report if the run lost, duplicated or failed a
// change, or its journal did not verify.
func run(ctx context.Context, out io.Writer, p params) error {
	if err := p.validate(); err != nil {
		return err
	}
	var clean *measurement
	if p.faults > 0 && p.compareFaults {
		m, err := runScenario(ctx, p, 0)
		if err != nil {
			return fmt.Errorf("fault-free run: %w", err)
		}
		clean = m
	}
	m, err := runScenario(ctx, p, p.faults)
	if err != nil {
		return err
	}
	r := m.result(p)
	if clean != nil {
		cr := clean.result(p)
		r.FaultFreeSnapshotSHA256After, r.FaultFreeEndStateSHA256, r.FaultFreeRequests = cr.SnapshotSHA256After, cr.EndStateSHA256, cr.Requests
		sameSnap, sameState := cr.SnapshotSHA256After == r.SnapshotSHA256After, cr.EndStateSHA256 == r.EndStateSHA256
		r.SameSnapshot, r.SameEndState = &sameSnap, &sameState
	}
	// Encode before printing anything, so that the report always ends with its summary.
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode the summary: %w", err)
	}
	if clean != nil {
		fmt.Fprintln(out, "Without faults:")
		writeReport(out, p, clean, nil)
		fmt.Fprintf(out, "\nWith %.0f%% faults:\n", 100*p.faults)
	}
	writeReport(out, p, m, &r)
	if _, err := fmt.Fprintln(out, string(line)); err != nil {
		return err
	}
	return verdict(r)
}

// verdict returns an error naming what the run got wrong, or nil.
func verdict(r result) error {
	var problems []error
	if r.Lost > 0 {
		problems = append(problems, fmt.Errorf("%d changes lost", r.Lost))
	}
	if r.Duplicates > 0 {
		problems = append(problems, fmt.Errorf("%d changes done twice", r.Duplicates))
	}
	if r.Failed > 0 || r.Stale > 0 || r.Blocked > 0 {
		problems = append(problems, fmt.Errorf("%d changes failed, %d stale, %d blocked", r.Failed, r.Stale, r.Blocked))
	}
	if !r.JournalVerified {
		problems = append(problems, errors.New("the journal did not verify"))
	}
	if r.SameEndState != nil && !*r.SameEndState {
		problems = append(problems, errors.New("the end state with faults differs from the one without"))
	}
	return errors.Join(problems...)
}
