package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/internal/measure"
	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The targets of the issue.
const (
	targetCreateS    = 3
	targetDecideS    = 10 // for 300,000 decisions on SQLite
	targetCSVS       = 2
	targetXLSXS      = 30
	targetPeakHeapMB = 500
	targetHTMLMB     = 10 // this command's reading of "usable"
)

// result is the last line of the report.
type result struct {
	DB            string           `json:"db"` // "sqlite" or "postgres"
	Users         int              `json:"users"`
	Grants        int              `json:"grants"`
	Batch         int              `json:"batch"`
	Campaign      *campaignResult  `json:"campaign,omitempty"`
	Remediation   *remediateResult `json:"remediation,omitempty"`
	TargetsMet    []string         `json:"targets_met"`
	TargetsMissed []string         `json:"targets_missed"`
}

// campaignResult is phase 1.
type campaignResult struct {
	Items       int                     `json:"items"`
	CreateS     float64                 `json:"create_s"`
	ReadItemsS  float64                 `json:"read_items_s"`
	Decisions   int                     `json:"decisions"`
	DecideS     float64                 `json:"decide_s"`
	DecisionsPS float64                 `json:"decisions_per_s"`
	Certified   int                     `json:"certified"`
	Revoked     int                     `json:"revoked"`
	Exports     map[string]exportResult `json:"exports"`
	PeakHeapMB  float64                 `json:"peak_heap_mb"` // the largest of the exports'
	HTMLSummary bool                    `json:"html_summary"` // the HTML report is one of summaries
	HTMLMaxRows int                     `json:"html_max_rows"`
}

// exportResult is one format's export.
type exportResult struct {
	Seconds    float64 `json:"s"`
	SizeMB     float64 `json:"size_mb"`
	PeakHeapMB float64 `json:"peak_heap_mb"`
}

// remediateResult is phase 2.
type remediateResult struct {
	Revokes        int            `json:"revokes"`
	Done           int            `json:"done"`
	Failed         int            `json:"failed"`
	Manual         int            `json:"manual"`
	Pending        int            `json:"pending"`
	LimitRPM       int            `json:"limit_rpm"`
	WallS          float64        `json:"wall_s"`
	Requests       int            `json:"requests"`
	Jobs           int            `json:"jobs"`
	JobsExpected   int            `json:"jobs_expected"` // ceil(done/100)
	Polls          int            `json:"polls"`
	LookupExpected int            `json:"lookup_expected"` // ceil(memberships/100): one read of the memberships to find their ids
	VerifyRequests int64          `json:"verify_requests"` // the verifying re-read
	Other          int            `json:"other"`           // requests - jobs - polls - verify: the lookup and fixed reads
	Expected       int64          `json:"expected"`        // jobs expected + polls + lookup expected + verify
	Verify         string         `json:"verify"`
	Throttled      int            `json:"throttled"`
	ByEndpoint     map[string]int `json:"by_endpoint"`
	SyncRequests   int64          `json:"sync_requests"` // what the setup sync cost, for comparison
}

// The simulator's endpoints remediation uses.
const (
	epJobs  = "DELETE /api/v2/group_memberships/destroy_many"
	epPolls = "GET /api/v2/job_statuses/show_many"
	epPoll  = "GET /api/v2/job_statuses/{id}"
)

// run runs the phases and writes the report.
func run(ctx context.Context, stdout, stderr io.Writer, p params) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	dsn, dialect := p.db, "postgres"
	switch {
	case p.db == "":
		dir, err := os.MkdirTemp("", "reviewbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dsn, dialect = "sqlite:"+(&url.URL{Path: filepath.ToSlash(filepath.Join(dir, "zgov.db"))}).EscapedPath(), "sqlite"
	case len(p.db) >= 7 && p.db[:7] == "sqlite:":
		dialect = "sqlite"
	}
	logf("database: %s (%s)", sqldb.Redact(dsn), dialect)
	res := &result{DB: dialect, Users: p.users, Grants: p.grants, Batch: p.batch, TargetsMet: []string{}, TargetsMissed: []string{}}
	tmp, err := os.MkdirTemp("", "reviewbench-out-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if p.phases != "remediate" {
		c, err := campaignPhase(ctx, logf, p, dsn, tmp)
		if err != nil {
			return fmt.Errorf("campaign: %w", err)
		}
		res.Campaign = c
	}
	if p.phases != "campaign" {
		r, err := remediatePhase(ctx, logf, p, dsn)
		if err != nil {
			return fmt.Errorf("remediation: %w", err)
		}
		res.Remediation = r
	}
	judge(res)
	report(stdout, res)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return err
	}
	if r := res.Remediation; r != nil {
		if r.Failed > 0 || r.Pending > 0 {
			return fmt.Errorf("%d revokes failed, %d pending", r.Failed, r.Pending)
		}
		if r.Throttled > 0 {
			return fmt.Errorf("the simulator answered 429 %d times", r.Throttled)
		}
	}
	return nil
}

