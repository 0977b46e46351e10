package provision_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The environment of TestTimeBoundWorkerChild.
const (
	envWorkerDSN   = "ZGOV_TEST_TB_WORKER_DSN" // set: run as the worker
	envWorkerURL   = "ZGOV_TEST_TB_WORKER_URL"
	envWorkerSub   = "ZGOV_TEST_TB_WORKER_SUBDOMAIN"
	envWorkerEmail = "ZGOV_TEST_TB_WORKER_EMAIL"
	envWorkerToken = "ZGOV_TEST_TB_WORKER_TOKEN"
)

// workerReady is the line a worker child prints once it runs.
const workerReady = "time-bound worker running"

// jitZendesk is a simulator for time-bound grants, with the Zendesk
// backend, the System over it, and a Store, journal and TimeBound on dsn.
type jitZendesk struct {
	srv   *zendesktest.Server
	sys   *access.System
	store *provision.Store
	j     *provision.Journal
	tb    *provision.TimeBound
	dsn   string
}

func zendeskSystem(t testing.TB, base, sub, email, token string) *access.System {
	t.Helper()
	c, err := zendesk.NewClient(sub, zendesk.WithBaseURL(base), zendesk.WithAPIToken(email, token),
		zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(c)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	return sys
}

func timeBoundOn(t testing.TB, dsn string, sys *access.System, opts *provision.TimeBoundOptions) (*provision.Store, *provision.Journal, *provision.TimeBound) {
	t.Helper()
	store, err := provision.OpenStore(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	j, err := provision.NewJournal(store.Journal())
	if err != nil {
		t.Fatal(err)
	}
	tb, err := provision.NewTimeBound(context.Background(), store, sys, j, opts)
	if err != nil {
		t.Fatal(err)
	}
	return store, j, tb
}

func newJITZendesk(t *testing.T, dsn string) *jitZendesk {
	t.Helper()
	srv, err := zendesktest.NewServer(zendesktest.WithRateLimit(1_000_000), zendesktest.WithRequestLog(200_000))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cr := srv.Credentials()
	sys := zendeskSystem(t, srv.URL, cr.Subdomain, cr.AdminEmail, cr.APIToken)
	store, j, tb := timeBoundOn(t, dsn, sys, nil)
	return &jitZendesk{srv: srv, sys: sys, store: store, j: j, tb: tb, dsn: dsn}
}

// TestTimeBoundWorkerChild is the worker process of the tests below: it
// runs a TimeBound worker on the parent's database and simulator until it
// is killed. Run directly, it does nothing.
func TestTimeBoundWorkerChild(t *testing.T) {
	dsn := os.Getenv(envWorkerDSN)
	if dsn == "" {
		t.Skip("the worker process of TestTimeBoundSurvivesWorkerKill and TestTimeBoundManyWorkersRevokeOnce")
	}
	sys := zendeskSystem(t, os.Getenv(envWorkerURL), os.Getenv(envWorkerSub), os.Getenv(envWorkerEmail), os.Getenv(envWorkerToken))
	opts := &provision.TimeBoundOptions{SweepInterval: time.Second}
	if os.Getenv("ZGOV_TEST_TB_WORKER_LOG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	_, _, tb := timeBoundOn(t, dsn, sys, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	go func() {
		time.Sleep(100 * time.Millisecond)
		fmt.Println(workerReady)
	}()
	if err := tb.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// startWorker starts a worker child on z's database and simulator and
// waits until it runs.
func startWorker(t *testing.T, z *jitZendesk) *exec.Cmd {
	t.Helper()
	cr := z.srv.Credentials()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTimeBoundWorkerChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envWorkerDSN+"="+z.dsn, envWorkerURL+"="+z.srv.URL, envWorkerSub+"="+cr.Subdomain,
		envWorkerEmail+"="+cr.AdminEmail, envWorkerToken+"="+cr.APIToken)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), workerReady) {
				ready <- true
			}
			if os.Getenv("ZGOV_TEST_TB_WORKER_LOG") != "" {
				fmt.Fprintln(os.Stderr, "worker:", sc.Text())
			}
		}
		ready <- false
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the worker child exited before it ran")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the worker child did not start in 60 s")
	}
	return cmd
}

// waitEnded waits for the grants to end, for up to limit.
func waitEnded(t *testing.T, tb *provision.TimeBound, limit time.Duration, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		open, err := tb.List(t.Context(), provision.TimeBoundPending, provision.TimeBoundActive, provision.TimeBoundEnding)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d grants still open after %v, such as %+v", len(open), limit, open[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range ids {
		g, err := tb.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if g.State != provision.TimeBoundEnded {
			t.Errorf("%s ended %s: %s", id, g.State, g.Error)
		}
	}
}

