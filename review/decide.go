package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Decision is a reviewer's decision on an item.
type Decision struct {
	// ItemID is the item decided.
	ItemID int64 `json:"item_id"`
	// Reviewer is who decides: an active reviewer of the item.
	Reviewer string `json:"reviewer"`
	// Verdict is Certify or Revoke.
	Verdict Verdict `json:"verdict"`
	// Justification says why: required for a revoke, and for a certify
	// with CampaignSpec.JustifyCertify.
	Justification string `json:"justification,omitempty"`
}

// ErrRemediation means decisions were recorded but carrying out the
// revokes they made (RemediateOnDecision with a Remediator) stopped
// short; the items stay pending, for Remediate or Close.
var ErrRemediation = errors.New("remediation stopped")

// outcomeOf is an item's outcome under a consensus rule, from its active
// reviewers and their current decisions.
func outcomeOf(c Consensus, reviewers, certifies, revokes int) OutcomeState {
	if c == AllRevoke {
		switch {
		case certifies > 0:
			return Certified
		case reviewers > 0 && revokes == reviewers:
			return Revoked
		}
		return Undecided
	}
	switch {
	case revokes > 0:
		return Revoked
	case reviewers > 0 && certifies == reviewers:
		return Certified
	}
	return Undecided
}

// Decide records one decision; see DecideMany.
func (c *Campaign) Decide(ctx context.Context, d Decision) error {
	return c.DecideMany(ctx, []Decision{d})
}

// decideChunk is how many items one query of DecideMany reads.
const decideChunk = 500

