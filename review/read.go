package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"
)

// msTime returns the time of Unix milliseconds ms, in UTC; zero for 0.
func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// remDetail is the JSON of an item's remediation detail (the items'
// detail column).
type remDetail struct {
	Error        string                       `json:"error,omitempty"`
	Guard        string                       `json:"guard,omitempty"`
	Verification *Verification                `json:"verification,omitempty"`
	Grants       map[string]*GrantRemediation `json:"grants,omitempty"`
}

// spec returns the campaign's spec as stored.
func (c *Campaign) spec(ctx context.Context) (CampaignSpec, error) {
	var s string
	err := c.s.db.SQL.QueryRowContext(ctx, c.s.db.Rebind("SELECT spec FROM zgov_review_campaigns WHERE id = ?"), c.id).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return CampaignSpec{}, fmt.Errorf("review: campaign %q: %w", c.id, ErrUnknownCampaign)
	}
	if err != nil {
		return CampaignSpec{}, c.s.wrap("read campaign "+c.id, err)
	}
	return decodeSpec(s)
}

// Info returns the campaign's metadata, the evidence of its population,
// and its progress as of now.
func (c *Campaign) Info(ctx context.Context) (CampaignInfo, error) {
	what := "read campaign " + c.id
	var info CampaignInfo
	var spec, pop string
	var created, due, closed int64
	var state string
	err := c.s.db.SQL.QueryRowContext(ctx, c.s.db.Rebind(`SELECT id, name, created_by, created_ms, due_ms, state, closed_ms, closed_by, spec, population
		FROM zgov_review_campaigns WHERE id = ?`), c.id).Scan(&info.ID, &info.Name, &info.CreatedBy, &created, &due, &state, &closed, &info.ClosedBy, &spec, &pop)
	if errors.Is(err, sql.ErrNoRows) {
		return info, fmt.Errorf("review: campaign %q: %w", c.id, ErrUnknownCampaign)
	}
	if err != nil {
		return info, c.s.wrap(what, err)
	}
	info.CreatedAt, info.Due, info.ClosedAt, info.State = msTime(created), msTime(due), msTime(closed), CampaignState(state)
	if info.Spec, err = decodeSpec(spec); err != nil {
		return info, c.s.wrap(what, err)
	}
	if err := json.Unmarshal([]byte(pop), &info.Population); err != nil {
		return info, c.s.wrap(what, fmt.Errorf("stored population: %w", err))
	}
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(`SELECT outcome, remediation, count(*) FROM zgov_review_items
		WHERE campaign = ? GROUP BY outcome, remediation`), c.pk)
	if err != nil {
		return info, c.s.wrap(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var outcome, rem string
		var n int
		if err := rows.Scan(&outcome, &rem, &n); err != nil {
			return info, c.s.wrap(what, err)
		}
		info.Progress.Items += n
		switch OutcomeState(outcome) {
		case Certified:
			info.Progress.Certified += n
		case Revoked:
			info.Progress.Revoked += n
			if info.Progress.Remediation == nil {
				info.Progress.Remediation = map[RemediationStatus]int{}
			}
			info.Progress.Remediation[RemediationStatus(rem)] += n
		default:
			info.Progress.Undecided += n
		}
	}
	if err := rows.Err(); err != nil {
		return info, c.s.wrap(what, err)
	}
	return info, nil
}

// Snapshot returns the bytes of the snapshot the campaign was created
// from, as access.Snapshot.Save wrote them (access.Load reads them back
// and checks their hash), if the campaign keeps it (KeepSnapshot); nil
// otherwise.
func (c *Campaign) Snapshot(ctx context.Context) ([]byte, error) {
	var data []byte
	err := c.s.db.SQL.QueryRowContext(ctx, c.s.db.Rebind("SELECT snapshot FROM zgov_review_campaigns WHERE id = ?"), c.id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("review: campaign %q: %w", c.id, ErrUnknownCampaign)
	}
	if err != nil {
		return nil, c.s.wrap("read the snapshot of campaign "+c.id, err)
	}
	return data, nil
}

// itemPage is how many items Items reads at once.
const itemPage = 1000

