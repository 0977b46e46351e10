package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/zgov-io/zgov/internal/measure"
)

// result turns a measurement into the JSON summary's fields.
func (m *measurement) result(p params) result {
	r := result{
		People: m.people, Users: m.snapshotUsers, Changes: len(m.plan.Changes), Creates: m.creates, Grants: m.grants,
		ParseS: measure.Round(m.parse.Seconds()), PlanS: measure.Round(m.planTime.Seconds()),
		PlanMB: measure.Round(measure.MB(m.planPeak)), PlanBaseMB: measure.Round(measure.MB(m.planAt)), PlanAllocMB: measure.Round(measure.MB(m.planAlloc)),
		SyncBeforeS: measure.Round(m.syncBefore.Seconds()), SyncAfterS: measure.Round(m.syncAfter.Seconds()),
		ApplyS: measure.Round(m.applyTime.Seconds()), Requests: m.stats.Total, MinRequests: m.cost.total(),
		NaiveRequests: len(m.plan.Changes), JobPolls: m.cost.polls, JobWaves: m.cost.waves,
		Throttled: m.stats.Throttled, FaultsInjected: m.stats.Faults,
		Applied: m.report.Applied, Done: m.report.Done, Stale: m.report.Stale, Blocked: m.report.Blocked, Failed: m.report.Failed,
		SnapshotSHA256Before: m.before, SnapshotSHA256After: m.after, EndStateSHA256: m.endState,
		JournalEntries: m.journalEntries, JournalVerified: m.journalErr == nil,
		Duplicates: m.journalDups + m.requestDups, Lost: len(m.lost), ReplanChanges: m.replan,
		RPM: p.rpm, LatencyMS: p.latency.Milliseconds(), Faults: m.faults, BulkImports: p.bulkImports,
	}
	if p.rpm > 0 {
		r.WallBoundS = measure.Round(1.2 * float64(r.MinRequests) * 60 / float64(p.rpm))
	}
	return r
}

