package access

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Snapshot is an immutable, validated copy of everything a backend held at
// one time: resource types, resources, entitlements and grants, each sorted
// by ID, with a content hash and provenance. Create one with Sync or Load.
//
// A Snapshot is safe for concurrent use. Methods returning slices return
// copies; the attribute maps in them are shared and must not be modified.
type Snapshot struct {
	hash         string
	prov         Provenance
	types        []ResourceType
	resources    []ResourceRecord
	entitlements []EntitlementRecord
	grants       []GrantRecord
}

// Provenance records where and when a snapshot was taken. It is stored with
// the snapshot but is not covered by its hash: two snapshots of the same
// content have the same hash even if, for example, one needed more requests
// because some were retried.
type Provenance struct {
	// Backend is the backend's Info.Name.
	Backend string `json:"backend"`
	// Account is the backend's Info.Account.
	Account string `json:"account"`
	// TakenAt is when the sync started, in UTC, from SyncOptions.Now.
	TakenAt time.Time `json:"taken_at"`
	// Scope is the backend's Info.Scope.
	Scope map[string]string `json:"scope,omitempty"`
	// Requests is the number of requests the sync sent, if the backend is a
	// RequestCounter; zero otherwise.
	Requests int64 `json:"requests,omitempty"`
	// Streams counts the items each stream emitted, sorted by stream name.
	Streams []StreamCount `json:"streams,omitempty"`
	// Dropped is the number of dangling entitlements and grants left out
	// because SyncOptions.DropDangling was set.
	Dropped int `json:"dropped,omitempty"`
}

// StreamCount is the number of items of each kind a stream emitted.
type StreamCount struct {
	Name         string `json:"name"`         // the stream's name
	Resources    int    `json:"resources"`    // resources emitted
	Entitlements int    `json:"entitlements"` // entitlements emitted
	Grants       int    `json:"grants"`       // grants emitted
}

// Counts is the number of items of each kind in a snapshot.
type Counts struct {
	ResourceTypes int // number of resource types
	Resources     int // number of resources
	Entitlements  int // number of entitlements
	Grants        int // number of grants
}

// Hash returns the lower-case hex SHA-256 of the snapshot's canonical
// content: everything but the provenance.
func (s *Snapshot) Hash() string { return s.hash }

// Provenance returns where and when the snapshot was taken.
func (s *Snapshot) Provenance() Provenance {
	p := s.prov
	p.Scope = maps.Clone(p.Scope)
	p.Streams = slices.Clone(p.Streams)
	return p
}

// Counts returns the number of items of each kind.
func (s *Snapshot) Counts() Counts {
	return Counts{len(s.types), len(s.resources), len(s.entitlements), len(s.grants)}
}

// ResourceTypes returns the resource types, sorted by ID.
func (s *Snapshot) ResourceTypes() []ResourceType {
	ts := slices.Clone(s.types)
	for i := range ts {
		ts[i].Traits = slices.Clone(ts[i].Traits)
	}
	return ts
}

// ResourceType returns the resource type with the given ID.
func (s *Snapshot) ResourceType(id string) (ResourceType, bool) {
	i, ok := slices.BinarySearchFunc(s.types, id, func(t ResourceType, id string) int { return strings.Compare(t.ID, id) })
	if !ok {
		return ResourceType{}, false
	}
	t := s.types[i]
	t.Traits = slices.Clone(t.Traits)
	return t, true
}

// Resources returns the resources, sorted by ID.
func (s *Snapshot) Resources() []ResourceRecord { return slices.Clone(s.resources) }

// Entitlements returns the entitlements, sorted by ID.
func (s *Snapshot) Entitlements() []EntitlementRecord { return slices.Clone(s.entitlements) }

// Grants returns the grants, sorted by ID.
func (s *Snapshot) Grants() []GrantRecord { return slices.Clone(s.grants) }

// Resource returns the resource with the given ID.
func (s *Snapshot) Resource(id string) (ResourceRecord, bool) { return find(s.resources, id) }

// Entitlement returns the entitlement with the given ID.
func (s *Snapshot) Entitlement(id string) (EntitlementRecord, bool) { return find(s.entitlements, id) }

// Grant returns the grant with the given ID.
func (s *Snapshot) Grant(id string) (GrantRecord, bool) { return find(s.grants, id) }

