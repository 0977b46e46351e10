package provision

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/zgov-io/zgov/access"
)

// Run works time-bound jobs (expiries and notices) and sweeps every
// SweepInterval until ctx ends, then stops, letting the jobs that are
// running finish (for up to a minute). Any number of processes may Run on
// one database: each job runs in one of them, and each grant is revoked by
// one of them. It returns nil after a clean stop.
func (tb *TimeBound) Run(ctx context.Context) error {
	if err := tb.queue.Start(ctx); err != nil {
		return fmt.Errorf("provision: time-bound worker: %w", err)
	}
	tick := time.NewTicker(tb.opts.SweepInterval)
	defer tick.Stop()
	for sweeping := true; sweeping; {
		if _, err := tb.Sweep(ctx); err != nil && ctx.Err() == nil {
			tb.log.ErrorContext(ctx, "time-bound sweep failed", "error", err)
		}
		select {
		case <-ctx.Done():
			sweeping = false
		case <-tick.C:
		}
	}
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := tb.queue.Stop(stop); err != nil {
		return fmt.Errorf("provision: time-bound worker: stop: %w", err)
	}
	return nil
}

// expireArgs is the job that ends the grants expiring in one second
// (Window, Unix seconds), and any other open grant past its expiry.
type expireArgs struct {
	Window int64 `json:"window"`
}

func (expireArgs) Kind() string { return "zgov_timebound_expire" }

// expireOpts schedules an expiry job at at, or makes it available at once
// if at is not after now (River holds a job given any time as scheduled
// until its leader's scheduler releases it). One job per window waits or
// runs at a time; a window whose job completed may get another (the
// sweep's).
func expireOpts(at, now time.Time) *river.InsertOpts {
	if !at.After(now) {
		at = time.Time{}
	}
	return &river.InsertOpts{Queue: timeBoundQueue, ScheduledAt: at, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

type expireWorker struct {
	river.WorkerDefaults[expireArgs]
	tb *TimeBound
}

func (w *expireWorker) Timeout(*river.Job[expireArgs]) time.Duration { return expiryTimeout }

// Work waits for the window's second (the job is scheduled expiryLead
// early), claims the open grants due by then, and revokes them.
func (w *expireWorker) Work(ctx context.Context, job *river.Job[expireArgs]) error {
	tb := w.tb
	if err := sleepUntil(ctx, tb.now, time.Unix(job.Args.Window, 0)); err != nil {
		return err
	}
	return tb.expire(ctx, job.ID, job.Args.Window, job.Attempt, job.MaxAttempts)
}

// sleepUntil waits until now() reaches t, or ctx ends.
func sleepUntil(ctx context.Context, now func() time.Time, t time.Time) error {
	if d := t.Sub(now()); d > 0 {
		return sleepCtx(ctx, d)
	}
	return nil
}

// expire claims, in batches, the open grants of windows up to window whose
// expiry has come (and those a dead job claimed), for the job jobID, and
// revokes them. Grants whose revoke failed stay claimed by the job, which
// River retries; on the last attempt they are failed.
func (tb *TimeBound) expire(ctx context.Context, jobID, window int64, attempt, maxAttempts int) error {
	actor := JournalActor{Who: "zgov:timebound", Reason: "the time-bound grant expired", Source: "timebound:expiry"}
	var failed error
	for {
		now := tb.now()
		_, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound
			SET state = 'ending', claim_job = ?, claim_until_ms = ?, ended_by = 'expiry'
			WHERE id IN (SELECT id FROM zgov_timebound
				WHERE window_s <= ? AND expires_ms <= ?
				AND (state = 'active' OR (state IN ('pending', 'ending') AND claim_until_ms < ?))
				ORDER BY window_s, id LIMIT ?)
			AND window_s <= ? AND expires_ms <= ?
			AND (state = 'active' OR (state IN ('pending', 'ending') AND claim_until_ms < ?))`),
			jobID, now.Add(claimLease).UnixMilli(), window, now.UnixMilli(), now.UnixMilli(), claimBatch,
			window, now.UnixMilli(), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("provision: time-bound expiry: claim: %w", err)
		}
		// (The conditions are repeated outside the subquery: on PostgreSQL
		// a row that another transaction changed meanwhile, extended or
		// ended, is checked again against them, not against the
		// subquery's snapshot.)
		// Everything this job holds: what it just claimed, and what an
		// earlier attempt of it claimed and could not revoke, whose claim
		// it renews (else the sweep would hand it to another job).
		if _, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET claim_until_ms = ? WHERE state = 'ending' AND claim_job = ?`),
			now.Add(claimLease).UnixMilli(), jobID); err != nil {
			return fmt.Errorf("provision: time-bound expiry: renew the claim: %w", err)
		}
		gs, err := tb.query(ctx, tb.db.SQL, `WHERE state = 'ending' AND claim_job = ? ORDER BY id LIMIT ?`, jobID, claimBatch)
		if err != nil {
			return err
		}
		if len(gs) == 0 {
			return failed
		}
		err = tb.revoke(ctx, gs, actor, attempt, maxAttempts)
		if err != nil {
			return err
		}
		left, err := tb.query(ctx, tb.db.SQL, `WHERE state = 'ending' AND claim_job = ? LIMIT 1`, jobID)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			// Revokes failed; River tries the job again later.
			return fmt.Errorf("provision: time-bound expiry: grant %s: %s", left[0].ID, left[0].Error)
		}
	}
}

