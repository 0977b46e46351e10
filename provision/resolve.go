package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"

	"github.com/zgov-io/zgov/access"
)

// The resource types of the access model a policy speaks: Zendesk's, as
// zendeskaccess and memaccess.Generate build it. A built-in role is the
// resource role:<name>; each resource offers one entitlement.
const (
	typeRole         = "role"
	typeCustomRole   = "custom_role"
	typeGroup        = "group"
	typeOrganization = "organization"
)

// typeWords names a resource type in prose.
func typeWords(typ string) string {
	if typ == typeCustomRole {
		return "custom role"
	}
	return typ
}

// snapIndex is what NewPlan looks up in a snapshot, indexed once: a plan of
// 10,000 people against 100,000 users must not scan the snapshot per person.
type snapIndex struct {
	snap      *access.Snapshot
	byEmail   map[string]string              // lower-case e-mail address -> principal
	byExtID   map[string]string              // external id -> principal
	names     map[string]map[string][]string // type -> lower-case name -> resource IDs
	entOf     map[string]string              // resource ID -> its entitlement
	suspended map[string]bool                // principals suspended
	names1    map[string]string              // resource ID -> display name, but users
	labels    map[string]string              // entitlement ID -> label, memoized
	defGroup  string                         // the default group's entitlement ("" if none)

	// The grants of the principals load was given, grouped by principal:
	// grants[held[start[slot[p]]:start[slot[p]+1]]] are p's, in the
	// snapshot's order (sorted by grant ID).
	grants []access.GrantRecord
	slot   map[string]int32
	start  []int32
	held   []int32
}

func newIndex(snap *access.Snapshot) *snapIndex {
	ix := &snapIndex{
		snap:      snap,
		byEmail:   map[string]string{},
		byExtID:   map[string]string{},
		names:     map[string]map[string][]string{typeGroup: {}, typeOrganization: {}, typeCustomRole: {}},
		entOf:     map[string]string{},
		suspended: map[string]bool{},
		names1:    map[string]string{},
		labels:    map[string]string{},
	}
	userTypes := map[string]bool{}
	for _, t := range snap.ResourceTypes() {
		if t.Has(access.TraitUser) {
			userTypes[t.ID] = true
		}
	}
	var defGroup string
	for _, r := range snap.Resources() {
		typ := r.Type()
		a := r.Attributes()
		if userTypes[typ] {
			if e := a["email"]; e != "" {
				if _, dup := ix.byEmail[strings.ToLower(e)]; !dup {
					ix.byEmail[strings.ToLower(e)] = r.ID()
				}
			}
			if x := a["external_id"]; x != "" {
				if _, dup := ix.byExtID[x]; !dup {
					ix.byExtID[x] = r.ID()
				}
			}
			if a["suspended"] == "true" {
				ix.suspended[r.ID()] = true
			}
			continue
		}
		if byName, ok := ix.names[typ]; ok {
			key := strings.ToLower(r.DisplayName())
			byName[key] = append(byName[key], r.ID())
		}
		ix.names1[r.ID()] = r.DisplayName()
		if typ == typeGroup && a["default"] == "true" && defGroup == "" {
			defGroup = r.ID()
		}
	}
	for _, e := range snap.Entitlements() {
		if _, ok := ix.entOf[e.ResourceID()]; !ok {
			ix.entOf[e.ResourceID()] = e.ID()
		}
	}
	ix.defGroup = ix.entOf[defGroup]
	return ix
}

// load indexes the grants of principals, in two passes over the grants:
// count, then place.
func (ix *snapIndex) load(principals []string) {
	ix.grants = ix.snap.Grants()
	ix.slot = make(map[string]int32, len(principals))
	for i, p := range principals {
		ix.slot[p] = int32(i)
	}
	ix.start = make([]int32, len(principals)+1)
	for _, g := range ix.grants {
		if s, ok := ix.slot[g.PrincipalID()]; ok {
			ix.start[s+1]++
		}
	}
	for i := 1; i < len(ix.start); i++ {
		ix.start[i] += ix.start[i-1]
	}
	ix.held = make([]int32, ix.start[len(principals)])
	next := slices.Clone(ix.start[:len(principals)])
	for i, g := range ix.grants {
		if s, ok := ix.slot[g.PrincipalID()]; ok {
			ix.held[next[s]] = int32(i)
			next[s]++
			if g.Attributes()["principal_suspended"] == "true" {
				ix.suspended[g.PrincipalID()] = true
			}
		}
	}
}

