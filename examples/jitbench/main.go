// Command jitbench measures how soon time-bound grants end after their expiry: it grants
// group memberships for a while through provision.TimeBound, runs workers
// (TimeBound.Run) on a Store's database, and reports the latency from each grant's
// expiry to its revoke, and the rate of revokes when Zendesk's rate limit is what holds
// them back.
//
//	go run ./examples/jitbench
//	go run ./examples/jitbench -grants 1000 -workers 4 -db 'postgres://zgov:zgov@localhost:5432/zgov?sslmode=disable'
//	go run ./examples/jitbench -phases throughput -entitlement organization -grants 200
//
// # The workers
//
// -workers K runs K workers in this process: K loops of TimeBound.Run, each over a
// Store of its own (its own connection pool to the database), as K worker processes
// sharing one database would have. With -clients one (the default) they send through
// one Zendesk client, so one rate limiter paces them all, as one process would, or
// several processes that plug a shared limiter in (zendesk.WithLimiter); with -clients
// each every worker has a client of its own that paces itself at -rpm, as worker
// processes without a shared limiter would: two expiry jobs at once then send twice the
// limit. The grants are made and extended through one more TimeBound, which does not
// Run.
//
// # Phase 1: latency
//
// A simulator (zendesk/zendesktest, in this process) with a rate limit no run reaches
// holds -grants agents and a group. Each agent is granted the group for an hour; then
// each grant is extended (TimeBound.Extend) to an end spread evenly over -spread,
// starting -lead after the extensions start, so that how long granting takes does not
// distort the expiries. The workers run from before the extensions until every grant
// has ended. latency = EndedAt - ExpiresAt of each grant; the summary gives its p50,
// p99 and max in seconds, how many grants ended more than 5 s late (the target is a p99
// under 5 s), and how many failed or did not end by -timeout. provision ends the grants
// expiring in one second together, at the end of that second, so up to 1 s of each
// latency is by design.
//
// # Phase 2: throughput at the rate limit
//
// A simulator with a rate limit of -rpm requests a minute, and workers whose clients
// pace themselves at -rpm (zendesk.WithRateLimit): -grants grants of one entitlement
// -entitlement (group: Zendesk deletes group memberships in bulk jobs of 100;
// organization: no bulk path, one revoke at a time) all expire in the same second. The
// summary gives the revokes a minute (grants ended over the time from the expiry to the
// last revoke), the requests a minute the simulator received over that time (from its
// request log), the most it received in any 60 s, the limit, and the 429s it sent
// (throttled; the target is 0). over_limit says whether some 60 s held more requests
// than the limit and one client's burst of min(limit/20, 25): the simulator's budget
// starts full, so it may let that pass without a 429, but it is more than the account
// allows. pacing_floor_s is the least time one client's pacing allows for the requests
// sent: (requests - its burst) / (limit/60) (with -clients each, clients sending at
// once beat it). rate_bound says whether the rate limit was the bottleneck: the pacing
// floor is at least 80% of the time from the expiry to the last revoke.
//
// Both phases report still_held, the memberships the simulator holds after the phase
// (0 when every revoke took effect), and expiry_jobs: the expiry jobs River ran (one per
// expiry second, one per sweep that found grants past their expiry and not held by a
// job) and how many of their attempts ended in an error and were retried, read from
// River's table as a diagnostic. -v logs the workers and River, errors included.
//
// The grants of phase 2 are made against a second simulator without a rate limit,
// holding the same users and group under the same ids, and the memberships they made
// are then added to the rate-limited simulator through its Go API: so the budget the
// measurement is about is not spent on setting up, and the rate-limited simulator's
// request log holds the expiry's requests only.
//
// # The database
//
// -db "" (the default) is a SQLite file in a temporary directory, removed afterwards.
// A sqlite: DSN is used as given. A postgres:// DSN names a server and a role: with
// -fresh-db (the default) the run creates a database of its own there (the role needs
// CREATE DATABASE) and drops it afterwards; with -fresh-db=false it uses the database
// the DSN names. A database used as given must hold no open time-bound grant (one would
// be expired against this run's simulator). The DSN is only ever shown with its
// password redacted.
//
// Negative or zero sizes, rates and durations where they make no sense are refused
// with exit status 2. A run in which a grant failed or did not end, the simulator
// answered 429, or the workers sent over the limit (over_limit) exits with status 1
// after its report. Progress goes to stderr, the
// report to stdout; the last line of the report is one JSON object, for scripts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// params are the command's flags.
type params struct {
	db          string
	freshDB     bool
	grants      int
	workers     int
	spread      time.Duration
	lead        time.Duration
	rpm         int
	entitlement string // of phase 2: "group" or "organization"
	phases      string // "all", "latency" or "throughput"
	timeout     time.Duration
	clients     string // "one" or "each"
	verbose     bool
}

