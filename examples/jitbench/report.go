package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// writeReport writes the human part of the report: what ran, and what each phase found.
func writeReport(out io.Writer, p params, b *bench, r result, lat *latencyRun, tp *throughputRun) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "database\t%s (%s)\n", b.dialect, b.shown)
	clients := "sharing one Zendesk client and its rate limiter"
	if p.clients == clientsEach {
		clients = "each with a Zendesk client of its own"
	}
	fmt.Fprintf(tw, "workers\t%d TimeBound.Run loops in this process, each with its own Store, %s\n", p.workers, clients)
	tw.Flush()
	if lat != nil {
		fmt.Fprintln(out)
		fmt.Fprintf(out, "Phase 1, latency: %d group grants expiring evenly over %v, no rate limit in the way\n", lat.grants, lat.spread)
		fmt.Fprintf(tw, "granted\t%d for an hour in %.1fs, then extended to their ends in %.1fs (%d extensions ended after their end)\n",
			lat.grants, lat.grantTime.Seconds(), lat.extendTime.Seconds(), lat.lateExtends)
		fmt.Fprintf(tw, "ended\t%d (%d failed, %d not ended %v after the last expiry)\n", lat.out.ended, lat.out.failed, lat.out.unfinished, lat.deadline)
		fmt.Fprintf(tw, "expiry to revoke\tp50 %.3fs, p99 %.3fs, max %.3fs\n", r.P50S, r.P99S, r.MaxS)
		fmt.Fprintf(tw, "ended over 5s late\t%d\n", r.LateOver5s)
		fmt.Fprintf(tw, "target (p99 < 5s)\t%s\n", met(r.P99Under5s))
		fmt.Fprintf(tw, "requests\t%d, from the extensions on\n", r.Requests)
		fmt.Fprintf(tw, "expiry jobs\t%d, %d attempts of them ended in an error and were retried (-v logs why)\n", r.ExpiryJobs.Jobs, r.ExpiryJobs.Errors)
		fmt.Fprintf(tw, "still held\t%d memberships after the phase\n", r.StillHeld)
		for _, e := range lat.out.errs {
			fmt.Fprintf(tw, "error\t%s\n", e)
		}
		tw.Flush()
	}
	if tp != nil {
		s := r.Phase2
		fmt.Fprintln(out)
		how := "bulk: memberships deleted by jobs of 100, after a read of each user's memberships"
		if !s.Bulk {
			how = "no bulk path: one revoke at a time"
		}
		fmt.Fprintf(out, "Phase 2, throughput: %d %s grants expiring in one second, %d requests a minute (%s)\n", s.Grants, s.Entitlement, s.LimitRPM, how)
		fmt.Fprintf(tw, "ended\t%d (%d failed, %d not ended %v after the expiry)\n", s.Revokes, s.Failed-s.Unfinished, s.Unfinished, tp.deadline.Round(time.Second))
		if s.Revokes > 0 {
			fmt.Fprintf(tw, "expiry to last revoke\t%.1fs (p50 %.1fs)\n", s.WallS, s.P50S)
		} else {
			fmt.Fprintf(tw, "expiry to last request\t%.1fs, and no grant ended\n", s.WallS)
		}
		fmt.Fprintf(tw, "revokes a minute\t%.1f\n", s.RevokesPerMin)
		fmt.Fprintf(tw, "requests\t%d (%.2f a revoke), %.1f a minute, at most %d in any 60s; limit %d a minute\n",
			s.Requests, s.RequestsPerRevoke, s.RequestsPerMin, s.PeakRequests60s, s.LimitRPM)
		fmt.Fprintf(tw, "throttled (429)\t%d\n", s.Throttled)
		if s.OverLimit {
			fmt.Fprintf(tw, "over the limit\tyes: %d requests in 60s, more than the limit of %d and one client's burst\n", s.PeakRequests60s, s.LimitRPM)
		}
		bound := "no"
		if s.RateBound {
			bound = "yes"
		}
		bound += fmt.Sprintf(": sending the requests at the limit takes at least %.1fs of the %.1fs", s.PacingFloorS, s.WallS)
		fmt.Fprintf(tw, "rate-bound\t%s\n", bound)
		fmt.Fprintf(tw, "expiry jobs\t%d, %d attempts of them ended in an error and were retried (-v logs why)\n", s.ExpiryJobs.Jobs, s.ExpiryJobs.Errors)
		fmt.Fprintf(tw, "still held\t%d memberships after the phase\n", s.StillHeld)
		for _, e := range tp.out.errs {
			fmt.Fprintf(tw, "error\t%s\n", e)
		}
		tw.Flush()
		fmt.Fprintf(tw, "endpoint\trequests\n")
		keys := make([]string, 0, len(s.Endpoints))
		for k := range s.Endpoints {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s\t%d\n", strings.TrimSpace(k), s.Endpoints[k])
		}
		tw.Flush()
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}
