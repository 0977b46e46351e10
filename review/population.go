package review

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

// population is what a campaign's scope keeps of a snapshot, before it is
// stored.
type population struct {
	principals []Principal            // in scope, by ID
	ents       map[string]entFacts    // the entitlements the items hold
	items      []draftItem            // by item ID - 1
	grants     int                    // grants in scope
	index      map[string]int         // principal ID -> index in principals
	origins    map[string]GrantOrigin // grant ID -> what the journal knows
}

// draftItem is an item before it is stored.
type draftItem struct {
	principal int // index in population.principals
	grants    []storedGrant
	reviewers []draftAssignment
}

// draftAssignment is an assignment before it is stored.
type draftAssignment struct {
	reviewer string
	rule     RuleKind
	reason   string
	fallback bool
}

// storedGrant is what an item stores of each of its grants: the rest is
// the entitlement's (entFacts).
type storedGrant struct {
	ID      string            `json:"id"`
	Attrs   access.Attributes `json:"a,omitempty"`
	Granted *GrantOrigin      `json:"g,omitempty"`
}

// entFacts is what a campaign stores of an entitlement.
type entFacts struct {
	Name         string         `json:"name,omitempty"`
	ResourceID   string         `json:"resource_id"`
	Resource     string         `json:"resource,omitempty"`
	ResourceType string         `json:"resource_type"`
	Purpose      access.Purpose `json:"purpose,omitempty"`
}

// cutGrant splits a grant ID into its entitlement and principal.
func cutGrant(id string) (entitlementID, principalID string) {
	i := strings.LastIndexByte(id, '@')
	if i < 0 {
		return id, ""
	}
	return id[:i], id[i+1:]
}

// resourceOf returns the resource of an entitlement ID: the part before
// its last ':'.
func resourceOf(entitlementID string) string {
	if i := strings.LastIndexByte(entitlementID, ':'); i >= 0 {
		return entitlementID[:i]
	}
	return entitlementID
}

// typeOf returns the type of a resource ID: the part before its first ':'.
func typeOf(resourceID string) string {
	if i := strings.IndexByte(resourceID, ':'); i >= 0 {
		return resourceID[:i]
	}
	return resourceID
}

// scopeFilter applies a Scope.
type scopeFilter struct {
	sc         Scope
	types      map[string]bool
	ents       map[string]bool
	principals map[string]bool
	cutoff     time.Time // last login before it: unused
	entOK      map[string]bool
}

func newScopeFilter(sc Scope, takenAt time.Time) *scopeFilter {
	set := func(xs []string) map[string]bool {
		if len(xs) == 0 {
			return nil
		}
		m := make(map[string]bool, len(xs))
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	f := &scopeFilter{sc: sc, types: set(sc.ResourceTypes), ents: set(sc.Entitlements), principals: set(sc.Principals), entOK: map[string]bool{}}
	if sc.UnusedDays > 0 {
		f.cutoff = takenAt.Add(-time.Duration(sc.UnusedDays) * 24 * time.Hour)
	}
	return f
}

// entitlement reports whether grants of the entitlement are in scope.
func (f *scopeFilter) entitlement(eid string) bool {
	ok, seen := f.entOK[eid]
	if !seen {
		ok = (f.types == nil || f.types[typeOf(eid)]) && (f.ents == nil || f.ents[eid])
		f.entOK[eid] = ok
	}
	return ok
}

// grant reports whether a grant is in scope, its principal aside.
func (f *scopeFilter) grant(g access.GrantRecord) bool {
	eid, _ := cutGrant(g.ID())
	if !f.entitlement(eid) {
		return false
	}
	switch f.sc.Grants {
	case TimeBoundGrants:
		_, ok := g.ExpiresAt()
		return ok
	case StandingGrants:
		_, ok := g.ExpiresAt()
		return !ok
	}
	return true
}

// principal reports whether a principal is in scope; held are all of its
// grants in the snapshot.
func (f *scopeFilter) principal(r access.ResourceRecord, held []access.GrantRecord) bool {
	if f.principals != nil && !f.principals[r.ID()] {
		return false
	}
	attrs := r.Attributes()
	for k, v := range f.sc.Attributes {
		if got, ok := attrs[k]; !ok || got != v {
			return false
		}
	}
	if f.sc.Admins && attrs["role"] != "admin" && !slices.ContainsFunc(held, func(g access.GrantRecord) bool {
		eid, _ := cutGrant(g.ID())
		return eid == f.sc.AdminEntitlement
	}) {
		return false
	}
	if f.sc.CustomRoles && !slices.ContainsFunc(held, func(g access.GrantRecord) bool {
		eid, _ := cutGrant(g.ID())
		return typeOf(eid) == "custom_role"
	}) {
		return false
	}
	if f.sc.UnusedDays > 0 {
		if v, ok := attrs["last_login_at"]; ok {
			t, err := time.Parse(time.RFC3339, v)
			if err == nil && !t.Before(f.cutoff) {
				return false
			}
		}
	}
	return true
}

// selectPopulation applies the spec's scope to the snapshot.
func selectPopulation(snap *access.Snapshot, spec CampaignSpec, now time.Time) *population {
	takenAt := snap.Provenance().TakenAt
	if takenAt.IsZero() {
		takenAt = now
	}
	f := newScopeFilter(spec.Scope, takenAt)
	grants := snap.Grants()

	// Each principal's grants, in grant ID order.
	byPrincipal := map[string][]access.GrantRecord{}
	for _, g := range grants {
		_, p := cutGrant(g.ID())
		byPrincipal[p] = append(byPrincipal[p], g)
	}
	pids := make([]string, 0, len(byPrincipal))
	for p := range byPrincipal {
		pids = append(pids, p)
	}
	slices.Sort(pids)

	pop := &population{ents: map[string]entFacts{}, index: map[string]int{}}
	kept := map[string][]access.GrantRecord{}
	for _, pid := range pids {
		res, ok := snap.Resource(pid)
		if !ok {
			continue // a snapshot has no dangling grants
		}
		held := byPrincipal[pid]
		if !f.principal(res, held) {
			continue
		}
		var in []access.GrantRecord
		for _, g := range held {
			if f.grant(g) {
				in = append(in, g)
			}
		}
		if len(in) == 0 {
			continue
		}
		pop.index[pid] = len(pop.principals)
		pop.principals = append(pop.principals, principalFacts(snap, res, held))
		kept[pid] = in
		pop.grants += len(in)
		for _, g := range in {
			eid, _ := cutGrant(g.ID())
			if _, ok := pop.ents[eid]; !ok {
				pop.ents[eid] = entitlementFacts(snap, eid)
			}
		}
	}

	store := func(g access.GrantRecord) storedGrant { return storedGrant{ID: g.ID(), Attrs: g.Attributes()} }
	if spec.ItemKind == KindAccount {
		pop.items = make([]draftItem, 0, len(pop.principals))
		for i, p := range pop.principals {
			it := draftItem{principal: i, grants: make([]storedGrant, len(kept[p.ID]))}
			for k, g := range kept[p.ID] {
				it.grants[k] = store(g)
			}
			pop.items = append(pop.items, it)
		}
		return pop
	}
	pop.items = make([]draftItem, 0, pop.grants)
	for _, g := range grants {
		_, pid := cutGrant(g.ID())
		i, ok := pop.index[pid]
		if !ok || !f.grant(g) {
			continue
		}
		pop.items = append(pop.items, draftItem{principal: i, grants: []storedGrant{store(g)}})
	}
	return pop
}

// principalFacts returns what a reviewer sees of a principal.
func principalFacts(snap *access.Snapshot, r access.ResourceRecord, held []access.GrantRecord) Principal {
	a := r.Attributes()
	p := Principal{ID: r.ID(), Name: r.DisplayName(), Email: a["email"], ExternalID: a["external_id"], Role: a["role"],
		Suspended: a["suspended"] == "true", Attributes: a}
	if v, ok := a["last_login_at"]; ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			p.LastLoginAt = t.UTC()
		}
	}
	for _, g := range held {
		eid, _ := cutGrant(g.ID())
		if typeOf(eid) == "custom_role" {
			if res, ok := snap.Resource(resourceOf(eid)); ok && res.DisplayName() != "" {
				p.CustomRole = res.DisplayName()
			} else {
				p.CustomRole = resourceOf(eid)
			}
		}
	}
	p.SeatType = seatType(a)
	return p
}