// membershipDeletes returns the group memberships the simulator was asked
// to delete, one by one or in bulk, with how often each was asked, and the
// number of 429 answers.
func membershipDeletes(t *testing.T, srv *zendesktest.Server) (deletes map[string]int, throttled int) {
	t.Helper()
	deletes = map[string]int{}
	for _, r := range srv.RequestLog() {
		if r.Status == 429 {
			throttled++
		}
		if r.Method != "DELETE" || r.Status >= 300 {
			continue
		}
		switch {
		case strings.HasSuffix(r.Path, "/group_memberships/destroy_many") || strings.HasSuffix(r.Path, "/group_memberships/destroy_many.json"):
			q, err := url.ParseQuery(r.Query)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range strings.Split(q.Get("ids"), ",") {
				deletes[id]++
			}
		case strings.Contains(r.Path, "/group_memberships/"):
			deletes[r.Path[strings.LastIndexByte(r.Path, '/')+1:]]++
		}
	}
	return deletes, throttled
}

// TestTimeBoundSurvivesWorkerKill grants access for a few seconds, starts
// a worker in a child process, kills it with SIGKILL while it waits for
// the expiry, starts another, and checks that the access is revoked once:
// one delete in the simulator's request log, the revoke journaled once.
func TestTimeBoundSurvivesWorkerKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	dsn, _ := tempDSN(t)
	z := newJITZendesk(t, dsn)
	u, err := z.srv.AddUser(zendesktest.UserSpec{Name: "Ann", Email: "ann@example.com", Role: zendesktest.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	grp := z.srv.AddGroup("Escalations")
	eid := "group:" + strconv.FormatInt(grp.ID, 10) + ":member"
	pid := "user:" + strconv.FormatInt(u.ID, 10)

	first := startWorker(t, z)
	g, err := z.tb.Grant(t.Context(), provision.TimeBoundRequest{PrincipalID: pid, EntitlementID: eid, For: 4 * time.Second,
		Actor: provision.JournalActor{Who: "ann@example.com", Reason: "on call"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(z.srv.GroupMembershipsOf(u.ID)) != 2 { // the default group and Escalations
		t.Fatalf("memberships after the grant: %+v", z.srv.GroupMembershipsOf(u.ID))
	}
	// The expiry job starts up to 5 s early and waits: kill the worker
	// while it waits, 1.5 s before the expiry.
	time.Sleep(time.Until(g.ExpiresAt.Add(-1500 * time.Millisecond)))
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	startWorker(t, z)
	waitEnded(t, z.tb, 90*time.Second, g.ID)
	ended, _ := z.tb.Get(t.Context(), g.ID)
	t.Logf("revoked %v after the expiry", ended.EndedAt.Sub(ended.ExpiresAt))

	for _, m := range z.srv.GroupMembershipsOf(u.ID) {
		if m.GroupID == grp.ID {
			t.Fatal("ann still holds Escalations")
		}
	}
	deletes, _ := membershipDeletes(t, z.srv)
	if len(deletes) != 1 {
		t.Errorf("deleted memberships %v, want one", deletes)
	}
	for id, n := range deletes {
		if n != 1 {
			t.Errorf("membership %s deleted %d times", id, n)
		}
	}
	out := journaled(t, z.j, "timebound/"+g.ID+"/")
	if s := out["timebound/"+g.ID+"/revoke"].Status; s != string(access.StatusRevoked) || len(out) != 2 {
		t.Errorf("journal: %v, want the grant and one revoke", out)
	}
}

// TestTimeBoundManyWorkersRevokeOnce runs 4 worker processes on one
// PostgreSQL database and expires 1,000 grants in the same second: 1,000
// revokes, none twice (journal and request log), no 429.
func TestTimeBoundManyWorkersRevokeOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	n := 1000
	if s := os.Getenv("ZGOV_TEST_TB_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dsn := sqldbtest.PostgresDSN(t)
	z := newJITZendesk(t, dsn)
	grp := z.srv.AddGroup("Incident room")
	eid := "group:" + strconv.FormatInt(grp.ID, 10) + ":member"
	pids := make([]string, n)
	for i := range n {
		u, err := z.srv.AddUser(zendesktest.UserSpec{Name: "Agent " + strconv.Itoa(i), Email: fmt.Sprintf("agent%d@example.com", i), Role: zendesktest.RoleAgent})
		if err != nil {
			t.Fatal(err)
		}
		pids[i] = "user:" + strconv.FormatInt(u.ID, 10)
	}
	for range 4 {
		startWorker(t, z)
	}
	// Grant for an hour, then move every end to one second, far enough
	// ahead for the moves to finish first (they cost less than the grants).
	start := time.Now()
	ids := make([]string, n)
	var eg errgroup.Group
	eg.SetLimit(8)
	for i := range n {
		eg.Go(func() error {
			g, err := z.tb.Grant(context.Background(), provision.TimeBoundRequest{PrincipalID: pids[i], EntitlementID: eid, For: time.Hour,
				Actor: provision.JournalActor{Who: "incident-bot", Reason: "incident 42"}})
			ids[i] = g.ID
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	z.srv.ResetStats()
	end := time.Now().Add(max(3*time.Second, time.Since(start))).Truncate(time.Second)
	for i := range n {
		eg.Go(func() error {
			_, err := z.tb.Extend(context.Background(), ids[i], end)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, z.tb, 3*time.Minute, ids...)

	deletes, throttled := membershipDeletes(t, z.srv)
	// In bulk: Zendesk deletes 100 memberships a job.
	deleteRequests := 0
	for _, r := range z.srv.RequestLog() {
		if r.Method == "DELETE" && strings.Contains(r.Path, "group_memberships") {
			deleteRequests++
		}
	}
	if limit := (n+99)/100 + 2; deleteRequests > limit {
		t.Errorf("%d delete requests for %d expiries in one second, want at most %d: not revoked in bulk", deleteRequests, n, limit)
	}
	twice := 0
	for _, c := range deletes {
		if c > 1 {
			twice++
		}
	}
	if len(deletes) != n || twice != 0 || throttled != 0 {
		t.Errorf("the simulator deleted %d memberships, %d more than once, and answered 429 %d times; want %d, 0, 0", len(deletes), twice, throttled, n)
	}
	out := journaled(t, z.j, "timebound/")
	revokes := 0
	for id, o := range out {
		if strings.HasSuffix(id, "/revoke") {
			revokes++
			if o.Status != string(access.StatusRevoked) {
				t.Errorf("%s journaled %+v", id, o)
			}
		}
	}
	if revokes != n {
		t.Errorf("journal holds %d revokes, want %d", revokes, n)
	}
	var last time.Duration
	gs, _ := z.tb.List(t.Context(), provision.TimeBoundEnded)
	for _, g := range gs {
		last = max(last, g.EndedAt.Sub(g.ExpiresAt))
	}
	t.Logf("%d grants ended by 4 workers, the last %v after the expiry; requests during the expiry: %d", len(gs), last, len(z.srv.RequestLog()))
}

// TestTimeBoundRunEndsGrants runs a worker in this process on each
// database: a grant of two seconds is revoked by it, and a notice set for
// one second before the expiry is sent once.
func TestTimeBoundRunEndsGrants(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a real expiry")
	}
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		srv, err := zendesktest.NewServer(zendesktest.WithRateLimit(1_000_000), zendesktest.WithRequestLog(10_000))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		cr := srv.Credentials()
		sys := zendeskSystem(t, srv.URL, cr.Subdomain, cr.AdminEmail, cr.APIToken)
		var mu sync.Mutex
		var notices []string
		_, j, tb := timeBoundOn(t, dsn, sys, &provision.TimeBoundOptions{
			Notices: []time.Duration{time.Second},
			OnNotice: func(_ context.Context, g provision.TimeBoundGrant, before time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				notices = append(notices, fmt.Sprintf("%s %v", g.ID, before))
				return nil
			},
		})
		u, err := srv.AddUser(zendesktest.UserSpec{Name: "Ann", Email: "ann@example.com", Role: zendesktest.RoleAgent})
		if err != nil {
			t.Fatal(err)
		}
		grp := srv.AddGroup("Escalations")
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- tb.Run(ctx) }()
		g, err := tb.Grant(t.Context(), provision.TimeBoundRequest{PrincipalID: "user:" + strconv.FormatInt(u.ID, 10),
			EntitlementID: "group:" + strconv.FormatInt(grp.ID, 10) + ":member", For: 2 * time.Second,
			Actor: provision.JournalActor{Who: "ann@example.com", Reason: "on call"}})
		if err != nil {
			t.Fatal(err)
		}
		waitEnded(t, tb, 60*time.Second, g.ID)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		ended, _ := tb.Get(t.Context(), g.ID)
		t.Logf("revoked %v after the expiry", ended.EndedAt.Sub(ended.ExpiresAt))
		mu.Lock()
		defer mu.Unlock()
		if want := g.ID + " 1s"; len(notices) != 1 || notices[0] != want {
			t.Errorf("notices %q, want [%q]", notices, want)
		}
		journaled(t, j, "timebound/")
	})
}
