package access

import (
	"context"
	"fmt"
)

// Backend is the service-provider interface a system implements to be read
// and changed through this package. Implementations must be safe for
// concurrent use.
//
// A backend exposes its content as streams rather than as one list per kind
// of item, so that it can read each collection of the underlying system once:
// a stream over Zendesk's users emits the user resources and the role grants
// found on each user object. Sync runs the streams concurrently and merges
// them.
//
// Optional capabilities are separate interfaces a backend may also
// implement: TypeDeclarer, RequestCounter, PrincipalGrantsLister,
// PrincipalReader, HolderLister, GuardFactsProvider, BulkChanger,
// AccountManager and BulkAccountCreator.
type Backend interface {
	// Info describes the backend, the account it reads and the resource
	// types it holds.
	Info(ctx context.Context) (Info, error)

	// Streams returns the streams that together emit every resource,
	// entitlement and grant in scope, each exactly once. Stream names must
	// be unique.
	Streams(ctx context.Context) ([]Stream, error)

	// Grant grants an entitlement to a principal. Granting what is already
	// granted succeeds with StatusAlreadyGranted. Errors wrap
	// ErrMalformedID, ErrUnknownEntitlement, ErrUnknownPrincipal,
	// ErrNotGrantable or ErrUnsupported where those apply. A grant that
	// fails after changing something returns a Result that says what it
	// changed beside the error (System turns it into a *PartialError).
	Grant(ctx context.Context, req GrantRequest) (Result, error)

	// Revoke removes a grant. Revoking what is not granted succeeds with
	// StatusAlreadyRevoked. Errors wrap the same sentinels as Grant's, and
	// a partial change is reported as for Grant.
	//
	// A revoke takes away only the grant it names, and says so when the
	// system puts something in its place: a principal that must hold one
	// built-in role is not left without one, but demoted to the next lower,
	// which Result.Added names (Zendesk: revoking role:admin:assigned leaves
	// role:agent:assigned, not end user; revoking role:agent:assigned leaves
	// role:end-user:assigned, and Result.Replaced lists the group
	// memberships and custom role Zendesk removes with it). The lowest role
	// cannot be revoked (ErrNotGrantable): grant another instead.
	Revoke(ctx context.Context, req RevokeRequest) (Result, error)
}

// Info describes a backend and what it reads.
type Info struct {
	// Name is the backend's name, such as "zendesk" or "memory".
	Name string
	// Account names the account or tenant read, such as "acme".
	Account string
	// Scope describes what the streams include (for example "users":
	// "agents"), so that snapshots of different scopes are not compared
	// unknowingly. It is recorded in the snapshot's provenance.
	Scope map[string]string
	// ResourceTypes lists every resource type the streams emit.
	ResourceTypes []ResourceType
}

// Stream is one source of items, typically one paginated collection of the
// underlying system.
type Stream struct {
	// Name identifies the stream in progress reports, errors and
	// provenance, such as "users" or "group_memberships".
	Name string

	// Run emits the stream's items and returns when done. It must stop and
	// return the error as soon as emit returns one (the context was
	// cancelled, or the item was invalid). emit is safe for concurrent use;
	// after Run returns it fails. emit does not retain the Item struct, but
	// it does retain the values in it: a backend must not modify an emitted
	// item's attributes afterwards.
	Run func(ctx context.Context, emit func(Item) error) error
}

// Item is what a stream emits: exactly one of its fields is non-nil.
type Item struct {
	Resource    Resource    // a resource, or nil
	Entitlement Entitlement // an entitlement, or nil
	Grant       Grant       // a grant, or nil
}

// Status says what Grant or Revoke did with the grant the request named.
type Status string

// The statuses of a Result.
const (
	// StatusGranted: the grant was created.
	StatusGranted Status = "granted"
	// StatusAlreadyGranted: the grant existed; nothing was changed.
	StatusAlreadyGranted Status = "already_granted"
	// StatusRevoked: the grant was removed by this call. A revoke whose
	// request took effect but whose answer was lost (so that a retry found
	// the grant gone) is StatusRevoked too: the grant existed when the call
	// began and this call removed it.
	StatusRevoked Status = "revoked"
	// StatusAlreadyRevoked: the grant did not exist; nothing was changed.
	StatusAlreadyRevoked Status = "already_revoked"
	// StatusIncomplete: the call failed after changing something other
	// than the grant it named (for example it promoted an end user to agent
	// and then could not add them to the group). Result.Added and
	// Result.Replaced say what changed; the error says why the rest did
	// not happen. It comes only with an error, a *PartialError.
	StatusIncomplete Status = "incomplete"
)

// GrantRequest asks a backend to grant an entitlement to a principal.
type GrantRequest struct {
	// EntitlementID is the entitlement to grant.
	EntitlementID string
	// PrincipalID is the resource to grant it to.
	PrincipalID string
}

// Validate checks that both IDs are well-formed and returns the parsed
// grant. Errors are of type *IDError.
func (r GrantRequest) Validate() (GrantRef, error) {
	return parseRequest(r.EntitlementID, r.PrincipalID)
}

// GrantID returns the ID of the grant the request would create.
func (r GrantRequest) GrantID() string { return GrantID(r.EntitlementID, r.PrincipalID) }

