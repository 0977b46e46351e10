package access

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
)

// System is the portable type over a Backend, as gocloud's blob.Bucket is
// over its driver: callers (provision, review, an IGA platform) talk to a
// System, and backends stay small. A System does once, for every backend,
// what each would otherwise repeat:
//
//   - It checks IDs: well-formed and canonical, following the IDSyntax each
//     resource type declares, so "user:042" is refused with ErrMalformedID
//     before any backend sees it rather than granted under a spelling no
//     snapshot contains.
//   - It gives every result one shape: a Result whose Grant has the ID the
//     request named, and, when a backend changed something and then failed,
//     a *PartialError carrying what changed, never an empty result.
//   - It wraps every error once, naming the operation and the grant.
//
// Backends' optional capabilities (RequestCounter, PrincipalGrantsLister,
// HolderLister) are found by type assertion, with a fallback or
// ErrUnsupported where a backend lacks one. A System is safe for concurrent use if its backend is.
type System struct {
	b Backend

	mu     sync.Mutex
	syntax map[string]IDSyntax // from the last Info; nil until read
}

// NewSystem returns the System over b.
func NewSystem(b Backend) (*System, error) {
	if isNil(b) {
		return nil, errors.New("access: NewSystem: nil backend")
	}
	return &System{b: b}, nil
}

