package provision_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The environment of the child process of TestApplyKilledResumes.
const (
	envKillChild   = "ZGOV_TEST_APPLY_CHILD" // the saved plan's path
	envKillURL     = "ZGOV_TEST_APPLY_URL"
	envKillSub     = "ZGOV_TEST_APPLY_SUBDOMAIN"
	envKillEmail   = "ZGOV_TEST_APPLY_EMAIL"
	envKillToken   = "ZGOV_TEST_APPLY_TOKEN"
	envKillJournal = "ZGOV_TEST_APPLY_JOURNAL" // the journal's DSN; unset, the journal is in memory
)

// TestApplyChild is the child process of TestApplyKilledResumes: it applies
// a saved plan to the parent's simulator until the parent kills it. Run
// directly, it does nothing.
func TestApplyChild(t *testing.T) {
	path := os.Getenv(envKillChild)
	if path == "" {
		t.Skip("the child process of TestApplyKilledResumes")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := provision.LoadPlan(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c, err := zendesk.NewClient(os.Getenv(envKillSub), zendesk.WithBaseURL(os.Getenv(envKillURL)),
		zendesk.WithAPIToken(os.Getenv(envKillEmail), os.Getenv(envKillToken)), zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0))
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
	// Without a journal DSN, the journal dies with this process: the
	// resumed run must converge from what Zendesk shows alone.
	var store provision.JournalStore = provision.NewMemoryJournalStore()
	if dsn := os.Getenv(envKillJournal); dsn != "" {
		store = openSQLStore(t, dsn)
	}
	if _, err := provision.Apply(t.Context(), sys, newJournal(t, store), plan, &provision.ApplyOptions{Actor: applier}); err != nil {
		t.Fatal(err)
	}
}

// applyInChild applies plan to d's simulator in a child process, with its
// journal in journalDSN (in memory if ""), and kills the child with SIGKILL
// once its writes on the simulator reach after. It reports whether it
// killed it: the child may finish first.
func applyInChild(t *testing.T, d *dayOne, plan *provision.Plan, after int, journalDSN string) bool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.json")
	var buf bytes.Buffer
	if err := plan.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	d.srv.ResetStats()
	cr := d.srv.Credentials()
	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"="+path, envKillURL+"="+d.srv.URL, envKillSub+"="+cr.Subdomain,
		envKillEmail+"="+cr.AdminEmail, envKillToken+"="+cr.APIToken, envKillJournal+"="+journalDSN)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Logf("after %d writes: the child finished before it was killed (%v)", after, err)
			return false
		case <-deadline:
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("after %d writes: the child did not get there in 60 s:\n%s", after, out.String())
		case <-time.After(time.Millisecond):
			if writes(d.srv) >= after {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				return true
			}
		}
	}
}

// checkResumed checks the account after a resumed run of plan: the run
// reports nothing stale or failed, the account ends where the plan leads,
// no account is created twice and no change is carried out twice.
func checkResumed(t *testing.T, d *dayOne, plan *provision.Plan, rep *provision.ApplyReport, after int) {
	t.Helper()
	if rep.Failed != 0 || rep.Stale != 0 {
		for _, r := range rep.Results {
			if r.State == provision.StateFailed || r.State == provision.StateStale {
				t.Logf("%s: %s %v", r.Change.ID, r.State, r.Err)
			}
		}
		t.Errorf("after %d writes: resumed Apply: %d stale, %d failed", after, rep.Stale, rep.Failed)
	}
	for _, c := range d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}).Changes {
		if c.Blocked == nil {
			t.Errorf("after %d writes: the account has not converged: %s is still planned", after, c.ID)
		}
	}
	// Nothing twice: one account per new hire, and no user's role or
	// suspension written more often than the plan has changes for it.
	planned := map[string]int{}
	for _, c := range plan.Changes {
		if c.Kind == provision.ChangeDeprovision || c.Kind == provision.ChangeGrant && strings.HasPrefix(c.EntitlementID, "role:") {
			planned[strings.TrimPrefix(c.PrincipalID, "user:")]++
		}
	}
	puts := map[string]int{}
	for _, r := range d.srv.RequestLog() {
		if r.Method == "PUT" && strings.HasPrefix(r.Path, "/api/v2/users/") && r.Status/100 == 2 {
			puts[strings.TrimSuffix(strings.TrimPrefix(r.Path, "/api/v2/users/"), ".json")]++
		}
	}
	for u, n := range puts {
		if n > planned[u] {
			t.Errorf("after %d writes: user %s was updated %d times for %d planned changes", after, u, n, planned[u])
		}
	}
	hires := map[string]int{}
	for _, u := range liveUsersOf(d.srv) {
		if strings.HasPrefix(u.Email, "hire") {
			hires[u.Email]++
		}
	}
	for email, n := range hires {
		if n != 1 {
			t.Errorf("after %d writes: %d accounts for %s", after, n, email)
		}
	}
	if len(hires) != 5 {
		t.Errorf("after %d writes: %d of 5 new hires have accounts", after, len(hires))
	}
}