// judge lists the targets met and missed. The decision target is for 300,000
// decisions: it is scaled to the run's.
func judge(res *result) {
	check := func(name string, ok bool) {
		if ok {
			res.TargetsMet = append(res.TargetsMet, name)
		} else {
			res.TargetsMissed = append(res.TargetsMissed, name)
		}
	}
	if c := res.Campaign; c != nil {
		check(fmt.Sprintf("create<%ds", targetCreateS), c.CreateS < targetCreateS)
		limit := targetDecideS * float64(c.Decisions) / 300_000
		check(fmt.Sprintf("decide<%.3gs", limit), c.DecideS < limit)
		check(fmt.Sprintf("csv<%ds", targetCSVS), c.Exports["csv"].Seconds < targetCSVS)
		check(fmt.Sprintf("xlsx<%ds", targetXLSXS), c.Exports["xlsx"].Seconds < targetXLSXS)
		check(fmt.Sprintf("peak_heap<%dMB", targetPeakHeapMB), c.PeakHeapMB < targetPeakHeapMB)
		check(fmt.Sprintf("html<%dMB", targetHTMLMB), c.Exports["html"].SizeMB < targetHTMLMB)
	}
	if r := res.Remediation; r != nil {
		check("remediation_jobs=ceil(n/100)", r.Jobs == r.JobsExpected)
		check("remediation_requests<=expected+10", int64(r.Requests) <= r.Expected+10)
		check("no_429", r.Throttled == 0)
	}
}

// secs rounds a duration to seconds, three decimals.
func secs(d time.Duration) float64 { return measure.Round(d.Seconds()) }

// campaignPhase is phase 1.
func campaignPhase(ctx context.Context, logf func(string, ...any), p params, dsn, tmp string) (*campaignResult, error) {
	logf("generating and syncing %d users, %d grants", p.users, p.grants)
	b, err := memaccess.New(memaccess.Generate(p.users, 200, 1_000))
	if err != nil {
		return nil, err
	}
	snap, err := access.Sync(ctx, b, nil)
	if err != nil {
		return nil, err
	}
	st, err := review.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	owners := map[string][]string{}
	for i := 1; i <= 200; i++ {
		owners["group:"+strconv.Itoa(i)] = []string{"owner" + strconv.Itoa(i%20) + "@example.com"}
	}
	spec := review.CampaignSpec{Name: "reviewbench", Reviewers: []review.ReviewerRule{{Kind: review.RuleOwner, Owners: owners}},
		Fallback: []string{"auditor@example.com"}}
	r := &campaignResult{Exports: map[string]exportResult{}, HTMLMaxRows: review.DefaultHTMLMaxRows}
	start := time.Now()
	c, err := st.Create(ctx, snap, spec)
	if err != nil {
		return nil, err
	}
	r.CreateS = secs(time.Since(start))
	logf("created in %v", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	var ds []review.Decision
	for it, err := range c.Items(ctx, nil) {
		if err != nil {
			return nil, err
		}
		d := review.Decision{ItemID: it.ID, Reviewer: it.Reviewers[0].Reviewer, Verdict: review.Certify}
		if it.ID%10 == 0 {
			d.Verdict, d.Justification = review.Revoke, "not needed"
		}
		ds = append(ds, d)
	}
	r.Items, r.ReadItemsS = len(ds), secs(time.Since(start))
	logf("read %d items in %v", len(ds), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for i := 0; i < len(ds); i += p.batch {
		if err := c.DecideMany(ctx, ds[i:min(i+p.batch, len(ds))]); err != nil {
			return nil, err
		}
		if n := min(i+p.batch, len(ds)); n%(10*p.batch) == 0 || n == len(ds) {
			logf("decided %d/%d", n, len(ds))
		}
	}
	d := time.Since(start)
	r.Decisions, r.DecideS = len(ds), secs(d)
	if d > 0 {
		r.DecisionsPS = measure.Round(float64(len(ds)) / d.Seconds())
	}
	ds = nil
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	r.Certified, r.Revoked = info.Progress.Certified, info.Progress.Revoked
	r.HTMLSummary = r.Items > review.DefaultHTMLMaxRows

	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"csv", func(w io.Writer) error { return c.WriteCSV(ctx, w) }},
		{"json", func(w io.Writer) error { return c.WriteJSON(ctx, w, nil) }},
		{"xlsx", func(w io.Writer) error { return c.WriteXLSX(ctx, w, nil) }},
		{"html", func(w io.Writer) error { return c.WriteHTML(ctx, w, nil) }},
	} {
		e, err := exportOne(filepath.Join(tmp, "export."+f.name), f.write)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", f.name, err)
		}
		r.Exports[f.name] = e
		r.PeakHeapMB = max(r.PeakHeapMB, e.PeakHeapMB)
		logf("%s: %.3f s, %.1f MB, peak heap %.1f MB", f.name, e.Seconds, e.SizeMB, e.PeakHeapMB)
	}
	return r, nil
}

