package main

import (
	"context"
	"errors"
	"time"

	"github.com/zgov-io/zgov/internal/measure"
)

// latencyRun is what phase 1 found.
type latencyRun struct {
	grants      int
	spread      time.Duration
	grantTime   time.Duration // granting them all, for an hour
	extendTime  time.Duration // extending them all to their spread-out ends
	lateExtends int           // extensions that ended after the end they set
	first, last time.Time     // the first and last expiry
	out         outcome
	stillHeld   int // memberships the simulator holds after the phase
	requests    int // requests the simulator received from the extensions on
	deadline    time.Duration
	jobs        expiryJobs
}

// latency runs phase 1: grants expiring over -spread, with a rate limit no run reaches.
func (b *bench) latency(ctx context.Context) (*latencyRun, error) {
	p := b.p
	r := &latencyRun{grants: p.grants, spread: p.spread}
	b.logf("phase 1 (latency): %d grants expiring over %v, %d workers, %s", p.grants, p.spread, p.workers, b.dialect)
	srv, err := newSimulator(generousRPM)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	a, err := populate(srv, p.grants, entGroup)
	if err != nil {
		return nil, err
	}
	c, err := newClient(srv, generousRPM)
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

	start := time.Now()
	ids, err := b.grantAll(ctx, tb, a, "latency")
	if err != nil {
		return nil, err
	}
	r.grantTime = time.Since(start)
	b.logf("latency: granted %d in %v; starting %d workers", len(ids), r.grantTime.Round(time.Millisecond), p.workers)

	systems, err := b.workerSystems(srv, generousRPM)
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
	start = time.Now()
	r.first = start.Add(p.lead)
	until := func(i int) time.Time {
		if len(ids) == 1 {
			return r.first
		}
		return r.first.Add(p.spread * time.Duration(i) / time.Duration(len(ids)-1))
	}
	r.last = until(len(ids) - 1)
	r.lateExtends, err = b.extendAll(ctx, tb, ids, until)
	r.extendTime = time.Since(start)
	if err != nil {
		return nil, errors.Join(err, w.stop())
	}
	b.logf("latency: extended %d in %v; expiries from %s to %s", len(ids), r.extendTime.Round(time.Millisecond),
		r.first.Format("15:04:05.000"), r.last.Format("15:04:05.000"))
	if r.lateExtends > 0 {
		b.logf("latency: %d extensions ended after the end they set (raise -lead)", r.lateExtends)
	}

	r.deadline = p.timeout
	if r.deadline == 0 {
		r.deadline = 2 * time.Minute
	}
	gs, err := b.waitEnded(ctx, tb, ids, r.last.Add(r.deadline), "latency", simulatorProgress(srv))
	if err := errors.Join(err, w.stop()); err != nil {
		return nil, err
	}
	r.out = outcomeOf(gs)
	r.stillHeld = a.held(srv)
	r.requests = len(srv.RequestLog())
	if r.jobs, err = b.countExpiryJobs(ctx, since); err != nil {
		return nil, err
	}
	b.logf("latency: %d ended, %d failed, %d open; p50 %.3fs, p99 %.3fs, max %.3fs",
		r.out.ended, r.out.failed, r.out.unfinished, quantile(r.out.latencies, 0.5), quantile(r.out.latencies, 0.99), quantile(r.out.latencies, 1))
	return r, nil
}

// fill sets phase 1's fields of the summary.
func (r *latencyRun) fill(s *result) {
	l := r.out.latencies
	s.Latency = true
	s.SpreadS = r.spread.Seconds()
	s.P50S, s.P99S, s.MaxS = measure.Round(quantile(l, 0.5)), measure.Round(quantile(l, 0.99)), measure.Round(quantile(l, 1))
	for _, d := range l {
		if d > 5*time.Second {
			s.LateOver5s++
		}
	}
	s.P99Under5s = len(l) > 0 && quantile(l, 0.99) < 5
	s.Failed = r.out.failed + r.out.unfinished
	s.Unfinished = r.out.unfinished
	s.StillHeld = r.stillHeld
	s.Requests = r.requests
	s.ExtendS = measure.Round(r.extendTime.Seconds())
	s.LateExtends = r.lateExtends
	s.ExpiryJobs = r.jobs
}