// heldBy returns the indexes in ix.grants of a loaded principal's grants.
func (ix *snapIndex) heldBy(principal string) []int32 {
	s, ok := ix.slot[principal]
	if !ok {
		return nil
	}
	return ix.held[ix.start[s]:ix.start[s+1]]
}

// heldGrant is one grant a principal holds: its ID and its entitlement's,
// and whether the snapshot marks it time-bound (access.AttrExpiresAt).
type heldGrant struct {
	eid, gid  string
	timeBound bool
}

// holding is what one principal holds, by type of entitlement, sorted as
// the snapshot sorts grants.
type holding struct {
	roles, customRoles, groups, orgs, other []heldGrant
}

// holding fills h (reusing its slices) with what principal holds.
func (ix *snapIndex) holding(principal string, h *holding) {
	h.roles, h.customRoles, h.groups, h.orgs, h.other = h.roles[:0], h.customRoles[:0], h.groups[:0], h.orgs[:0], h.other[:0]
	for _, i := range ix.heldBy(principal) {
		g := &ix.grants[i]
		eid := g.EntitlementID()
		_, tb := g.ExpiresAt()
		held := heldGrant{eid: eid, gid: g.ID(), timeBound: tb}
		switch typeOfID(eid) {
		case typeRole:
			h.roles = append(h.roles, held)
		case typeCustomRole:
			h.customRoles = append(h.customRoles, held)
		case typeGroup:
			h.groups = append(h.groups, held)
		case typeOrganization:
			h.orgs = append(h.orgs, held)
		default:
			h.other = append(h.other, held)
		}
	}
}

// has reports whether gs holds entitlement eid.
func has(gs []heldGrant, eid string) bool {
	return slices.ContainsFunc(gs, func(g heldGrant) bool { return g.eid == eid })
}

// anyTimeBound reports whether one of gs is time-bound.
func anyTimeBound(gs []heldGrant) bool {
	return slices.ContainsFunc(gs, func(g heldGrant) bool { return g.timeBound })
}

// gids returns the grant IDs of gs, in a new slice.
func gids(gs ...[]heldGrant) []string {
	var out []string
	for _, l := range gs {
		for _, g := range l {
			out = append(out, g.gid)
		}
	}
	return out
}

// basis is SnapshotBasis(ix.snap, principal, objectTypes) of a loaded
// principal, computed from the index without copying: its grants are in
// the order Basis sorts them.
func (ix *snapIndex) basis(principal string, objectTypes []string, h hash.Hash) string {
	h.Reset()
	switch {
	case ix.suspended[principal]:
		h.Write([]byte("suspended\n"))
	default:
		h.Write([]byte("active\n"))
	}
	for _, i := range ix.heldBy(principal) {
		id := ix.grants[i].ID()
		if slices.Contains(objectTypes, typeOfID(id)) {
			io.WriteString(h, id)
			h.Write([]byte{'\n'})
		}
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// label names an entitlement in prose: "group Support", "role agent".
func (ix *snapIndex) label(eid string) string {
	if l, ok := ix.labels[eid]; ok {
		return l
	}
	rid := resourceOfEID(eid)
	typ, native, _ := strings.Cut(rid, ":")
	l := "role " + native
	if typ != typeRole {
		name := ix.names1[rid]
		if name == "" {
			name = native
		}
		l = typeWords(typ) + " " + name
	}
	ix.labels[eid] = l
	return l
}

// nameList names grants' resources, joined with commas.
func (ix *snapIndex) nameList(gs []heldGrant) string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = ix.names1[resourceOfEID(g.eid)]
		if out[i] == "" {
			out[i] = g.eid
		}
	}
	return strings.Join(out, ", ")
}

func typeOfID(id string) string {
	t, _, _ := strings.Cut(id, ":")
	return t
}

func resourceOfEID(eid string) string {
	if i := strings.LastIndexByte(eid, ':'); i >= 0 {
		return eid[:i]
	}
	return eid
}

// resolvedRule is a rule with its references resolved to entitlement IDs.
type resolvedRule struct {
	dirGroup   string
	role       string // built-in role name, or ""
	roleEID    string
	customRole string
	groups     []string
	orgs       []string
}