// DecideMany records decisions, all or none, in one transaction: a
// decision on an item the campaign does not have (ErrUnknownItem), by
// someone who is not an active reviewer of the item (ErrNotReviewer), on a
// closed campaign (ErrCampaignClosed), without a justification where one
// is required (ErrJustificationRequired), malformed (ErrInvalidDecision),
// or changing an item whose revoke was carried out (ErrRemediationStarted)
// refuses the call with a *DecisionError naming the first bad decision,
// and nothing is recorded.
//
// Every decision is kept, with its time, in the history (Decisions); a
// reviewer's later decision on an item replaces their earlier one until
// the campaign closes. The item's outcome follows from its active
// reviewers' current decisions and the campaign's Consensus. With
// RemediateOnDecision and a Store WithRemediator, the items the call
// revoked are then carried out (see Remediate); if that stops short, the
// decisions stay recorded and the error wraps ErrRemediation.
func (c *Campaign) DecideMany(ctx context.Context, ds []Decision) error {
	if len(ds) == 0 {
		return nil
	}
	for i, d := range ds {
		if err := checkDecision(d); err != nil {
			return &DecisionError{Index: i, ItemID: d.ItemID, Reviewer: d.Reviewer, Err: err}
		}
	}
	var revoked []int64
	now := c.s.clock()
	err := c.tx(ctx, "decide", func(tx *sql.Tx, h *txHead) error {
		if h.state != StateOpen {
			return refuse(&DecisionError{Index: 0, ItemID: ds[0].ItemID, Reviewer: ds[0].Reviewer, Err: fmt.Errorf("campaign %q: %w", c.id, ErrCampaignClosed)})
		}
		for i, d := range ds {
			if h.spec.JustifyCertify && blank(d.Justification) {
				return refuse(&DecisionError{Index: i, ItemID: d.ItemID, Reviewer: d.Reviewer, Err: fmt.Errorf("campaign %q requires a justification for certify too: %w", c.id, ErrJustificationRequired)})
			}
		}
		st, err := c.loadDecisionState(ctx, tx, ds)
		if err != nil {
			return err
		}
		ms := now.UnixMilli()
		hist := newBulkInserter(ctx, tx, c.s.db, "zgov_review_decisions",
			[]string{"campaign", "seq", "item_id", "reviewer", "verdict", "justification", "decided_ms"}, "")
		assignSeq := map[assignKey]int{} // -> index in ds of the reviewer's last decision
		var order []assignKey
		for i, d := range ds {
			it, ok := st.items[d.ItemID]
			if !ok {
				return refuse(&DecisionError{Index: i, ItemID: d.ItemID, Reviewer: d.Reviewer, Err: fmt.Errorf("campaign %q has no item %d: %w", c.id, d.ItemID, ErrUnknownItem)})
			}
			a, ok := st.assign[assignKey{d.ItemID, d.Reviewer}]
			if !ok || !a.active {
				why := fmt.Sprintf("%q does not review item %d", d.Reviewer, d.ItemID)
				if ok {
					why = fmt.Sprintf("%q no longer reviews item %d (reassigned)", d.Reviewer, d.ItemID)
				}
				return refuse(&DecisionError{Index: i, ItemID: d.ItemID, Reviewer: d.Reviewer, Err: fmt.Errorf("%s: %w", why, ErrNotReviewer)})
			}
			if it.remediationStarted() {
				return refuse(&DecisionError{Index: i, ItemID: d.ItemID, Reviewer: d.Reviewer, Err: fmt.Errorf("item %d is %s: %w", d.ItemID, it.remediation, ErrRemediationStarted)})
			}
			switch a.verdict {
			case Certify:
				it.certifies--
			case Revoke:
				it.revokes--
			}
			a.verdict = d.Verdict
			switch d.Verdict {
			case Certify:
				it.certifies++
			case Revoke:
				it.revokes++
			}
			seq := h.next()
			a.seq, a.justification = seq, d.Justification
			k := assignKey{d.ItemID, d.Reviewer}
			if _, seen := assignSeq[k]; !seen {
				order = append(order, k)
			}
			assignSeq[k] = i
			if err := hist.add(c.pk, seq, d.ItemID, d.Reviewer, string(d.Verdict), d.Justification, ms); err != nil {
				return err
			}
			it.touched = true
		}
		if err := hist.close(); err != nil {
			return err
		}
		upA := newBulkUpdater(ctx, tx, c.s.db, c.pk, "zgov_review_assignments",
			[]string{"item_id", "reviewer", "verdict", "justification", "decided_ms", "decision_seq"},
			[]bool{true, false, false, false, true, true}, 2)
		for _, k := range order {
			a := st.assign[k]
			if err := upA.add(k.item, k.reviewer, string(a.verdict), a.justification, ms, a.seq); err != nil {
				return err
			}
		}
		if err := upA.close(); err != nil {
			return err
		}
		upI := newBulkUpdater(ctx, tx, c.s.db, c.pk, "zgov_review_items",
			[]string{"id", "certifies", "revokes", "outcome", "outcome_by", "outcome_ms", "remediation"},
			[]bool{true, true, true, false, false, true, false}, 1)
		for _, id := range st.order {
			it := st.items[id]
			if !it.touched {
				continue
			}
			out := outcomeOf(h.spec.Consensus, it.reviewers, it.certifies, it.revokes)
			if out != it.outcome {
				it.outcome, it.outcomeBy, it.outcomeMS = out, "decision", ms
				it.remediation = RemediationNone
				if out == Revoked {
					it.remediation = RemediationPending
				}
			}
			if out == Revoked {
				revoked = append(revoked, id)
			}
			if err := upI.add(id, it.certifies, it.revokes, string(it.outcome), it.outcomeBy, it.outcomeMS, string(it.remediation)); err != nil {
				return err
			}
		}
		if err := upI.close(); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if r := c.s.remediator; r != nil && len(revoked) > 0 {
		spec, err := c.spec(ctx)
		if err != nil {
			return fmt.Errorf("review: %d decisions recorded, but not remediated: %w: %w", len(ds), ErrRemediation, err)
		}
		if spec.Remediate == RemediateOnDecision {
			if _, err := c.remediate(ctx, r, revoked); err != nil {
				return fmt.Errorf("review: %d decisions recorded, but remediating them stopped: %w: %w", len(ds), ErrRemediation, err)
			}
		}
	}
	return nil
}

// checkDecision checks a decision on its own.
func checkDecision(d Decision) error {
	if r := checkReviewer(d.Reviewer); r != "" {
		return fmt.Errorf("reviewer: %s: %w", r, ErrInvalidDecision)
	}
	switch d.Verdict {
	case Certify:
	case Revoke:
		if blank(d.Justification) {
			return fmt.Errorf("a revoke needs a justification: %w", ErrJustificationRequired)
		}
	default:
		return fmt.Errorf("verdict %q is not %q or %q: %w", d.Verdict, Certify, Revoke, ErrInvalidDecision)
	}
	if r := checkText(d.Justification, maxReason, true); r != "" {
		return fmt.Errorf("justification: %s: %w", r, ErrInvalidDecision)
	}
	return nil
}

// itemState is what a decision needs of an item.
type itemState struct {
	reviewers, certifies, revokes int
	outcome                       OutcomeState
	outcomeBy                     string
	outcomeMS                     int64
	remediation                   RemediationStatus
	attempt                       int
	touched                       bool
}

// remediationStarted reports whether the item's revoke was attempted.
func (it *itemState) remediationStarted() bool {
	return it.attempt > 0 || (it.remediation != RemediationNone && it.remediation != RemediationPending)
}

// assignState is what a decision needs of an assignment.
type assignState struct {
	active        bool
	verdict       Verdict
	justification string
	seq           int64
}

// decisionState is the items and assignments a batch of decisions names.
type decisionState struct {
	items  map[int64]*itemState
	order  []int64 // item IDs, ascending
	assign map[assignKey]*assignState
}

// assignKey names an assignment.
type assignKey struct {
	item     int64
	reviewer string
}

// loadDecisionState reads the items the decisions name, and their
// assignments, a chunk at a time.
func (c *Campaign) loadDecisionState(ctx context.Context, tx *sql.Tx, ds []Decision) (*decisionState, error) {
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.ItemID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	st := &decisionState{items: make(map[int64]*itemState, len(ids)), assign: make(map[assignKey]*assignState, len(ds))}
	for chunk := range slices.Chunk(ids, decideChunk) {
		// Decisions come in runs of items: a range reads faster than a
		// list, and what it reads beyond the chunk is left out.
		in := "IN (" + inList(chunk) + ")"
		lo, hi := chunk[0], chunk[len(chunk)-1]
		if hi-lo < 2*int64(len(chunk)) {
			in = fmt.Sprintf("BETWEEN %d AND %d", lo, hi)
		}
		want := make(map[int64]bool, len(chunk))
		for _, id := range chunk {
			want[id] = true
		}
		rows, err := tx.QueryContext(ctx, c.s.db.Rebind(`SELECT id, reviewers, certifies, revokes, outcome, outcome_by, outcome_ms, remediation, attempt
			FROM zgov_review_items WHERE campaign = ? AND id `+in), c.pk)
		if err != nil {
			return nil, fmt.Errorf("read items: %w", err)
		}
		for rows.Next() {
			var id int64
			it := &itemState{}
			var outcome, remediation string
			if err := rows.Scan(&id, &it.reviewers, &it.certifies, &it.revokes, &outcome, &it.outcomeBy, &it.outcomeMS, &remediation, &it.attempt); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read items: %w", err)
			}
			if !want[id] {
				continue
			}
			it.outcome, it.remediation = OutcomeState(outcome), RemediationStatus(remediation)
			st.items[id] = it
			st.order = append(st.order, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read items: %w", err)
		}
		rows, err = tx.QueryContext(ctx, c.s.db.Rebind(`SELECT item_id, reviewer, active, verdict, justification, decision_seq
			FROM zgov_review_assignments WHERE campaign = ? AND item_id `+in), c.pk)
		if err != nil {
			return nil, fmt.Errorf("read assignments: %w", err)
		}
		for rows.Next() {
			var k assignKey
			a := &assignState{}
			var active int
			var verdict string
			if err := rows.Scan(&k.item, &k.reviewer, &active, &verdict, &a.justification, &a.seq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read assignments: %w", err)
			}
			if !want[k.item] {
				continue
			}
			a.active, a.verdict = active == 1, Verdict(verdict)
			st.assign[k] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read assignments: %w", err)
		}
	}
	slices.Sort(st.order)
	return st, nil
}

// inList returns ids as a literal SQL list ("1, 2, 3"): they are
// integers, so this is safe, and one statement text per chunk size.
func inList(ids []int64) string {
	var sb strings.Builder
	for i, id := range ids {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	return sb.String()
}

// blank reports whether s shows nothing: only spaces and invisible
// characters (zero-width spaces and joiners, the byte-order mark, and other
// format characters), which every export would show as empty.
func blank(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}