// exportOne writes one export to name, timing it and sampling the heap.
func exportOne(name string, write func(io.Writer) error) (exportResult, error) {
	runtime.GC()
	out, err := os.Create(name)
	if err != nil {
		return exportResult{}, err
	}
	defer os.Remove(name)
	defer out.Close()
	s := measure.StartPeakSampler(5 * time.Millisecond)
	start := time.Now()
	bw := bufio.NewWriter(out)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	d := time.Since(start)
	peak := s.Stop()
	if err != nil {
		return exportResult{}, err
	}
	fi, err := out.Stat()
	if err != nil {
		return exportResult{}, err
	}
	return exportResult{Seconds: secs(d), SizeMB: measure.Round(float64(fi.Size()) / 1e6), PeakHeapMB: measure.Round(measure.MB(peak))}, nil
}

// remediatePhase is phase 2, set up as review's TestRemediateZendesk10k.
func remediatePhase(ctx context.Context, logf func(string, ...any), p params, dsn string) (*remediateResult, error) {
	n := p.remediate
	spec := zendesktest.AccountSpec{Seed: 5, Agents: n + 500, Admins: 20, EndUsers: 100, Groups: 30,
		Organizations: 5, GroupMemberships: n * 5 / 2}
	logf("simulator: %d agents, %d group memberships, %d requests a minute", spec.Agents, spec.GroupMemberships, p.rpm)
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(spec), zendesktest.WithRateLimit(p.rpm), zendesktest.WithUserUpdateLimit(0))
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(p.rpm), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		return nil, err
	}
	zb, err := zendeskaccess.New(client, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		return nil, err
	}
	sys, err := access.NewSystem(zb)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	snap, err := sys.Sync(ctx, nil)
	if err != nil {
		return nil, err
	}
	logf("synced the simulator in %v (%d requests)", time.Since(start).Round(time.Millisecond), snap.Provenance().Requests)
	ps, err := provision.OpenStore(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer ps.Close()
	j, err := provision.NewJournal(ps.Journal())
	if err != nil {
		return nil, err
	}
	st, err := review.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	c, err := st.Create(ctx, snap, review.CampaignSpec{Name: "Groups", Scope: review.Scope{ResourceTypes: []string{"group"}},
		Fallback: []string{"auditor@example.com"}})
	if err != nil {
		return nil, err
	}
	var ds []review.Decision
	for it, err := range c.Items(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if len(ds) == n {
			break
		}
		ds = append(ds, review.Decision{ItemID: it.ID, Reviewer: it.Reviewers[0].Reviewer, Verdict: review.Revoke, Justification: "not needed"})
	}
	if len(ds) < n {
		return nil, fmt.Errorf("the campaign holds %d group memberships, fewer than %d", len(ds), n)
	}
	for i := 0; i < len(ds); i += p.batch {
		if err := c.DecideMany(ctx, ds[i:min(i+p.batch, len(ds))]); err != nil {
			return nil, err
		}
	}
	logf("remediating %d revokes", n)
	srv.ResetStats()
	start = time.Now()
	rep, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: j, Guards: provision.Guards{MaxDestructive: n, MaxTeamShare: 1}, Snapshot: snap,
		Progress: func(pr provision.ApplyProgress) {
			if pr.Done%1000 == 0 || pr.Done == pr.Total {
				logf("remediation: %s %d/%d", pr.Phase, pr.Done, pr.Total)
			}
		}})
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	stats := srv.Stats()
	r := &remediateResult{Revokes: n, Done: rep.Done, Failed: rep.Failed, Manual: rep.Manual, Pending: rep.Pending, LimitRPM: p.rpm,
		WallS: secs(wall), Requests: stats.Total, Jobs: stats.Requests[epJobs], JobsExpected: (rep.Done + 99) / 100,
		Polls: stats.Requests[epPolls] + stats.Requests[epPoll], LookupExpected: (spec.GroupMemberships + 99) / 100, VerifyRequests: rep.VerifyRequests,
		Verify: string(rep.Verify), Throttled: stats.Throttled, ByEndpoint: stats.Requests, SyncRequests: snap.Provenance().Requests}
	r.Other = r.Requests - r.Jobs - r.Polls - int(r.VerifyRequests)
	r.Expected = int64(r.JobsExpected+r.Polls+r.LookupExpected) + r.VerifyRequests
	logf("remediation: %d done, %d failed, %d manual in %v; %d requests, %d throttled", rep.Done, rep.Failed, rep.Manual, wall.Round(time.Millisecond), stats.Total, stats.Throttled)
	return r, nil
}
