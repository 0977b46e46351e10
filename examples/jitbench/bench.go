package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// generousRPM is phase 1's rate limit, in the simulator and the clients: no run comes
// near it.
const generousRPM = 1_000_000

// requestLogSize is how many requests the simulators' logs keep: more than any phase
// sends.
const requestLogSize = 1 << 20

// grantConcurrency is how many grants and extensions are made at once.
const grantConcurrency = 8

// openStates are the states of a time-bound grant that an expiry may still end.
var openStates = []provision.TimeBoundState{provision.TimeBoundPending, provision.TimeBoundActive, provision.TimeBoundEnding}

// bench is one run of the benchmark: its parameters, its database, and where progress
// goes.
type bench struct {
	p        params
	dsn      string // the database every Store of the run opens
	shown    string // dsn with its password redacted
	dialect  string // "sqlite" or "postgres"
	runID    string // in every grant's ID
	progress io.Writer
	cleanup  []func() error
}

// newBench sets up the run's database (see the package documentation).
func newBench(ctx context.Context, p params, progress io.Writer) (*bench, error) {
	var id [4]byte
	_, _ = rand.Read(id[:])
	b := &bench{p: p, runID: hex.EncodeToString(id[:]), progress: progress}
	switch {
	case p.db == "":
		dir, err := os.MkdirTemp("", "jitbench-")
		if err != nil {
			return nil, err
		}
		b.cleanup = append(b.cleanup, func() error { return os.RemoveAll(dir) })
		b.dsn = "sqlite:" + (&url.URL{Path: filepath.ToSlash(filepath.Join(dir, "zgov.db"))}).EscapedPath()
		b.dialect = "sqlite"
	case strings.HasPrefix(p.db, "sqlite:"):
		b.dsn, b.dialect = p.db, "sqlite"
	default:
		b.dsn, b.dialect = p.db, "postgres"
		if p.freshDB {
			dsn, drop, err := freshPostgres(ctx, p.db, "jitbench_"+b.runID)
			if err != nil {
				return nil, err
			}
			b.dsn = dsn
			b.cleanup = append(b.cleanup, drop)
		}
	}
	b.shown = sqldb.Redact(b.dsn)
	b.logf("database: %s (%s)", b.shown, b.dialect)
	return b, nil
}

// close removes what newBench made.
func (b *bench) close() {
	for _, f := range slices.Backward(b.cleanup) {
		if err := f(); err != nil {
			b.logf("clean up: %v", err)
		}
	}
}

// logf writes a line of progress.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "jitbench: "+format+"\n", args...)
}

// freshPostgres creates the database name on the server of dsn, with dsn's role, and
// returns its DSN and a function that drops it.
func freshPostgres(ctx context.Context, dsn, name string) (string, func() error, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("-db %s: not a URL", sqldb.Redact(dsn))
	}
	if err := adminExec(ctx, dsn, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create a database for the run on %s (the role needs CREATE DATABASE; or -fresh-db=false): %w", sqldb.Redact(dsn), err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return adminExec(ctx, dsn, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), drop, nil
}

// adminExec runs one statement as the role of dsn. Its errors are the driver's texts
// without the password.
func adminExec(ctx context.Context, dsn, stmt string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("%s cannot be read", sqldb.Redact(dsn))
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = sqldb.ConnectTimeout
	}
	clean := func(err error) string {
		s := err.Error()
		if len(cfg.Password) >= 4 {
			s = strings.ReplaceAll(s, cfg.Password, "xxxxx")
		}
		return s
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %s", clean(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %s", stmt, clean(err))
	}
	return nil
}

// newSimulator starts a simulator with a rate limit of rpm requests a minute.
func newSimulator(rpm int) (*zendesktest.Server, error) {
	return zendesktest.NewServer(zendesktest.WithRateLimit(rpm), zendesktest.WithRequestLog(requestLogSize))
}

