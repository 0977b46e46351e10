package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

// Remediator is what carrying out revokes needs: the system, provision's
// journal, and the guards' settings.
type Remediator struct {
	// System is the system the campaign's snapshot was taken of.
	System *access.System
	// Journal is provision's journal: every revoke is journaled under
	// "review/<campaign>/<item>" (see Remediate).
	Journal *provision.Journal
	// Who is who carries the revokes out, for the journal (default
	// "zgov-review").
	Who string
	// Guards are provision's guards' settings. Raise MaxDestructive (and
	// give Snapshot, or MaxTeamShare applies to nothing) for campaigns
	// that revoke more than provision.DefaultMaxDestructive grants in one
	// run: a cap refuses the whole run, and its items become
	// RemediationManual with the guard named.
	Guards provision.Guards
	// Snapshot, if set, is passed to provision.Do (DoOptions.Snapshot)
	// for the share cap and the last-admin guard.
	Snapshot *access.Snapshot
	// GrantsForCost is what one System.GrantsFor costs in requests, to
	// choose between reading principals one by one and one re-read of
	// the account (default 2: Zendesk reads the user and their group
	// memberships).
	GrantsForCost int
	// SyncCost is what one System.Sync costs in requests (default: the
	// request count of the campaign's snapshot, Population.Requests; 0
	// there means unknown, and Remediate then never syncs).
	SyncCost int64
	// Progress, if set, is called as provision carries the changes out.
	Progress func(provision.ApplyProgress)
}

func (r *Remediator) check() error {
	if r == nil || r.System == nil || r.Journal == nil {
		return errors.New("a Remediator needs a System and a Journal")
	}
	if r.GrantsForCost < 0 || r.SyncCost < 0 {
		return errors.New("a Remediator's costs must not be negative")
	}
	if r.Who != "" {
		if reason := checkReviewer(r.Who); reason != "" {
			return fmt.Errorf("Remediator.Who: %s", reason)
		}
	}
	return r.Guards.Validate()
}

// RemediationReport is what one run of Remediate did.
type RemediationReport struct {
	// Items is the number of items the run took up.
	Items int `json:"items"`
	// Done, Failed, Manual and Pending count them by their status after
	// the run.
	Done int `json:"done"`
	// Failed counts items that failed.
	Failed int `json:"failed"`
	// Manual counts items a guard blocked.
	Manual int `json:"manual"`
	// Pending counts items left pending (a change another run is
	// carrying out, or a run cut short).
	Pending int `json:"pending"`
	// Revokes is the number of revokes given to provision.
	Revokes int `json:"revokes"`
	// Verify is how the run re-read access, if it did.
	Verify VerifyMethod `json:"verify,omitempty"`
	// Requests is the number of requests the run sent, if the backend
	// counts them (access.RequestCounter).
	Requests int64 `json:"requests,omitempty"`
	// VerifyRequests is the part of Requests the verifying re-read sent.
	VerifyRequests int64 `json:"verify_requests,omitempty"`
}

// remItem is an item Remediate takes up.
type remItem struct {
	id        int64
	principal string
	grants    []storedGrant
	attempt   int
	detail    remDetail
	status    RemediationStatus
	changes   []int // indices in the run's changes, by grant
}

// Remediate carries out the campaign's revoked items that are not done:
// pending ones, and failed and manual ones again. Each grant of an item is
// revoked through provision.Do, with provision's guards, blast-radius caps,
// journal and bulk endpoints, under the journal ID
// "review/<campaign>/<item>" ("review/<campaign>/<item>/<k>" for the k-th
// grant of an account item; "~<n>" appended for the n-th try after a
// journaled failure), with the actor r.Who and the source
// "review:<campaign>". (Do takes one actor per call; the source names the
// campaign and the journal ID the item, so that one call carries out
// every item in bulk.)
//
// The item's attempt is recorded before Do runs, so a run killed at any
// point and run again resumes the journal's changes rather than repeating
// them. Then every principal whose revoke went through is re-read, and
// the re-read is the proof: RemediationDone when none of the revoked
// grants is held any more, RemediationFailed (with the grants still held)
// otherwise; a revoke that failed is RemediationFailed with its error, and
// one a guard blocked is RemediationManual naming the guard (so is every
// item of a run a blast-radius cap refused). The re-read is the cheapest
// of: the principals' own records through access.PrincipalReader, 100 a
// request, for grants on the types it reports (roles, custom roles);
// System.GrantsFor per principal for the others (GrantsForCost requests
// each); or one System.Sync of the account (SyncCost), when that costs
// less than the per-principal reads.
//
// A System of another account than the campaign's snapshot is refused
// with an error wrapping provision.ErrWrongAccount, before anything is
// written. The error return is for a run that could not start or was cut
// short (ctx, the database, the journal); what it did by then is recorded
// and reported.
func (c *Campaign) Remediate(ctx context.Context, r *Remediator) (*RemediationReport, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("review: remediate campaign %q: %w", c.id, err)
	}
	return c.remediate(ctx, r, nil)
}

