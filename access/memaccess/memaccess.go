package memaccess

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/zgov-io/zgov/access"
)

// PageSize is the number of items a stream counts as one request for
// RequestCounter, as if the backend read a paginated API.
const PageSize = 100

// Data is the initial content of a Backend.
type Data struct {
	// Name is the backend name reported by Info; the default is "memory".
	Name string
	// Account is the account name reported by Info; the default is
	// "default".
	Account string
	// Scope is reported by Info.
	Scope map[string]string
	// ResourceTypes declares the resource types. Every resource and every
	// GrantableTo entry must use one of them.
	ResourceTypes []access.ResourceType
	// Resources, Entitlements and Grants are the initial items. They must be
	// consistent (no duplicates, no dangling references), as Sync requires.
	Resources []access.Resource
	// Entitlements are the initial entitlements; see Resources.
	Entitlements []access.Entitlement
	// Grants are the initial grants; see Resources.
	Grants []access.Grant
}

// Option configures a Backend.
type Option func(*Backend) error

// WithExclusive makes entitlements on resources of the given types
// exclusive: a principal holds at most one of them per type. Granting another
// replaces the one held and reports it in GrantResult.Replaced, like a
// Zendesk user's single organization or built-in role.
func WithExclusive(resourceTypes ...string) Option {
	return func(b *Backend) error {
		for _, t := range resourceTypes {
			if _, ok := b.byType[t]; !ok {
				return fmt.Errorf("memaccess: WithExclusive: resource type %q is not declared", t)
			}
			b.exclusive[t] = true
		}
		return nil
	}
}

// Backend is an in-memory access.Backend. It is safe for concurrent use.
//
// It serves two streams per resource type T: "T.resources" emits the
// resources of type T and their entitlements, and "T.grants" emits the
// grants of those entitlements. It implements access.RequestCounter
// (counting one request per started page of PageSize items per stream and
// one per Grant, Revoke or GrantsFor call), access.PrincipalGrantsLister
// and access.HolderLister.
//
// With WithExclusive("role") and the built-in roles role:end-user,
// role:agent and role:admin declared (as Generate declares them), it models
// Zendesk's one built-in role per user: revoking role:admin:assigned leaves
// role:agent:assigned, revoking role:agent:assigned leaves
// role:end-user:assigned and, as Zendesk does, the principal's grants on
// resources of the types "group" and "custom_role" (Result.Added names the
// lower role, Result.Replaced what went with it), and
// role:end-user:assigned cannot be revoked (access.ErrNotGrantable).
type Backend struct {
	name, account string
	scope         map[string]string
	types         []access.ResourceType
	exclusive     map[string]bool
	requests      atomic.Int64

	mu     sync.RWMutex
	byType map[string]*typeData
	// Accounts (AccountManager): soft-deleted resources, and the IDs of
	// purged ones.
	deleted map[string]access.ResourceRecord
	purged  map[string]bool
}

// typeData holds the items of one resource type: its resources, the
// entitlements on them, and the grants of those entitlements.
type typeData struct {
	resources    map[string]access.ResourceRecord
	entitlements map[string]access.EntitlementRecord
	grants       map[string]access.GrantRecord
}

var (
	_ access.Backend               = (*Backend)(nil)
	_ access.RequestCounter        = (*Backend)(nil)
	_ access.PrincipalGrantsLister = (*Backend)(nil)
	_ access.TypeDeclarer          = (*Backend)(nil)
)