// writeReport prints a measurement for people. r, when not nil, is its summary with the
// comparison with the fault-free run.
func writeReport(out io.Writer, p params, m *measurement, r *result) {
	res := m.result(p)
	if r != nil {
		res = *r
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	rpm := fmt.Sprintf("%d rpm", p.rpm)
	if p.rpm == 0 {
		rpm = "no rate limit"
	}
	imports := "bulk user imports on"
	if !p.bulkImports {
		imports = "bulk user imports off"
	}
	fmt.Fprintf(tw, "account\t%d users in the snapshot (%d agents, %d admins and the owner, %d end users), %d team groups\n",
		res.Users, p.agents(), p.admins, p.endUsers(), p.groups)
	fmt.Fprintf(tw, "directory\t%d people in %d teams, %d of them new hires\n", res.People, p.groups, p.newHires)
	fmt.Fprintf(tw, "simulator\t%s, latency %s, job delay %s, %s, faults %.0f%% (%d injected during apply)\n",
		rpm, p.latency, p.jobDelay, imports, 100*m.faults, res.FaultsInjected)
	tw.Flush()

	fmt.Fprintf(out, "\nsync: %.3fs before, %.3fs after the apply\n", res.SyncBeforeS, res.SyncAfterS)
	fmt.Fprintf(out, "plan: %d changes (%d creates, %d grants) in %.3fs; heap %.1f MB at its peak (%.1f MB before: simulator and snapshot), %.1f MB allocated\n",
		res.Changes, res.Creates, res.Grants, res.PlanS, res.PlanMB, res.PlanBaseMB, res.PlanAllocMB)

	fmt.Fprintln(out, "\napply: requests by endpoint")
	keys := make([]string, 0, len(m.stats.Requests))
	for k := range m.stats.Requests {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d\n", k, m.stats.Requests[k])
	}
	tw.Flush()
	c := m.cost
	fmt.Fprintln(out, "\napply: the minimum, by part")
	fmt.Fprintf(tw, "  account state (settings, custom roles)\t%d\n", c.accountState)
	fmt.Fprintf(tw, "  per-principal check (users/show_many)\t%d\n", c.check)
	if p.bulkImports {
		fmt.Fprintf(tw, "  account creations (users/create_many)\t%d\n", c.userJobs)
	} else {
		fmt.Fprintf(tw, "  account creations (a refused users/create_many; users/search and POST users each)\t%d\n", c.userJobs+c.userSingles)
	}
	fmt.Fprintf(tw, "  grants (group_memberships/create_many)\t%d\n", c.grantJobs)
	if c.other > 0 {
		fmt.Fprintf(tw, "  other changes, one request each\t%d\n", c.other)
	}
	fmt.Fprintf(tw, "  job polls answered (at least %d)\t%d\n", c.waves, c.polls)
	fmt.Fprintf(tw, "  total\t%d\n", c.total())
	tw.Flush()

	fmt.Fprintln(out)
	fmt.Fprintf(tw, "requests\t%d (minimum %d, %s; naive %d, one per change)\n", res.Requests, res.MinRequests, overMin(res.Requests, res.MinRequests), res.NaiveRequests)
	fmt.Fprintf(tw, "throttled (429)\t%d\n", res.Throttled)
	if p.rpm > 0 {
		fmt.Fprintf(tw, "wall\t%.3fs (bound %.3fs = 1.2 x %d requests at %d a minute: %s)\n", res.ApplyS, res.WallBoundS, res.MinRequests, p.rpm, within(res.ApplyS, res.WallBoundS))
	} else {
		fmt.Fprintf(tw, "wall\t%.3fs (no bound without a rate limit)\n", res.ApplyS)
	}
	fmt.Fprintf(tw, "changes\t%d applied, %d done, %d stale, %d blocked, %d failed\n", res.Applied, res.Done, res.Stale, res.Blocked, res.Failed)
	verified := "verified"
	if m.journalErr != nil {
		verified = "NOT verified: " + m.journalErr.Error()
	}
	fmt.Fprintf(tw, "journal\t%d entries, %s\n", res.JournalEntries, verified)
	fmt.Fprintf(tw, "lost\t%d%s\n", res.Lost, examples(m.lost))
	fmt.Fprintf(tw, "duplicates\t%d (%d in the journal, %d in the writes the simulator accepted)\n", res.Duplicates, m.journalDups, m.requestDups)
	fmt.Fprintf(tw, "plan again\t%d changes\n", res.ReplanChanges)
	fmt.Fprintf(tw, "snapshot before\t%s\n", res.SnapshotSHA256Before)
	fmt.Fprintf(tw, "snapshot after\t%s\n", res.SnapshotSHA256After)
	fmt.Fprintf(tw, "end state\t%s (user ids replaced by e-mail addresses)\n", res.EndStateSHA256)
	if res.SameEndState != nil {
		fmt.Fprintf(tw, "vs no faults\tend state %s, snapshot %s (%d requests without faults)\n",
			same(*res.SameEndState), same(*res.SameSnapshot), res.FaultFreeRequests)
	}
	tw.Flush()
}

func overMin(n, minimum int) string {
	switch {
	case n == minimum:
		return "exactly the minimum"
	case n > minimum:
		return fmt.Sprintf("%d over", n-minimum)
	}
	return fmt.Sprintf("%d under", minimum-n)
}

func within(wall, bound float64) string {
	if wall <= bound {
		return "within"
	}
	return fmt.Sprintf("%.2f x the bound", wall/bound)
}

func same(b bool) string {
	if b {
		return "the same"
	}
	return "DIFFERENT"
}

// examples lists the first few of ids, for a line of the report.
func examples(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	const n = 3
	s := ": " + strings.Join(ids[:min(n, len(ids))], ", ")
	if len(ids) > n {
		s += ", ..."
	}
	return s
}
