package access

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors callers branch on with errors.Is. Backends return them
// (wrapped, with context) from Grant, Revoke and the optional capabilities.
var (
	// ErrMalformedID means an ID does not follow the grammar of its kind.
	// Errors wrapping it are usually of type *IDError.
	ErrMalformedID = errors.New("malformed ID")

	// ErrUnknownEntitlement means the entitlement named in a request does not
	// exist in the backend (or its resource does not).
	ErrUnknownEntitlement = errors.New("unknown entitlement")

	// ErrUnknownPrincipal means the principal named in a request does not
	// exist in the backend.
	ErrUnknownPrincipal = errors.New("unknown principal")

	// ErrNotGrantable means the entitlement cannot be granted to the
	// principal: its type is not in the entitlement's GrantableTo, or the
	// backend refuses it for another reason the caller can fix (for example
	// a Zendesk end user cannot be a group member).
	ErrNotGrantable = errors.New("entitlement not grantable to principal")

	// ErrInvalidItem means a backend emitted an item that breaks the rules
	// of this package: an Item without exactly one field set, an invalid
	// purpose, display name or attribute. Malformed IDs wrap ErrMalformedID
	// instead.
	ErrInvalidItem = errors.New("invalid item")

	// ErrUnsupported means the backend does not support the operation, for
	// example Grant on a read-only backend.
	ErrUnsupported = errors.New("operation not supported by backend")

	// ErrInconsistent means a backend's streams, or a snapshot file,
	// contradict themselves: duplicate IDs, dangling references, principals
	// of a type the entitlement is not grantable to. Errors wrapping it are
	// of type *ConsistencyError.
	ErrInconsistent = errors.New("inconsistent access data")

	// ErrInvalidSnapshot means a snapshot could not be loaded: it is not
	// well-formed JSON of the snapshot format, its content fails
	// validation, or its hash does not match its content. Errors wrapping it
	// are of type *SnapshotError.
	ErrInvalidSnapshot = errors.New("invalid snapshot")

	// ErrHashMismatch means a snapshot's content does not hash to the hash
	// it records: it was modified after it was written. It is always wrapped
	// together with ErrInvalidSnapshot.
	ErrHashMismatch = errors.New("snapshot hash mismatch")
)

// IDError reports a malformed ID. It wraps ErrMalformedID.
type IDError struct {
	// Kind is what the ID should identify: "resource", "entitlement",
	// "grant", "resource type" or "native".
	Kind string
	// ID is the offending input.
	ID string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns a message naming the kind of ID, the ID and the reason.
func (e *IDError) Error() string {
	return fmt.Sprintf("access: malformed %s ID %s: %s", e.Kind, quoteShort(e.ID), e.Reason)
}

// Unwrap returns ErrMalformedID.
func (e *IDError) Unwrap() error { return ErrMalformedID }

// quoteShort quotes s, eliding the middle of very long input so an error
// message stays readable.
func quoteShort(s string) string {
	const max = 120
	if len(s) > max {
		s = s[:max/2] + "..." + s[len(s)-max/2:]
	}
	return fmt.Sprintf("%q", s)
}

// ProblemKind classifies a Problem.
type ProblemKind string

// The kinds of Problem.
const (
	// ProblemDuplicate: two items (or resource types) share an ID.
	ProblemDuplicate ProblemKind = "duplicate"
	// ProblemUnknownType: a resource, or an entitlement's GrantableTo,
	// names a resource type the backend did not declare.
	ProblemUnknownType ProblemKind = "unknown_type"
	// ProblemDanglingEntitlement: an entitlement's resource is absent.
	ProblemDanglingEntitlement ProblemKind = "dangling_entitlement"
	// ProblemDanglingGrant: a grant's entitlement or principal is absent.
	ProblemDanglingGrant ProblemKind = "dangling_grant"
	// ProblemNotGrantable: a grant's principal type is not in its
	// entitlement's GrantableTo.
	ProblemNotGrantable ProblemKind = "not_grantable"
	// ProblemInvalid: an item is malformed in another way (an invalid
	// purpose, attribute or display name, records out of order).
	ProblemInvalid ProblemKind = "invalid"
)

// Problem is one inconsistency found by Sync or Load.
type Problem struct {
	// Kind classifies the problem.
	Kind ProblemKind
	// ID is the item the problem is about.
	ID string
	// Detail explains it.
	Detail string
}

// String returns the problem on one line.
func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s", p.Kind, quoteShort(p.ID), p.Detail)
}

