package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrReasonRequired means a reassignment or delegation has no reason.
var ErrReasonRequired = errors.New("reason required")

// Reassignment moves one item from one reviewer to another.
type Reassignment struct {
	// ItemID is the item.
	ItemID int64 `json:"item_id"`
	// From is an active reviewer of the item.
	From string `json:"from"`
	// To is who reviews it instead: never the person under review.
	To string `json:"to"`
	// Reason says why; it is required.
	Reason string `json:"reason"`
	// By is who reassigns it.
	By string `json:"by"`
}

// Delegation hands a reviewer's undecided items to another reviewer.
type Delegation struct {
	// From is the reviewer delegating.
	From string `json:"from"`
	// To is who reviews the items instead.
	To string `json:"to"`
	// Reason says why; it is required.
	Reason string `json:"reason"`
	// By is who delegates (usually From).
	By string `json:"by"`
}

// DelegationReport is what Delegate did.
type DelegationReport struct {
	// Moved are the items handed over, by ID.
	Moved []int64 `json:"moved"`
	// KeptSelf are the items left with From because To is the person
	// under review.
	KeptSelf []int64 `json:"kept_self,omitempty"`
}

// Reassign moves an item from one active reviewer to another, with a
// reason, in one transaction: From's assignment becomes inactive (their
// decision, if any, no longer counts, though the history keeps it), To's
// becomes active (RuleReassigned, with the reason), the item's outcome is
// recomputed, and an event records who moved it and why. It refuses, with
// nothing written, an item the campaign does not have (ErrUnknownItem), a
// From that does not actively review it (ErrNotReviewer), a To who is the
// person under review (ErrSelfReview), no reason (ErrReasonRequired), a
// closed campaign (ErrCampaignClosed) and an item whose revoke was
// carried out (ErrRemediationStarted).
func (c *Campaign) Reassign(ctx context.Context, ra Reassignment) error {
	if err := checkMove(ra.From, ra.To, ra.Reason, ra.By); err != nil {
		return fmt.Errorf("review: reassign item %d of campaign %q: %w", ra.ItemID, c.id, err)
	}
	now := c.s.clock()
	return c.tx(ctx, "reassign", func(tx *sql.Tx, h *txHead) error {
		if h.state != StateOpen {
			return refuse(fmt.Errorf("review: reassign item %d: campaign %q: %w", ra.ItemID, c.id, ErrCampaignClosed))
		}
		return c.move(ctx, tx, h, ra.ItemID, ra.From, ra.To, RuleReassigned, ra.Reason, ra.By, now.UnixMilli())
	})
}

