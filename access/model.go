package access

import (
	"slices"
)

// Resource is anything access can be granted on or to: a user, a group, an
// organization, a role. Backends return their own types (a Zendesk user, say)
// that callers may type-assert; ResourceRecord is the plain implementation
// used by snapshots and memaccess.
type Resource interface {
	// ID returns the resource ID, "type:id".
	ID() string
	// DisplayName returns a human-readable name; it may be empty.
	DisplayName() string
	// Attributes returns the attributes recorded in snapshots. The caller
	// must not modify the map.
	Attributes() Attributes
}

// Entitlement is a permission a resource offers: membership of a group,
// assignment of a role. It is granted to principals, which are resources of
// the types in GrantableTo.
type Entitlement interface {
	// ID returns the entitlement ID, "type:id:slug", where "type:id" is the
	// resource the entitlement belongs to.
	ID() string
	// DisplayName returns a human-readable name; it may be empty.
	DisplayName() string
	// Purpose says whether holding the entitlement is a membership or a
	// role assignment.
	Purpose() Purpose
	// GrantableTo returns the resource types the entitlement can be granted
	// to. The caller must not modify the slice.
	GrantableTo() []string
	// Attributes returns the attributes recorded in snapshots. The caller
	// must not modify the map.
	Attributes() Attributes
}

// Grant says that a principal holds an entitlement.
type Grant interface {
	// ID returns the grant ID, "entitlementID@principalType:principalID".
	ID() string
	// DisplayName returns a human-readable description; it is usually
	// empty.
	DisplayName() string
	// Attributes returns metadata of the grant (for example "default":
	// "true" for a user's default group). The caller must not modify the map.
	Attributes() Attributes
}

// Attributes are the string key-value facts a snapshot records about an item.
//
// Values are strings so that a snapshot round-trips exactly through JSON:
// backends format numbers, booleans and times themselves (strconv.FormatBool,
// strconv.FormatInt, time.RFC3339 in UTC). Keys must be non-empty; keys and
// values must be valid UTF-8. A nil and an empty map are equivalent: neither
// is written to a snapshot, and a loaded snapshot has nil for both.
type Attributes map[string]string

// Trait is a property of a resource type that tells portable code how to
// treat its resources.
type Trait string

// The standard traits. Backends may declare others of the same form
// ([a-z][a-z0-9_]*).
const (
	// TraitUser marks a person's account: the usual principal.
	TraitUser Trait = "user"
	// TraitGroup marks a set of principals.
	TraitGroup Trait = "group"
	// TraitOrganization marks an organization (a company, a tenant).
	TraitOrganization Trait = "organization"
	// TraitRole marks a role: a bundle of permissions assigned to principals.
	TraitRole Trait = "role"
)

// ResourceType describes a kind of resource a backend holds.
type ResourceType struct {
	// ID is the type name used in resource IDs, such as "user". It matches
	// [a-z][a-z0-9_]*.
	ID string
	// DisplayName is a human-readable name, such as "User".
	DisplayName string
	// Traits tell portable code how to treat resources of this type.
	Traits []Trait
	// IDSyntax narrows the native IDs of this type to one spelling each
	// (IDSyntaxAny by default). It is recorded in snapshots.
	IDSyntax IDSyntax
}

// Has reports whether the type has trait t.
func (t ResourceType) Has(tr Trait) bool { return slices.Contains(t.Traits, tr) }

// Purpose says what holding an entitlement means.
type Purpose string

// The purposes of an entitlement.
const (
	// PurposeMembership: the principal is a member (of a group or an
	// organization).
	PurposeMembership Purpose = "membership"
	// PurposeAssignment: the principal is assigned a role or permission.
	PurposeAssignment Purpose = "assignment"
)

// Valid reports whether p is one of the defined purposes.
func (p Purpose) Valid() bool { return p == PurposeMembership || p == PurposeAssignment }

// ResourceRecord is the plain Resource stored in snapshots. The zero value is
// not valid; create one with NewResource.
type ResourceRecord struct {
	id, name string
	attrs    Attributes
}

