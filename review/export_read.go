package review

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// An export reads the campaign once, in one read-only transaction (a
// snapshot of the database on PostgreSQL and on a SQLite file), so that
// every file it writes shows the same state of the campaign even while
// reviewers decide: the history first, then the items, a page at a time.
// Each page goes to every writer of the export (evidenceSink) before the
// next is handed over; a goroutine reads the next page meanwhile.

// exportPage is how many items an export reads at once.
const exportPage = 2000

// exportItem is an item as an export reads it. Item.Principal holds every
// fact but the attributes; principal is the principal as stored (the JSON
// of the whole Principal), which the JSON writer copies.
type exportItem struct {
	Item
	principal json.RawMessage
	who       *exportPrincipal
	// grants and detail are the item's stored grants and remediation
	// detail, until decodeItems decodes them.
	grants, detail []byte
}

// evidenceBatch is one page of what a pass reads: decisions, events or
// items.
type evidenceBatch struct {
	decisions []DecisionRecord
	events    []Event
	items     []exportItem
}

// evidenceSink is one writer of an export: it is given the campaign, then
// the decisions, the events and the items in pages, in that order, then
// end.
type evidenceSink interface {
	// history reports that the sink needs the decisions and events, and
	// the campaign's progress (CampaignInfo.Progress).
	history() bool
	begin(h *exportHead) error
	batch(b *evidenceBatch) error
	end() error
}

// evidenceTx reads a campaign in one read-only transaction.
type evidenceTx struct {
	c      *Campaign
	tx     *sql.Tx
	ents   map[string]entFacts
	people map[string]*exportPrincipal
	kind   ItemKind
	// interned are the values of columns of few distinct values.
	interned map[string]string
}

// beginEvidence starts the read-only transaction of an export.
func (c *Campaign) beginEvidence(ctx context.Context) (*evidenceTx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if c.s.db.Dialect == sqldb.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := c.s.db.SQL.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.s.wrap("export campaign "+c.id, err)
	}
	return &evidenceTx{c: c, tx: tx}, nil
}

// wrap says that err happened reading the campaign for an export; nil
// stays nil.
func (e *evidenceTx) wrap(err error) error {
	if err == nil {
		return nil
	}
	return e.c.s.wrap("export campaign "+e.c.id, err)
}

