package memaccess

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/zgov-io/zgov/access"
)

var _ access.AccountManager = (*Backend)(nil)

// The account model of memaccess, for tests and dry runs: an account is a
// resource of the first declared type with the user trait; it holds its
// person's "email", "name" and "external_id" as attributes, and "suspended"
// ("true") when suspended. Built-in roles, where declared as a resource type
// "role", are the entitlements "role:<name>:assigned": a new account gets
// role:agent:assigned (or the role asked for), a downgrade leaves only
// role:end-user:assigned. Every call counts as one request.

// accountType returns the resource type accounts are, or an error.
func (b *Backend) accountType() (access.ResourceType, error) {
	for _, t := range b.types {
		if t.Has(access.TraitUser) {
			return t, nil
		}
	}
	return access.ResourceType{}, fmt.Errorf("memaccess: no resource type has the user trait: %w", access.ErrUnsupported)
}

// roleEntitlement returns the entitlement ID of a built-in role, if the
// backend declares it. b.mu must be held.
func (b *Backend) roleEntitlement(role string) (string, *typeData, bool) {
	td := b.byType["role"]
	if td == nil || role == "" {
		return "", nil, false
	}
	eid := access.EntitlementID(access.ResourceID("role", role), "assigned")
	_, ok := td.entitlements[eid]
	return eid, td, ok
}

// CreateAccount implements access.AccountManager.
func (b *Backend) CreateAccount(ctx context.Context, req access.AccountRequest) (access.AccountResult, error) {
	if err := ctx.Err(); err != nil {
		return access.AccountResult{}, err
	}
	p := req.Person
	if err := p.Validate(); err != nil {
		return access.AccountResult{}, fmt.Errorf("memaccess: create account: %w", err)
	}
	at, err := b.accountType()
	if err != nil {
		return access.AccountResult{}, err
	}
	b.requests.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	td := b.byType[at.ID]
	for _, by := range []string{"email", "external_id"} {
		want := p.Email
		if by == "external_id" {
			want = p.ExternalID
		}
		if want == "" {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(td.resources)) {
			got := td.resources[id].Attributes()[by]
			if got == want || by == "email" && strings.EqualFold(got, want) {
				return access.AccountResult{Status: access.AccountExists, PrincipalID: id, MatchedBy: by}, nil
			}
		}
	}
	role := cmpOr(req.Role, "agent")
	eid, rd, hasRole := b.roleEntitlement(role)
	if req.Role != "" && !hasRole {
		return access.AccountResult{}, fmt.Errorf("memaccess: create account for %q: no role %q: %w", p.Email, req.Role, access.ErrNotGrantable)
	}
	id := b.newAccountID(at, p)
	attrs := access.Attributes{"email": p.Email, "name": cmpOr(p.Name, p.Email)}
	if p.ExternalID != "" {
		attrs["external_id"] = p.ExternalID
	}
	td.resources[id] = access.NewResource(id, cmpOr(p.Name, p.Email), attrs)
	res := access.AccountResult{Status: access.AccountCreated, PrincipalID: id}
	if hasRole {
		g := access.NewGrant(eid, id, nil)
		rd.grants[g.ID()] = g
		res.Added = []access.Grant{g}
	}
	return res, nil
}