// newClient returns a client of srv that paces itself at rpm requests a minute.
func newClient(srv *zendesktest.Server, rpm int) (*zendesk.Client, error) {
	cr := srv.Credentials()
	return zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(rpm))
}

// newSystem returns a System over the Zendesk backend on c.
func newSystem(c *zendesk.Client) (*access.System, error) {
	be, err := zendeskaccess.New(c)
	if err != nil {
		return nil, err
	}
	return access.NewSystem(be)
}

// workerSystems returns the function that makes each worker's System: all on one
// client of srv pacing at rpm (-clients one), or each on a client of its own
// (-clients each).
func (b *bench) workerSystems(srv *zendesktest.Server, rpm int) (func() (*access.System, error), error) {
	if b.p.clients == clientsEach {
		return func() (*access.System, error) {
			c, err := newClient(srv, rpm)
			if err != nil {
				return nil, err
			}
			return newSystem(c)
		}, nil
	}
	c, err := newClient(srv, rpm)
	if err != nil {
		return nil, err
	}
	return func() (*access.System, error) { return newSystem(c) }, nil
}

// account is who is granted what in a simulator.
type account struct {
	userIDs   []int64
	targetID  int64 // the group or organization
	kind      string
	eid       string
	principal []string
}

// populate adds n agents and a group (kind "group") or an organization to srv.
func populate(srv *zendesktest.Server, n int, kind string) (*account, error) {
	a := &account{kind: kind, userIDs: make([]int64, n), principal: make([]string, n)}
	for i := range n {
		u, err := srv.AddUser(zendesktest.UserSpec{Name: "Agent " + strconv.Itoa(i+1), Email: fmt.Sprintf("agent%d@example.com", i+1), Role: zendesktest.RoleAgent})
		if err != nil {
			return nil, err
		}
		a.userIDs[i], a.principal[i] = u.ID, "user:"+strconv.FormatInt(u.ID, 10)
	}
	if kind == entOrganization {
		a.targetID = srv.AddOrganization("Contractors").ID
	} else {
		a.targetID = srv.AddGroup("Incident room").ID
	}
	a.eid = kind + ":" + strconv.FormatInt(a.targetID, 10) + ":member"
	return a, nil
}

// held counts the users of a who hold its group or organization in srv.
func (a *account) held(srv *zendesktest.Server) int {
	n := 0
	for _, uid := range a.userIDs {
		if a.kind == entOrganization {
			for _, m := range srv.OrganizationMembershipsOf(uid) {
				if m.OrganizationID == a.targetID {
					n++
				}
			}
			continue
		}
		for _, m := range srv.GroupMembershipsOf(uid) {
			if m.GroupID == a.targetID {
				n++
			}
		}
	}
	return n
}