// NewResource returns a ResourceRecord. It does not validate; Sync and
// memaccess do. Empty attributes are stored as nil; attrs is not copied.
func NewResource(id, displayName string, attrs Attributes) ResourceRecord {
	return ResourceRecord{id: id, name: displayName, attrs: normAttrs(attrs)}
}

// ID returns the resource ID.
func (r ResourceRecord) ID() string { return r.id }

// DisplayName returns the display name.
func (r ResourceRecord) DisplayName() string { return r.name }

// Attributes returns the attributes; the caller must not modify them.
func (r ResourceRecord) Attributes() Attributes { return r.attrs }

// Type returns the resource type, the part of the ID before ':'.
func (r ResourceRecord) Type() string { return typeOf(r.id) }

// EntitlementRecord is the plain Entitlement stored in snapshots. Create one
// with NewEntitlement.
type EntitlementRecord struct {
	id, name    string
	purpose     Purpose
	grantableTo []string
	attrs       Attributes
}

// NewEntitlement returns an EntitlementRecord. grantableTo is copied, sorted
// and deduplicated. It does not validate; Sync and memaccess do.
func NewEntitlement(id, displayName string, purpose Purpose, grantableTo []string, attrs Attributes) EntitlementRecord {
	g := slices.Clone(grantableTo)
	slices.Sort(g)
	g = slices.Compact(g)
	if len(g) == 0 {
		g = nil
	}
	return EntitlementRecord{id: id, name: displayName, purpose: purpose, grantableTo: g, attrs: normAttrs(attrs)}
}

// ID returns the entitlement ID.
func (e EntitlementRecord) ID() string { return e.id }

// DisplayName returns the display name.
func (e EntitlementRecord) DisplayName() string { return e.name }

// Purpose returns the purpose.
func (e EntitlementRecord) Purpose() Purpose { return e.purpose }

// GrantableTo returns the sorted resource types the entitlement can be
// granted to; the caller must not modify the slice.
func (e EntitlementRecord) GrantableTo() []string { return e.grantableTo }

// Attributes returns the attributes; the caller must not modify them.
func (e EntitlementRecord) Attributes() Attributes { return e.attrs }

// ResourceID returns the ID of the resource the entitlement belongs to.
func (e EntitlementRecord) ResourceID() string { return resourceOfEntitlement(e.id) }

// GrantRecord is the plain Grant stored in snapshots. Create one with
// NewGrant.
type GrantRecord struct {
	id, name string
	attrs    Attributes
}

// NewGrant returns the GrantRecord for principalID holding entitlementID. It
// does not validate; Sync and memaccess do.
func NewGrant(entitlementID, principalID string, attrs Attributes) GrantRecord {
	return GrantRecord{id: GrantID(entitlementID, principalID), attrs: normAttrs(attrs)}
}

// WithDisplayName returns a copy of g with the display name set.
func (g GrantRecord) WithDisplayName(name string) GrantRecord { g.name = name; return g }

// ID returns the grant ID.
func (g GrantRecord) ID() string { return g.id }

// DisplayName returns the display name.
func (g GrantRecord) DisplayName() string { return g.name }

// Attributes returns the attributes; the caller must not modify them.
func (g GrantRecord) Attributes() Attributes { return g.attrs }

// EntitlementID returns the ID of the entitlement granted.
func (g GrantRecord) EntitlementID() string { e, _ := splitGrant(g.id); return e }

// PrincipalID returns the ID of the principal holding the grant.
func (g GrantRecord) PrincipalID() string { _, p := splitGrant(g.id); return p }

func normAttrs(a Attributes) Attributes {
	if len(a) == 0 {
		return nil
	}
	return a
}

// typeOf returns the part of a resource ID before the first ':'.
func typeOf(resourceID string) string {
	for i := 0; i < len(resourceID); i++ {
		if resourceID[i] == ':' {
			return resourceID[:i]
		}
	}
	return resourceID
}

// resourceOfEntitlement returns the part of an entitlement ID before the last
// ':'.
func resourceOfEntitlement(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == ':' {
			return id[:i]
		}
	}
	return ""
}

// splitGrant splits a grant ID at its '@'.
func splitGrant(id string) (entitlementID, principalID string) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '@' {
			return id[:i], id[i+1:]
		}
	}
	return id, ""
}