// revoke ends claimed grants: a standing one is kept (journaled, no
// change), the others are revoked through Do in one batch (bulk where the
// backend has it). A grant revoked or found revoked is TimeBoundEnded; one
// whose revoke failed counts a failure and stays claimed, unless this was
// the last attempt or a guard refused it: then it is TimeBoundFailed and
// OnFailure is called.
func (tb *TimeBound) revoke(ctx context.Context, gs []TimeBoundGrant, actor JournalActor, attempt, maxAttempts int) error {
	var changes []Change
	var ids []string
	var revoking []TimeBoundGrant
	for _, g := range gs {
		if g.Standing {
			if err := tb.keep(ctx, g, actor); err != nil {
				return err
			}
			continue
		}
		suffix := ""
		if g.Failures > 0 {
			suffix = "/retry-" + strconv.Itoa(g.Failures)
		}
		changes = append(changes, Change{ID: "revoke " + g.GrantID(), Kind: ChangeRevoke, PrincipalID: g.PrincipalID, EntitlementID: g.EntitlementID})
		ids = append(ids, "timebound/"+g.ID+"/revoke"+suffix)
		revoking = append(revoking, g)
		// What the grant replaced is given back (Do grants before it
		// revokes: an exclusive grant replaces the time-bound one).
		for i, eid := range g.Replaced {
			changes = append(changes, Change{ID: "grant " + access.GrantID(eid, g.PrincipalID), Kind: ChangeGrant, PrincipalID: g.PrincipalID, EntitlementID: eid})
			ids = append(ids, "timebound/"+g.ID+"/restore-"+strconv.Itoa(i+1)+suffix)
			revoking = append(revoking, g)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	// The blast-radius caps do not apply: an expiry takes back what a
	// time-bound grant gave, and a cap would leave the access in place.
	guards := tb.opts.Guards
	guards.MaxDestructive, guards.MaxTeamShare = math.MaxInt, 1
	rep, err := Do(ctx, tb.sys, tb.j, changes, &DoOptions{Actor: actor, JournalIDs: ids, Guards: guards})
	if err != nil {
		err = fmt.Errorf("provision: time-bound expiry: %w", err)
		if attempt < maxAttempts || ctx.Err() != nil {
			return err
		}
		// The last attempt could not even start: fail every grant, so
		// that none stays claimed by a job that will not run again.
		for _, g := range gs {
			if g.Standing {
				continue
			}
			if ferr := tb.fail(ctx, g, err); ferr != nil {
				return ferr
			}
		}
		return nil
	}
	// A grant has ended when its revoke and every restore went through.
	now := tb.now()
	var order []TimeBoundGrant
	causes := map[string]error{}
	for i, g := range revoking {
		if _, seen := causes[g.ID]; !seen {
			order = append(order, g)
			causes[g.ID] = nil
		}
		r := rep.Results[i]
		if r.State == StateApplied || r.State == StateDone || causes[g.ID] != nil {
			continue
		}
		causes[g.ID] = r.Err
		if r.Err == nil {
			causes[g.ID] = fmt.Errorf("%s was %s", r.Change.ID, r.State)
		}
	}
	for _, g := range order {
		cause := causes[g.ID]
		if cause == nil {
			if _, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET state = 'ended', ended_ms = ?, error = '' WHERE id = ? AND state = 'ending'`),
				now.UnixMilli(), g.ID); err != nil {
				return fmt.Errorf("provision: time-bound expiry: record %s: %w", g.ID, err)
			}
			continue
		}
		// The last attempt: of this job, or of the grant, whose attempts
		// may span jobs (a job cut short, the sweep's).
		if attempt >= maxAttempts || g.Failures+1 >= tb.opts.MaxAttempts || errors.Is(cause, ErrGuard) {
			if err := tb.fail(ctx, g, cause); err != nil {
				return err
			}
			continue
		}
		if _, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET failures = failures + 1, error = ? WHERE id = ? AND state = 'ending'`),
			cause.Error(), g.ID); err != nil {
			return fmt.Errorf("provision: time-bound expiry: record %s: %w", g.ID, err)
		}
	}
	return nil
}

// fail records that g's revoke failed for good, and reports it to
// OnFailure.
func (tb *TimeBound) fail(ctx context.Context, g TimeBoundGrant, cause error) error {
	if _, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET state = 'failed', failures = failures + 1, error = ? WHERE id = ? AND state = 'ending'`),
		cause.Error(), g.ID); err != nil {
		return fmt.Errorf("provision: time-bound expiry: record %s: %w", g.ID, err)
	}
	if tb.opts.OnFailure != nil {
		if got, err := tb.Get(ctx, g.ID); err == nil {
			tb.opts.OnFailure(ctx, got, cause)
		}
	}
	return nil
}

// keep ends a standing grant without a change, and journals that the
// access was kept.
func (tb *TimeBound) keep(ctx context.Context, g TimeBoundGrant, actor JournalActor) error {
	id := "timebound/" + g.ID + "/keep"
	jc, err := tb.j.Change(ctx, id)
	switch {
	case errors.Is(err, ErrJournalUnknownChange):
		if _, err := tb.j.Begin(ctx, id, actor, JournalRevokeOp(revokeRequest(g))); err != nil && !errors.Is(err, ErrJournalDuplicateChange) {
			return fmt.Errorf("provision: time-bound expiry: %w", err)
		}
		fallthrough
	case err == nil && !jc.Done():
		out := JournalOutcome{Status: "kept", GrantID: g.GrantID(), Note: "standing access: the principal held it before the time-bound grant"}
		if _, err := tb.j.Finish(ctx, id, out); err != nil {
			return fmt.Errorf("provision: time-bound expiry: %w", err)
		}
	case err != nil:
		return fmt.Errorf("provision: time-bound expiry: %w", err)
	}
	_, err = tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET state = 'kept', ended_ms = ? WHERE id = ? AND state = 'ending'`),
		tb.now().UnixMilli(), g.ID)
	if err != nil {
		return fmt.Errorf("provision: time-bound expiry: record %s: %w", g.ID, err)
	}
	return nil
}