// maxProblems bounds how many problems a ConsistencyError lists, so a badly
// broken backend cannot make an error message of hundreds of megabytes.
const maxProblems = 100

// ConsistencyError lists the inconsistencies found in a backend's streams or
// a snapshot. It wraps ErrInconsistent.
type ConsistencyError struct {
	// Problems lists the first problems found, sorted by ID, at most 100.
	Problems []Problem
	// Total is the number of problems found, which may exceed
	// len(Problems).
	Total int
}

// Error summarizes the problems, naming the first three.
func (e *ConsistencyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "access: %d consistency problem(s)", e.Total)
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", e.Total-3)
			break
		}
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns ErrInconsistent.
func (e *ConsistencyError) Unwrap() error { return ErrInconsistent }

// SnapshotError reports why a snapshot could not be loaded. It matches
// ErrInvalidSnapshot with errors.Is and unwraps to the underlying cause
// (a JSON syntax error, ErrHashMismatch, a *ConsistencyError, ...).
type SnapshotError struct {
	// Reason says what was wrong.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns the reason and the underlying cause.
func (e *SnapshotError) Error() string {
	if e.Err == nil {
		return "access: invalid snapshot: " + e.Reason
	}
	return "access: invalid snapshot: " + e.Reason + ": " + e.Err.Error()
}

// Is reports whether target is ErrInvalidSnapshot.
func (e *SnapshotError) Is(target error) bool { return target == ErrInvalidSnapshot }

// Unwrap returns the underlying cause.
func (e *SnapshotError) Unwrap() error { return e.Err }

// PartialError reports a Grant or Revoke that changed something and then
// failed: Result says what was changed, Err why the call did not finish. It
// unwraps to Err. Callers that record state (an IGA platform, a journal) must
// record Result's changes even though the call failed.
type PartialError struct {
	// Op is "grant" or "revoke".
	Op string
	// GrantID is the grant the request named.
	GrantID string
	// Result says what the call changed (Status is StatusIncomplete unless
	// the named grant itself was changed before the failure).
	Result Result
	// Err is why the call did not finish.
	Err error
}

// Error says what was asked, what was changed and what failed.
func (e *PartialError) Error() string {
	return changeFailed(fmt.Sprintf("%s %s failed after changing access", e.Op, e.GrantID), e.Result.Status, e.Result.Added, e.Result.Replaced, e.Err)
}

// changeFailed words the error of a call that changed something and then
// failed: what, its status, what it added and removed, and why it stopped.
func changeFailed[S ~string](what string, status S, added, removed []Grant, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "access: %s (status %s", what, status)
	for _, g := range added {
		b.WriteString("; added ")
		b.WriteString(idOf(g))
	}
	for _, g := range removed {
		b.WriteString("; removed ")
		b.WriteString(idOf(g))
	}
	b.WriteString("): ")
	if err != nil {
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns Err.
func (e *PartialError) Unwrap() error { return e.Err }

// idOf returns g's ID, or "<nil>" for a nil grant, so that printing a
// result never panics.
func idOf(g Grant) string {
	if isNil(g) {
		return "<nil>"
	}
	return g.ID()
}

// ClassifiedError is implemented by errors of the system behind a backend
// (zendesk's *APIError, *RateLimitError, *DecodeError) so that portable
// code can record what failed without importing the system's client:
// ErrorClass is a short lowercase class ("rate_limited", "forbidden", …).
type ClassifiedError interface {
	error
	ErrorClass() string
}

// TracedError is implemented by errors that carry the id the system gave
// the failed request (Zendesk's X-Zendesk-Request-Id), to quote to its
// support.
type TracedError interface {
	error
	TraceID() string
}