// ItemFilter narrows Items. The zero value lists every item.
type ItemFilter struct {
	// Reviewer, if set, keeps the items the reviewer actively reviews.
	Reviewer string
	// Undecided keeps only items without an outcome.
	Undecided bool
	// Outcome, if set, keeps only items of that outcome.
	Outcome OutcomeState
	// Remediation, if set, keeps only items of that remediation status.
	Remediation RemediationStatus
}

// Items returns the campaign's items, by ID, with their facts, reviewers,
// outcome and remediation, read a page at a time (no connection is held
// between pages, so the loop may call the Store). It stops at the first
// error, which it yields. A nil filter lists every item.
func (c *Campaign) Items(ctx context.Context, f *ItemFilter) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		ents, err := c.entitlements(ctx)
		if err != nil {
			yield(Item{}, err)
			return
		}
		var kind ItemKind
		after := int64(0)
		for {
			page, err := c.itemPage(ctx, f, after, ents, &kind)
			if err != nil {
				yield(Item{}, err)
				return
			}
			for _, it := range page {
				if !yield(it, nil) {
					return
				}
			}
			if len(page) < itemPage {
				return
			}
			after = page[len(page)-1].ID
		}
	}
}

// Item returns one item, or an error wrapping ErrUnknownItem.
func (c *Campaign) Item(ctx context.Context, id int64) (Item, error) {
	ents, err := c.entitlements(ctx)
	if err != nil {
		return Item{}, err
	}
	var kind ItemKind
	page, err := c.itemPageWhere(ctx, "i.id = ?", []any{id}, ents, &kind, 1)
	if err != nil {
		return Item{}, err
	}
	if len(page) == 0 {
		return Item{}, fmt.Errorf("review: campaign %q has no item %d: %w", c.id, id, ErrUnknownItem)
	}
	return page[0], nil
}

// entitlements reads the facts of the campaign's entitlements.
func (c *Campaign) entitlements(ctx context.Context) (map[string]entFacts, error) {
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind("SELECT entitlement_id, facts FROM zgov_review_entitlements WHERE campaign = ?"), c.pk)
	if err != nil {
		return nil, c.s.wrap("read items", err)
	}
	defer rows.Close()
	out := map[string]entFacts{}
	for rows.Next() {
		var id, facts string
		if err := rows.Scan(&id, &facts); err != nil {
			return nil, c.s.wrap("read items", err)
		}
		var f entFacts
		if err := json.Unmarshal([]byte(facts), &f); err != nil {
			return nil, c.s.wrap("read items", fmt.Errorf("entitlement %s: %w", id, err))
		}
		out[id] = f
	}
	if err := rows.Err(); err != nil {
		return nil, c.s.wrap("read items", err)
	}
	return out, nil
}

// itemPage reads the next page of items after the ID after.
func (c *Campaign) itemPage(ctx context.Context, f *ItemFilter, after int64, ents map[string]entFacts, kind *ItemKind) ([]Item, error) {
	where := []string{"i.id > ?"}
	args := []any{after}
	if f != nil {
		if f.Reviewer != "" {
			where = append(where, "EXISTS (SELECT 1 FROM zgov_review_assignments a WHERE a.campaign = i.campaign AND a.item_id = i.id AND a.reviewer = ? AND a.active = 1)")
			args = append(args, f.Reviewer)
		}
		if f.Undecided {
			where = append(where, "i.outcome = ''")
		}
		if f.Outcome != "" {
			where = append(where, "i.outcome = ?")
			args = append(args, string(f.Outcome))
		}
		if f.Remediation != "" {
			where = append(where, "i.remediation = ?")
			args = append(args, string(f.Remediation))
		}
	}
	return c.itemPageWhere(ctx, strings.Join(where, " AND "), args, ents, kind, itemPage)
}