// resolvedPolicy is a policy resolved against a snapshot and the backend's
// facts.
type resolvedPolicy struct {
	rules        []resolvedRule
	managed      map[string]bool // group, organization and custom-role entitlements a rule names
	ladder       []access.DeprovisionStep
	prune        bool
	exclusiveOrg bool   // a user belongs to one organization at most
	endUserEID   string // the end-user role's entitlement, if any
}

// resolve resolves p's references against ix. Errors are *FieldError values
// naming the policy's file, line and field.
func resolve(p *Policy, ix *snapIndex, facts access.GuardFacts) (*resolvedPolicy, error) {
	rp := &resolvedPolicy{
		managed:      map[string]bool{},
		ladder:       p.ladder(),
		prune:        p.Prune,
		exclusiveOrg: slices.Contains(facts.ExclusiveTypes, typeOrganization),
		endUserEID:   ix.entOf[access.ResourceID(typeRole, RoleEndUser)],
	}
	fe := p.errs()
	at := func(path string) int { _, l := p.source(path); return l }
	ref := func(typ string, r Ref, path string) string {
		eid, reason, kind := ix.resolveRef(typ, r)
		if reason != "" {
			fe.addKind(kind, at(path), path, "%s", reason)
		}
		return eid
	}
	for i, r := range p.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		rr := resolvedRule{dirGroup: r.DirectoryGroup, role: r.Role}
		if r.Role != "" {
			rr.roleEID = ix.entOf[access.ResourceID(typeRole, r.Role)]
			if rr.roleEID == "" {
				fe.addKind(ErrUnknownName, at(join(path, "role")), join(path, "role"), "no role %q in the snapshot", r.Role)
			}
		}
		if !r.CustomRole.IsZero() {
			rr.customRole = ref(typeCustomRole, r.CustomRole, join(path, "custom_role"))
		}
		for j, g := range r.Groups {
			if eid := ref(typeGroup, g, fmt.Sprintf("%s.groups[%d]", path, j)); eid != "" && !slices.Contains(rr.groups, eid) {
				rr.groups = append(rr.groups, eid)
			}
		}
		for j, o := range r.Organizations {
			if eid := ref(typeOrganization, o, fmt.Sprintf("%s.organizations[%d]", path, j)); eid != "" && !slices.Contains(rr.orgs, eid) {
				rr.orgs = append(rr.orgs, eid)
			}
		}
		if rp.exclusiveOrg && len(rr.orgs) > 1 {
			fe.add(at(join(path, "organizations")), join(path, "organizations"),
				"the account puts a user in one organization at most (multiple organizations are off), and the rule names %d: %s",
				len(rr.orgs), strings.Join(mapSlice(rr.orgs, ix.label), ", "))
		}
		for _, eid := range slices.Concat(rr.groups, rr.orgs, []string{rr.customRole}) {
			if eid != "" {
				rp.managed[eid] = true
			}
		}
		rp.rules = append(rp.rules, rr)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return rp, nil
}

// resolveRef returns the entitlement a Ref names, or why it names none and
// the kind of that problem.
func (ix *snapIndex) resolveRef(typ string, r Ref) (eid, reason string, kind error) {
	words := typeWords(typ)
	if r.ID != "" {
		rid := access.ResourceID(typ, access.EscapeNativeID(r.ID))
		if _, ok := ix.snap.Resource(rid); !ok {
			return "", fmt.Sprintf("no %s with id %s in the snapshot", words, r.ID), ErrUnknownName
		}
		if eid = ix.entOf[rid]; eid == "" {
			return "", fmt.Sprintf("%s %s offers no entitlement in the snapshot", words, r.ID), ErrUnknownName
		}
		return eid, "", nil
	}
	ids := ix.names[typ][strings.ToLower(r.Name)]
	switch len(ids) {
	case 0:
		return "", fmt.Sprintf("no %s named %q in the snapshot", words, r.Name), ErrUnknownName
	case 1:
		if eid = ix.entOf[ids[0]]; eid == "" {
			return "", fmt.Sprintf("%s %q (%s) offers no entitlement in the snapshot", words, r.Name, ids[0]), ErrUnknownName
		}
		return eid, "", nil
	}
	return "", fmt.Sprintf("%d %ss are named %q (%s): name one by id", len(ids), words, r.Name, strings.Join(ids, ", ")), ErrAmbiguousName
}

func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}
