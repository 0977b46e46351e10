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
// implement: RequestCounter and PrincipalGrantsLister.
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
	// ErrNotGrantable or ErrUnsupported where those apply.
	Grant(ctx context.Context, req GrantRequest) (GrantResult, error)

	// Revoke removes a grant. Revoking what is not granted succeeds with
	// StatusAlreadyRevoked. Errors wrap the same sentinels as Grant's.
	Revoke(ctx context.Context, req RevokeRequest) (RevokeResult, error)
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

// Status says what Grant or Revoke did.
type Status string

// The statuses of GrantResult and RevokeResult.
const (
	// StatusGranted: the grant was created.
	StatusGranted Status = "granted"
	// StatusAlreadyGranted: the grant existed; nothing was changed.
	StatusAlreadyGranted Status = "already_granted"
	// StatusRevoked: the grant was removed.
	StatusRevoked Status = "revoked"
	// StatusAlreadyRevoked: the grant did not exist; nothing was changed.
	StatusAlreadyRevoked Status = "already_revoked"
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

// GrantResult reports what Grant did.
type GrantResult struct {
	// Status is StatusGranted or StatusAlreadyGranted.
	Status Status
	// Grant is the grant as it now exists.
	Grant Grant
	// Replaced lists grants the backend removed to make room for this one
	// (for example the organization membership a user was moved out of on a
	// Zendesk account without multiple organizations, or the previous role
	// of a user who can hold only one).
	Replaced []Grant
	// Note is a human-readable remark, such as why a grant was replaced.
	Note string
}

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

// RevokeResult reports what Revoke did.
type RevokeResult struct {
	// Status is StatusRevoked or StatusAlreadyRevoked.
	Status Status
	// Grant is the grant that was removed; nil with StatusAlreadyRevoked.
	Grant Grant
	// Note is a human-readable remark.
	Note string
}

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

// RequestCounter is an optional Backend capability: the number of requests
// the backend has sent to the system it reads, since it was created. Sync
// records the difference over a sync in the snapshot's provenance.
type RequestCounter interface {
	Requests() int64
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
