package review

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CloseReport is what Close did.
type CloseReport struct {
	// Defaulted is the number of undecided items given the campaign's
	// default (DefaultKeep or DefaultRevoke).
	Defaulted int `json:"defaulted"`
	// Open is the number of items left undecided (DefaultOpen), which
	// the evidence reports.
	Open int `json:"open"`
	// Remediation is what the remediation at close did, when the Store
	// has a Remediator.
	Remediation *RemediationReport `json:"remediation,omitempty"`
}

// Close closes the campaign: decisions and assignments become final, and
// every undecided item takes the campaign's default (certified with
// DefaultKeep, revoked with DefaultRevoke, left undecided with
// DefaultOpen), with an event per item saying so, all in one transaction.
// by is who closes it. A closed campaign refuses a second Close with
// ErrCampaignClosed.
//
// If the Store has a Remediator (WithRemediator), Close then carries out
// every revoked item not done yet (see Remediate); otherwise they stay
// pending for Remediate. If that remediation stops short, the campaign is
// closed all the same, and the error wraps ErrRemediation.
func (c *Campaign) Close(ctx context.Context, by string) (*CloseReport, error) {
	if r := checkReviewer(by); r != "" {
		return nil, fmt.Errorf("review: close campaign %q: by: %s: %w", c.id, r, ErrInvalidDecision)
	}
	rep := &CloseReport{}
	now := c.s.clock()
	ms := now.UnixMilli()
	err := c.tx(ctx, "close", func(tx *sql.Tx, h *txHead) error {
		if h.state != StateOpen {
			return refuse(fmt.Errorf("review: close campaign %q: %w", c.id, ErrCampaignClosed))
		}
		rows, err := tx.QueryContext(ctx, c.s.db.Rebind("SELECT id FROM zgov_review_items WHERE campaign = ? AND outcome = '' ORDER BY id"), c.pk)
		if err != nil {
			return err
		}
		var open []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			open = append(open, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		detail := fmt.Sprintf("%d undecided items: default %s", len(open), h.spec.Default)
		if h.spec.Default != DefaultOpen && len(open) > 0 {
			outcome, rem := Certified, RemediationNone
			if h.spec.Default == DefaultRevoke {
				outcome, rem = Revoked, RemediationPending
			}
			if _, err := tx.ExecContext(ctx, c.s.db.Rebind(`UPDATE zgov_review_items SET outcome = ?, outcome_by = 'default', outcome_ms = ?, remediation = ?
				WHERE campaign = ? AND outcome = ''`), string(outcome), ms, string(rem), c.pk); err != nil {
				return err
			}
			ev := newBulkInserter(ctx, tx, c.s.db, "zgov_review_events",
				[]string{"campaign", "seq", "at_ms", "kind", "item_id", "actor", "from_reviewer", "to_reviewer", "reason", "detail"}, "")
			for _, id := range open {
				if err := ev.add(c.pk, h.next(), ms, string(EventDefault), id, by, "", "", "", "undecided at close: "+string(outcome)+" by the campaign's default"); err != nil {
					return err
				}
			}
			if err := ev.close(); err != nil {
				return err
			}
			rep.Defaulted = len(open)
		} else {
			rep.Open = len(open)
		}
		if err := c.event(ctx, tx, h, ms, Event{Kind: EventClosed, Actor: by, Detail: detail}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, c.s.db.Rebind("UPDATE zgov_review_campaigns SET state = ?, closed_ms = ?, closed_by = ? WHERE id = ?"),
			string(StateClosed), ms, by, c.id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if r := c.s.remediator; r != nil {
		rr, err := c.remediate(ctx, r, nil)
		rep.Remediation = rr
		if err != nil {
			return rep, fmt.Errorf("review: campaign %q closed, but its remediation stopped: %w: %w", c.id, ErrRemediation, err)
		}
	}
	return rep, nil
}

// event inserts one event in a campaign's transaction.
func (c *Campaign) event(ctx context.Context, tx *sql.Tx, h *txHead, ms int64, e Event) error {
	_, err := tx.ExecContext(ctx, c.s.db.Rebind(`INSERT INTO zgov_review_events (campaign, seq, at_ms, kind, item_id, actor, from_reviewer, to_reviewer, reason, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), c.pk, h.next(), ms, string(e.Kind), e.ItemID, e.Actor, e.From, e.To, e.Reason, e.Detail)
	return err
}

// Reminder is a reviewer with items to decide.
type Reminder struct {
	// Campaign is the campaign's ID.
	Campaign string `json:"campaign"`
	// Reviewer is who has items to decide.
	Reviewer string `json:"reviewer"`
	// Pending is the number of undecided items the reviewer has not
	// decided.
	Pending int `json:"pending"`
	// Due is the campaign's due date (zero: none).
	Due time.Time `json:"due,omitzero"`
	// Overdue reports that now is past Due.
	Overdue bool `json:"overdue"`
}

// Reminders returns, by reviewer, the reviewers of an open campaign who
// have undecided items they have not decided, with their count, as of
// now. A closed campaign has none.
func (c *Campaign) Reminders(ctx context.Context, now time.Time) ([]Reminder, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.State != StateOpen {
		return nil, nil
	}
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(`SELECT a.reviewer, count(*) FROM zgov_review_assignments a
		JOIN zgov_review_items i ON i.campaign = a.campaign AND i.id = a.item_id
		WHERE a.campaign = ? AND a.active = 1 AND a.verdict = '' AND i.outcome = ''
		GROUP BY a.reviewer ORDER BY a.reviewer`), c.pk)
	if err != nil {
		return nil, c.s.wrap("reminders of campaign "+c.id, err)
	}
	defer rows.Close()
	var out []Reminder
	for rows.Next() {
		r := Reminder{Campaign: c.id, Due: info.Due, Overdue: !info.Due.IsZero() && now.After(info.Due)}
		if err := rows.Scan(&r.Reviewer, &r.Pending); err != nil {
			return nil, c.s.wrap("reminders of campaign "+c.id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, c.s.wrap("reminders of campaign "+c.id, err)
	}
	return out, nil
}

// Remind calls hook with each of Reminders(ctx, now), and records an
// event per reviewer reminded. It stops at the first error of hook, which
// it returns with the number reminded before it.
func (c *Campaign) Remind(ctx context.Context, now time.Time, hook func(context.Context, Reminder) error) (int, error) {
	if hook == nil {
		return 0, fmt.Errorf("review: remind campaign %q: nil hook", c.id)
	}
	rs, err := c.Reminders(ctx, now)
	if err != nil {
		return 0, err
	}
	for i, r := range rs {
		if err := hook(ctx, r); err != nil {
			return i, fmt.Errorf("review: remind %q of campaign %q: %w", r.Reviewer, c.id, err)
		}
		detail := fmt.Sprintf("%d items to decide", r.Pending)
		if r.Overdue {
			detail += ", overdue since " + r.Due.Format(time.RFC3339)
		}
		err := c.tx(ctx, "remind", func(tx *sql.Tx, h *txHead) error {
			return c.event(ctx, tx, h, c.s.clock().UnixMilli(), Event{Kind: EventReminded, To: r.Reviewer, Detail: detail})
		})
		if err != nil {
			return i, err
		}
	}
	return len(rs), nil
}