// GrantsOf returns the grants of an entitlement, sorted by ID.
func (s *Snapshot) GrantsOf(entitlementID string) []GrantRecord {
	prefix := entitlementID + "@"
	i, _ := slices.BinarySearchFunc(s.grants, prefix, func(g GrantRecord, p string) int { return strings.Compare(g.id, p) })
	j := i
	for j < len(s.grants) && strings.HasPrefix(s.grants[j].id, prefix) {
		j++
	}
	return slices.Clone(s.grants[i:j])
}

// GrantsFor returns the grants held by a principal, sorted by ID.
func (s *Snapshot) GrantsFor(principalID string) []GrantRecord {
	var gs []GrantRecord
	for _, g := range s.grants {
		if g.PrincipalID() == principalID {
			gs = append(gs, g)
		}
	}
	return gs
}

type identified interface{ ID() string }

func find[T identified](xs []T, id string) (T, bool) {
	i, ok := slices.BinarySearchFunc(xs, id, func(x T, id string) int { return strings.Compare(x.ID(), id) })
	if !ok {
		var zero T
		return zero, false
	}
	return xs[i], true
}

func sortByID[T identified](xs []T) {
	slices.SortFunc(xs, func(a, b T) int { return strings.Compare(a.ID(), b.ID()) })
}

// checkAttrs returns a reason if attrs break the rules of Attributes.
func checkAttrs(a Attributes) string {
	if len(a) == 0 {
		return "" // ranging over a nil map still costs an iterator set-up
	}
	for k, v := range a {
		if k == "" {
			return "attribute key is empty"
		}
		if !utf8.ValidString(k) {
			return fmt.Sprintf("attribute key %q is not valid UTF-8", k)
		}
		if !utf8.ValidString(v) {
			return fmt.Sprintf("attribute %q is not valid UTF-8", k)
		}
	}
	return ""
}

func itemError(kind, id, reason string) error {
	return fmt.Errorf("access: %s %s: %s: %w", kind, quoteShort(id), reason, ErrInvalidItem)
}

// checkResource checks a resource on its own (not against other items).
func checkResource(r ResourceRecord) error {
	if _, err := ParseResourceID(r.id); err != nil {
		return err
	}
	if !utf8.ValidString(r.name) {
		return itemError("resource", r.id, "display name is not valid UTF-8")
	}
	if reason := checkAttrs(r.attrs); reason != "" {
		return itemError("resource", r.id, reason)
	}
	return nil
}

// checkEntitlement checks an entitlement on its own.
func checkEntitlement(e EntitlementRecord) error {
	if _, err := ParseEntitlementID(e.id); err != nil {
		return err
	}
	if !utf8.ValidString(e.name) {
		return itemError("entitlement", e.id, "display name is not valid UTF-8")
	}
	if !e.purpose.Valid() {
		return itemError("entitlement", e.id, fmt.Sprintf("purpose %q is neither %q nor %q", e.purpose, PurposeMembership, PurposeAssignment))
	}
	if len(e.grantableTo) == 0 {
		return itemError("entitlement", e.id, "grantable to no resource type")
	}
	for _, t := range e.grantableTo {
		if r := checkName("type", t, false); r != "" {
			return itemError("entitlement", e.id, "grantable to: "+r)
		}
	}
	if reason := checkAttrs(e.attrs); reason != "" {
		return itemError("entitlement", e.id, reason)
	}
	return nil
}

// checkGrant checks a grant on its own.
func checkGrant(g GrantRecord) error {
	if _, err := ParseGrantID(g.id); err != nil {
		return err
	}
	if !utf8.ValidString(g.name) {
		return itemError("grant", g.id, "display name is not valid UTF-8")
	}
	if reason := checkAttrs(g.attrs); reason != "" {
		return itemError("grant", g.id, reason)
	}
	return nil
}

// normalizeTypes validates resource types and returns them sorted, with
// sorted, deduplicated traits.
func normalizeTypes(in []ResourceType, pr *problems) []ResourceType {
	ts := make([]ResourceType, len(in))
	for i, t := range in {
		t.Traits = slices.Clone(t.Traits)
		slices.Sort(t.Traits)
		t.Traits = slices.Compact(t.Traits)
		if len(t.Traits) == 0 {
			t.Traits = nil
		}
		ts[i] = t
		if r := checkName("resource type", t.ID, false); r != "" {
			pr.add(ProblemInvalid, t.ID, r)
		}
		if !utf8.ValidString(t.DisplayName) {
			pr.add(ProblemInvalid, t.ID, "display name is not valid UTF-8")
		}
		for _, tr := range t.Traits {
			if r := checkName("trait", string(tr), false); r != "" {
				pr.add(ProblemInvalid, t.ID, r)
			}
		}
		if !t.IDSyntax.Valid() {
			pr.add(ProblemInvalid, t.ID, fmt.Sprintf("unknown ID syntax %q", t.IDSyntax))
		}
	}
	slices.SortFunc(ts, func(a, b ResourceType) int { return strings.Compare(a.ID, b.ID) })
	for i := 1; i < len(ts); i++ {
		if ts[i].ID == ts[i-1].ID {
			pr.add(ProblemDuplicate, ts[i].ID, "resource type declared twice")
		}
	}
	return ts
}

