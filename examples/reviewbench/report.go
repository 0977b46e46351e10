package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// report writes the readable part of the report.
func report(w io.Writer, r *result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if c := r.Campaign; c != nil {
		fmt.Fprintf(tw, "campaign over %d users, %d grants (%s)\n", r.Users, r.Grants, r.DB)
		fmt.Fprintf(tw, "items\t%d\n", c.Items)
		fmt.Fprintf(tw, "create\t%.3f s\t(target < %d s)\n", c.CreateS, targetCreateS)
		fmt.Fprintf(tw, "read items\t%.3f s\n", c.ReadItemsS)
		fmt.Fprintf(tw, "decisions\t%d in %.3f s, %d a call, %.0f/s\t(target < %d s for 300,000)\n", c.Decisions, c.DecideS, r.Batch, c.DecisionsPS, targetDecideS)
		fmt.Fprintf(tw, "progress\t%d certified, %d revoked\n", c.Certified, c.Revoked)
		for _, f := range []string{"csv", "json", "xlsx", "html"} {
			e, ok := c.Exports[f]
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "export %s\t%.3f s, %.2f MB, peak heap %.1f MB\n", f, e.Seconds, e.SizeMB, e.PeakHeapMB)
		}
		fmt.Fprintf(tw, "peak heap of the exports\t%.1f MB\t(target < %d MB)\n", c.PeakHeapMB, targetPeakHeapMB)
		fmt.Fprintf(tw, "html report\tsummaries: %v (over %d items)\t(usable: < %d MB)\n", c.HTMLSummary, c.HTMLMaxRows, targetHTMLMB)
	}
	if m := r.Remediation; m != nil {
		fmt.Fprintf(tw, "remediation of %d revokes at %d requests/min\n", m.Revokes, m.LimitRPM)
		fmt.Fprintf(tw, "outcome\t%d done, %d failed, %d manual, %d pending in %.1f s\n", m.Done, m.Failed, m.Manual, m.Pending, m.WallS)
		fmt.Fprintf(tw, "requests\t%d (expected about %d: jobs %d + polls %d + lookup %d + verify %d)\n", m.Requests, m.Expected, m.JobsExpected, m.Polls, m.LookupExpected, m.VerifyRequests)
		fmt.Fprintf(tw, "bulk jobs\t%d (ceil(done/100) = %d)\n", m.Jobs, m.JobsExpected)
		fmt.Fprintf(tw, "verification\t%s, %d requests (the setup sync: %d)\n", m.Verify, m.VerifyRequests, m.SyncRequests)
		fmt.Fprintf(tw, "throttled (429)\t%d\n", m.Throttled)
		keys := make([]string, 0, len(m.ByEndpoint))
		for k := range m.ByEndpoint {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s\t%d\n", k, m.ByEndpoint[k])
		}
	}
	fmt.Fprintf(tw, "targets met\t%s\n", strings.Join(r.TargetsMet, ", "))
	fmt.Fprintf(tw, "targets missed\t%s\n", strings.Join(r.TargetsMissed, ", "))
	tw.Flush()
}