// noticeArgs is the job that tells OnNotice a grant ends in Before.
type noticeArgs struct {
	ID        string `json:"id"`
	ExpiresMs int64  `json:"expires_ms"`
	BeforeMs  int64  `json:"before_ms"`
}

func (noticeArgs) Kind() string { return "zgov_timebound_notice" }

type noticeWorker struct {
	river.WorkerDefaults[noticeArgs]
	tb *TimeBound
}

// Work calls OnNotice if the grant is open and still ends when the notice
// was scheduled for (an extension schedules notices of its own).
func (w *noticeWorker) Work(ctx context.Context, job *river.Job[noticeArgs]) error {
	at := time.UnixMilli(job.Args.ExpiresMs - job.Args.BeforeMs)
	if err := sleepUntil(ctx, w.tb.now, at); err != nil {
		return err
	}
	g, err := w.tb.Get(ctx, job.Args.ID)
	if errors.Is(err, ErrTimeBoundUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	if !g.State.open() || g.State == TimeBoundEnding || g.ExpiresAt.UnixMilli() != job.Args.ExpiresMs {
		return nil
	}
	before := time.Duration(job.Args.BeforeMs) * time.Millisecond
	if w.tb.opts.OnNotice == nil {
		w.tb.log.InfoContext(ctx, "time-bound grant ends soon (no OnNotice on this worker)", "id", g.ID, "grant", g.GrantID(), "in", before)
		return nil
	}
	return w.tb.opts.OnNotice(ctx, g, before)
}

// Sweep schedules an expiry, to run now, for the open grants past their
// expiry that no expiry job holds (a lost job, a worker that died, a
// database restored from a backup), and returns how many it found. Run
// calls it every SweepInterval; call it yourself after a restore. Sweeps
// of many workers at once schedule one job a second between them. A grant
// that a worker claimed and died while revoking is swept once its claim
// runs out, ten minutes after it was taken; one whose worker died while
// waiting for the expiry, before claiming it, at the next sweep.
func (tb *TimeBound) Sweep(ctx context.Context) (int, error) {
	now := tb.now()
	var n int
	err := tb.db.SQL.QueryRowContext(ctx, tb.db.Rebind(`SELECT count(*) FROM zgov_timebound WHERE expires_ms <= ?
		AND (state = 'active' OR (state IN ('pending', 'ending') AND claim_until_ms < ?))`), now.UnixMilli(), now.UnixMilli()).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	err = tb.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tb.queue.InsertTx(ctx, tx, expireArgs{Window: windowOf(now)}, expireOpts(now, now))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("provision: time-bound sweep: %w", err)
	}
	tb.log.InfoContext(ctx, "time-bound sweep found grants past their expiry", "count", n)
	return n, nil
}

// revokeRequest is the access request that ends g.
func revokeRequest(g TimeBoundGrant) access.RevokeRequest {
	return access.RevokeRequest{EntitlementID: g.EntitlementID, PrincipalID: g.PrincipalID}
}