// info reads the campaign's metadata and, with progress, its progress, as
// Campaign.Info does.
func (e *evidenceTx) info(ctx context.Context, progress bool) (CampaignInfo, error) {
	c := e.c
	var info CampaignInfo
	var spec, pop, state string
	var created, due, closed int64
	err := e.tx.QueryRowContext(ctx, c.s.db.Rebind(`SELECT id, name, created_by, created_ms, due_ms, state, closed_ms, closed_by, spec, population
		FROM zgov_review_campaigns WHERE pk = ?`), c.pk).Scan(&info.ID, &info.Name, &info.CreatedBy, &created, &due, &state, &closed, &info.ClosedBy, &spec, &pop)
	if errors.Is(err, sql.ErrNoRows) {
		return info, fmt.Errorf("review: campaign %q: %w", c.id, ErrUnknownCampaign)
	}
	if err != nil {
		return info, e.wrap(err)
	}
	info.CreatedAt, info.Due, info.ClosedAt, info.State = msTime(created), msTime(due), msTime(closed), CampaignState(state)
	if info.Spec, err = decodeSpec(spec); err != nil {
		return info, e.wrap(err)
	}
	e.kind = info.Spec.ItemKind
	if err := json.Unmarshal([]byte(pop), &info.Population); err != nil {
		return info, e.wrap(fmt.Errorf("stored population: %w", err))
	}
	if !progress {
		return info, nil
	}
	rows, err := e.tx.QueryContext(ctx, c.s.db.Rebind(`SELECT outcome, remediation, count(*) FROM zgov_review_items
		WHERE campaign = ? GROUP BY outcome, remediation`), c.pk)
	if err != nil {
		return info, e.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var outcome, rem string
		var n int
		if err := rows.Scan(&outcome, &rem, &n); err != nil {
			return info, e.wrap(err)
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
		return info, e.wrap(err)
	}
	return info, nil
}

// entitlements reads the facts of the campaign's entitlements.
func (e *evidenceTx) entitlements(ctx context.Context) error {
	rows, err := e.tx.QueryContext(ctx, e.c.s.db.Rebind("SELECT entitlement_id, facts FROM zgov_review_entitlements WHERE campaign = ?"), e.c.pk)
	if err != nil {
		return e.wrap(err)
	}
	defer rows.Close()
	e.ents = map[string]entFacts{}
	for rows.Next() {
		var id, facts string
		if err := rows.Scan(&id, &facts); err != nil {
			return e.wrap(err)
		}
		var f entFacts
		if err := json.Unmarshal([]byte(facts), &f); err != nil {
			return e.wrap(fmt.Errorf("entitlement %s: %w", id, err))
		}
		e.ents[id] = f
	}
	return e.wrap(rows.Err())
}

// decisions reads the decisions after seq after.
func (e *evidenceTx) decisions(ctx context.Context, after int64) ([]DecisionRecord, error) {
	rows, err := e.tx.QueryContext(ctx, e.c.s.db.Rebind(`SELECT seq, item_id, reviewer, verdict, justification, decided_ms
		FROM zgov_review_decisions WHERE campaign = ? AND seq > ? ORDER BY seq LIMIT `+fmt.Sprint(historyPage)), e.c.pk, after)
	if err != nil {
		return nil, e.wrap(err)
	}
	defer rows.Close()
	var page []DecisionRecord
	for rows.Next() {
		var d DecisionRecord
		var verdict string
		var ms int64
		if err := rows.Scan(&d.Seq, &d.ItemID, &d.Reviewer, &verdict, &d.Justification, &ms); err != nil {
			return nil, e.wrap(err)
		}
		d.Verdict, d.At = Verdict(verdict), msTime(ms)
		page = append(page, d)
	}
	return page, e.wrap(rows.Err())
}

// events reads the events after seq after.
func (e *evidenceTx) events(ctx context.Context, after int64) ([]Event, error) {
	rows, err := e.tx.QueryContext(ctx, e.c.s.db.Rebind(`SELECT seq, at_ms, kind, item_id, actor, from_reviewer, to_reviewer, reason, detail
		FROM zgov_review_events WHERE campaign = ? AND seq > ? ORDER BY seq LIMIT `+fmt.Sprint(historyPage)), e.c.pk, after)
	if err != nil {
		return nil, e.wrap(err)
	}
	defer rows.Close()
	var page []Event
	for rows.Next() {
		var ev Event
		var kind string
		var ms int64
		if err := rows.Scan(&ev.Seq, &ms, &kind, &ev.ItemID, &ev.Actor, &ev.From, &ev.To, &ev.Reason, &ev.Detail); err != nil {
			return nil, e.wrap(err)
		}
		ev.Kind, ev.At = EventKind(kind), msTime(ms)
		page = append(page, ev)
	}
	return page, e.wrap(rows.Err())
}

// slimPrincipal decodes a stored Principal but its attributes, which the
// tabular writers do not show and which cost the most to decode.
type slimPrincipal struct {
	Principal
	Attributes skipJSON `json:"attributes"`
}

// skipJSON is a JSON value decoded into nothing.
type skipJSON struct{}

// UnmarshalJSON ignores the value.
func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// exportPrincipal is a principal as an export holds it: its stored JSON
// (the whole Principal), read before the items, and its facts but the
// attributes, decoded by the writers' goroutine the first time an item
// needs them.
type exportPrincipal struct {
	id      string
	raw     json.RawMessage
	p       Principal
	decoded bool
}

// principals reads the campaign's principals once, before the items, so
// that each is decoded once (a person holds several grants) and the items
// are read without a join. It costs about 600 bytes a principal.
func (e *evidenceTx) principals(ctx context.Context) error {
	rows, err := e.tx.QueryContext(ctx, e.c.s.db.Rebind("SELECT principal_id, facts FROM zgov_review_principals WHERE campaign = ?"), e.c.pk)
	if err != nil {
		return e.wrap(err)
	}
	defer rows.Close()
	e.people = map[string]*exportPrincipal{}
	for rows.Next() {
		var id string
		var facts sql.RawBytes
		if err := rows.Scan(&id, &facts); err != nil {
			return e.wrap(err)
		}
		e.people[id] = &exportPrincipal{id: id, raw: json.RawMessage(slices.Clone(facts))}
	}
	return e.wrap(rows.Err())
}

// principal returns the principal, decoded.
func (p *exportPrincipal) principal() (*Principal, error) {
	if !p.decoded {
		var sp slimPrincipal
		if err := json.Unmarshal(p.raw, &sp); err != nil {
			return nil, fmt.Errorf("principal %s: %w", p.id, err)
		}
		p.p, p.decoded = sp.Principal, true
	}
	return &p.p, nil
}

// items reads the page of items after the ID after, with their principals
// and assignments. Their grants and remediation stay JSON for decode, which
// the writers' goroutine calls, so that the reading goroutine only reads.
func (e *evidenceTx) items(ctx context.Context, after int64) ([]exportItem, error) {
	c := e.c
	rows, err := e.tx.QueryContext(ctx, c.s.db.Rebind(`SELECT id, principal_id, grants, outcome, outcome_by, outcome_ms, remediation, remediation_ms, attempt, detail
		FROM zgov_review_items WHERE campaign = ? AND id > ? ORDER BY id LIMIT `+fmt.Sprint(exportPage)), c.pk, after)
	if err != nil {
		return nil, e.wrap(err)
	}
	items := make([]exportItem, 0, exportPage)
	// Reused from row to row: what they hold is copied.
	var principalID, outcome, outcomeBy, rem, grants, detail sql.RawBytes
	for rows.Next() {
		items = append(items, exportItem{})
		it := &items[len(items)-1]
		var outcomeMS, remMS int64
		if err := rows.Scan(&it.ID, &principalID, &grants, &outcome, &outcomeBy, &outcomeMS, &rem, &remMS, &it.Remediation.Attempts, &detail); err != nil {
			rows.Close()
			return nil, e.wrap(err)
		}
		it.Kind = e.kind
		it.Outcome = Outcome{State: OutcomeState(e.intern(outcome)), By: e.intern(outcomeBy), At: msTime(outcomeMS)}
		it.Remediation.Status, it.Remediation.At = RemediationStatus(e.intern(rem)), msTime(remMS)
		it.who = e.people[string(principalID)]
		if it.who == nil {
			// Not expected: Create stores every principal of the items.
			it.who = &exportPrincipal{id: string(principalID), p: Principal{ID: string(principalID)}, decoded: true}
			it.who.raw, _ = json.Marshal(it.who.p)
		}
		it.grants, it.detail = slices.Clone(grants), slices.Clone(detail)
		it.Reviewers = []Assignment{}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, e.wrap(err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	return items, e.assignments(ctx, items)
}

// decodeItems decodes the principals, grants and remediation of a page of
// items.
func decodeItems(items []exportItem, ents map[string]entFacts) error {
	for i := range items {
		it := &items[i]
		p, err := it.who.principal()
		if err != nil {
			return fmt.Errorf("item %d: %w", it.ID, err)
		}
		it.Principal, it.principal = *p, it.who.raw
		var stored []storedGrant
		if err := json.Unmarshal(it.grants, &stored); err != nil {
			return fmt.Errorf("item %d: grants: %w", it.ID, err)
		}
		var rd remDetail
		if len(it.detail) > 0 {
			if err := json.Unmarshal(it.detail, &rd); err != nil {
				return fmt.Errorf("item %d: remediation: %w", it.ID, err)
			}
			it.Remediation.Error, it.Remediation.Guard, it.Remediation.Verification = rd.Error, rd.Guard, rd.Verification
		}
		it.Grants = make([]ItemGrant, len(stored))
		for k, g := range stored {
			it.Grants[k] = itemGrant(g, ents, rd.Grants[g.ID])
		}
		it.grants, it.detail = nil, nil
	}
	return nil
}

// assignments reads the assignments of a page of items.
func (e *evidenceTx) assignments(ctx context.Context, items []exportItem) error {
	first := items[0].ID
	// In the order of the primary key (item, reviewer), which needs no
	// sort; each item's are put in the order they were made (pos) below.
	rows, err := e.tx.QueryContext(ctx, e.c.s.db.Rebind(`SELECT item_id, pos, reviewer, active, rule, reason, fallback, assigned_ms, verdict, justification, decided_ms
		FROM zgov_review_assignments WHERE campaign = ? AND item_id BETWEEN ? AND ?`),
		e.c.pk, first, items[len(items)-1].ID)
	if err != nil {
		return e.wrap(err)
	}
	defer rows.Close()
	// Item IDs are dense, from 1, so the page holds first..first+len-1;
	// a map finds them if they ever are not.
	index := func(id int64) (int, bool) {
		i := int(id - first)
		return i, i >= 0 && i < len(items) && items[i].ID == id
	}
	if items[len(items)-1].ID-first != int64(len(items)-1) {
		pos := make(map[int64]int, len(items))
		for i, it := range items {
			pos[it.ID] = i
		}
		index = func(id int64) (int, bool) {
			i, ok := pos[id]
			return i, ok
		}
	}
	type assignment struct {
		item int
		pos  int64
		a    Assignment
	}
	var all []assignment
	var reviewer, rule, reason, verdict, justification sql.RawBytes // reused: what they hold is copied
	for rows.Next() {
		var id, pos, assigned, decided int64
		var a Assignment
		var active, fallback int
		if err := rows.Scan(&id, &pos, &reviewer, &active, &rule, &reason, &fallback, &assigned, &verdict, &justification, &decided); err != nil {
			return e.wrap(err)
		}
		i, ok := index(id)
		if !ok {
			continue
		}
		a.Reviewer, a.Reason, a.Justification = e.intern(reviewer), e.intern(reason), string(justification)
		a.Active, a.Fallback, a.Rule, a.Verdict = active == 1, fallback == 1, RuleKind(e.intern(rule)), Verdict(e.intern(verdict))
		a.AssignedAt, a.DecidedAt = msTime(assigned), msTime(decided)
		all = append(all, assignment{i, pos, a})
	}
	if err := rows.Err(); err != nil {
		return e.wrap(err)
	}
	slices.SortStableFunc(all, func(a, b assignment) int {
		if a.item != b.item {
			return cmp.Compare(a.item, b.item)
		}
		return cmp.Compare(a.pos, b.pos)
	})
	for _, x := range all {
		items[x.item].Reviewers = append(items[x.item].Reviewers, x.a)
	}
	return nil
}

// intern returns b as a string, the same string for the same bytes, for
// the few distinct values of a column (states, reviewers, reasons); past
// maxInterned distinct values it stops remembering new ones.
func (e *evidenceTx) intern(b []byte) string {
	if s, ok := e.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(e.interned) < maxInterned {
		if e.interned == nil {
			e.interned = map[string]string{}
		}
		e.interned[s] = s
	}
	return s
}

// maxInterned bounds evidenceTx.interned.
const maxInterned = 50_000

// pass reads the campaign once and hands it to the sinks: begin with the
// campaign, then its decisions, events and items in pages, in the order of
// sinks (the caller ends them). A goroutine reads the next page while the sinks
// write the last. The first error stops the pass.
func (c *Campaign) pass(ctx context.Context, h *exportHead, sinks ...evidenceSink) error {
	e, err := c.beginEvidence(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = e.tx.Rollback() }()
	history := false
	for _, s := range sinks {
		history = history || s.history()
	}
	if h.Info, err = e.info(ctx, history); err != nil {
		return err
	}
	if err := e.entitlements(ctx); err != nil {
		return err
	}
	if err := e.principals(ctx); err != nil {
		return err
	}
	for _, s := range sinks {
		if err := s.begin(h); err != nil {
			return err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan *evidenceBatch, 2)
	g.Go(func() error {
		defer close(pages)
		send := func(b *evidenceBatch) error {
			select {
			case pages <- b:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		for after := int64(0); history; {
			ds, err := e.decisions(gctx, after)
			if err != nil {
				return err
			}
			if len(ds) > 0 {
				if err := send(&evidenceBatch{decisions: ds}); err != nil {
					return err
				}
				after = ds[len(ds)-1].Seq
			}
			if len(ds) < historyPage {
				break
			}
		}
		for after := int64(0); history; {
			es, err := e.events(gctx, after)
			if err != nil {
				return err
			}
			if len(es) > 0 {
				if err := send(&evidenceBatch{events: es}); err != nil {
					return err
				}
				after = es[len(es)-1].Seq
			}
			if len(es) < historyPage {
				break
			}
		}
		for after := int64(0); ; {
			its, err := e.items(gctx, after)
			if err != nil {
				return err
			}
			if len(its) > 0 {
				if err := send(&evidenceBatch{items: its}); err != nil {
					return err
				}
				after = its[len(its)-1].ID
			}
			if len(its) < exportPage {
				return nil
			}
		}
	})
	g.Go(func() error {
		for b := range pages {
			if err := decodeItems(b.items, e.ents); err != nil {
				return e.wrap(err)
			}
			for _, s := range sinks {
				if err := s.batch(b); err != nil {
					return err
				}
			}
			if err := gctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}
