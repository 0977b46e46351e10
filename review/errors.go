package review

import (
	"errors"
	"fmt"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// Errors callers branch on with errors.Is.
var (
	// ErrInvalidSpec means a CampaignSpec was refused; the error (a
	// *SpecError) names the field.
	ErrInvalidSpec = errors.New("invalid campaign spec")

	// ErrInvalidSnapshot means a snapshot failed its hash or could not be
	// read: Create refuses it, and nothing is written. The error wraps
	// access.ErrInvalidSnapshot (and access.ErrHashMismatch for a hash
	// that does not match the content).
	ErrInvalidSnapshot = errors.New("snapshot refused")

	// ErrEmptyPopulation means the scope keeps nothing of the snapshot.
	ErrEmptyPopulation = errors.New("the scope keeps no grant of the snapshot")

	// ErrNoReviewer means an item has no eligible reviewer: no rule gives
	// one, and every fallback reviewer is the person under review.
	ErrNoReviewer = errors.New("no eligible reviewer")

	// ErrCampaignExists means a campaign of the same ID exists.
	ErrCampaignExists = errors.New("campaign exists")

	// ErrUnknownCampaign means no campaign has the ID.
	ErrUnknownCampaign = errors.New("unknown campaign")

	// ErrUnknownItem means the campaign has no item of the ID.
	ErrUnknownItem = errors.New("item not in the campaign")

	// ErrNotReviewer means the reviewer is not an active reviewer of the
	// item.
	ErrNotReviewer = errors.New("not a reviewer of the item")

	// ErrSelfReview means a reassignment or delegation would make a
	// person review their own access.
	ErrSelfReview = errors.New("a person may not review their own access")

	// ErrCampaignClosed means the campaign is closed: decisions and
	// assignments are final.
	ErrCampaignClosed = errors.New("campaign closed")

	// ErrJustificationRequired means a decision needs a justification and
	// has none (a revoke always, a certify with JustifyCertify).
	ErrJustificationRequired = errors.New("justification required")

	// ErrInvalidDecision means a decision is malformed: an unknown
	// verdict, no reviewer, text too long or not UTF-8.
	ErrInvalidDecision = errors.New("invalid decision")

	// ErrRemediationStarted means a decision would change an item whose
	// revoke has been carried out (or attempted): it can no longer be
	// certified.
	ErrRemediationStarted = errors.New("the item's revoke was carried out")

	// ErrInvalidDSN, ErrNotADatabase, ErrSchemaTooNew and ErrConnect are
	// Open's errors, as provision.OpenStore's.
	ErrInvalidDSN = sqldb.ErrInvalidDSN
	// ErrNotADatabase: the file a DSN names is not a SQLite database.
	ErrNotADatabase = sqldb.ErrNotADatabase
	// ErrSchemaTooNew: a newer zgov migrated the database.
	ErrSchemaTooNew = sqldb.ErrSchemaTooNew
	// ErrConnect: a PostgreSQL server could not be reached or refused the
	// login.
	ErrConnect = sqldb.ErrConnect
)

// SpecError names the field of a CampaignSpec that was refused. It wraps
// ErrInvalidSpec, and Err if set (ErrNoReviewer, ErrEmptyPopulation).
type SpecError struct {
	// Field is the field, as in the spec's JSON ("scope.unused_days",
	// "reviewers[1].owners").
	Field string
	// Reason says what is wrong.
	Reason string
	// Err is a more specific cause, if any.
	Err error
}

// Error returns "review: spec: <field>: <reason>".
func (e *SpecError) Error() string {
	s := "review: spec: " + e.Field + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrInvalidSpec.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// Unwrap returns Err.
func (e *SpecError) Unwrap() error { return e.Err }

// DecisionError is a decision refused, naming it: its index in the call
// (0 for Decide), its item and reviewer. It wraps the reason
// (ErrUnknownItem, ErrNotReviewer, ErrCampaignClosed,
// ErrJustificationRequired, ErrInvalidDecision, ErrRemediationStarted).
// A DecideMany call with one bad decision records none of them.
type DecisionError struct {
	// Index is the decision's index in the call.
	Index int
	// ItemID is the item it names.
	ItemID int64
	// Reviewer is who it says decided.
	Reviewer string
	// Err is why it was refused.
	Err error
}

// Error names the decision and the reason.
func (e *DecisionError) Error() string {
	return fmt.Sprintf("review: decision %d (item %d by %q): %v", e.Index, e.ItemID, e.Reviewer, e.Err)
}

// Unwrap returns Err.
func (e *DecisionError) Unwrap() error { return e.Err }