// TestApplyKilledResumes applies a plan in a child process, kills it with
// SIGKILL partway (after its first writes reached the simulator), and
// applies the same plan again in this process, with a new journal: the
// account ends where the plan leads, no account is created twice and no
// change is carried out twice.
func TestApplyKilledResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	t.Parallel()
	for _, after := range []int{1, 4, 10} {
		// Latency slows the child, so the kill lands partway.
		d := newDayOne(t, zendesktest.WithLatency(5*time.Millisecond))
		plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
		killed := applyInChild(t, d, plan, after, "")
		partial := writes(d.srv)
		rep, err := provision.Apply(t.Context(), d.sys, newJournal(t, nil), plan, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatalf("after %d writes: resumed Apply: %v", after, err)
		}
		checkResumed(t, d, plan, rep, after)
		t.Logf("after %d writes: killed %v with %d writes done; the resumed run applied %d and found %d done", after, killed, partial, rep.Applied, rep.Done)
	}
}

// TestApplyKilledResumesFromDurableJournal kills the child process of
// TestApplyKilledResumes while it journals to a SQLite file, then opens the
// file in this process and applies the plan again through it: besides all
// that test checks, the journal survives the kill whole (it verifies, with
// the head read right after the kill as an anchor) and ends with every
// change journaled exactly once, started and finished.
func TestApplyKilledResumesFromDurableJournal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	t.Parallel()
	for _, after := range []int{2, 8} {
		d := newDayOne(t, zendesktest.WithLatency(5*time.Millisecond))
		plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
		dsn, _ := tempDSN(t)
		killed := applyInChild(t, d, plan, after, dsn)
		j := newJournal(t, openSQLStore(t, dsn))
		anchor, err := j.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		before, err := j.Verify(t.Context())
		if err != nil {
			t.Fatalf("after %d writes: the journal the killed child left: %v", after, err)
		}
		rep, err := provision.Apply(t.Context(), d.sys, j, plan, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatalf("after %d writes: resumed Apply: %v", after, err)
		}
		checkResumed(t, d, plan, rep, after)
		checkJournaledOnce(t, j, rep, fmt.Sprintf("after %d writes", after))
		var anchors []provision.JournalHead
		if anchor.Seq > 0 {
			anchors = append(anchors, anchor)
		}
		if report, err := j.Verify(t.Context(), anchors...); err != nil || report.Unfinished != 0 || report.Anchors != len(anchors) {
			t.Errorf("after %d writes: journal: %v, %+v", after, err, report)
		}
		t.Logf("after %d writes: killed %v with %d entries journaled, %d of them changes left unfinished; the resumed run applied %d and found %d done",
			after, killed, before.Entries, before.Unfinished, rep.Applied, rep.Done)
	}
}

// liveUsersOf returns the simulator's live users.
func liveUsersOf(srv *zendesktest.Server) []zendesktest.User {
	var out []zendesktest.User
	for id := int64(10_000_000_001); ; id++ {
		u, ok := srv.User(id)
		if !ok {
			return out
		}
		if u.Active {
			out = append(out, u)
		}
	}
}