// remediate carries out the revoked items not done, or of them those in
// only (when not nil).
func (c *Campaign) remediate(ctx context.Context, r *Remediator, only []int64) (*RemediationReport, error) {
	what := "remediate campaign " + c.id
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	items, err := c.loadRemediation(ctx, only)
	if err != nil {
		return nil, c.s.wrap(what, err)
	}
	rep := &RemediationReport{Items: len(items)}
	if len(items) == 0 {
		return rep, nil
	}
	startReqs, counting := requests(r.System)
	// Revokes decided on one account must not be carried out in another.
	sysInfo, err := r.System.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("review: %s: %w", what, err)
	}
	if p := info.Population; sysInfo.Name != p.Backend || sysInfo.Account != p.Account {
		return nil, fmt.Errorf("review: %s: the Remediator's System: %w", what, &provision.AccountMismatchError{
			PlanBackend: p.Backend, PlanAccount: p.Account, Backend: sysInfo.Name, Account: sysInfo.Account})
	}
	// Claim the attempt before any change, so that a rerun after a crash
	// uses the same journal IDs and resumes.
	for _, it := range items {
		if it.attempt == 0 {
			it.attempt = 1
		}
	}
	if err := c.recordAttempts(ctx, items); err != nil {
		return nil, c.s.wrap(what, err)
	}

	var changes []provision.Change
	var journalIDs []string
	for _, it := range items {
		it.changes = make([]int, len(it.grants))
		for k, g := range it.grants {
			it.changes[k] = -1
			if gr := it.detail.Grants[g.ID]; gr != nil && (gr.State == string(provision.StateApplied) || gr.State == string(provision.StateDone)) && !gr.Held {
				continue // revoked by an earlier run
			}
			eid, pid := cutGrant(g.ID)
			it.changes[k] = len(changes)
			changes = append(changes, provision.Change{Kind: provision.ChangeRevoke, EntitlementID: eid, PrincipalID: pid})
			journalIDs = append(journalIDs, journalID(c.id, it.id, k, len(it.grants), it.attempt))
		}
	}
	rep.Revokes = len(changes)
	who := r.Who
	if who == "" {
		who = "zgov-review"
	}
	opts := &provision.DoOptions{
		Actor: provision.JournalActor{Who: who, Source: "review:" + c.id,
			Reason: fmt.Sprintf("access review %q: revoke decided", info.Name)},
		JournalIDs: journalIDs, Guards: r.Guards, Snapshot: r.Snapshot, Progress: r.Progress,
	}
	now := c.s.clock()
	doRep, doErr := provision.Do(ctx, r.System, r.Journal, changes, opts)
	var runGuard *provision.GuardError
	if doRep == nil && doErr != nil && !errors.As(doErr, &runGuard) {
		return nil, fmt.Errorf("review: %s: %w", what, doErr) // refused before any change; items stay as they were
	}
	results := make([]*provision.ChangeResult, len(changes))
	if doRep != nil {
		for i := range doRep.Results {
			results[i] = &doRep.Results[i]
		}
	}

	// Each grant's result.
	var toVerify []*remItem
	for _, it := range items {
		if it.detail.Grants == nil {
			it.detail.Grants = map[string]*GrantRemediation{}
		}
		it.detail.Error, it.detail.Guard = "", ""
		for k, g := range it.grants {
			i := it.changes[k]
			if i < 0 {
				continue
			}
			gr := &GrantRemediation{JournalID: journalIDs[i]}
			switch res := results[i]; {
			case runGuard != nil:
				gr.State, gr.Guard, gr.Error = string(provision.StateBlocked), string(runGuard.Guard), runGuard.Error()
			case res == nil || res.State == "":
				gr.State = "" // not reached: the run was cut short
			default:
				gr.State = string(res.State)
				if res.Outcome != nil {
					gr.Status = res.Outcome.Status
				}
				if res.Err != nil {
					gr.Error = res.Err.Error()
					var ge *provision.GuardError
					if errors.As(res.Err, &ge) {
						gr.Guard = string(ge.Guard)
					}
				}
			}
			it.detail.Grants[g.ID] = gr
		}
		it.status = itemStatus(it)
		if it.status == RemediationDone { // every revoke went through: verify
			it.status = RemediationPending
			toVerify = append(toVerify, it)
		}
		if it.status == RemediationFailed {
			it.attempt++ // journal IDs are one-shot: the next try needs new ones
		}
	}

	// Verify by re-reading.
	var verr error
	if len(toVerify) > 0 && (doErr == nil || runGuard != nil) {
		before, _ := requests(r.System)
		syncCost := r.SyncCost
		if syncCost == 0 {
			syncCost = info.Population.Requests
		}
		rep.Verify, verr = verify(ctx, r, toVerify, syncCost, c.s.clock)
		if after, ok := requests(r.System); ok {
			rep.VerifyRequests = after - before
		}
	}
	if counting {
		end, _ := requests(r.System)
		rep.Requests = end - startReqs
	}
	if err := c.recordRemediation(ctx, items, now); err != nil {
		return rep, c.s.wrap(what, err)
	}
	for _, it := range items {
		switch it.status {
		case RemediationDone:
			rep.Done++
		case RemediationFailed:
			rep.Failed++
		case RemediationManual:
			rep.Manual++
		default:
			rep.Pending++
		}
	}
	if doErr != nil && runGuard == nil {
		return rep, fmt.Errorf("review: %s: %w", what, doErr)
	}
	if verr != nil {
		return rep, fmt.Errorf("review: %s: verify: %w", what, verr)
	}
	return rep, nil
}