// newAccountID returns an unused ID for a new account: the next integer for
// a type with IDSyntaxPositiveInt, the escaped e-mail address otherwise.
// b.mu must be held.
func (b *Backend) newAccountID(at access.ResourceType, p access.Person) string {
	td := b.byType[at.ID]
	if at.IDSyntax != access.IDSyntaxPositiveInt {
		return access.ResourceID(at.ID, access.EscapeNativeID(strings.ToLower(p.Email)))
	}
	var max int64
	for _, ids := range []map[string]bool{b.purged, keysOf(b.deleted), keysOf(td.resources)} {
		for id := range ids {
			ref, err := access.ParseResourceID(id)
			if err != nil || ref.Type != at.ID {
				continue
			}
			if n, ok := access.ParsePositiveInt(ref.ID); ok && n > max {
				max = n
			}
		}
	}
	return access.ResourceID(at.ID, strconv.FormatInt(max+1, 10))
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// grantsOf returns and, with remove, deletes the grants principal holds.
// b.mu must be held.
func (b *Backend) grantsOf(principal string, remove bool) []access.Grant {
	var out []access.Grant
	for _, typ := range slices.Sorted(maps.Keys(b.byType)) {
		d := b.byType[typ]
		for _, gid := range slices.Sorted(maps.Keys(d.grants)) {
			if g := d.grants[gid]; g.PrincipalID() == principal {
				out = append(out, g)
				if remove {
					delete(d.grants, gid)
				}
			}
		}
	}
	return out
}

// Deprovision implements access.AccountManager.
func (b *Backend) Deprovision(ctx context.Context, principalID string, step access.DeprovisionStep) (access.AccountResult, error) {
	if err := ctx.Err(); err != nil {
		return access.AccountResult{}, err
	}
	ref, err := access.ParseResourceID(principalID)
	if err == nil {
		err = b.checkSyntax("resource", principalID, ref)
	}
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("memaccess: deprovision: %w", err)
	}
	if !step.Valid() {
		return access.AccountResult{}, fmt.Errorf("memaccess: deprovision %s: unknown step %q", principalID, step)
	}
	at, err := b.accountType()
	if err != nil {
		return access.AccountResult{}, err
	}
	b.requests.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	res := access.AccountResult{Status: access.AccountUnchanged, PrincipalID: principalID}
	td := b.byType[at.ID]
	r, live := td.resources[principalID]
	if ref.Type != at.ID || !live && !hasKey(b.deleted, principalID) && !b.purged[principalID] {
		return access.AccountResult{}, fmt.Errorf("memaccess: deprovision %s: %w", principalID, access.ErrUnknownPrincipal)
	}
	switch step {
	case access.DeprovisionNone:
		return res, nil
	case access.DeprovisionSuspend, access.DeprovisionDowngrade:
		if !live {
			return access.AccountResult{}, fmt.Errorf("memaccess: deprovision %s: deleted: %w", principalID, access.ErrUnknownPrincipal)
		}
		if step == access.DeprovisionSuspend {
			if r.Attributes()["suspended"] == "true" {
				return res, nil
			}
			attrs := maps.Clone(r.Attributes())
			if attrs == nil {
				attrs = access.Attributes{}
			}
			attrs["suspended"] = "true"
			td.resources[principalID] = access.NewResource(principalID, r.DisplayName(), attrs)
			res.Status, res.Note = access.AccountChanged, "suspended: the account keeps its grants but cannot sign in"
			return res, nil
		}
		endUser, rd, hasEndUser := b.roleEntitlement("end-user")
		for _, g := range b.grantsOf(principalID, false) {
			if g.ID() != access.GrantID(endUser, principalID) {
				res.Replaced = append(res.Replaced, g)
			}
		}
		if len(res.Replaced) == 0 {
			return res, nil
		}
		b.grantsOf(principalID, true)
		if hasEndUser {
			g := access.NewGrant(endUser, principalID, nil)
			rd.grants[g.ID()] = g
			res.Added = []access.Grant{g}
		}
		res.Status, res.Note = access.AccountChanged, "downgraded: every grant removed but the end-user role"
		return res, nil
	}
	if live {
		res.Replaced = b.grantsOf(principalID, true)
		delete(td.resources, principalID)
		b.deleted[principalID] = r
		res.Status = access.AccountChanged
	}
	if step == access.DeprovisionPermanentDelete && hasKey(b.deleted, principalID) {
		delete(b.deleted, principalID)
		b.purged[principalID] = true
		res.Status = access.AccountChanged
	}
	return res, nil
}

