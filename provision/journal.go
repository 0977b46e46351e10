package provision

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"maps"
	"reflect"
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

// JournalStore keeps a journal's entries: the small driver interface behind
// Journal, which SQL databases and other stores implement (this package
// provides MemoryJournalStore; provision/journaltest is the conformance
// suite every store passes). Implementations must be safe for concurrent
// use, also by several processes sharing one store.
//
// A store is not trusted: it stores and returns entries as given, and
// Journal.Verify checks what it returns. It must keep every field exactly
// (Time to the microsecond); keeping each entry as its JSON, with Seq and
// ChangeID as indexed columns, is the simple way.
//
// Reads see every entry appended before they start: Entries, ChangeEntries
// and Unfinished called after a Head reflect at least the entries up to that
// head. Journal relies on this to refuse a change ID twice.
type JournalStore interface {
	// Head returns the Seq and Hash of the last entry, or the zero
	// JournalHead if the journal is empty.
	Head(ctx context.Context) (JournalHead, error)

	// Append adds entries at the end of the journal, all or none; no
	// entries is a no-op. The first must follow the head:
	// entries[0].Seq == head.Seq+1 and entries[0].PrevHash == head.Hash
	// (so 1 and "" on an empty journal). If it does not, because another
	// writer appended since the caller read the head, Append appends
	// nothing and returns an error wrapping ErrJournalConflict: this is
	// the compare-and-swap that keeps the chain linear when many writers
	// share the store (in SQL: Seq is the primary key, and the insert
	// checks the previous row's hash, in one transaction). Each further
	// entry must follow the one before it in the same way; if one does
	// not, Append appends nothing and returns an error that does not wrap
	// ErrJournalConflict. Append does not check hashes.
	Append(ctx context.Context, entries ...JournalEntry) error

	// Entries returns at most limit (> 0) entries with Seq >= from, in
	// increasing Seq order.
	Entries(ctx context.Context, from int64, limit int) ([]JournalEntry, error)

	// ChangeEntries returns the entries whose ChangeID is changeID, in
	// increasing Seq order: none (and no error) for an unknown change.
	ChangeEntries(ctx context.Context, changeID string) ([]JournalEntry, error)

	// Unfinished returns the started entry of each change that has no
	// finished entry, in increasing Seq order. (Journal never writes two
	// started entries for one change; a store holding them may return
	// either or both.)
	Unfinished(ctx context.Context) ([]JournalEntry, error)
}

// Errors of the journal, for errors.Is.
var (
	// ErrJournalInput means Begin, Finish, Verify or NewJournal was given
	// bad input. Errors wrapping it are of type *JournalInputError.
	ErrJournalInput = errors.New("invalid journal input")

	// ErrJournalDuplicateChange means Begin was given a change ID that
	// the journal already holds, finished or not. Use Journal.Change to
	// learn its state.
	ErrJournalDuplicateChange = errors.New("change already started")

	// ErrJournalUnknownChange means Finish or Change was given a change ID
	// the journal does not hold.
	ErrJournalUnknownChange = errors.New("change not started")

	// ErrJournalChangeFinished means Finish was given a change that has
	// already finished.
	ErrJournalChangeFinished = errors.New("change already finished")

	// ErrJournalConflict means a store's Append was refused because the
	// journal's head moved: another writer appended first. Journal
	// retries; stores return it.
	ErrJournalConflict = errors.New("journal append conflict: the head moved")

	// ErrJournalTampered means verification found the journal changed
	// after it was written. Errors wrapping it are of type
	// *JournalTamperError.
	ErrJournalTampered = errors.New("journal tampered")
)

