// Package access is zgov's portable model of who has which access, and the
// service-provider interface through which systems are read and changed.
//
// # Model
//
// A Resource is anything access is granted on or to: users, groups,
// organizations, roles. An Entitlement is a permission a resource offers
// (membership of a group, assignment of a role); its Purpose says which, and
// GrantableTo lists the resource types that can hold it. A Grant says that a
// principal (a resource, usually a user) holds an entitlement. The three are
// interfaces, so backends can return their own rich types; ResourceRecord,
// EntitlementRecord and GrantRecord are the plain implementations.
//
// Every item has a stable string ID:
//
//	resource     type:id                      user:12345
//	entitlement  type:id:slug                 group:360001:member
//	grant        entitlementID@type:id        group:360001:member@user:12345
//
// ParseResourceID, ParseEntitlementID and ParseGrantID validate and split
// them; errors wrap ErrMalformedID. Each resource has one spelling: a
// percent escape must be written as EscapeNativeID writes it, and a resource
// type may declare an IDSyntax (the Zendesk backend's numeric types declare
// IDSyntaxPositiveInt), so "user:+42" and "user:042" are refused rather than
// taken for "user:42".
//
// Attributes are string-to-string maps, so that snapshots round-trip through
// JSON exactly; backends format other values as strings.
//
// # Backends
//
// A Backend describes itself (Info), exposes its content as Streams, and
// grants and revokes. Streams exist so a backend can read each collection of
// the underlying system once: the Zendesk backend's users stream emits user
// resources together with the role grants found on each user object. Grant
// and Revoke are idempotent, reporting StatusAlreadyGranted and
// StatusAlreadyRevoked, and fail with ErrUnknownEntitlement,
// ErrUnknownPrincipal, ErrNotGrantable or ErrUnsupported. Backends may also
// implement optional capabilities, discovered by type assertion as in
// database/sql: RequestCounter, PrincipalGrantsLister (used by GrantsFor,
// which falls back to a full sync), PrincipalReader, HolderLister (who holds
// one entitlement, such as the admins, without a sync), GuardFactsProvider,
// BulkChanger, AccountManager and BulkAccountCreator.
//
// A revoke takes away the grant it names; where the system puts another in
// its place, Result.Added says so. A Zendesk user holds one built-in role:
// revoking role:admin:assigned leaves role:agent:assigned (not end user),
// and revoking role:agent:assigned leaves role:end-user:assigned (see
// Backend.Revoke).
//
// The memaccess package is an in-memory backend; accesstest is the
// conformance suite every backend passes.
//
// # System: the portable layer
//
// Callers change access through a System (NewSystem), which stands over a
// backend as gocloud's blob.Bucket stands over its driver. It checks every
// ID once, against the grammar and the resource types' IDSyntax, before the
// backend sees it; it gives every Grant and Revoke one Result shape (Status,
// Grant, Replaced, Added, Note), and when a backend changed something and
// then failed, it returns that Result with a *PartialError rather than an
// empty result; and it wraps every error once, naming the grant. Backends
// stay small: they do what their system needs and return a Result beside an
// error when they stop halfway.
//
// # Snapshots
//
// Sync runs a backend's streams concurrently into a Snapshot: validated
// (duplicate IDs, dangling references and ungrantable principals are a
// *ConsistencyError), sorted, hashed and stamped with Provenance. It reports
// progress through SyncOptions.Progress and stops when its context is
// cancelled. Snapshots are saved as canonical JSON, one item per line, and
// loaded again with their hash verified; the same content always has the
// same bytes and the same hash. Diff lists what changed between two
// snapshots.
//
// # Time-bound grants
//
// A grant given for a while (just-in-time access) looks like any other in
// the system; only the caller that gave it knows when it ends. Passed in
// SyncOptions.TimeBound (grant ID -> expiry), the expiry is recorded on the
// grant as its AttrExpiresAt attribute ("expires_at": RFC 3339 UTC, to the
// second), which the hash covers and which Save, Load, Diff and
// memaccess.FromSnapshot keep like any attribute; GrantRecord.ExpiresAt
// reads it. A mark for a grant the snapshot does not hold is ignored.
// provision's plans treat a marked grant as held until it ends: never
// revoked, never granted again as standing access.
package access