// Delegate hands every item From actively reviews and has not decided to
// To, each as Reassign moves one (RuleDelegated), in one transaction, but
// for items whose person under review is To, which stay with From (and
// the report lists them). It refuses what Reassign refuses.
func (c *Campaign) Delegate(ctx context.Context, d Delegation) (*DelegationReport, error) {
	if err := checkMove(d.From, d.To, d.Reason, d.By); err != nil {
		return nil, fmt.Errorf("review: delegate in campaign %q: %w", c.id, err)
	}
	rep := &DelegationReport{Moved: []int64{}}
	now := c.s.clock()
	err := c.tx(ctx, "delegate", func(tx *sql.Tx, h *txHead) error {
		if h.state != StateOpen {
			return refuse(fmt.Errorf("review: delegate: campaign %q: %w", c.id, ErrCampaignClosed))
		}
		rows, err := tx.QueryContext(ctx, c.s.db.Rebind(`SELECT a.item_id, i.principal_id, p.facts FROM zgov_review_assignments a
			JOIN zgov_review_items i ON i.campaign = a.campaign AND i.id = a.item_id
			JOIN zgov_review_principals p ON p.campaign = i.campaign AND p.principal_id = i.principal_id
			WHERE a.campaign = ? AND a.reviewer = ? AND a.active = 1 AND a.verdict = '' AND i.attempt = 0
			  AND i.remediation IN ('', 'pending') ORDER BY a.item_id`), c.pk, d.From)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			var pid, facts string
			if err := rows.Scan(&id, &pid, &facts); err != nil {
				rows.Close()
				return err
			}
			var p Principal
			if err := json.Unmarshal([]byte(facts), &p); err != nil {
				rows.Close()
				return fmt.Errorf("principal %s: %w", pid, err)
			}
			if isSelf(d.To, &p) {
				rep.KeptSelf = append(rep.KeptSelf, id)
				continue
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ms := now.UnixMilli()
		for _, id := range ids {
			if err := c.move(ctx, tx, h, id, d.From, d.To, RuleDelegated, d.Reason, d.By, ms); err != nil {
				return err
			}
			rep.Moved = append(rep.Moved, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// checkMove checks the input of Reassign and Delegate.
func checkMove(from, to, reason, by string) error {
	for _, f := range []struct{ name, v string }{{"from", from}, {"to", to}} {
		if r := checkReviewer(f.v); r != "" {
			return fmt.Errorf("%s: %s: %w", f.name, r, ErrInvalidDecision)
		}
	}
	if by != "" {
		if r := checkReviewer(by); r != "" {
			return fmt.Errorf("by: %s: %w", r, ErrInvalidDecision)
		}
	}
	if from == to {
		return fmt.Errorf("from and to are both %q: %w", from, ErrInvalidDecision)
	}
	if blank(reason) {
		return ErrReasonRequired
	}
	if r := checkText(reason, maxReason, true); r != "" {
		return fmt.Errorf("reason: %s: %w", r, ErrInvalidDecision)
	}
	return nil
}

// move moves item id from one reviewer to another in a campaign's
// transaction.
func (c *Campaign) move(ctx context.Context, tx *sql.Tx, h *txHead, id int64, from, to string, rule RuleKind, reason, by string, ms int64) error {
	verb := "reassign"
	if rule == RuleDelegated {
		verb = "delegate"
	}
	refused := func(err error) error {
		return refuse(fmt.Errorf("review: %s item %d of campaign %q from %q to %q: %w", verb, id, c.id, from, to, err))
	}
	st, err := c.loadDecisionState(ctx, tx, []Decision{{ItemID: id}})
	if err != nil {
		return err
	}
	it, ok := st.items[id]
	if !ok {
		return refused(ErrUnknownItem)
	}
	if it.remediationStarted() {
		return refused(fmt.Errorf("item %d is %s: %w", id, it.remediation, ErrRemediationStarted))
	}
	a, ok := st.assign[assignKey{id, from}]
	if !ok || !a.active {
		return refused(fmt.Errorf("%q does not actively review it: %w", from, ErrNotReviewer))
	}
	var pid, facts string
	if err := tx.QueryRowContext(ctx, c.s.db.Rebind(`SELECT p.principal_id, p.facts FROM zgov_review_items i
		JOIN zgov_review_principals p ON p.campaign = i.campaign AND p.principal_id = i.principal_id
		WHERE i.campaign = ? AND i.id = ?`), c.pk, id).Scan(&pid, &facts); err != nil {
		return err
	}
	var p Principal
	if err := json.Unmarshal([]byte(facts), &p); err != nil {
		return fmt.Errorf("principal %s: %w", pid, err)
	}
	if isSelf(to, &p) {
		return refused(fmt.Errorf("%q is the person under review: %w", to, ErrSelfReview))
	}

	// From steps down; their decision no longer counts.
	switch a.verdict {
	case Certify:
		it.certifies--
	case Revoke:
		it.revokes--
	}
	it.reviewers--
	if _, err := tx.ExecContext(ctx, c.s.db.Rebind("UPDATE zgov_review_assignments SET active = 0 WHERE campaign = ? AND item_id = ? AND reviewer = ?"),
		c.pk, id, from); err != nil {
		return err
	}
	var why string
	if rule == RuleDelegated {
		why = "delegated by " + from + ": " + reason
	} else {
		why = "reassigned from " + from + ": " + reason
	}
	switch b, ok := st.assign[assignKey{id, to}]; {
	case ok && b.active: // To reviews it already
	case ok:
		it.reviewers++
		if _, err := tx.ExecContext(ctx, c.s.db.Rebind(`UPDATE zgov_review_assignments SET active = 1, rule = ?, reason = ?, fallback = 0, assigned_ms = ?,
			verdict = '', justification = '', decided_ms = 0, decision_seq = 0,
			pos = (SELECT max(pos) + 1 FROM zgov_review_assignments WHERE campaign = ? AND item_id = ?)
			WHERE campaign = ? AND item_id = ? AND reviewer = ?`),
			string(rule), why, ms, c.pk, id, c.pk, id, to); err != nil {
			return err
		}
	default:
		it.reviewers++
		if _, err := tx.ExecContext(ctx, c.s.db.Rebind(`INSERT INTO zgov_review_assignments (campaign, item_id, reviewer, pos, active, rule, reason, fallback, assigned_ms)
			SELECT ?, ?, ?, max(pos) + 1, 1, ?, ?, 0, ? FROM zgov_review_assignments WHERE campaign = ? AND item_id = ?`),
			c.pk, id, to, string(rule), why, ms, c.pk, id); err != nil {
			return err
		}
	}
	out := outcomeOf(h.spec.Consensus, it.reviewers, it.certifies, it.revokes)
	if out != it.outcome {
		it.outcome, it.outcomeBy, it.outcomeMS = out, "decision", ms
		it.remediation = RemediationNone
		if out == Revoked {
			it.remediation = RemediationPending
		}
	}
	if _, err := tx.ExecContext(ctx, c.s.db.Rebind(`UPDATE zgov_review_items SET reviewers = ?, certifies = ?, revokes = ?, outcome = ?, outcome_by = ?, outcome_ms = ?, remediation = ?
		WHERE campaign = ? AND id = ?`), it.reviewers, it.certifies, it.revokes, string(it.outcome), it.outcomeBy, it.outcomeMS, string(it.remediation), c.pk, id); err != nil {
		return err
	}
	kind := EventReassigned
	if rule == RuleDelegated {
		kind = EventDelegated
	}
	return c.event(ctx, tx, h, ms, Event{Kind: kind, ItemID: id, Actor: by, From: from, To: to, Reason: reason})
}