// itemPageWhere reads up to limit items matching where, by ID, with their
// principals and assignments.
func (c *Campaign) itemPageWhere(ctx context.Context, where string, args []any, ents map[string]entFacts, kind *ItemKind, limit int) ([]Item, error) {
	what := "read items of campaign " + c.id
	if *kind == "" {
		spec, err := c.spec(ctx)
		if err != nil {
			return nil, err
		}
		*kind = spec.ItemKind
	}
	q := `SELECT i.id, i.principal_id, i.grants, i.outcome, i.outcome_by, i.outcome_ms, i.remediation, i.remediation_ms, i.attempt, i.detail
		FROM zgov_review_items i WHERE i.campaign = ? AND ` + where + ` ORDER BY i.id LIMIT ` + fmt.Sprint(limit)
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(q), append([]any{c.pk}, args...)...)
	if err != nil {
		return nil, c.s.wrap(what, err)
	}
	var items []Item
	for rows.Next() {
		var it Item
		var grants, outcome, outcomeBy, rem, detail string
		var outcomeMS, remMS int64
		if err := rows.Scan(&it.ID, &it.Principal.ID, &grants, &outcome, &outcomeBy, &outcomeMS, &rem, &remMS, &it.Remediation.Attempts, &detail); err != nil {
			rows.Close()
			return nil, c.s.wrap(what, err)
		}
		it.Kind = *kind
		it.Outcome = Outcome{State: OutcomeState(outcome), By: outcomeBy, At: msTime(outcomeMS)}
		it.Remediation.Status, it.Remediation.At = RemediationStatus(rem), msTime(remMS)
		var stored []storedGrant
		if err := json.Unmarshal([]byte(grants), &stored); err != nil {
			rows.Close()
			return nil, c.s.wrap(what, fmt.Errorf("item %d: grants: %w", it.ID, err))
		}
		var rd remDetail
		if detail != "" {
			if err := json.Unmarshal([]byte(detail), &rd); err != nil {
				rows.Close()
				return nil, c.s.wrap(what, fmt.Errorf("item %d: remediation: %w", it.ID, err))
			}
			it.Remediation.Error, it.Remediation.Guard, it.Remediation.Verification = rd.Error, rd.Guard, rd.Verification
		}
		it.Grants = make([]ItemGrant, len(stored))
		for k, g := range stored {
			it.Grants[k] = itemGrant(g, ents, rd.Grants[g.ID])
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, c.s.wrap(what, err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	if err := c.fillPrincipals(ctx, items); err != nil {
		return nil, c.s.wrap(what, err)
	}
	if err := c.fillAssignments(ctx, items); err != nil {
		return nil, c.s.wrap(what, err)
	}
	return items, nil
}

// itemGrant assembles an ItemGrant.
func itemGrant(g storedGrant, ents map[string]entFacts, rem *GrantRemediation) ItemGrant {
	eid, _ := cutGrant(g.ID)
	e := ents[eid]
	ig := ItemGrant{GrantID: g.ID, EntitlementID: eid, Entitlement: e.Name, ResourceID: e.ResourceID, Resource: e.Resource,
		ResourceType: e.ResourceType, Purpose: e.Purpose, Attributes: g.Attrs, Granted: g.Granted, Remediation: rem}
	if ig.ResourceID == "" {
		ig.ResourceID = resourceOf(eid)
		ig.ResourceType = typeOf(ig.ResourceID)
	}
	if v, ok := g.Attrs["expires_at"]; ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			ig.ExpiresAt = t.UTC()
		}
	}
	return ig
}

// fillPrincipals reads the principals of items.
func (c *Campaign) fillPrincipals(ctx context.Context, items []Item) error {
	idx := map[string][]int{}
	args := []any{c.pk}
	for i, it := range items {
		if _, ok := idx[it.Principal.ID]; !ok {
			args = append(args, it.Principal.ID)
		}
		idx[it.Principal.ID] = append(idx[it.Principal.ID], i)
	}
	q := "SELECT principal_id, facts FROM zgov_review_principals WHERE campaign = ? AND principal_id IN (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(args)-1), ", ") + ")"
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, facts string
		if err := rows.Scan(&id, &facts); err != nil {
			return err
		}
		var p Principal
		if err := json.Unmarshal([]byte(facts), &p); err != nil {
			return fmt.Errorf("principal %s: %w", id, err)
		}
		for _, i := range idx[id] {
			items[i].Principal = p
		}
	}
	return rows.Err()
}