// Result reports what Grant or Revoke did. Both return it, and so does a
// call that failed after changing something (with a *PartialError), so a
// caller always learns every change a call made.
type Result struct {
	// Status says what happened to the grant the request named.
	Status Status
	// Grant is that grant: as it now exists after a grant, as it was before
	// a revoke. It is nil with StatusAlreadyRevoked when the backend cannot
	// tell, and with StatusIncomplete.
	Grant Grant
	// Replaced lists other grants the call removed: the organization
	// membership a user was moved out of on a Zendesk account without
	// multiple organizations, the previous role of a user who can hold only
	// one, the group memberships Zendesk removes from a user demoted to end
	// user.
	Replaced []Grant
	// Added lists other grants the call created on the way, such as the
	// agent role of an end user promoted to join a group, or the lower role
	// a revoked built-in role leaves (the agent role of a revoked admin).
	Added []Grant
	// Note is a human-readable remark, such as why a grant was replaced.
	Note string
}

// Changed reports whether the call changed anything in the backend.
func (r Result) Changed() bool {
	return r.Status == StatusGranted || r.Status == StatusRevoked || len(r.Replaced) > 0 || len(r.Added) > 0
}

// GrantResult is the Result of Grant: Status is StatusGranted or
// StatusAlreadyGranted (StatusIncomplete with a *PartialError).
type GrantResult = Result

// RevokeResult is the Result of Revoke: Status is StatusRevoked or
// StatusAlreadyRevoked (StatusIncomplete with a *PartialError).
type RevokeResult = Result

// RevokeRequest asks a backend to remove a principal's grant of an
// entitlement.
type RevokeRequest struct {
	// EntitlementID is the entitlement to revoke.
	EntitlementID string
	// PrincipalID is the resource to revoke it from.
	PrincipalID string
}

// Validate checks that both IDs are well-formed and returns the parsed
// grant. Errors are of type *IDError.
func (r RevokeRequest) Validate() (GrantRef, error) {
	return parseRequest(r.EntitlementID, r.PrincipalID)
}

// GrantID returns the ID of the grant the request would remove.
func (r RevokeRequest) GrantID() string { return GrantID(r.EntitlementID, r.PrincipalID) }

func parseRequest(entitlementID, principalID string) (GrantRef, error) {
	e, err := ParseEntitlementID(entitlementID)
	if err != nil {
		return GrantRef{}, err
	}
	p, err := ParseResourceID(principalID)
	if err != nil {
		return GrantRef{}, err
	}
	return GrantRef{Entitlement: e, Principal: p}, nil
}

// TypeDeclarer is an optional Backend capability: the resource types the
// backend can hold, with their ID syntaxes, known without any I/O. System
// checks request IDs against it, so that a malformed ID is refused before,
// and without, any request to the system behind the backend; without it,
// System reads Info once.
type TypeDeclarer interface {
	DeclaredTypes() []ResourceType
}

// RequestCounter is an optional Backend capability: the number of requests
// the backend has sent to the system it reads, since it was created. Sync
// records the difference over a sync in the snapshot's provenance.
type RequestCounter interface {
	Requests() int64
}

// HolderLister is an optional Backend capability: who holds one
// entitlement now, read cheaply where the system has a filter for it
// (Zendesk: GET /users?role=admin, 100 users a request, so one request for
// the admins of most accounts), rather than by a sync of the whole account.
// provision's guards use it to count the admins that remain when a change
// takes the admin entitlement away.
//
// Holders returns the IDs of the principals holding entitlementID, as a sync
// would show them: within the backend's scope, suspended holders included
// (each once, in any order). It costs about one request per 100 holders.
// Errors wrap ErrMalformedID or ErrUnknownEntitlement where those
// apply, and ErrUnsupported for an entitlement the backend cannot list
// cheaply (the caller falls back to a sync, or refuses).
type HolderLister interface {
	Holders(ctx context.Context, entitlementID string) ([]string, error)
}

// PrincipalGrantsLister is an optional Backend capability: listing one
// principal's grants without reading the whole account, to verify a change
// cheaply. GrantsFor returns ErrUnknownPrincipal (wrapped) if the principal
// does not exist. The order of the grants is unspecified.
type PrincipalGrantsLister interface {
	GrantsFor(ctx context.Context, principalID string) ([]Grant, error)
}

// GrantsFor returns the grants held by principalID, sorted by ID. It uses the
// backend's PrincipalGrantsLister if it has one and otherwise syncs the
// whole backend, dropping dangling grants.
func GrantsFor(ctx context.Context, b Backend, principalID string) ([]Grant, error) {
	if _, err := ParseResourceID(principalID); err != nil {
		return nil, err
	}
	if l, ok := b.(PrincipalGrantsLister); ok {
		gs, err := l.GrantsFor(ctx, principalID)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			if isNil(g) {
				return nil, fmt.Errorf("access: grants for %s: backend returned a nil grant: %w", principalID, ErrBadResult)
			}
		}
		sortByID(gs)
		return gs, nil
	}
	s, err := Sync(ctx, b, &SyncOptions{DropDangling: true})
	if err != nil {
		return nil, err
	}
	if _, ok := s.Resource(principalID); !ok {
		return nil, fmt.Errorf("access: grants for %s: %w", principalID, ErrUnknownPrincipal)
	}
	var gs []Grant
	for _, g := range s.grants {
		if g.PrincipalID() == principalID {
			gs = append(gs, g)
		}
	}
	return gs, nil
}