// New returns a Backend holding d. It copies the items (as access records;
// richer types are not kept) and checks them as Sync would, returning an
// error that wraps access.ErrMalformedID, access.ErrInvalidItem or
// access.ErrInconsistent if they are invalid.
func New(d Data, opts ...Option) (*Backend, error) {
	b := &Backend{
		name:      cmpOr(d.Name, "memory"),
		account:   cmpOr(d.Account, "default"),
		scope:     maps.Clone(d.Scope),
		types:     slices.Clone(d.ResourceTypes),
		exclusive: map[string]bool{},
		byType:    map[string]*typeData{},
		deleted:   map[string]access.ResourceRecord{},
		purged:    map[string]bool{},
	}
	for i, t := range b.types {
		b.types[i].Traits = slices.Clone(t.Traits)
		b.byType[t.ID] = &typeData{
			resources:    map[string]access.ResourceRecord{},
			entitlements: map[string]access.EntitlementRecord{},
			grants:       map[string]access.GrantRecord{},
		}
	}
	for _, opt := range opts {
		if err := opt(b); err != nil {
			return nil, err
		}
	}
	// Load the items without checks, then let Sync check them all at once:
	// it reports every problem, not only the first.
	var dup []string
	for _, r := range d.Resources {
		rec := access.NewResource(r.ID(), r.DisplayName(), maps.Clone(r.Attributes()))
		if td := b.typeOf(rec.ID()); td != nil {
			if _, ok := td.resources[rec.ID()]; ok {
				dup = append(dup, rec.ID())
			}
			td.resources[rec.ID()] = rec
		} else {
			return nil, fmt.Errorf("memaccess: resource %q: undeclared or missing resource type: %w", r.ID(), access.ErrInconsistent)
		}
	}
	for _, e := range d.Entitlements {
		rec := access.NewEntitlement(e.ID(), e.DisplayName(), e.Purpose(), e.GrantableTo(), maps.Clone(e.Attributes()))
		td := b.typeOf(rec.ID())
		if td == nil {
			return nil, fmt.Errorf("memaccess: entitlement %q: undeclared or missing resource type: %w", e.ID(), access.ErrInconsistent)
		}
		if _, ok := td.entitlements[rec.ID()]; ok {
			dup = append(dup, rec.ID())
		}
		td.entitlements[rec.ID()] = rec
	}
	for _, g := range d.Grants {
		rec := recordWithID(g.ID(), g.DisplayName(), maps.Clone(g.Attributes()))
		td := b.typeOf(g.ID())
		if td == nil {
			return nil, fmt.Errorf("memaccess: grant %q: undeclared or missing resource type: %w", g.ID(), access.ErrInconsistent)
		}
		if _, ok := td.grants[rec.ID()]; ok {
			dup = append(dup, rec.ID())
		}
		td.grants[rec.ID()] = rec
	}
	if len(dup) > 0 {
		return nil, fmt.Errorf("memaccess: %d duplicate ID(s), first %q: %w", len(dup), dup[0], access.ErrInconsistent)
	}
	if _, err := access.Sync(context.Background(), b, nil); err != nil {
		return nil, fmt.Errorf("memaccess: invalid data: %w", err)
	}
	if err := b.checkExclusive(); err != nil {
		return nil, err
	}
	b.requests.Store(0)
	return b, nil
}

