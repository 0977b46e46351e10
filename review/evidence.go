package review

import (
	"time"

	"github.com/zgov-io/zgov/access"
)

// CampaignState is whether a campaign takes decisions.
type CampaignState string

// The states of a campaign.
const (
	// StateOpen: reviewers decide.
	StateOpen CampaignState = "open"
	// StateClosed: decisions are final; Close applied the default.
	StateClosed CampaignState = "closed"
)

// CampaignInfo is a campaign's metadata and the evidence of its
// population.
type CampaignInfo struct {
	// ID names the campaign.
	ID string `json:"id"`
	// Name is its human-readable name.
	Name string `json:"name"`
	// CreatedBy is who created it.
	CreatedBy string `json:"created_by"`
	// CreatedAt is when, in UTC.
	CreatedAt time.Time `json:"created_at"`
	// Due is when reviewers should have decided (zero: no due date).
	Due time.Time `json:"due,omitzero"`
	// State is StateOpen or StateClosed.
	State CampaignState `json:"state"`
	// ClosedAt and ClosedBy say when and by whom it was closed.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// ClosedBy is who closed it.
	ClosedBy string `json:"closed_by,omitempty"`
	// Spec is the spec it was created with, defaults filled in.
	Spec CampaignSpec `json:"spec"`
	// Population is the evidence that its population is complete and
	// accurate.
	Population Population `json:"population"`
	// Progress counts its items by state, as of the read.
	Progress Progress `json:"progress"`
}

// Population is what a campaign's population was drawn from, recorded
// when the campaign was created: the snapshot's hash, provenance and
// counts, and what the scope kept. An auditor re-runs the selection from
// the snapshot with the same hash to test that it is complete and
// accurate.
type Population struct {
	// SnapshotHash is the snapshot's content hash (access.Snapshot.Hash),
	// checked against its content when the campaign was created.
	SnapshotHash string `json:"snapshot_hash"`
	// SnapshotSHA256 is the SHA-256 of the snapshot's bytes as Save wrote
	// them (provenance included): the digest of Snapshot when the
	// campaign keeps it.
	SnapshotSHA256 string `json:"snapshot_sha256"`
	// SnapshotKept reports that the campaign stores the snapshot
	// (Campaign.Snapshot returns it).
	SnapshotKept bool `json:"snapshot_kept"`
	// Backend and Account are the system the snapshot read.
	Backend string `json:"backend"`
	// Account is the account the snapshot read.
	Account string `json:"account"`
	// TakenAt is when the snapshot was taken.
	TakenAt time.Time `json:"taken_at"`
	// Scope is the backend's scope when the snapshot was taken
	// (access.Provenance.Scope).
	Scope map[string]string `json:"scope,omitempty"`
	// Requests is the number of requests the sync sent.
	Requests int64 `json:"requests"`
	// Snapshot counts the snapshot's items.
	Snapshot SnapshotCounts `json:"snapshot"`
	// Principals, Grants and Items count what the campaign's scope kept.
	Principals int `json:"principals"`
	// Grants is the number of grants in scope.
	Grants int `json:"grants"`
	// Items is the number of items.
	Items int `json:"items"`
}

// SnapshotCounts are access.Counts with JSON names.
type SnapshotCounts struct {
	ResourceTypes int `json:"resource_types"` // resource types
	Resources     int `json:"resources"`      // resources
	Entitlements  int `json:"entitlements"`   // entitlements
	Grants        int `json:"grants"`         // grants
}

// Progress counts a campaign's items.
type Progress struct {
	// Items is the number of items.
	Items int `json:"items"`
	// Undecided, Certified and Revoked count items by outcome.
	Undecided int `json:"undecided"`
	// Certified counts items whose outcome is certified.
	Certified int `json:"certified"`
	// Revoked counts items whose outcome is revoked.
	Revoked int `json:"revoked"`
	// Remediation counts revoked items by remediation status.
	Remediation map[RemediationStatus]int `json:"remediation,omitempty"`
}