// Reactivate implements access.AccountManager.
func (b *Backend) Reactivate(ctx context.Context, principalID, role string) (access.AccountResult, error) {
	if err := ctx.Err(); err != nil {
		return access.AccountResult{}, err
	}
	ref, err := access.ParseResourceID(principalID)
	if err == nil {
		err = b.checkSyntax("resource", principalID, ref)
	}
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("memaccess: reactivate: %w", err)
	}
	at, err := b.accountType()
	if err != nil {
		return access.AccountResult{}, err
	}
	b.requests.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.byType[at.ID].resources[principalID]
	if !ok {
		return access.AccountResult{}, fmt.Errorf("memaccess: reactivate %s: %w", principalID, access.ErrUnknownPrincipal)
	}
	res := access.AccountResult{Status: access.AccountUnchanged, PrincipalID: principalID}
	if r.Attributes()["suspended"] == "true" {
		attrs := maps.Clone(r.Attributes())
		delete(attrs, "suspended")
		b.byType[at.ID].resources[principalID] = access.NewResource(principalID, r.DisplayName(), attrs)
		res.Status = access.AccountChanged
	}
	eid, rd, ok := b.roleEntitlement(cmpOr(role, "agent"))
	if !ok {
		if role != "" {
			return res, fmt.Errorf("memaccess: reactivate %s: no role %q: %w", principalID, role, access.ErrNotGrantable)
		}
		return res, nil
	}
	if hasKey(rd.grants, access.GrantID(eid, principalID)) {
		return res, nil
	}
	for gid, g := range rd.grants { // one built-in role at a time
		if g.PrincipalID() == principalID {
			res.Replaced = append(res.Replaced, g)
			delete(rd.grants, gid)
		}
	}
	g := access.NewGrant(eid, principalID, nil)
	rd.grants[g.ID()] = g
	res.Added = append(res.Added, g)
	res.Status = access.AccountChanged
	return res, nil
}

var _ access.GuardFactsProvider = (*Backend)(nil)

// GuardFacts implements access.GuardFactsProvider: role:admin:assigned (when
// declared) is the admin entitlement, the agent and admin roles make a team
// member, the types of WithExclusive are exclusive, and no principal is
// protected (memaccess has no owner and no credential).
func (b *Backend) GuardFacts(ctx context.Context) (access.GuardFacts, error) {
	if err := ctx.Err(); err != nil {
		return access.GuardFacts{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	var f access.GuardFacts
	if eid, _, ok := b.roleEntitlement("admin"); ok {
		f.AdminEntitlementID = eid
	}
	for _, r := range []string{"agent", "admin"} {
		if eid, _, ok := b.roleEntitlement(r); ok {
			f.TeamEntitlementIDs = append(f.TeamEntitlementIDs, eid)
		}
	}
	f.ExclusiveTypes = slices.Sorted(maps.Keys(b.exclusive))
	return f, nil
}

var _ access.PrincipalReader = (*Backend)(nil)

// ObjectTypes implements access.PrincipalReader: the types of WithExclusive.
func (b *Backend) ObjectTypes(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(b.exclusive)), nil
}

// ReadPrincipals implements access.PrincipalReader, counting one request per
// 100 principals.
func (b *Backend) ReadPrincipals(ctx context.Context, principalIDs []string) (map[string]access.PrincipalState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.countPages(len(principalIDs))
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]access.PrincipalState, len(principalIDs))
	for _, p := range principalIDs {
		out[p] = access.PrincipalState{}
		if td := b.typeOf(p); td != nil {
			if r, ok := td.resources[p]; ok {
				out[p] = access.PrincipalState{Exists: true, Suspended: r.Attributes()["suspended"] == "true"}
			}
		}
	}
	// One pass over the grants of the exclusive types, not one per
	// principal.
	for _, typ := range slices.Sorted(maps.Keys(b.exclusive)) {
		td := b.byType[typ]
		for _, gid := range slices.Sorted(maps.Keys(td.grants)) {
			g := td.grants[gid]
			if st, ok := out[g.PrincipalID()]; ok && st.Exists {
				st.Grants = append(st.Grants, g)
				out[g.PrincipalID()] = st
			}
		}
	}
	return out, nil
}