// isNil reports whether x is nil or an interface holding a nil pointer, map,
// slice, channel or function, on which a method call may panic.
func isNil(x any) bool {
	if x == nil {
		return true
	}
	switch v := reflect.ValueOf(x); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// Backend returns the backend, for its own methods and capabilities.
func (s *System) Backend() Backend { return s.b }

// Info returns the backend's Info, and remembers its resource types' ID
// syntaxes for the checks of later calls.
func (s *System) Info(ctx context.Context) (Info, error) {
	info, err := s.b.Info(ctx)
	if err != nil {
		return Info{}, fmt.Errorf("access: info: %w", err)
	}
	s.remember(info.ResourceTypes)
	return info, nil
}

// Sync reads the backend into a Snapshot (see the package function Sync).
func (s *System) Sync(ctx context.Context, opts *SyncOptions) (*Snapshot, error) {
	snap, err := Sync(ctx, s.b, opts)
	if err != nil {
		return nil, err
	}
	s.remember(snap.ResourceTypes())
	return snap, nil
}

func (s *System) remember(types []ResourceType) {
	if _, ok := s.b.(TypeDeclarer); ok {
		s.mu.Lock()
		declared := s.syntax != nil
		s.mu.Unlock()
		if declared {
			return // the declaration covers every type the backend may hold
		}
		types = s.b.(TypeDeclarer).DeclaredTypes()
	}
	m := make(map[string]IDSyntax, len(types))
	for _, t := range types {
		m[t.ID] = t.IDSyntax
	}
	s.mu.Lock()
	s.syntax = m
	s.mu.Unlock()
}

// syntaxes returns the ID syntax of each resource type: from the backend's
// TypeDeclarer if it is one (no I/O, so a malformed id is refused even when
// the system behind the backend is down), or else from Info, read once if no
// call has read it yet.
func (s *System) syntaxes(ctx context.Context) (map[string]IDSyntax, error) {
	s.mu.Lock()
	m := s.syntax
	s.mu.Unlock()
	if m != nil {
		return m, nil
	}
	if d, ok := s.b.(TypeDeclarer); ok {
		s.remember(d.DeclaredTypes())
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.syntax, nil
	}
	if _, err := s.Info(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syntax, nil
}

// checkSyntax checks a resource ID against its type's syntax. Types the
// backend did not declare are left to the backend, which knows whether it
// holds them.
func checkSyntax(syntax map[string]IDSyntax, kind, id, resourceID string) error {
	if reason := syntaxProblem(syntax, resourceID); reason != "" {
		return &IDError{Kind: kind, ID: id, Reason: reason}
	}
	return nil
}

// CheckRequest parses a request's IDs and checks them against the resource
// types' syntaxes: the check Grant and Revoke run before calling the backend.
func (s *System) CheckRequest(ctx context.Context, entitlementID, principalID string) (GrantRef, error) {
	ref, err := parseRequest(entitlementID, principalID)
	if err != nil {
		return GrantRef{}, err
	}
	syntax, err := s.syntaxes(ctx)
	if err != nil {
		return GrantRef{}, err
	}
	if err := checkSyntax(syntax, "entitlement", entitlementID, ref.Entitlement.Resource.String()); err != nil {
		return GrantRef{}, err
	}
	if err := checkSyntax(syntax, "resource", principalID, principalID); err != nil {
		return GrantRef{}, err
	}
	return ref, nil
}

// CheckResource parses a resource ID (a principal's, say) and checks it
// against its type's syntax, as CheckRequest checks a request's IDs: a
// non-canonical spelling ("user:042") is refused with ErrMalformedID.
func (s *System) CheckResource(ctx context.Context, resourceID string) error {
	return s.checkPrincipal(ctx, resourceID)
}

// Grant grants an entitlement to a principal through the backend. Granting
// what is granted succeeds with StatusAlreadyGranted. Errors wrap
// ErrMalformedID (refused before the backend is called),
// ErrUnknownEntitlement, ErrUnknownPrincipal, ErrNotGrantable or
// ErrUnsupported. A grant that changed something and then failed returns the
// Result of what it changed and a *PartialError carrying the same.
func (s *System) Grant(ctx context.Context, req GrantRequest) (Result, error) {
	ref, err := s.CheckRequest(ctx, req.EntitlementID, req.PrincipalID)
	if err != nil {
		return Result{}, fmt.Errorf("access: grant: %w", err)
	}
	res, err := s.b.Grant(ctx, req)
	return s.finish("grant", ref, res, err, StatusGranted, StatusAlreadyGranted)
}

// Revoke removes a principal's grant through the backend. Revoking what is
// not granted succeeds with StatusAlreadyRevoked. Errors and partial changes
// are as for Grant.
func (s *System) Revoke(ctx context.Context, req RevokeRequest) (Result, error) {
	ref, err := s.CheckRequest(ctx, req.EntitlementID, req.PrincipalID)
	if err != nil {
		return Result{}, fmt.Errorf("access: revoke: %w", err)
	}
	res, err := s.b.Revoke(ctx, req)
	return s.finish("revoke", ref, res, err, StatusRevoked, StatusAlreadyRevoked)
}

// ErrBadResult means a backend answered a Grant or Revoke with a Result that
// breaks the rules of Backend: an unknown status, or a grant other than the
// one the request named. It is a bug in the backend.
var ErrBadResult = errors.New("backend returned an invalid result")

// finish checks a backend's answer and gives it the one shape callers see.
func (s *System) finish(op string, ref GrantRef, res Result, err error, changed, unchanged Status) (Result, error) {
	id := ref.String()
	var pe *PartialError
	if err != nil && errors.As(err, &pe) {
		// A backend (or a System below this one) carried its change in the
		// error: keep it, whatever the Result beside it says.
		if !res.Changed() {
			res = pe.Result
		}
		err = pe.Err
	}
	if reason := checkResult(res, id); reason != "" {
		bad := fmt.Errorf("%s: %w", reason, ErrBadResult)
		if err != nil {
			bad = errors.Join(bad, err)
		}
		return Result{}, fmt.Errorf("access: %s %s: %w", op, id, bad)
	}
	if err != nil {
		if !res.Changed() && res.Status != StatusIncomplete {
			return Result{}, fmt.Errorf("access: %s %s: %w", op, id, err)
		}
		if res.Status != changed {
			res.Status, res.Grant = StatusIncomplete, nil
		}
		return res, &PartialError{Op: op, GrantID: id, Result: res, Err: err}
	}
	switch res.Status {
	case changed, unchanged:
	default:
		return Result{}, fmt.Errorf("access: %s %s: status %q: %w", op, id, res.Status, ErrBadResult)
	}
	if res.Grant == nil && res.Status != StatusAlreadyRevoked {
		res.Grant = NewGrant(ref.Entitlement.String(), ref.Principal.String(), nil)
	}
	return res, nil
}

// checkResult returns why a backend's Result breaks the rules of Backend, or
// "": a nil grant (or a nil pointer in a Grant), a malformed grant ID, or a
// Grant other than the one the request named.
func checkResult(res Result, id string) string {
	if res.Grant != nil {
		if isNil(res.Grant) {
			return "result holds a nil grant"
		}
		if got := res.Grant.ID(); got != id {
			return "result names grant " + quoteShort(got)
		}
	}
	for _, gs := range [][]Grant{res.Added, res.Replaced} {
		for _, g := range gs {
			if isNil(g) {
				return "result lists a nil grant"
			}
			if _, err := ParseGrantID(g.ID()); err != nil {
				return "result lists a malformed grant: " + err.Error()
			}
		}
	}
	return ""
}

// GrantsFor returns the grants principalID holds, sorted by ID: through the
// backend's PrincipalGrantsLister if it has one, or else by a full sync.
// principalID is checked as Grant checks it. A backend that answers with
// another principal's grant fails with ErrBadResult.
func (s *System) GrantsFor(ctx context.Context, principalID string) ([]Grant, error) {
	if _, err := ParseResourceID(principalID); err != nil {
		return nil, fmt.Errorf("access: grants for: %w", err)
	}
	syntax, err := s.syntaxes(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkSyntax(syntax, "resource", principalID, principalID); err != nil {
		return nil, fmt.Errorf("access: grants for: %w", err)
	}
	gs, err := GrantsFor(ctx, s.b, principalID)
	if err != nil {
		return nil, err
	}
	for _, g := range gs { // GrantsFor refused nil grants
		if _, p := splitGrant(g.ID()); p != principalID {
			return nil, fmt.Errorf("access: grants for %s: backend returned grant %s: %w", principalID, quoteShort(g.ID()), ErrBadResult)
		}
	}
	return slices.Clip(gs), nil
}

// Holders returns the principals holding entitlementID now, sorted and
// each once, through the backend's HolderLister (ErrUnsupported without
// one, or for an entitlement it cannot list). entitlementID is checked as
// Grant checks it, before the backend sees it. A backend that answers with
// a malformed principal ID fails with ErrBadResult.
func (s *System) Holders(ctx context.Context, entitlementID string) ([]string, error) {
	ref, err := ParseEntitlementID(entitlementID)
	if err != nil {
		return nil, fmt.Errorf("access: holders: %w", err)
	}
	syntax, err := s.syntaxes(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkSyntax(syntax, "entitlement", entitlementID, ref.Resource.String()); err != nil {
		return nil, fmt.Errorf("access: holders: %w", err)
	}
	l, ok := s.b.(HolderLister)
	if !ok {
		return nil, fmt.Errorf("access: holders of %s: the backend lists no holders: %w", entitlementID, ErrUnsupported)
	}
	ids, err := l.Holders(ctx, entitlementID)
	if err != nil {
		return nil, fmt.Errorf("access: holders of %s: %w", entitlementID, err)
	}
	for _, id := range ids {
		if _, err := ParseResourceID(id); err != nil {
			return nil, fmt.Errorf("access: holders of %s: backend returned principal %s: %w", entitlementID, quoteShort(id), ErrBadResult)
		}
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Clip(slices.Compact(ids)), nil
}

// Requests returns the backend's request count, or ErrUnsupported if it is
// not a RequestCounter.
func (s *System) Requests() (int64, error) {
	rc, ok := s.b.(RequestCounter)
	if !ok {
		return 0, fmt.Errorf("access: requests: %w", ErrUnsupported)
	}
	return rc.Requests(), nil
}