// seatType returns the seat an account takes (see Principal.SeatType).
func seatType(a access.Attributes) string {
	if v, ok := a["seat_type"]; ok {
		return v
	}
	switch a["role"] {
	case "agent", "admin":
		switch a["role_type"] {
		case "1":
			return "light_agent"
		case "2":
			return "chat_agent"
		case "3":
			return "contributor"
		}
		return "agent"
	}
	return ""
}

// entitlementFacts returns what a reviewer sees of an entitlement.
func entitlementFacts(snap *access.Snapshot, eid string) entFacts {
	rid := resourceOf(eid)
	f := entFacts{ResourceID: rid, ResourceType: typeOf(rid)}
	if e, ok := snap.Entitlement(eid); ok {
		f.Name, f.Purpose = e.DisplayName(), e.Purpose()
	}
	if r, ok := snap.Resource(rid); ok {
		f.Resource = r.DisplayName()
	}
	return f
}

// readOrigins reads, from the journal, when, by whom and why each grant
// of the population was last made: the last finished grant of it that
// created it (access.StatusGranted), or that added it on the way.
func (pop *population) readOrigins(ctx context.Context, j *provision.Journal) error {
	want := make(map[string]bool, pop.grants)
	for _, it := range pop.items {
		for _, g := range it.grants {
			want[g.ID] = true
		}
	}
	pop.origins = map[string]GrantOrigin{}
	for e, err := range j.Entries(ctx, 1) {
		if err != nil {
			return err
		}
		if e.Kind != provision.JournalFinished || e.Outcome == nil || e.Outcome.Error != "" {
			continue
		}
		origin := GrantOrigin{At: e.Time.UTC(), By: e.Actor.Who, Reason: e.Actor.Reason, Source: e.Actor.Source, JournalID: e.ChangeID}
		if e.Op.Name == provision.JournalOpGrant && e.Outcome.Status == string(access.StatusGranted) {
			if id := access.GrantID(e.Op.EntitlementID, e.Op.PrincipalID); want[id] {
				pop.origins[id] = origin
			}
		}
		for _, id := range e.Outcome.Added {
			if want[id] {
				pop.origins[id] = origin
			}
		}
		for _, id := range e.Outcome.Replaced { // removed since: not its origin
			delete(pop.origins, id)
		}
		if e.Op.Name == provision.JournalOpRevoke && e.Outcome.Status == string(access.StatusRevoked) {
			delete(pop.origins, access.GrantID(e.Op.EntitlementID, e.Op.PrincipalID))
		}
	}
	for i := range pop.items {
		for k := range pop.items[i].grants {
			if o, ok := pop.origins[pop.items[i].grants[k].ID]; ok {
				pop.items[i].grants[k].Granted = &o
			}
		}
	}
	return nil
}