// FromSnapshot returns a Backend holding a snapshot's content, for dry runs
// against a copy of a real system. Info reports the snapshot's backend name,
// account and scope.
func FromSnapshot(s *access.Snapshot, opts ...Option) (*Backend, error) {
	p := s.Provenance()
	d := Data{Name: p.Backend, Account: p.Account, Scope: p.Scope, ResourceTypes: s.ResourceTypes()}
	for _, r := range s.Resources() {
		d.Resources = append(d.Resources, r)
	}
	for _, e := range s.Entitlements() {
		d.Entitlements = append(d.Entitlements, e)
	}
	for _, g := range s.Grants() {
		d.Grants = append(d.Grants, g)
	}
	return New(d, opts...)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// recordWithID builds a GrantRecord from an arbitrary grant ID, valid or
// not, so that New can hand malformed input to Sync for a proper error.
func recordWithID(id, name string, attrs access.Attributes) access.GrantRecord {
	eid, pid, _ := strings.Cut(id, "@")
	return access.NewGrant(eid, pid, attrs).WithDisplayName(name)
}

// typeOf returns the data of the resource type an ID starts with, or nil.
func (b *Backend) typeOf(id string) *typeData {
	t, _, _ := strings.Cut(id, ":")
	return b.byType[t]
}

func (b *Backend) checkExclusive() error {
	for t := range b.exclusive {
		held := map[string]string{}
		for _, g := range b.byType[t].grants {
			if prev, ok := held[g.PrincipalID()]; ok {
				return fmt.Errorf("memaccess: %s and %s: exclusive resource type %q: %w", prev, g.ID(), t, access.ErrInconsistent)
			}
			held[g.PrincipalID()] = g.ID()
		}
	}
	return nil
}

// Info implements access.Backend.
func (b *Backend) Info(ctx context.Context) (access.Info, error) {
	if err := ctx.Err(); err != nil {
		return access.Info{}, err
	}
	types := slices.Clone(b.types)
	for i := range types {
		types[i].Traits = slices.Clone(types[i].Traits)
	}
	return access.Info{Name: b.name, Account: b.account, Scope: maps.Clone(b.scope), ResourceTypes: types}, nil
}

// Streams implements access.Backend.
func (b *Backend) Streams(ctx context.Context) ([]access.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ss []access.Stream
	for _, t := range b.types {
		td := b.byType[t.ID]
		ss = append(ss,
			access.Stream{Name: t.ID + ".resources", Run: func(ctx context.Context, emit func(access.Item) error) error {
				b.mu.RLock()
				rs := values(td.resources)
				es := values(td.entitlements)
				b.mu.RUnlock()
				b.countPages(len(rs) + len(es))
				// Pointers into the copies: boxing them allocates nothing.
				var it access.Item
				for i := range rs {
					it.Resource = &rs[i]
					if err := emit(it); err != nil {
						return err
					}
				}
				it.Resource = nil
				for i := range es {
					it.Entitlement = &es[i]
					if err := emit(it); err != nil {
						return err
					}
				}
				return nil
			}},
			access.Stream{Name: t.ID + ".grants", Run: func(ctx context.Context, emit func(access.Item) error) error {
				b.mu.RLock()
				gs := values(td.grants)
				b.mu.RUnlock()
				b.countPages(len(gs))
				var it access.Item
				for i := range gs {
					it.Grant = &gs[i]
					if err := emit(it); err != nil {
						return err
					}
				}
				return nil
			}},
		)
	}
	return ss, nil
}

// values copies a map's values, so streams emit without holding the lock
// (a Progress callback may call Grant).
func values[V any](m map[string]V) []V {
	vs := make([]V, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

func (b *Backend) countPages(n int) {
	b.requests.Add(int64(max(1, (n+PageSize-1)/PageSize)))
}

// DeclaredTypes implements access.TypeDeclarer: the declared resource types.
func (b *Backend) DeclaredTypes() []access.ResourceType { return slices.Clone(b.types) }

// Requests implements access.RequestCounter.
func (b *Backend) Requests() int64 { return b.requests.Load() }

// checkSyntax checks that a resource ID follows its declared type's
// IDSyntax, so that an aliased spelling ("user:042" for "user:42") is
// refused as malformed rather than looked up.
func (b *Backend) checkSyntax(kind, id string, res access.ResourceRef) error {
	for _, t := range b.types {
		if t.ID == res.Type {
			var ie *access.IDError
			if err := t.CheckID(res.String()); errors.As(err, &ie) {
				return &access.IDError{Kind: kind, ID: id, Reason: ie.Reason}
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

// parse validates a request's IDs, in their canonical spellings.
func (b *Backend) parse(entitlementID, principalID string) (access.GrantRef, error) {
	ref, err := access.GrantRequest{EntitlementID: entitlementID, PrincipalID: principalID}.Validate()
	if err != nil {
		return ref, err
	}
	if err := b.checkSyntax("entitlement", entitlementID, ref.Entitlement.Resource); err != nil {
		return ref, err
	}
	return ref, b.checkSyntax("resource", principalID, ref.Principal)
}

// lookup finds an entitlement and a principal, returning the errors Grant and
// Revoke report. b.mu must be held.
func (b *Backend) lookup(ref access.GrantRef) (access.EntitlementRecord, *typeData, error) {
	eid := ref.Entitlement.String()
	td := b.byType[ref.Entitlement.Resource.Type]
	if td == nil {
		return access.EntitlementRecord{}, nil, access.ErrUnknownEntitlement
	}
	e, ok := td.entitlements[eid]
	if !ok {
		return access.EntitlementRecord{}, nil, access.ErrUnknownEntitlement
	}
	pd := b.byType[ref.Principal.Type]
	if pd == nil {
		return access.EntitlementRecord{}, nil, access.ErrUnknownPrincipal
	}
	if _, ok := pd.resources[ref.Principal.String()]; !ok {
		return access.EntitlementRecord{}, nil, access.ErrUnknownPrincipal
	}
	if !slices.Contains(e.GrantableTo(), ref.Principal.Type) {
		return access.EntitlementRecord{}, nil, fmt.Errorf("%w: %s is grantable to %s, not %s", access.ErrNotGrantable, eid, strings.Join(e.GrantableTo(), ", "), ref.Principal.Type)
	}
	return e, td, nil
}

// Grant implements access.Backend.
func (b *Backend) Grant(ctx context.Context, req access.GrantRequest) (access.GrantResult, error) {
	if err := ctx.Err(); err != nil {
		return access.GrantResult{}, err
	}
	ref, err := b.parse(req.EntitlementID, req.PrincipalID)
	if err != nil {
		return access.GrantResult{}, fmt.Errorf("memaccess: grant: %w", err)
	}
	b.requests.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	_, td, err := b.lookup(ref)
	if err != nil {
		return access.GrantResult{}, fmt.Errorf("memaccess: grant %s: %w", ref, err)
	}
	id := ref.String()
	if g, ok := td.grants[id]; ok {
		return access.GrantResult{Status: access.StatusAlreadyGranted, Grant: g}, nil
	}
	res := access.GrantResult{Status: access.StatusGranted}
	if b.exclusive[ref.Entitlement.Resource.Type] {
		principal := ref.Principal.String()
		for gid, g := range td.grants {
			if g.PrincipalID() == principal {
				res.Replaced = append(res.Replaced, g)
				delete(td.grants, gid)
			}
		}
		if len(res.Replaced) > 0 {
			res.Note = fmt.Sprintf("%s can hold one %s entitlement; replaced %s", principal, ref.Entitlement.Resource.Type, res.Replaced[0].ID())
		}
	}
	g := access.NewGrant(ref.Entitlement.String(), ref.Principal.String(), nil)
	td.grants[id] = g
	res.Grant = g
	return res, nil
}

// Revoke implements access.Backend.
func (b *Backend) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	if err := ctx.Err(); err != nil {
		return access.RevokeResult{}, err
	}
	ref, err := b.parse(req.EntitlementID, req.PrincipalID)
	if err != nil {
		return access.RevokeResult{}, fmt.Errorf("memaccess: revoke: %w", err)
	}
	b.requests.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	_, td, err := b.lookup(ref)
	if err != nil {
		return access.RevokeResult{}, fmt.Errorf("memaccess: revoke %s: %w", ref, err)
	}
	id := ref.String()
	g, ok := td.grants[id]
	if !ok {
		return access.RevokeResult{Status: access.StatusAlreadyRevoked}, nil
	}
	lower, demote := b.lowerRole(ref)
	if demote && lower == "" {
		return access.RevokeResult{}, fmt.Errorf("memaccess: revoke %s: end-user is the lowest role and cannot be revoked: grant another role: %w", ref, access.ErrNotGrantable)
	}
	delete(td.grants, id)
	res := access.RevokeResult{Status: access.StatusRevoked, Grant: g}
	if demote {
		p := ref.Principal.String()
		ng := access.NewGrant(lower, p, nil)
		td.grants[ng.ID()] = ng
		res.Added = []access.Grant{ng}
		to := strings.TrimSuffix(strings.TrimPrefix(lower, "role:"), ":assigned")
		res.Note = fmt.Sprintf("demoted %s from %s to %s", p, ref.Entitlement.Resource.ID, to)
		if to == "end-user" {
			// An end user holds no group membership and no custom role.
			for _, typ := range []string{"custom_role", "group"} {
				d := b.byType[typ]
				if d == nil {
					continue
				}
				for _, gid := range slices.Sorted(maps.Keys(d.grants)) {
					if og := d.grants[gid]; og.PrincipalID() == p {
						res.Replaced = append(res.Replaced, og)
						delete(d.grants, gid)
					}
				}
			}
		}
	}
	return res, nil
}

// builtInRoles is Zendesk's ladder of built-in roles, lowest first.
var builtInRoles = []string{"end-user", "agent", "admin"}

// lowerRole reports whether revoking ref's entitlement demotes the
// principal rather than leave them without a role, and to which
// entitlement ("" for the lowest role, which cannot be revoked): as in
// Zendesk, where every user holds one built-in role. It applies where the
// role type is exclusive (WithExclusive("role")) and declares the three
// built-in roles. b.mu must be held.
func (b *Backend) lowerRole(ref access.GrantRef) (string, bool) {
	e := ref.Entitlement
	k := slices.Index(builtInRoles, e.Resource.ID)
	if e.Resource.Type != "role" || e.Slug != "assigned" || k < 0 || !b.exclusive["role"] {
		return "", false
	}
	for _, r := range builtInRoles {
		if _, _, ok := b.roleEntitlement(r); !ok {
			return "", false
		}
	}
	if k == 0 {
		return "", true
	}
	eid, _, _ := b.roleEntitlement(builtInRoles[k-1])
	return eid, true
}

// GrantsFor implements access.PrincipalGrantsLister.
func (b *Backend) GrantsFor(ctx context.Context, principalID string) ([]access.Grant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ref, err := access.ParseResourceID(principalID)
	if err == nil {
		err = b.checkSyntax("resource", principalID, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("memaccess: grants for: %w", err)
	}
	b.requests.Add(1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	if pd := b.byType[ref.Type]; pd == nil || !hasKey(pd.resources, principalID) {
		return nil, fmt.Errorf("memaccess: grants for %s: %w", principalID, access.ErrUnknownPrincipal)
	}
	var gs []access.Grant
	for _, td := range b.byType {
		for _, g := range td.grants {
			if g.PrincipalID() == principalID {
				gs = append(gs, g)
			}
		}
	}
	return gs, nil
}

func hasKey[V any](m map[string]V, k string) bool { _, ok := m[k]; return ok }

var _ access.HolderLister = (*Backend)(nil)

// Holders implements access.HolderLister: the holders of any entitlement,
// found by a scan of its type's grants and counted as one request per
// started page of PageSize holders, as if read from a filtered list.
func (b *Backend) Holders(ctx context.Context, entitlementID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ref, err := access.ParseEntitlementID(entitlementID)
	if err == nil {
		err = b.checkSyntax("entitlement", entitlementID, ref.Resource)
	}
	if err != nil {
		return nil, fmt.Errorf("memaccess: holders: %w", err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	td := b.byType[ref.Resource.Type]
	if td == nil || !hasKey(td.entitlements, entitlementID) {
		return nil, fmt.Errorf("memaccess: holders of %s: %w", entitlementID, access.ErrUnknownEntitlement)
	}
	prefix := entitlementID + "@"
	var out []string
	for gid, g := range td.grants {
		if strings.HasPrefix(gid, prefix) {
			out = append(out, g.PrincipalID())
		}
	}
	b.countPages(len(out))
	slices.Sort(out)
	return out, nil
}

// PutResource adds a resource or replaces the one with the same ID, to
// simulate changes in the system between syncs.
func (b *Backend) PutResource(r access.Resource) error {
	rec := access.NewResource(r.ID(), r.DisplayName(), maps.Clone(r.Attributes()))
	ref, err := access.ParseResourceID(rec.ID())
	if err != nil {
		return fmt.Errorf("memaccess: put resource: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	td := b.byType[ref.Type]
	if td == nil {
		return fmt.Errorf("memaccess: put resource %s: resource type %q is not declared: %w", rec.ID(), ref.Type, access.ErrInconsistent)
	}
	td.resources[rec.ID()] = rec
	return nil
}

// PutEntitlement adds an entitlement or replaces the one with the same ID.
// Its resource must exist and its GrantableTo types must be declared.
func (b *Backend) PutEntitlement(e access.Entitlement) error {
	rec := access.NewEntitlement(e.ID(), e.DisplayName(), e.Purpose(), e.GrantableTo(), maps.Clone(e.Attributes()))
	ref, err := access.ParseEntitlementID(rec.ID())
	if err != nil {
		return fmt.Errorf("memaccess: put entitlement: %w", err)
	}
	if !rec.Purpose().Valid() || len(rec.GrantableTo()) == 0 {
		return fmt.Errorf("memaccess: put entitlement %s: needs a valid purpose and GrantableTo: %w", rec.ID(), access.ErrInvalidItem)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	td := b.byType[ref.Resource.Type]
	if td == nil || !hasKey(td.resources, ref.Resource.String()) {
		return fmt.Errorf("memaccess: put entitlement %s: resource %s is absent: %w", rec.ID(), ref.Resource, access.ErrInconsistent)
	}
	for _, t := range rec.GrantableTo() {
		if b.byType[t] == nil {
			return fmt.Errorf("memaccess: put entitlement %s: resource type %q is not declared: %w", rec.ID(), t, access.ErrInconsistent)
		}
	}
	td.entitlements[rec.ID()] = rec
	return nil
}

// PutGrant adds a grant, with its attributes, or replaces the one with the
// same ID. Unlike Grant it does not enforce WithExclusive.
func (b *Backend) PutGrant(g access.Grant) error {
	ref, err := access.ParseGrantID(g.ID())
	if err != nil {
		return fmt.Errorf("memaccess: put grant: %w", err)
	}
	rec := access.NewGrant(ref.Entitlement.String(), ref.Principal.String(), maps.Clone(g.Attributes())).WithDisplayName(g.DisplayName())
	b.mu.Lock()
	defer b.mu.Unlock()
	_, td, err := b.lookup(ref)
	if err != nil {
		return fmt.Errorf("memaccess: put grant %s: %w", ref, err)
	}
	td.grants[rec.ID()] = rec
	return nil
}

// DeleteResource removes a resource, its entitlements, their grants and the
// grants it holds. It reports whether the resource existed.
func (b *Backend) DeleteResource(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	td := b.typeOf(id)
	if td == nil || !hasKey(td.resources, id) {
		return false
	}
	delete(td.resources, id)
	prefix := id + ":"
	for eid := range td.entitlements {
		if strings.HasPrefix(eid, prefix) {
			delete(td.entitlements, eid)
		}
	}
	for _, d := range b.byType {
		for gid, g := range d.grants {
			if g.PrincipalID() == id || strings.HasPrefix(gid, prefix) {
				delete(d.grants, gid)
			}
		}
	}
	return true
}