// journalID is the journal ID of the k-th of n grants of an item.
func journalID(campaign string, item int64, k, n, attempt int) string {
	id := "review/" + campaign + "/" + strconv.FormatInt(item, 10)
	if n > 1 {
		id += "/" + strconv.Itoa(k+1)
	}
	if attempt > 1 {
		id += "~" + strconv.Itoa(attempt)
	}
	return id
}

// itemStatus is an item's status from its grants' results: manual if a
// guard blocked one, failed if one failed, pending if one did not finish,
// done (to be verified) if every revoke went through.
func itemStatus(it *remItem) RemediationStatus {
	st := RemediationDone
	for _, g := range it.grants {
		gr := it.detail.Grants[g.ID]
		switch {
		case gr == nil || gr.State == "" || gr.State == string(provision.StateStale):
			if st == RemediationDone {
				st = RemediationPending
			}
		case gr.State == string(provision.StateBlocked):
			it.detail.Guard, it.detail.Error = gr.Guard, gr.Error
			return RemediationManual
		case gr.State == string(provision.StateFailed):
			st = RemediationFailed
			if it.detail.Error == "" {
				it.detail.Error = g.ID + ": " + gr.Error
			}
		}
	}
	return st
}

// requests returns the backend's request count, if it counts.
func requests(sys *access.System) (int64, bool) {
	n, err := sys.Requests()
	return n, err == nil
}

// loadRemediation reads the revoked items that are not done (of only, if
// not nil).
func (c *Campaign) loadRemediation(ctx context.Context, only []int64) ([]*remItem, error) {
	q := `SELECT id, principal_id, grants, attempt, detail, remediation FROM zgov_review_items
		WHERE campaign = ? AND outcome = 'revoked' AND remediation <> 'done'`
	var out []*remItem
	scan := func(q string, args ...any) error {
		rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it := &remItem{}
			var grants, detail, status string
			if err := rows.Scan(&it.id, &it.principal, &grants, &it.attempt, &detail, &status); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(grants), &it.grants); err != nil {
				return fmt.Errorf("item %d: grants: %w", it.id, err)
			}
			if detail != "" {
				if err := json.Unmarshal([]byte(detail), &it.detail); err != nil {
					return fmt.Errorf("item %d: remediation: %w", it.id, err)
				}
			}
			it.status = RemediationStatus(status)
			out = append(out, it)
		}
		return rows.Err()
	}
	if only == nil {
		return out, scan(q+" ORDER BY id", c.pk)
	}
	ids := slices.Clone(only)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, decideChunk) {
		if err := scan(q+" AND id IN ("+inList(chunk)+") ORDER BY id", c.pk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordAttempts records each item's attempt before its changes run.
func (c *Campaign) recordAttempts(ctx context.Context, items []*remItem) error {
	tx, err := c.s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, c.s.db.Rebind("UPDATE zgov_review_items SET attempt = ? WHERE campaign = ? AND id = ?"))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, it := range items {
		if _, err := st.ExecContext(ctx, it.attempt, c.pk, it.id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// recordRemediation records each item's status, detail and an event.
func (c *Campaign) recordRemediation(ctx context.Context, items []*remItem, now time.Time) error {
	ctx = context.WithoutCancel(ctx) // what was done must be recorded even if ctx ended
	return c.tx(ctx, "record remediation", func(tx *sql.Tx, h *txHead) error {
		st, err := tx.PrepareContext(ctx, c.s.db.Rebind(`UPDATE zgov_review_items SET remediation = ?, remediation_ms = ?, attempt = ?, detail = ?
			WHERE campaign = ? AND id = ?`))
		if err != nil {
			return err
		}
		defer st.Close()
		ev := newBulkInserter(ctx, tx, c.s.db, "zgov_review_events",
			[]string{"campaign", "seq", "at_ms", "kind", "item_id", "actor", "from_reviewer", "to_reviewer", "reason", "detail"}, "")
		ms := now.UnixMilli()
		for _, it := range items {
			detail, err := json.Marshal(it.detail)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, string(it.status), ms, it.attempt, string(detail), c.pk, it.id); err != nil {
				return err
			}
			text := string(it.status)
			switch {
			case it.detail.Guard != "":
				text += ": guard " + it.detail.Guard + ": " + it.detail.Error
			case it.detail.Error != "":
				text += ": " + it.detail.Error
			case it.detail.Verification != nil:
				text += ": " + it.detail.Verification.Result
			}
			if err := ev.add(c.pk, h.next(), ms, string(EventRemediated), it.id, "", "", "", "", text); err != nil {
				return err
			}
		}
		return ev.close()
	})
}