// How the workers reach Zendesk (-clients).
const (
	clientsOne  = "one"
	clientsEach = "each"
)

// The entitlements phase 2 can expire.
const (
	entGroup        = "group"
	entOrganization = "organization"
)

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// cli is main without the process: it parses args, runs the benchmark and returns the
// exit status: 0, 1 if the run failed or a grant failed, did not end or was throttled,
// 2 for flags it refuses.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if err := run(ctx, stdout, stderr, p); err != nil {
		fmt.Fprintln(stderr, "jitbench:", err)
		return 1
	}
	return 0
}

// parseFlags parses and checks the command line. Errors have been written to stderr.
func parseFlags(args []string, stderr io.Writer) (params, error) {
	var p params
	fs := flag.NewFlagSet("jitbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&p.db, "db", "", "database DSN: sqlite:<file> or postgres://... (default: a SQLite file in a temporary directory)")
	fs.BoolVar(&p.freshDB, "fresh-db", true, "with a postgres:// -db, create a database of its own for the run and drop it afterwards")
	fs.IntVar(&p.grants, "grants", 500, "time-bound grants in each phase")
	fs.IntVar(&p.workers, "workers", 2, "workers: TimeBound.Run loops in this process, each with its own Store and Zendesk client")
	fs.DurationVar(&p.spread, "spread", 30*time.Second, "phase 1: the expiries are spread evenly over this long")
	fs.DurationVar(&p.lead, "lead", 10*time.Second, "time from the start of the extensions to the first expiry")
	fs.IntVar(&p.rpm, "rpm", 200, "phase 2: the simulator's rate limit and the clients' pace, requests per minute")
	fs.StringVar(&p.entitlement, "entitlement", entGroup, "phase 2: what is granted and expires: group (bulk revokes) or organization (one at a time)")
	fs.StringVar(&p.phases, "phases", "all", "which phases to run: all, latency or throughput")
	fs.DurationVar(&p.timeout, "timeout", 0, "how long each phase waits for its grants to end (default: from the size and the rate limit)")
	fs.StringVar(&p.clients, "clients", clientsOne, "one: the workers share one Zendesk client and its rate limiter; each: every worker has a client of its own, pacing itself at -rpm (as worker processes without a shared limiter)")
	fs.BoolVar(&p.verbose, "v", false, "log the workers (and River) on stderr")
	if err := fs.Parse(args); err != nil {
		return p, err // the flag package has printed it, with the usage
	}
	err := p.validate()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: jitbench takes only flags", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, "jitbench:", err)
		fmt.Fprintln(stderr, "run 'jitbench -h' for the flags")
	}
	return p, err
}

// validate refuses sizes, rates and durations that make no sense, and unknown names.
func (p params) validate() error {
	switch {
	case p.grants < 1:
		return fmt.Errorf("-grants %d: want at least 1", p.grants)
	case p.workers < 1:
		return fmt.Errorf("-workers %d: want at least 1", p.workers)
	case p.spread < 0:
		return fmt.Errorf("-spread %v is negative", p.spread)
	case p.lead < time.Second:
		return fmt.Errorf("-lead %v: want at least 1s", p.lead)
	case p.rpm < 1:
		return fmt.Errorf("-rpm %d: want at least 1 (phase 2 is about a rate limit)", p.rpm)
	case p.timeout < 0:
		return fmt.Errorf("-timeout %v is negative", p.timeout)
	case p.entitlement != entGroup && p.entitlement != entOrganization:
		return fmt.Errorf("-entitlement %q: want group or organization", p.entitlement)
	case p.clients != clientsOne && p.clients != clientsEach:
		return fmt.Errorf("-clients %q: want one or each", p.clients)
	case p.phases != "all" && p.phases != "latency" && p.phases != "throughput":
		return fmt.Errorf("-phases %q: want all, latency or throughput", p.phases)
	}
	if p.db != "" && !strings.HasPrefix(p.db, "sqlite:") && !strings.HasPrefix(p.db, "postgres://") && !strings.HasPrefix(p.db, "postgresql://") {
		return errors.New("-db: want sqlite:<file> or a postgres:// URL")
	}
	return nil
}

