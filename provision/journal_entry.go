package provision

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/zgov-io/zgov/access"
)

// JournalEntryKind says which end of a change an entry records.
type JournalEntryKind string

// The kinds of JournalEntry.
const (
	// JournalStarted is appended before a change runs.
	JournalStarted JournalEntryKind = "started"
	// JournalFinished is appended after it ends, with its outcome.
	JournalFinished JournalEntryKind = "finished"
)

// JournalEntry is one line of the journal. A change has a started entry and,
// once it has ended, a finished entry with the same ChangeID; a change that
// was interrupted has only the started one.
//
// The JSON field names are those of the canonical encoding (see the package
// documentation); a store may keep an entry as its JSON.
type JournalEntry struct {
	// Seq is the entry's position: 1 for the first entry, then 2, 3, ...
	// without gaps.
	Seq int64 `json:"seq"`
	// Time is when the entry was appended, from the Journal's clock, in UTC
	// and truncated to the microsecond (what PostgreSQL's timestamptz
	// keeps). Seq, not Time, orders entries.
	Time time.Time `json:"time"`
	// Kind is JournalStarted or JournalFinished.
	Kind JournalEntryKind `json:"kind"`
	// ChangeID ties a change's finished entry to its started entry.
	ChangeID string `json:"change_id"`
	// Actor is who asked for the change and why. A finished entry repeats
	// its started entry's Actor.
	Actor JournalActor `json:"actor"`
	// Op is the change asked for. A finished entry repeats its started
	// entry's Op.
	Op JournalOp `json:"op"`
	// Outcome is how the change ended: set on finished entries, nil on
	// started ones.
	Outcome *JournalOutcome `json:"outcome,omitempty"`
	// PrevHash is the Hash of the entry before, or "" for the first entry.
	PrevHash string `json:"prev_hash,omitempty"`
	// Hash is the lowercase hex SHA-256 of the entry's canonical encoding
	// without Hash (see the package documentation).
	Hash string `json:"hash"`
}

// JournalHead names an entry by its sequence number and hash: the head of a
// journal (its last entry), or an anchor an auditor kept from an earlier
// verification. The zero JournalHead is the head of an empty journal.
type JournalHead struct {
	// Seq is the entry's sequence number.
	Seq int64 `json:"seq"`
	// Hash is the entry's hash.
	Hash string `json:"hash"`
}

// String returns "seq:hash".
func (h JournalHead) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// Head returns the entry's JournalHead.
func (e JournalEntry) Head() JournalHead { return JournalHead{Seq: e.Seq, Hash: e.Hash} }

// follows reports whether e may be appended after the entry h names: the
// next seq, linked to it by hash (the zero head: seq 1, no prev_hash). It
// is the check of a store's compare-and-swap.
func (e *JournalEntry) follows(h JournalHead) bool { return e.Seq == h.Seq+1 && e.PrevHash == h.Hash }

// JournalActor says who asked for a change and why. It is required: Who, and
// at least one of Reason and Source.
//
// Never put secrets (tokens, passwords, session cookies) in any field: the
// journal is kept forever, exported and shown to auditors.
type JournalActor struct {
	// Who asked: a person ("ann@example.com") or a service
	// ("svc:hr-sync"). At most 256 bytes, no control characters.
	Who string `json:"who"`
	// Reason is why, in words ("joined the billing team"). At most 1024
	// bytes of UTF-8; newlines and tabs are allowed.
	Reason string `json:"reason,omitempty"`
	// Source is what authorised the change, as kind:reference, such as
	// "ticket:JIRA-1", "review:2026-q1/item-12" or "plan:4f2a". At most
	// 256 bytes; the kind is lowercase letters, digits, '_' or '-'.
	Source string `json:"source,omitempty"`
}

// JournalOpName names an operation the journal records.
type JournalOpName string

// The operations. Begin refuses any other name.
const (
	// JournalOpGrant grants EntitlementID to PrincipalID.
	JournalOpGrant JournalOpName = "grant"
	// JournalOpRevoke revokes EntitlementID from PrincipalID.
	JournalOpRevoke JournalOpName = "revoke"
	// JournalOpCreateAccount creates an account for Email, with Role if
	// set.
	JournalOpCreateAccount JournalOpName = "create_account"
	// JournalOpDeprovision takes Step of the deprovisioning ladder for
	// PrincipalID.
	JournalOpDeprovision JournalOpName = "deprovision"
	// JournalOpReactivate reactivates PrincipalID, with Role if set.
	JournalOpReactivate JournalOpName = "reactivate"
)

// journalOpFields lists, per operation, which of JournalOp's fields are
// required (true) or allowed (false). Fields not listed must be empty.
var journalOpFields = map[JournalOpName]map[string]bool{
	JournalOpGrant:         {"entitlement_id": true, "principal_id": true},
	JournalOpRevoke:        {"entitlement_id": true, "principal_id": true},
	JournalOpCreateAccount: {"email": true, "role": false},
	JournalOpDeprovision:   {"principal_id": true, "step": true},
	JournalOpReactivate:    {"principal_id": true, "role": false},
}

