package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zgov-io/zgov/access"
)

// Drift compares a later snapshot of the same system with the campaign
// and reports what the campaign did not expect: access in the campaign's
// scope granted to a person of its population after its snapshot
// (DriftGranted: nobody reviewed it), and access the campaign revoked,
// and verified gone, that is held again (DriftReturned). The later
// snapshot is checked as Create checks one, and must be of the same
// backend and account, taken no earlier (ErrInvalidSnapshot). Drift
// records an event with the counts and the snapshot's hash.
func (c *Campaign) Drift(ctx context.Context, now *access.Snapshot) (*DriftReport, error) {
	if now == nil {
		return nil, fmt.Errorf("review: drift of campaign %q: nil snapshot: %w", c.id, ErrInvalidSnapshot)
	}
	if _, err := checkSnapshot(now); err != nil {
		return nil, fmt.Errorf("review: drift of campaign %q: %w", c.id, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	// A later snapshot of the same system: another account's, or an
	// earlier one, would report drift that is not there.
	pop, prov := info.Population, now.Provenance()
	if prov.Backend != pop.Backend || prov.Account != pop.Account {
		return nil, fmt.Errorf("review: drift of campaign %q: the snapshot is of %s %q, the campaign's of %s %q: %w",
			c.id, prov.Backend, prov.Account, pop.Backend, pop.Account, ErrInvalidSnapshot)
	}
	if prov.TakenAt.Before(pop.TakenAt) {
		return nil, fmt.Errorf("review: drift of campaign %q: the snapshot was taken at %s, before the campaign's (%s): %w",
			c.id, prov.TakenAt.Format(time.RFC3339), pop.TakenAt.Format(time.RFC3339), ErrInvalidSnapshot)
	}
	what := "drift of campaign " + c.id
	population := map[string]bool{}
	rows, err := c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind("SELECT principal_id FROM zgov_review_principals WHERE campaign = ?"), c.pk)
	if err != nil {
		return nil, c.s.wrap(what, err)
	}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return nil, c.s.wrap(what, err)
		}
		population[p] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, c.s.wrap(what, err)
	}

	reviewed := map[string]int64{} // grant ID -> item
	revoked := map[string]bool{}   // grants revoked and verified gone
	rows, err = c.s.db.SQL.QueryContext(ctx, c.s.db.Rebind("SELECT id, grants, remediation, detail FROM zgov_review_items WHERE campaign = ?"), c.pk)
	if err != nil {
		return nil, c.s.wrap(what, err)
	}
	for rows.Next() {
		var id int64
		var grants, rem, detail string
		if err := rows.Scan(&id, &grants, &rem, &detail); err != nil {
			rows.Close()
			return nil, c.s.wrap(what, err)
		}
		var gs []storedGrant
		if err := json.Unmarshal([]byte(grants), &gs); err != nil {
			rows.Close()
			return nil, c.s.wrap(what, fmt.Errorf("item %d: %w", id, err))
		}
		var rd remDetail
		if detail != "" {
			if err := json.Unmarshal([]byte(detail), &rd); err != nil {
				rows.Close()
				return nil, c.s.wrap(what, fmt.Errorf("item %d: %w", id, err))
			}
		}
		for _, g := range gs {
			reviewed[g.ID] = id
			if gr := rd.Grants[g.ID]; gr != nil && rd.Verification != nil && !gr.Held &&
				(RemediationStatus(rem) == RemediationDone || rd.Verification.Verified) {
				revoked[g.ID] = true
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, c.s.wrap(what, err)
	}

	f := newScopeFilter(info.Spec.Scope, now.Provenance().TakenAt)
	rep := &DriftReport{SnapshotHash: now.Hash(), TakenAt: now.Provenance().TakenAt, Items: []DriftItem{}}
	var returned []DriftItem
	for _, g := range now.Grants() {
		_, pid := cutGrant(g.ID())
		if !population[pid] {
			continue
		}
		item, ok := reviewed[g.ID()]
		switch {
		case ok && revoked[g.ID()]:
			returned = append(returned, DriftItem{Kind: DriftReturned, PrincipalID: pid, GrantID: g.ID(), ItemID: item})
		case !ok && f.grant(g):
			rep.Items = append(rep.Items, DriftItem{Kind: DriftGranted, PrincipalID: pid, GrantID: g.ID()})
		}
	}
	granted := len(rep.Items)
	rep.Items = append(rep.Items, returned...)
	slices.SortStableFunc(rep.Items, func(a, b DriftItem) int {
		if a.Kind != b.Kind {
			if a.Kind == DriftGranted {
				return -1
			}
			return 1
		}
		return strings.Compare(a.GrantID, b.GrantID)
	})
	err = c.tx(ctx, "record drift", func(tx *sql.Tx, h *txHead) error {
		return c.event(ctx, tx, h, c.s.clock().UnixMilli(), Event{Kind: EventDrift,
			Detail: fmt.Sprintf("snapshot %s taken %s: %d granted since, %d revoked and back", now.Hash(), rep.TakenAt.Format("2006-01-02T15:04:05Z"), granted, len(returned))})
	})
	if err != nil {
		return rep, err
	}
	return rep, nil
}