// result is the JSON summary, the last line of output. Phase 1's fields are zero when
// it did not run (-phases throughput); Phase2 is nil when phase 2 did not.
type result struct {
	Grants  int    `json:"grants"`
	Workers int    `json:"workers"`
	Clients string `json:"clients"` // "one" or "each"
	DB      string `json:"db"`      // "sqlite" or "postgres"

	// Phase 1: latency from expiry to revoke, with a generous rate limit.
	Latency     bool       `json:"latency"` // phase 1 ran
	SpreadS     float64    `json:"spread_s"`
	P50S        float64    `json:"p50_s"`
	P99S        float64    `json:"p99_s"`
	MaxS        float64    `json:"max_s"`
	LateOver5s  int        `json:"late_over_5s"`
	P99Under5s  bool       `json:"p99_under_5s"`
	Failed      int        `json:"failed"`     // failed, or not ended by the timeout
	Unfinished  int        `json:"unfinished"` // of Failed, those not ended by the timeout
	StillHeld   int        `json:"still_held"` // memberships the simulator still holds after the phase
	Requests    int        `json:"requests"`   // requests the simulator received from the expiry on
	ExtendS     float64    `json:"extend_s"`   // how long the extensions took
	LateExtends int        `json:"late_extends"`
	ExpiryJobs  expiryJobs `json:"expiry_jobs"`

	Phase2 *throughput `json:"phase2,omitempty"`
}

// throughput is phase 2's part of the summary.
type throughput struct {
	Entitlement       string         `json:"entitlement"`
	Bulk              bool           `json:"bulk"`
	Grants            int            `json:"grants"`
	Revokes           int            `json:"revokes"` // grants ended
	Failed            int            `json:"failed"`  // failed, or not ended by the timeout
	Unfinished        int            `json:"unfinished"`
	StillHeld         int            `json:"still_held"`
	WallS             float64        `json:"wall_s"` // from the expiry to the last revoke
	RevokesPerMin     float64        `json:"revokes_per_min"`
	Requests          int            `json:"requests"`
	RequestsPerMin    float64        `json:"requests_per_min"`
	PeakRequests60s   int            `json:"peak_requests_60s"`
	OverLimit         bool           `json:"over_limit"` // peak_requests_60s is over the limit and a client's burst
	RequestsPerRevoke float64        `json:"requests_per_revoke"`
	LimitRPM          int            `json:"limit_rpm"`
	Throttled         int            `json:"throttled"`
	PacingFloorS      float64        `json:"pacing_floor_s"` // (requests - the client's burst) / (limit/60): the least time the pacing allows
	RateBound         bool           `json:"rate_bound"`     // pacing_floor_s is at least 80% of wall_s
	P50S              float64        `json:"p50_s"`
	MaxS              float64        `json:"max_s"`
	ExpiryJobs        expiryJobs     `json:"expiry_jobs"`
	Endpoints         map[string]int `json:"endpoints"`
}

// run runs the benchmark described by p: progress to progress, the report to out with
// the JSON summary last. It returns an error after the report if a grant failed or did
// not end, or the simulator answered 429.
func run(ctx context.Context, out, progress io.Writer, p params) error {
	if err := p.validate(); err != nil {
		return err
	}
	b, err := newBench(ctx, p, progress)
	if err != nil {
		return err
	}
	defer b.close()

	r := result{Grants: p.grants, Workers: p.workers, Clients: p.clients, DB: b.dialect}
	var lat *latencyRun
	if p.phases != "throughput" {
		if lat, err = b.latency(ctx); err != nil {
			return fmt.Errorf("phase 1 (latency): %w", err)
		}
		lat.fill(&r)
	}
	var tp *throughputRun
	if p.phases != "latency" {
		if tp, err = b.throughput(ctx); err != nil {
			return fmt.Errorf("phase 2 (throughput): %w", err)
		}
		r.Phase2 = tp.summary()
	}
	// Encode before printing anything, so that the report always ends with its summary.
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode the summary: %w", err)
	}
	writeReport(out, p, b, r, lat, tp)
	if _, err := fmt.Fprintln(out, string(line)); err != nil {
		return err
	}
	return verdict(r)
}

// verdict returns an error naming what went wrong in the run, or nil. A p99 over the
// target is a finding, not an error.
func verdict(r result) error {
	var bad []string
	if r.Failed > 0 {
		bad = append(bad, fmt.Sprintf("phase 1: %d grants failed or did not end", r.Failed))
	}
	if r.StillHeld > 0 {
		bad = append(bad, fmt.Sprintf("phase 1: the simulator still holds %d memberships", r.StillHeld))
	}
	if t := r.Phase2; t != nil {
		if t.Failed > 0 {
			bad = append(bad, fmt.Sprintf("phase 2: %d grants failed or did not end", t.Failed))
		}
		if t.StillHeld > 0 {
			bad = append(bad, fmt.Sprintf("phase 2: the simulator still holds %d memberships", t.StillHeld))
		}
		if t.Throttled > 0 {
			bad = append(bad, fmt.Sprintf("phase 2: the simulator answered 429 %d times", t.Throttled))
		}
		if t.OverLimit {
			bad = append(bad, fmt.Sprintf("phase 2: the workers sent %d requests in 60 s, over the limit of %d", t.PeakRequests60s, t.LimitRPM))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}
