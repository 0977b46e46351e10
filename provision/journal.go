package provision

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"sync"
	"time"
)

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

	// applying holds the journal-ID prefixes of the plans Apply is
	// carrying out through this Journal, so that a second run of a plan
	// does not start while the first runs; doing holds the journal IDs of
	// the changes Do is carrying out, for the same reason.
	mu       sync.Mutex
	applying map[string]bool
	doing    map[string]bool
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