// JournalInputError reports bad input, naming the field. It wraps
// ErrJournalInput.
type JournalInputError struct {
	// Field names the field, as in the JSON encoding: "actor.who",
	// "op.entitlement_id", "outcome.added[2]", "change_id".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "provision: journal: <field>: <reason>".
func (e *JournalInputError) Error() string {
	return "provision: journal: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrJournalInput.
func (e *JournalInputError) Unwrap() error { return ErrJournalInput }

// Journal appends the entries of changes to a JournalStore and reads and
// verifies them. It is safe for concurrent use; several Journals, in one
// process or many, may share one store.
type Journal struct {
	store JournalStore
	now   func() time.Time
	// sem serialises this Journal's appends (cancellably), so that its
	// goroutines do not conflict with one another at the store.
	sem chan struct{}
}

// JournalOption configures a Journal.
type JournalOption func(*Journal) error

// WithJournalClock sets the clock entries are timestamped with (default
// time.Now).
func WithJournalClock(now func() time.Time) JournalOption {
	return func(j *Journal) error {
		if now == nil {
			return &JournalInputError{Field: "WithJournalClock", Reason: "nil clock"}
		}
		j.now = now
		return nil
	}
}

// NewJournal returns a Journal over store.
func NewJournal(store JournalStore, opts ...JournalOption) (*Journal, error) {
	if isNil(store) {
		return nil, &JournalInputError{Field: "store", Reason: "nil JournalStore"}
	}
	j := &Journal{store: store, now: time.Now, sem: make(chan struct{}, 1)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(j); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// maxStalls bounds how many conflicts in a row a store may report without
// its head moving before an append gives up: a conflict means another
// writer appended, so a head that stays put is a broken store.
const maxStalls = 8

// Begin appends the started entry of a change, before the change runs, and
// returns it. changeID identifies the change; "" makes Begin generate one.
// A caller-chosen changeID is an idempotency key (printable ASCII without
// spaces, at most 128 bytes; for example a plan's ID and item): a changeID
// the journal already holds, finished or not, is refused with
// ErrJournalDuplicateChange, also when two processes begin it at once (one
// wins). A resuming caller asks Change first.
//
// Bad input is refused with a *JournalInputError naming the field. If the
// store fails while appending, Begin returns the entry it tried to append
// with the error: the entry may have been stored, and Change(ChangeID) says.
func (j *Journal) Begin(ctx context.Context, changeID string, actor JournalActor, op JournalOp) (JournalEntry, error) {
	generated := changeID == ""
	if generated {
		changeID = rand.Text()
	} else if err := checkChangeID(changeID); err != nil {
		return JournalEntry{}, err
	}
	if err := actor.validate(); err != nil {
		return JournalEntry{}, err
	}
	if err := op.validate(); err != nil {
		return JournalEntry{}, err
	}
	e := JournalEntry{Kind: JournalStarted, ChangeID: changeID, Actor: actor, Op: op.clone()}
	return j.append(ctx, e, func(existing []JournalEntry) error {
		// A generated ID is 128 random bits: it cannot be in the journal,
		// and looking it up would cost a read per Begin.
		if !generated && len(existing) > 0 {
			return fmt.Errorf("provision: journal: begin change %q: %w", changeID, ErrJournalDuplicateChange)
		}
		return nil
	}, !generated)
}

// Finish appends the finished entry of the change changeID, with its
// outcome, and returns it. The entry repeats the started entry's Actor and
// Op. A change never begun is refused with ErrJournalUnknownChange, one
// already finished with ErrJournalChangeFinished (also when two processes
// finish it at once: one wins). Note and Error are repaired to valid UTF-8
// and cut to 4096 bytes; other bad input is refused with a
// *JournalInputError. Store failures are reported as for Begin.
func (j *Journal) Finish(ctx context.Context, changeID string, outcome JournalOutcome) (JournalEntry, error) {
	if err := checkChangeID(changeID); err != nil {
		return JournalEntry{}, err
	}
	outcome = outcome.normalize()
	if err := outcome.validate(); err != nil {
		return JournalEntry{}, err
	}
	e := JournalEntry{Kind: JournalFinished, ChangeID: changeID, Outcome: &outcome}
	return j.append(ctx, e, func(existing []JournalEntry) error {
		c, ok := changeOf(changeID, existing)
		if !ok {
			return fmt.Errorf("provision: journal: finish change %q: %w", changeID, ErrJournalUnknownChange)
		}
		if c.Done() {
			return fmt.Errorf("provision: journal: finish change %q: finished at seq %d: %w", changeID, c.Finished.Seq, ErrJournalChangeFinished)
		}
		return nil
	}, true)
}

// append appends e after the head, retrying on conflicts. If lookup is set,
// it reads the entries of e's change after each read of the head (so that
// they reflect at least that head, and a change appended by another writer
// since is either seen or makes the append conflict) and passes them to
// check, which may refuse the append.
func (j *Journal) append(ctx context.Context, e JournalEntry, check func([]JournalEntry) error, lookup bool) (JournalEntry, error) {
	select {
	case j.sem <- struct{}{}:
		defer func() { <-j.sem }()
	case <-ctx.Done():
		return JournalEntry{}, fmt.Errorf("provision: journal: append: %w", ctx.Err())
	}
	var last JournalHead
	stalls := 0
	for attempt := 0; ; attempt++ {
		head, err := j.store.Head(ctx)
		if err != nil {
			return JournalEntry{}, fmt.Errorf("provision: journal: read head: %w", err)
		}
		var existing []JournalEntry
		if lookup {
			if existing, err = j.store.ChangeEntries(ctx, e.ChangeID); err != nil {
				return JournalEntry{}, fmt.Errorf("provision: journal: look up change %q: %w", e.ChangeID, err)
			}
		}
		if err := check(existing); err != nil {
			return JournalEntry{}, err
		}
		full, err := j.complete(e, existing, head)
		if err != nil {
			return JournalEntry{}, err
		}
		err = j.store.Append(ctx, full)
		if err == nil {
			return full, nil
		}
		if !errors.Is(err, ErrJournalConflict) {
			return full, fmt.Errorf("provision: journal: append seq %d: %w", full.Seq, err)
		}
		if ctx.Err() != nil {
			return JournalEntry{}, fmt.Errorf("provision: journal: append: %w", ctx.Err())
		}
		if attempt > 0 && head == last {
			if stalls++; stalls >= maxStalls {
				return JournalEntry{}, fmt.Errorf("provision: journal: append: the store reports conflicts but its head stays at seq %d: %w", head.Seq, err)
			}
		} else {
			stalls = 0
		}
		last = head
	}
}

// complete fills in what the store's state decides: a finished entry's
// Actor and Op (from its started entry), the position, time and hash.
func (j *Journal) complete(e JournalEntry, existing []JournalEntry, head JournalHead) (JournalEntry, error) {
	if e.Kind == JournalFinished {
		if c, ok := changeOf(e.ChangeID, existing); ok {
			e.Actor, e.Op = c.Started.Actor, c.Started.Op.clone()
		}
	}
	e.Seq = head.Seq + 1
	e.PrevHash = head.Hash
	e.Time = j.now().UTC().Truncate(time.Microsecond)
	if y := e.Time.Year(); y < 1 || y > 9999 {
		return JournalEntry{}, &JournalInputError{Field: "time", Reason: fmt.Sprintf("the clock says %s, outside years 1 to 9999", e.Time)}
	}
	body := appendJournalJSON(make([]byte, 0, 1024), &e, false)
	if len(body) > maxJournalBody {
		return JournalEntry{}, &JournalInputError{Field: "entry", Reason: fmt.Sprintf("%d bytes encoded, more than %d", len(body), maxJournalBody)}
	}
	e.Hash = hashJournalBody(body)
	return e, nil
}

// Change returns the change changeID as the journal holds it, or an error
// wrapping ErrJournalUnknownChange. Apply and resume ask it "was change X
// finished?".
func (j *Journal) Change(ctx context.Context, changeID string) (JournalChange, error) {
	if err := checkChangeID(changeID); err != nil {
		return JournalChange{}, err
	}
	es, err := j.store.ChangeEntries(ctx, changeID)
	if err != nil {
		return JournalChange{}, fmt.Errorf("provision: journal: look up change %q: %w", changeID, err)
	}
	c, ok := changeOf(changeID, es)
	if !ok {
		return JournalChange{}, fmt.Errorf("provision: journal: change %q: %w", changeID, ErrJournalUnknownChange)
	}
	return c, nil
}

// changeOf assembles a change from its entries: the first started entry and
// the first finished entry after it.
func changeOf(id string, es []JournalEntry) (JournalChange, bool) {
	c := JournalChange{ID: id}
	started := false
	for i := range es {
		switch {
		case es[i].Kind == JournalStarted && !started:
			c.Started, started = es[i], true
		case es[i].Kind == JournalFinished && started && c.Finished == nil:
			f := es[i]
			c.Finished = &f
		}
	}
	return c, started
}

// Unfinished returns the started entries of the changes that never
// finished, in sequence order: changes running now, and changes
// interrupted by a crash, which a resuming caller must check against the
// system and finish.
func (j *Journal) Unfinished(ctx context.Context) ([]JournalEntry, error) {
	es, err := j.store.Unfinished(ctx)
	if err != nil {
		return nil, fmt.Errorf("provision: journal: unfinished changes: %w", err)
	}
	return es, nil
}

// Head returns the journal's head: the last entry's Seq and Hash. An
// auditor keeps it as an anchor for later verifications.
func (j *Journal) Head(ctx context.Context) (JournalHead, error) {
	h, err := j.store.Head(ctx)
	if err != nil {
		return JournalHead{}, fmt.Errorf("provision: journal: read head: %w", err)
	}
	return h, nil
}

// journalPage is how many entries Journal reads from its store at once.
const journalPage = 500

// Entries returns the entries from Seq from on, in sequence order, read
// from the store a page at a time. It stops at the first error, which it
// yields. It does not verify them (Verify does).
func (j *Journal) Entries(ctx context.Context, from int64) iter.Seq2[JournalEntry, error] {
	return func(yield func(JournalEntry, error) bool) {
		from := max(from, 1)
		for {
			page, err := j.store.Entries(ctx, from, journalPage)
			if err != nil {
				yield(JournalEntry{}, fmt.Errorf("provision: journal: read entries from seq %d: %w", from, err))
				return
			}
			if len(page) == 0 {
				return
			}
			next := from
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
				next = max(next, e.Seq+1)
			}
			if next == from {
				yield(JournalEntry{}, fmt.Errorf("provision: journal: read entries from seq %d: the store returned only earlier entries", from))
				return
			}
			from = next
		}
	}
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
