package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zgov-io/zgov/internal/measure"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// throughputRun is what phase 2 found.
type throughputRun struct {
	p         params
	expiry    time.Time // the second every grant expires in
	out       outcome
	stillHeld int
	log       []zendesktest.RequestRecord // the rate-limited simulator's, from the extensions on
	stats     zendesktest.Stats
	deadline  time.Duration
	jobs      expiryJobs
}

// requestsPerRevoke is about what one revoke costs, for the default deadline: a read
// of the user's memberships (a bulk delete job takes 100); a read of the user, of their
// memberships, and a delete, one at a time.
func requestsPerRevoke(entitlement string) float64 {
	if entitlement == entOrganization {
		return 3
	}
	return 1.1
}

// throughput runs phase 2: every grant expires in one second, against a simulator with a
// rate limit of -rpm and clients that pace themselves at it.
func (b *bench) throughput(ctx context.Context) (*throughputRun, error) {
	p := b.p
	r := &throughputRun{p: p}
	b.logf("phase 2 (throughput): %d %s grants expiring in one second, at %d requests a minute, %d workers, %s",
		p.grants, p.entitlement, p.rpm, p.workers, b.dialect)
	// The grants are made against a twin without a rate limit; the memberships they made
	// are then added to the rate-limited simulator, which the workers revoke from.
	twin, err := newSimulator(generousRPM)
	if err != nil {
		return nil, err
	}
	defer twin.Close()
	srv, err := newSimulator(p.rpm)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	ta, err := populate(twin, p.grants, p.entitlement)
	if err != nil {
		return nil, err
	}
	a, err := populate(srv, p.grants, p.entitlement)
	if err != nil {
		return nil, err
	}
	if a.eid != ta.eid || !slices.Equal(a.userIDs, ta.userIDs) {
		return nil, fmt.Errorf("the two simulators gave the users or the %s different ids", p.entitlement)
	}
	c, err := newClient(twin, generousRPM)
	if err != nil {
		return nil, err
	}
	sys, err := newSystem(c)
	if err != nil {
		return nil, err
	}
	store, tb, err := b.timeBound(ctx, sys)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if err := checkNoneOpen(ctx, tb); err != nil {
		return nil, err
	}
	ids, err := b.grantAll(ctx, tb, ta, "throughput")
	if err != nil {
		return nil, err
	}
	for _, uid := range a.userIDs {
		if p.entitlement == entOrganization {
			_, err = srv.AddOrganizationMembership(uid, a.targetID)
		} else {
			_, err = srv.AddGroupMembership(uid, a.targetID)
		}
		if err != nil {
			return nil, err
		}
	}
	if held := a.held(srv); held != p.grants {
		return nil, fmt.Errorf("the rate-limited simulator holds %d memberships after the set-up, want %d", held, p.grants)
	}

	systems, err := b.workerSystems(srv, p.rpm)
	if err != nil {
		return nil, err
	}
	w, err := b.startWorkers(ctx, systems)
	if err != nil {
		return nil, err
	}
	srv.ResetStats()
	since, err := b.lastJobID(ctx)
	if err != nil {
		return nil, errors.Join(err, w.stop())
	}
	r.expiry = time.Now().Add(p.lead).Truncate(time.Second)
	start := time.Now()
	late, err := b.extendAll(ctx, tb, ids, func(int) time.Time { return r.expiry })
	if err != nil {
		return nil, errors.Join(err, w.stop())
	}
	b.logf("throughput: extended %d in %v; all expire at %s", len(ids), time.Since(start).Round(time.Millisecond), r.expiry.Format("15:04:05"))
	if late > 0 {
		b.logf("throughput: %d extensions ended after the expiry (raise -lead)", late)
	}

	r.deadline = p.timeout
	if r.deadline == 0 {
		minutes := float64(p.grants) * requestsPerRevoke(p.entitlement) / float64(p.rpm)
		r.deadline = 3*time.Minute + time.Duration(3*minutes*float64(time.Minute))
	}
	b.logf("throughput: waiting up to %v after the expiry", r.deadline.Round(time.Second))
	gs, err := b.waitEnded(ctx, tb, ids, r.expiry.Add(r.deadline), "throughput", simulatorProgress(srv))
	if err := errors.Join(err, w.stop()); err != nil {
		return nil, err
	}
	r.out = outcomeOf(gs)
	r.stillHeld = a.held(srv)
	r.log = srv.RequestLog()
	r.stats = srv.Stats()
	if r.jobs, err = b.countExpiryJobs(ctx, since); err != nil {
		return nil, err
	}
	s := r.summary()
	b.logf("throughput: %d ended, %d failed, %d open in %.1fs: %.1f revokes/min, %.1f requests/min (limit %d), %d throttled",
		r.out.ended, r.out.failed, r.out.unfinished, s.WallS, s.RevokesPerMin, s.RequestsPerMin, p.rpm, s.Throttled)
	return r, nil
}

// summary is phase 2's part of the summary.
func (r *throughputRun) summary() *throughput {
	s := &throughput{Entitlement: r.p.entitlement, Bulk: r.p.entitlement == entGroup, Grants: r.p.grants,
		Revokes: r.out.ended, Failed: r.out.failed + r.out.unfinished, Unfinished: r.out.unfinished,
		StillHeld: r.stillHeld, Requests: len(r.log), LimitRPM: r.p.rpm, Throttled: r.stats.Throttled,
		Endpoints: r.stats.Requests, ExpiryJobs: r.jobs}
	end := r.out.lastEnd
	for _, rec := range r.log {
		if rec.Time.After(end) {
			end = rec.Time
		}
	}
	if wall := end.Sub(r.expiry); wall > 0 {
		s.WallS = measure.Round(wall.Seconds())
		s.RevokesPerMin = measure.Round(float64(r.out.ended) / wall.Minutes())
		s.RequestsPerMin = measure.Round(float64(len(r.log)) / wall.Minutes())
	}
	s.PeakRequests60s = peakIn(r.log, time.Minute)
	s.OverLimit = s.PeakRequests60s > r.p.rpm+clientBurst(r.p.rpm)
	if r.out.ended > 0 {
		s.RequestsPerRevoke = measure.Round(float64(len(r.log)) / float64(r.out.ended))
	}
	if over := len(r.log) - clientBurst(r.p.rpm); over > 0 {
		s.PacingFloorS = measure.Round(float64(over) / (float64(r.p.rpm) / 60))
	}
	s.RateBound = s.WallS > 0 && s.PacingFloorS >= 0.8*s.WallS
	s.P50S = measure.Round(quantile(r.out.latencies, 0.5))
	s.MaxS = measure.Round(quantile(r.out.latencies, 1))
	return s
}

// clientBurst is how many requests the zendesk client sends at once before it paces
// itself at rpm a minute: its token bucket holds rpm/20 requests, at least 1 and at
// most 25 (zendesk.burstFor).
func clientBurst(rpm int) int { return max(1, min(rpm/20, 25)) }

// peakIn returns the most requests of log in any window of length d.
func peakIn(log []zendesktest.RequestRecord, d time.Duration) int {
	ts := make([]time.Time, len(log))
	for i, rec := range log {
		ts[i] = rec.Time
	}
	slices.SortFunc(ts, time.Time.Compare)
	peak, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= d {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