// fillAssignments reads the assignments of items.
func (c *Campaign) fillAssignments(ctx context.Context, items []Item) error {
	pos := make(map[int64]int, len(items))
	for i, it := range items {
		pos[it.ID] = i
		items[i].Reviewers = []Assignment{}
	}
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(`SELECT item_id, reviewer, active, rule, reason, fallback, assigned_ms, verdict, justification, decided_ms
		FROM zgov_review_assignments WHERE campaign = ? AND item_id BETWEEN ? AND ? ORDER BY item_id, pos`),
		c.pk, items[0].ID, items[len(items)-1].ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, assigned, decided int64
		var a Assignment
		var active, fallback int
		var rule, verdict string
		if err := rows.Scan(&id, &a.Reviewer, &active, &rule, &a.Reason, &fallback, &assigned, &verdict, &a.Justification, &decided); err != nil {
			return err
		}
		i, ok := pos[id]
		if !ok {
			continue
		}
		a.Active, a.Fallback, a.Rule, a.Verdict = active == 1, fallback == 1, RuleKind(rule), Verdict(verdict)
		a.AssignedAt, a.DecidedAt = msTime(assigned), msTime(decided)
		items[i].Reviewers = append(items[i].Reviewers, a)
	}
	return rows.Err()
}

// historyPage is how many decisions or events Decisions and Events read
// at once.
const historyPage = 5000

// Decisions returns every decision recorded, changed ones too, by Seq, a
// page at a time. It stops at the first error, which it yields.
func (c *Campaign) Decisions(ctx context.Context) iter.Seq2[DecisionRecord, error] {
	return func(yield func(DecisionRecord, error) bool) {
		after := int64(0)
		for {
			rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(`SELECT seq, item_id, reviewer, verdict, justification, decided_ms
				FROM zgov_review_decisions WHERE campaign = ? AND seq > ? ORDER BY seq LIMIT `+fmt.Sprint(historyPage)), c.pk, after)
			if err != nil {
				yield(DecisionRecord{}, c.s.wrap("read decisions", err))
				return
			}
			var page []DecisionRecord
			for rows.Next() {
				var d DecisionRecord
				var verdict string
				var ms int64
				if err := rows.Scan(&d.Seq, &d.ItemID, &d.Reviewer, &verdict, &d.Justification, &ms); err != nil {
					rows.Close()
					yield(DecisionRecord{}, c.s.wrap("read decisions", err))
					return
				}
				d.Verdict, d.At = Verdict(verdict), msTime(ms)
				page = append(page, d)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				yield(DecisionRecord{}, c.s.wrap("read decisions", err))
				return
			}
			for _, d := range page {
				if !yield(d, nil) {
					return
				}
			}
			if len(page) < historyPage {
				return
			}
			after = page[len(page)-1].Seq
		}
	}
}

// Events returns the campaign's events (everything but decisions), by
// Seq, a page at a time. It stops at the first error, which it yields.
func (c *Campaign) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		after := int64(0)
		for {
			rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind(`SELECT seq, at_ms, kind, item_id, actor, from_reviewer, to_reviewer, reason, detail
				FROM zgov_review_events WHERE campaign = ? AND seq > ? ORDER BY seq LIMIT `+fmt.Sprint(historyPage)), c.pk, after)
			if err != nil {
				yield(Event{}, c.s.wrap("read events", err))
				return
			}
			var page []Event
			for rows.Next() {
				var e Event
				var kind string
				var ms int64
				if err := rows.Scan(&e.Seq, &ms, &kind, &e.ItemID, &e.Actor, &e.From, &e.To, &e.Reason, &e.Detail); err != nil {
					rows.Close()
					yield(Event{}, c.s.wrap("read events", err))
					return
				}
				e.Kind, e.At = EventKind(kind), msTime(ms)
				page = append(page, e)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				yield(Event{}, c.s.wrap("read events", err))
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			if len(page) < historyPage {
				return
			}
			after = page[len(page)-1].Seq
		}
	}
}

// Evidence returns everything an evidence export needs in one value: the
// campaign's metadata and population evidence, its items with their facts,
// reviewers, outcome and remediation with its proof, the decision history
// and the events. For large campaigns, Items, Decisions and Events stream
// the same values.
func (c *Campaign) Evidence(ctx context.Context) (*Evidence, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{Campaign: info, Items: make([]Item, 0, info.Progress.Items), Decisions: []DecisionRecord{}, Events: []Event{}}
	for it, err := range c.Items(ctx, nil) {
		if err != nil {
			return nil, err
		}
		ev.Items = append(ev.Items, it)
	}
	for d, err := range c.Decisions(ctx) {
		if err != nil {
			return nil, err
		}
		ev.Decisions = append(ev.Decisions, d)
	}
	for e, err := range c.Events(ctx) {
		if err != nil {
			return nil, err
		}
		ev.Events = append(ev.Events, e)
	}
	return ev, nil
}