// Principal is the person (or other principal) an item is about, as the
// snapshot showed them.
type Principal struct {
	// ID is the principal's resource ID ("user:42").
	ID string `json:"id"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Email is the "email" attribute.
	Email string `json:"email,omitempty"`
	// ExternalID is the "external_id" attribute.
	ExternalID string `json:"external_id,omitempty"`
	// Role is the "role" attribute (Zendesk: end-user, agent, admin).
	Role string `json:"role,omitempty"`
	// CustomRole is the display name of the custom role the principal
	// holds, if any.
	CustomRole string `json:"custom_role,omitempty"`
	// SeatType is the seat the account takes: the "seat_type" attribute
	// if the backend gives one; otherwise, for Zendesk, "agent" for
	// agents and admins, or "light_agent", "chat_agent" or "contributor"
	// from the role type; "" for end users (no seat).
	SeatType string `json:"seat_type,omitempty"`
	// Suspended reports a suspended account.
	Suspended bool `json:"suspended"`
	// LastLoginAt is the "last_login_at" attribute; zero if the account
	// was never used.
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	// Attributes are all of the principal's attributes.
	Attributes access.Attributes `json:"attributes,omitempty"`
}

// ItemGrant is one grant of an item and what a reviewer needs to know of
// it.
type ItemGrant struct {
	// GrantID is the grant ("group:12:member@user:42").
	GrantID string `json:"grant_id"`
	// EntitlementID is the entitlement held.
	EntitlementID string `json:"entitlement_id"`
	// Entitlement is its display name.
	Entitlement string `json:"entitlement,omitempty"`
	// ResourceID is the resource the entitlement is on ("group:12").
	ResourceID string `json:"resource_id"`
	// Resource is its display name.
	Resource string `json:"resource,omitempty"`
	// ResourceType is its type ("group").
	ResourceType string `json:"resource_type"`
	// Purpose is membership or assignment.
	Purpose access.Purpose `json:"purpose,omitempty"`
	// ExpiresAt is when a time-bound grant ends; zero for standing
	// access.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Attributes are the grant's attributes.
	Attributes access.Attributes `json:"attributes,omitempty"`
	// Granted says when, by whom and why the grant was made, if the
	// journal given to Create knows.
	Granted *GrantOrigin `json:"granted,omitempty"`
	// Remediation is how its revoke went, once one was attempted.
	Remediation *GrantRemediation `json:"remediation,omitempty"`
}

// TimeBound reports whether the grant ends at a set time.
func (g ItemGrant) TimeBound() bool { return !g.ExpiresAt.IsZero() }

// GrantOrigin is the journal's record of a grant.
type GrantOrigin struct {
	// At is when the grant finished.
	At time.Time `json:"at"`
	// By is who asked for it (JournalActor.Who).
	By string `json:"by"`
	// Reason is why (JournalActor.Reason).
	Reason string `json:"reason,omitempty"`
	// Source is what authorised it (JournalActor.Source).
	Source string `json:"source,omitempty"`
	// JournalID is the change's ID in the journal.
	JournalID string `json:"journal_id"`
}

// Item is one thing a reviewer decides on: a grant, or an account with
// its grants in scope.
type Item struct {
	// ID numbers the item in its campaign, from 1, in the order of the
	// snapshot (by principal, then grant, for accounts; by grant ID for
	// grants).
	ID int64 `json:"id"`
	// Kind is KindGrant or KindAccount.
	Kind ItemKind `json:"kind"`
	// Principal is who holds the access.
	Principal Principal `json:"principal"`
	// Grants are the grants under review: one for a KindGrant item.
	Grants []ItemGrant `json:"grants"`
	// Reviewers are the item's assignments, active and past.
	Reviewers []Assignment `json:"reviewers"`
	// Outcome is the item's outcome as of the read.
	Outcome Outcome `json:"outcome"`
	// Remediation is how its revoke went.
	Remediation Remediation `json:"remediation"`
}

// Assignment is one reviewer of an item.
type Assignment struct {
	// Reviewer is who reviews.
	Reviewer string `json:"reviewer"`
	// Active is false once the item was reassigned or delegated away
	// from the reviewer: their decision, if any, no longer counts.
	Active bool `json:"active"`
	// Rule is how the reviewer came to review the item.
	Rule RuleKind `json:"rule"`
	// Reason says why, in words: the rule's detail, why a fallback was
	// used ("self-review: ..."), or the reason given to Reassign or
	// Delegate.
	Reason string `json:"reason"`
	// Fallback reports a fallback reviewer.
	Fallback bool `json:"fallback,omitempty"`
	// AssignedAt is when the reviewer was assigned.
	AssignedAt time.Time `json:"assigned_at"`
	// Verdict is the reviewer's current decision; "" if none.
	Verdict Verdict `json:"verdict,omitempty"`
	// Justification is the current decision's justification.
	Justification string `json:"justification,omitempty"`
	// DecidedAt is when the current decision was recorded.
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// OutcomeState is an item's outcome.
type OutcomeState string

// The outcomes of an item.
const (
	// Undecided: no outcome yet (or left open at close).
	Undecided OutcomeState = ""
	// Certified: the access stays.
	Certified OutcomeState = "certified"
	// Revoked: the access goes.
	Revoked OutcomeState = "revoked"
)

// Outcome is an item's outcome and how it came about.
type Outcome struct {
	// State is Undecided, Certified or Revoked.
	State OutcomeState `json:"state"`
	// By is "decision" (the reviewers' decisions made it), or "default"
	// (Close applied the campaign's default).
	By string `json:"by,omitempty"`
	// At is when the outcome was last set.
	At time.Time `json:"at,omitzero"`
}

// RemediationStatus is how the revoke of an item went.
type RemediationStatus string

// The remediation statuses.
const (
	// RemediationNone: the item is not revoked.
	RemediationNone RemediationStatus = ""
	// RemediationPending: revoked, not carried out yet.
	RemediationPending RemediationStatus = "pending"
	// RemediationDone: carried out and verified: a re-read of the
	// principal's access shows the grants gone.
	RemediationDone RemediationStatus = "done"
	// RemediationFailed: the revoke failed, or the re-read shows access
	// still held; Error says which.
	RemediationFailed RemediationStatus = "failed"
	// RemediationManual: a guard blocked the revoke; Guard names it. A
	// person must decide what to do.
	RemediationManual RemediationStatus = "manual"
)

// Remediation is how an item's revoke went.
type Remediation struct {
	// Status is the item's remediation status.
	Status RemediationStatus `json:"status,omitempty"`
	// At is when it was last set.
	At time.Time `json:"at,omitzero"`
	// Error says why it failed.
	Error string `json:"error,omitempty"`
	// Guard names the guard that blocked it (provision.GuardName).
	Guard string `json:"guard,omitempty"`
	// Attempts is the try whose journal IDs the item's revokes use: 1
	// for the first, one more after each try that failed (a journal ID
	// is used once), 0 before any.
	Attempts int `json:"attempts,omitempty"`
	// Verification is the proof: the re-read of the principal's access
	// after the change.
	Verification *Verification `json:"verification,omitempty"`
}

// GrantRemediation is how the revoke of one grant went.
type GrantRemediation struct {
	// State is provision's state of the change: applied, done, failed,
	// blocked or stale.
	State string `json:"state"`
	// JournalID is the change's ID in provision's journal.
	JournalID string `json:"journal_id"`
	// Status is the journaled status (revoked, already_revoked, ...).
	Status string `json:"status,omitempty"`
	// Error is why it failed or was blocked.
	Error string `json:"error,omitempty"`
	// Guard names the guard that blocked it.
	Guard string `json:"guard,omitempty"`
	// Held reports that the verifying re-read still found the grant.
	Held bool `json:"held,omitempty"`
}

// VerifyMethod says how a remediation was verified.
type VerifyMethod string

// The verification methods.
const (
	// VerifyReadPrincipals: access.PrincipalReader.ReadPrincipals, 100
	// principals a request on Zendesk (GET /users/show_many).
	VerifyReadPrincipals VerifyMethod = "read_principals"
	// VerifyGrantsFor: System.GrantsFor, the principal's grants one
	// principal at a time.
	VerifyGrantsFor VerifyMethod = "grants_for"
	// VerifySync: one re-read of the account (System.Sync), cheaper than
	// reading each principal when many were changed.
	VerifySync VerifyMethod = "sync"
)

// Verification is the proof of a remediation: a re-read of the
// principal's access after the change.
type Verification struct {
	// At is when the re-read finished.
	At time.Time `json:"at"`
	// Method is how the access was re-read.
	Method VerifyMethod `json:"method"`
	// Verified reports that none of the revoked grants is held.
	Verified bool `json:"verified"`
	// Result says what the re-read found, in words.
	Result string `json:"result"`
	// Held lists the revoked grants the re-read still found.
	Held []string `json:"held,omitempty"`
	// SnapshotHash is the hash of the re-read's snapshot, for VerifySync.
	SnapshotHash string `json:"snapshot_hash,omitempty"`
}

// DecisionRecord is one decision as recorded: every decision, a changed
// one too, is kept.
type DecisionRecord struct {
	// Seq orders the campaign's history (decisions and events).
	Seq int64 `json:"seq"`
	// ItemID is the item decided.
	ItemID int64 `json:"item_id"`
	// Reviewer is who decided.
	Reviewer string `json:"reviewer"`
	// Verdict is Certify or Revoke.
	Verdict Verdict `json:"verdict"`
	// Justification is why.
	Justification string `json:"justification,omitempty"`
	// At is when it was recorded, in UTC.
	At time.Time `json:"at"`
}

// EventKind is the kind of an Event.
type EventKind string

// The kinds of event.
const (
	// EventCreated: the campaign was created.
	EventCreated EventKind = "created"
	// EventReassigned: an item was moved from one reviewer to another.
	EventReassigned EventKind = "reassigned"
	// EventDelegated: a reviewer handed their items to another.
	EventDelegated EventKind = "delegated"
	// EventDefault: Close gave an undecided item the campaign's default.
	EventDefault EventKind = "default"
	// EventClosed: the campaign was closed.
	EventClosed EventKind = "closed"
	// EventRemediated: Remediate carried an item out (or tried to).
	EventRemediated EventKind = "remediated"
	// EventReminded: Remind reminded a reviewer of items to decide.
	EventReminded EventKind = "reminded"
	// EventDrift: Drift compared a later snapshot with the campaign.
	EventDrift EventKind = "drift"
)

// Event is something that happened to a campaign besides a decision.
type Event struct {
	// Seq orders the campaign's history (decisions and events).
	Seq int64 `json:"seq"`
	// At is when, in UTC.
	At time.Time `json:"at"`
	// Kind says what happened.
	Kind EventKind `json:"kind"`
	// ItemID is the item concerned, 0 for none.
	ItemID int64 `json:"item_id,omitempty"`
	// Actor is who did it.
	Actor string `json:"actor,omitempty"`
	// From and To are the reviewers of a reassignment or delegation.
	From string `json:"from,omitempty"`
	// To is the reviewer the item went to.
	To string `json:"to,omitempty"`
	// Reason is the reason given.
	Reason string `json:"reason,omitempty"`
	// Detail says more, in words.
	Detail string `json:"detail,omitempty"`
}

// DriftKind is the kind of a DriftItem.
type DriftKind string

// The kinds of drift.
const (
	// DriftGranted: access in scope granted to a reviewed person after
	// the campaign's snapshot: nobody reviewed it.
	DriftGranted DriftKind = "granted"
	// DriftReturned: access the campaign revoked that is held again.
	DriftReturned DriftKind = "returned"
)

// DriftItem is one grant a later snapshot shows that the campaign did
// not expect.
type DriftItem struct {
	// Kind is DriftGranted or DriftReturned.
	Kind DriftKind `json:"kind"`
	// PrincipalID holds the grant.
	PrincipalID string `json:"principal_id"`
	// GrantID is the grant.
	GrantID string `json:"grant_id"`
	// ItemID is the item that revoked it, for DriftReturned.
	ItemID int64 `json:"item_id,omitempty"`
}

// DriftReport is what a later snapshot shows of the access a campaign
// reviewed.
type DriftReport struct {
	// SnapshotHash and TakenAt name the later snapshot.
	SnapshotHash string `json:"snapshot_hash"`
	// TakenAt is when it was taken.
	TakenAt time.Time `json:"taken_at"`
	// Items are the drifted grants, granted ones first, each by grant ID.
	Items []DriftItem `json:"items"`
}

// Evidence is everything a campaign's evidence export needs, as plain
// values.
type Evidence struct {
	// Campaign is the metadata and population evidence.
	Campaign CampaignInfo `json:"campaign"`
	// Items are the items with their facts, reviewers, outcome and
	// remediation, by ID.
	Items []Item `json:"items"`
	// Decisions is the decision history, by Seq.
	Decisions []DecisionRecord `json:"decisions"`
	// Events are the other events, by Seq.
	Events []Event `json:"events"`
}