// problems collects Problems, keeping the first maxProblems by ID.
type problems struct {
	list  []Problem
	total int
}

func (p *problems) add(kind ProblemKind, id, detail string) {
	p.total++
	p.list = append(p.list, Problem{Kind: kind, ID: id, Detail: detail})
	if len(p.list) > 4*maxProblems {
		p.trim()
	}
}

func (p *problems) trim() {
	slices.SortFunc(p.list, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Detail, b.Detail))
	})
	if len(p.list) > maxProblems {
		p.list = p.list[:maxProblems:maxProblems]
	}
}

func (p *problems) err() error {
	if p.total == 0 {
		return nil
	}
	p.trim()
	return &ConsistencyError{Problems: slices.Clone(p.list), Total: p.total}
}

// assemble sorts the items and checks them against each other: unique IDs,
// declared types, no dangling references, grantable principals. With
// dropDangling, dangling entitlements and grants are removed and counted
// instead of reported. The slices are modified in place.
func assemble(types []ResourceType, res []ResourceRecord, ents []EntitlementRecord, grants []GrantRecord, dropDangling bool) (*Snapshot, int, error) {
	var pr problems
	types = normalizeTypes(types, &pr)
	typeIndex := make(map[string]bool, len(types))
	syntax := make(map[string]IDSyntax, len(types))
	for _, t := range types {
		typeIndex[t.ID] = true
		syntax[t.ID] = t.IDSyntax
	}
	dropped := 0

	sortByID(res)
	for i, r := range res {
		if i > 0 && r.id == res[i-1].id {
			pr.add(ProblemDuplicate, r.id, "resource emitted twice")
		}
		if t := typeOf(r.id); !typeIndex[t] {
			pr.add(ProblemUnknownType, r.id, fmt.Sprintf("resource type %q is not declared", t))
		} else if reason := syntaxProblem(syntax, r.id); reason != "" {
			pr.add(ProblemInvalid, r.id, reason)
		}
	}

	sortByID(ents)
	n := 0
	for i, e := range ents {
		if i > 0 && e.id == ents[i-1].id {
			pr.add(ProblemDuplicate, e.id, "entitlement emitted twice")
		}
		for _, t := range e.grantableTo {
			if !typeIndex[t] {
				pr.add(ProblemUnknownType, e.id, fmt.Sprintf("grantable to undeclared resource type %q", t))
			}
		}
		if _, ok := find(res, e.ResourceID()); !ok {
			if dropDangling {
				dropped++
				continue
			}
			pr.add(ProblemDanglingEntitlement, e.id, "resource "+e.ResourceID()+" is absent")
		}
		ents[n] = e
		n++
	}
	clear(ents[n:])
	ents = ents[:n]

	sortByID(grants)
	n = 0
	var cur EntitlementRecord // grants are sorted, so grants of one entitlement are adjacent
	for i, g := range grants {
		if i > 0 && g.id == grants[i-1].id {
			pr.add(ProblemDuplicate, g.id, "grant emitted twice")
		}
		eid, pid := splitGrant(g.id)
		if cur.id != eid {
			cur, _ = find(ents, eid)
		}
		_, principalOK := find(res, pid)
		switch {
		case cur.id == "" || !principalOK:
			if dropDangling {
				dropped++
				continue
			}
			if cur.id == "" {
				pr.add(ProblemDanglingGrant, g.id, "entitlement "+eid+" is absent")
			} else {
				pr.add(ProblemDanglingGrant, g.id, "principal "+pid+" is absent")
			}
		case !slices.Contains(cur.grantableTo, typeOf(pid)):
			pr.add(ProblemNotGrantable, g.id, fmt.Sprintf("entitlement is grantable to %s, not %s", strings.Join(cur.grantableTo, ", "), typeOf(pid)))
		}
		grants[n] = g
		n++
	}
	clear(grants[n:])
	grants = grants[:n]

	if err := pr.err(); err != nil {
		return nil, 0, err
	}
	return &Snapshot{types: types, resources: res, entitlements: ents, grants: grants}, dropped, nil
}