// JournalOp is the change a journal entry records: an operation and its
// arguments. Each operation requires some fields and forbids the others
// (see the JournalOpName constants); Params carries further arguments, so
// operations can grow without changing the shape of an entry.
type JournalOp struct {
	// Name is the operation.
	Name JournalOpName `json:"name"`
	// EntitlementID is the entitlement granted or revoked, in canonical
	// form (access.ParseEntitlementID).
	EntitlementID string `json:"entitlement_id,omitempty"`
	// PrincipalID is the principal granted to, revoked from, deprovisioned
	// or reactivated, in canonical form (access.ParseResourceID).
	PrincipalID string `json:"principal_id,omitempty"`
	// Email is the address of the person an account is created for.
	Email string `json:"email,omitempty"`
	// Role is the role an account is created or reactivated with, in the
	// backend's terms; empty means the backend's default.
	Role string `json:"role,omitempty"`
	// Step is the deprovisioning step: none, suspend, downgrade,
	// soft_delete or permanent_delete.
	Step string `json:"step,omitempty"`
	// Params holds further arguments: at most 32, keys of lowercase
	// letters, digits and '_' (starting with a letter, at most 64 bytes),
	// values of 1 to 1024 bytes of UTF-8. Never secrets.
	Params map[string]string `json:"params,omitempty"`
}

// JournalGrantOp returns the JournalOp of a grant request.
func JournalGrantOp(req access.GrantRequest) JournalOp {
	return JournalOp{Name: JournalOpGrant, EntitlementID: req.EntitlementID, PrincipalID: req.PrincipalID}
}

// JournalRevokeOp returns the JournalOp of a revoke request.
func JournalRevokeOp(req access.RevokeRequest) JournalOp {
	return JournalOp{Name: JournalOpRevoke, EntitlementID: req.EntitlementID, PrincipalID: req.PrincipalID}
}

// JournalOutcome is how a change ended. Status or Error, or both, is set:
// Status says what was done, Error why the change failed (a change can do
// something and then fail: access.StatusIncomplete with an error).
//
// The journal records ids, statuses and messages only. Error messages from
// zgov's packages never contain credentials; a caller that builds its own
// messages must keep it so.
type JournalOutcome struct {
	// Status is what the change did, such as "granted", "already_revoked",
	// "incomplete" (access.Status) or "created" (an account). Lowercase
	// letters, digits, '_' and '-'.
	Status string `json:"status,omitempty"`
	// GrantID is the grant the change created or removed.
	GrantID string `json:"grant_id,omitempty"`
	// PrincipalID is the principal the change made or acted on, such as
	// the new account of a create_account.
	PrincipalID string `json:"principal_id,omitempty"`
	// Added lists other grants the change created on the way (grant IDs).
	Added []string `json:"added,omitempty"`
	// Replaced lists other grants the change removed (grant IDs).
	Replaced []string `json:"replaced,omitempty"`
	// Note is a human-readable remark. Longer than 4096 bytes, it is cut;
	// invalid UTF-8 becomes U+FFFD.
	Note string `json:"note,omitempty"`
	// RequestIDs are the ids Zendesk gave the requests the change sent
	// (X-Zendesk-Request-Id), to quote to Zendesk support. At most 32, each
	// at most 128 bytes of printable ASCII.
	RequestIDs []string `json:"request_ids,omitempty"`
	// Error is why the change failed, as its error message; cut and
	// repaired as Note is.
	Error string `json:"error,omitempty"`
	// ErrorClass classifies Error for machines, such as "rate_limited" or
	// "not_grantable" (see JournalOutcomeOf); it requires Error.
	ErrorClass string `json:"error_class,omitempty"`
	// Params holds further results, under the rules of JournalOp.Params.
	Params map[string]string `json:"params,omitempty"`
}

// JournalChange is one change as the journal knows it: its started entry,
// and its finished entry once it has ended.
type JournalChange struct {
	// ID is the change ID.
	ID string
	// Started is the entry appended before the change ran.
	Started JournalEntry
	// Finished is the entry appended when it ended, or nil if it has not
	// (it is running, or was interrupted).
	Finished *JournalEntry
}

// Done reports whether the change has a finished entry.
func (c JournalChange) Done() bool { return c.Finished != nil }

// clone returns a copy of op that shares no map with it.
func (op JournalOp) clone() JournalOp {
	op.Params = maps.Clone(op.Params)
	return op
}

// clone returns a copy of o that shares no slice or map with it.
func (o JournalOutcome) clone() JournalOutcome {
	o.Added = slices.Clone(o.Added)
	o.Replaced = slices.Clone(o.Replaced)
	o.RequestIDs = slices.Clone(o.RequestIDs)
	o.Params = maps.Clone(o.Params)
	return o
}

// cloneJournalEntry returns a deep copy of e, for stores.
func cloneJournalEntry(e JournalEntry) JournalEntry {
	e.Op = e.Op.clone()
	if e.Outcome != nil {
		o := e.Outcome.clone()
		e.Outcome = &o
	}
	return e
}