// timeBound opens a Store on the run's database and a TimeBound over it and sys.
func (b *bench) timeBound(ctx context.Context, sys *access.System) (*provision.Store, *provision.TimeBound, error) {
	store, err := provision.OpenStore(ctx, b.dsn)
	if err != nil {
		return nil, nil, err
	}
	j, err := provision.NewJournal(store.Journal())
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	opts := &provision.TimeBoundOptions{}
	if b.p.verbose {
		opts.Logger = slog.New(slog.NewTextHandler(b.progress, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	tb, err := provision.NewTimeBound(ctx, store, sys, j, opts)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, tb, nil
}

// checkNoneOpen refuses a database that holds open time-bound grants: workers would
// expire them against this run's simulator.
func checkNoneOpen(ctx context.Context, tb *provision.TimeBound) error {
	open, err := tb.List(ctx, openStates...)
	if err != nil {
		return err
	}
	if len(open) > 0 {
		return fmt.Errorf("the database holds %d open time-bound grants (such as %s, until %s): use an empty database",
			len(open), open[0].ID, open[0].ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// workers are the TimeBound.Run loops of a phase.
type workers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
	stores []*provision.Store
}

// startWorkers starts p.workers loops of TimeBound.Run, each on a Store of its own and
// a System from newSys.
func (b *bench) startWorkers(ctx context.Context, newSys func() (*access.System, error)) (*workers, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &workers{cancel: cancel}
	for k := range b.p.workers {
		sys, err := newSys()
		if err != nil {
			_ = w.stop()
			return nil, err
		}
		store, tb, err := b.timeBound(ctx, sys)
		if err != nil {
			_ = w.stop()
			return nil, fmt.Errorf("worker %d: %w", k+1, err)
		}
		w.stores = append(w.stores, store)
		w.wg.Go(func() {
			if err := tb.Run(ctx); err != nil {
				w.mu.Lock()
				w.errs = append(w.errs, fmt.Errorf("worker %d: %w", k+1, err))
				w.mu.Unlock()
			}
		})
	}
	return w, nil
}

// stop ends the workers, waits for them and closes their stores.
func (w *workers) stop() error {
	w.cancel()
	w.wg.Wait()
	for _, s := range w.stores {
		_ = s.Close()
	}
	return errors.Join(w.errs...)
}

// grantAll grants eid to every principal for an hour, grantConcurrency at once, and
// returns the grants' IDs.
func (b *bench) grantAll(ctx context.Context, tb *provision.TimeBound, a *account, phase string) ([]string, error) {
	n := len(a.principal)
	ids := make([]string, n)
	var done sync.Mutex
	count, step := 0, max(1, n/10)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(grantConcurrency)
	for i := range n {
		g.Go(func() error {
			id := fmt.Sprintf("jb%s-%s-%06d", b.runID, phase, i+1)
			_, err := tb.Grant(gctx, provision.TimeBoundRequest{ID: id, PrincipalID: a.principal[i], EntitlementID: a.eid, For: time.Hour,
				Actor: provision.JournalActor{Who: "jitbench", Reason: "expiry benchmark"}})
			if err != nil {
				return fmt.Errorf("grant %d: %w", i+1, err)
			}
			ids[i] = id
			done.Lock()
			count++
			if count%step == 0 || count == n {
				b.logf("%s: granted %d/%d", phase, count, n)
			}
			done.Unlock()
			return nil
		})
	}
	return ids, g.Wait()
}

// extendAll extends grant i to until(i), grantConcurrency at once, and returns how many
// extensions ended after the end they set was already past (their grant then expired
// late for a reason that is not the worker's).
func (b *bench) extendAll(ctx context.Context, tb *provision.TimeBound, ids []string, until func(i int) time.Time) (late int, err error) {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(grantConcurrency)
	for i, id := range ids {
		g.Go(func() error {
			end := until(i)
			if _, err := tb.Extend(gctx, id, end); err != nil {
				return fmt.Errorf("extend %s: %w", id, err)
			}
			if time.Now().After(end) {
				mu.Lock()
				late++
				mu.Unlock()
			}
			return nil
		})
	}
	return late, g.Wait()
}

// waitEnded waits until none of ids is open, or until deadline, and returns the grants.
//
// Every 10 s it reports how many are open, by state, and what more returns.
func (b *bench) waitEnded(ctx context.Context, tb *provision.TimeBound, ids []string, deadline time.Time, phase string, more func() string) ([]provision.TimeBoundGrant, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	lastReport := time.Now()
	for {
		all, err := tb.List(ctx)
		if err != nil {
			return nil, err
		}
		var mine []provision.TimeBoundGrant
		open := 0
		byState := map[provision.TimeBoundState]int{}
		for _, g := range all {
			if want[g.ID] {
				mine = append(mine, g)
				byState[g.State]++
				if slices.Contains(openStates, g.State) {
					open++
				}
			}
		}
		if open == 0 || time.Now().After(deadline) {
			if open > 0 {
				b.logf("%s: %d grants still open at the deadline", phase, open)
			}
			return mine, nil
		}
		if time.Since(lastReport) >= 10*time.Second {
			var parts []string
			for _, st := range []provision.TimeBoundState{provision.TimeBoundActive, provision.TimeBoundEnding, provision.TimeBoundEnded, provision.TimeBoundFailed} {
				parts = append(parts, fmt.Sprintf("%d %s", byState[st], st))
			}
			b.logf("%s: %d/%d open (%s)%s", phase, open, len(ids), strings.Join(parts, ", "), more())
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// outcome counts how a phase's grants ended and their latencies, EndedAt - ExpiresAt,
// sorted.
type outcome struct {
	ended      int // ended or kept
	failed     int // failed or grant_failed
	unfinished int // still open
	latencies  []time.Duration
	lastEnd    time.Time
	errs       []string // a few of the failures' errors
}

func outcomeOf(gs []provision.TimeBoundGrant) outcome {
	var o outcome
	for _, g := range gs {
		switch g.State {
		case provision.TimeBoundEnded, provision.TimeBoundKept:
			o.ended++
			o.latencies = append(o.latencies, g.EndedAt.Sub(g.ExpiresAt))
			if g.EndedAt.After(o.lastEnd) {
				o.lastEnd = g.EndedAt
			}
		case provision.TimeBoundFailed, provision.TimeBoundGrantFailed:
			o.failed++
			if len(o.errs) < 3 {
				o.errs = append(o.errs, g.ID+": "+g.Error)
			}
		default:
			o.unfinished++
			if len(o.errs) < 3 && g.Error != "" {
				o.errs = append(o.errs, g.ID+" ("+string(g.State)+"): "+g.Error)
			}
		}
	}
	slices.Sort(o.latencies)
	return o
}

// quantile returns the q-quantile (nearest rank) of sorted durations, in seconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := min(max(int(math.Ceil(q*float64(len(sorted))))-1, 0), len(sorted)-1)
	return sorted[k].Seconds()
}

// simulatorProgress returns what srv has received so far, for waitEnded's reports.
func simulatorProgress(srv *zendesktest.Server) func() string {
	return func() string {
		st := srv.Stats()
		return fmt.Sprintf("; the simulator: %d requests, %d throttled", st.Total, st.Throttled)
	}
}

// expiryJobs counts the expiry jobs River ran in a phase, for the report: how many
// jobs (one per expiry second, and one per sweep that found grants past their expiry)
// and how many of their attempts ended in an error (a timeout, a failed revoke) and
// were retried or given up. It reads River's table directly: diagnostics, not API.
type expiryJobs struct {
	Jobs   int `json:"jobs"`
	Errors int `json:"errors"`
}

// expireKind is the River kind of provision's expiry jobs.
const expireKind = "zgov_timebound_expire"

// lastJobID returns the highest River job id, so that a phase counts only its own.
func (b *bench) lastJobID(ctx context.Context) (int64, error) {
	db, err := sqldb.Open(ctx, b.dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var id int64
	err = db.SQL.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM river_job`).Scan(&id)
	return id, err
}

// countExpiryJobs counts the expiry jobs after the job id since that ran. An attempt
// errored unless it is the one that completed the job or is running still.
func (b *bench) countExpiryJobs(ctx context.Context, since int64) (expiryJobs, error) {
	db, err := sqldb.Open(ctx, b.dsn)
	if err != nil {
		return expiryJobs{}, err
	}
	defer db.Close()
	var n expiryJobs
	var attempts, ok int
	err = db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*), COALESCE(SUM(attempt), 0),
		COALESCE(SUM(CASE WHEN state IN ('completed', 'running') THEN 1 ELSE 0 END), 0)
		FROM river_job WHERE kind = ? AND id > ? AND attempt > 0`), expireKind, since).Scan(&n.Jobs, &attempts, &ok)
	n.Errors = attempts - ok
	return n, err
}
