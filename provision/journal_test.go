package provision_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

// t0 is the start of the test clock: no test reads the real time.
var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// stepClock returns a clock that starts at t0 and advances by step on
// every call. It is safe for concurrent use.
func stepClock(step time.Duration) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * step) }
}

var ann = provision.JournalActor{Who: "ann@example.com", Reason: "joined billing", Source: "ticket:JIRA-1"}

func grantOp(ent, principal string) provision.JournalOp {
	return provision.JournalGrantOp(access.GrantRequest{EntitlementID: ent, PrincipalID: principal})
}

func newJournal(t testing.TB, store provision.JournalStore) *provision.Journal {
	t.Helper()
	if store == nil {
		store = provision.NewMemoryJournalStore()
	}
	j, err := provision.NewJournal(store, provision.WithJournalClock(stepClock(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func begin(t *testing.T, j *provision.Journal, id string, op provision.JournalOp) provision.JournalEntry {
	t.Helper()
	e, err := j.Begin(t.Context(), id, ann, op)
	if err != nil {
		t.Fatalf("Begin(%q): %v", id, err)
	}
	return e
}

func finish(t *testing.T, j *provision.Journal, id string, o provision.JournalOutcome) provision.JournalEntry {
	t.Helper()
	e, err := j.Finish(t.Context(), id, o)
	if err != nil {
		t.Fatalf("Finish(%q): %v", id, err)
	}
	return e
}

func readAll(t *testing.T, j *provision.Journal) []provision.JournalEntry {
	t.Helper()
	var out []provision.JournalEntry
	for e, err := range j.Entries(t.Context(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

var entryOpts = cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(provision.JournalEntry{}, "Hash")}

func TestJournalBeginFinish(t *testing.T) {
	t.Parallel()
	store := provision.NewMemoryJournalStore()
	// A clock with nanoseconds and a zone: entries keep UTC microseconds.
	var n atomic.Int64
	clock := func() time.Time {
		return t0.Add(time.Duration(n.Add(1))*time.Second + 789).In(time.FixedZone("X", -7*3600))
	}
	j, err := provision.NewJournal(store, provision.WithJournalClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	op := grantOp("group:10:member", "user:2")
	started, err := j.Begin(ctx, "plan-1/item-1", ann, op)
	if err != nil {
		t.Fatal(err)
	}
	want := provision.JournalEntry{Seq: 1, Time: t0.Add(time.Second), Kind: provision.JournalStarted, ChangeID: "plan-1/item-1", Actor: ann, Op: op}
	if diff := cmp.Diff(want, started, entryOpts); diff != "" {
		t.Errorf("started entry (-want +got):\n%s", diff)
	}
	if started.Time.Location() != time.UTC || len(started.Hash) != 64 {
		t.Errorf("started entry: time %v, hash %q; want UTC and 64 hex digits", started.Time, started.Hash)
	}

	c, err := j.Change(ctx, "plan-1/item-1")
	if err != nil || c.Done() {
		t.Fatalf("Change before Finish = %+v, %v; want started, not done", c, err)
	}
	un, err := j.Unfinished(ctx)
	if err != nil || len(un) != 1 || un[0].ChangeID != "plan-1/item-1" {
		t.Fatalf("Unfinished before Finish = %v, %v", un, err)
	}

	out := provision.JournalOutcome{Status: "granted", GrantID: "group:10:member@user:2", RequestIDs: []string{"abc-1"}}
	finished, err := j.Finish(ctx, "plan-1/item-1", out)
	if err != nil {
		t.Fatal(err)
	}
	want = provision.JournalEntry{Seq: 2, Time: t0.Add(2 * time.Second), Kind: provision.JournalFinished, ChangeID: "plan-1/item-1", Actor: ann, Op: op, Outcome: &out, PrevHash: started.Hash}
	if diff := cmp.Diff(want, finished, entryOpts); diff != "" {
		t.Errorf("finished entry (-want +got):\n%s", diff)
	}

	c, err = j.Change(ctx, "plan-1/item-1")
	if err != nil || !c.Done() {
		t.Fatalf("Change after Finish = %+v, %v; want done", c, err)
	}
	if diff := cmp.Diff(provision.JournalChange{ID: "plan-1/item-1", Started: started, Finished: &finished}, c); diff != "" {
		t.Errorf("Change (-want +got):\n%s", diff)
	}
	if un, err := j.Unfinished(ctx); err != nil || len(un) != 0 {
		t.Errorf("Unfinished after Finish = %v, %v; want none", un, err)
	}
	h, err := j.Head(ctx)
	if err != nil || h != finished.Head() {
		t.Errorf("Head = %v, %v; want %v", h, err, finished.Head())
	}
	if diff := cmp.Diff([]provision.JournalEntry{started, finished}, readAll(t, j)); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
}

func TestJournalGeneratedChangeIDs(t *testing.T) {
	t.Parallel()
	j := newJournal(t, nil)
	seen := map[string]bool{}
	for i := range 20 {
		e := begin(t, j, "", grantOp("group:10:member", fmt.Sprintf("user:%d", i+1)))
		if e.ChangeID == "" || seen[e.ChangeID] {
			t.Fatalf("generated change ID %q empty or repeated", e.ChangeID)
		}
		seen[e.ChangeID] = true
		finish(t, j, e.ChangeID, provision.JournalOutcome{Status: "granted"})
	}
}

func TestJournalChangeIDOnce(t *testing.T) {
	t.Parallel()
	j := newJournal(t, nil)
	ctx := t.Context()
	begin(t, j, "k", grantOp("group:10:member", "user:2"))
	if _, err := j.Begin(ctx, "k", ann, grantOp("group:10:member", "user:2")); !errors.Is(err, provision.ErrJournalDuplicateChange) {
		t.Errorf("Begin of an open change = %v, want ErrJournalDuplicateChange", err)
	}
	finish(t, j, "k", provision.JournalOutcome{Status: "granted"})
	if _, err := j.Begin(ctx, "k", ann, grantOp("group:11:member", "user:3")); !errors.Is(err, provision.ErrJournalDuplicateChange) {
		t.Errorf("Begin of a finished change = %v, want ErrJournalDuplicateChange", err)
	}
	if _, err := j.Finish(ctx, "k", provision.JournalOutcome{Status: "granted"}); !errors.Is(err, provision.ErrJournalChangeFinished) {
		t.Errorf("second Finish = %v, want ErrJournalChangeFinished", err)
	}
	if _, err := j.Finish(ctx, "never", provision.JournalOutcome{Status: "granted"}); !errors.Is(err, provision.ErrJournalUnknownChange) {
		t.Errorf("Finish of an unknown change = %v, want ErrJournalUnknownChange", err)
	}
	if _, err := j.Change(ctx, "never"); !errors.Is(err, provision.ErrJournalUnknownChange) {
		t.Errorf("Change of an unknown change = %v, want ErrJournalUnknownChange", err)
	}
	if n := len(readAll(t, j)); n != 2 {
		t.Errorf("%d entries, want 2: refused calls append nothing", n)
	}
}

// TestJournalResume is what a process does after a crash: the change it
// began is unfinished; a new Journal over the same store finds and
// finishes it.
func TestJournalResume(t *testing.T) {
	t.Parallel()
	store := provision.NewMemoryJournalStore()
	crashed := newJournal(t, store)
	begin(t, crashed, "plan-2/item-1", grantOp("group:10:member", "user:2"))
	begin(t, crashed, "plan-2/item-2", grantOp("group:10:member", "user:3"))
	finish(t, crashed, "plan-2/item-2", provision.JournalOutcome{Status: "granted"})

	j := newJournal(t, store)
	un, err := j.Unfinished(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 1 || un[0].ChangeID != "plan-2/item-1" {
		t.Fatalf("Unfinished = %+v, want plan-2/item-1", un)
	}
	for _, id := range []string{"plan-2/item-1", "plan-2/item-2"} {
		c, err := j.Change(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Done() {
			continue // finished before the crash: skip
		}
		finish(t, j, id, provision.JournalOutcome{Status: "already_granted", Note: "found granted on resume"})
	}
	rep, err := j.Verify(t.Context())
	if err != nil || rep.Unfinished != 0 || rep.Entries != 4 {
		t.Errorf("Verify after resume = %+v, %v; want 4 entries, none unfinished", rep, err)
	}
}

// hookStore wraps a store, letting a test act before its calls.
type hookStore struct {
	provision.JournalStore
	beforeAppend func(ctx context.Context, es []provision.JournalEntry) error
	afterAppend  func(err error)
	afterHead    func()
}

func (s *hookStore) Append(ctx context.Context, es ...provision.JournalEntry) error {
	if s.beforeAppend != nil {
		if err := s.beforeAppend(ctx, es); err != nil {
			return err
		}
	}
	err := s.JournalStore.Append(ctx, es...)
	if s.afterAppend != nil {
		s.afterAppend(err)
	}
	return err
}

func (s *hookStore) Head(ctx context.Context) (provision.JournalHead, error) {
	h, err := s.JournalStore.Head(ctx)
	if s.afterHead != nil {
		s.afterHead()
	}
	return h, err
}

// TestJournalRetriesConflict: another process appends between this one's
// read of the head and its append; the append conflicts, and Journal reads
// the head again and appends after the other's entry.
func TestJournalRetriesConflict(t *testing.T) {
	t.Parallel()
	mem := provision.NewMemoryJournalStore()
	other := newJournal(t, mem)
	hook := &hookStore{JournalStore: mem}
	var once sync.Once
	hook.beforeAppend = func(ctx context.Context, es []provision.JournalEntry) error {
		var err error
		once.Do(func() { _, err = other.Begin(ctx, "other", ann, grantOp("group:10:member", "user:9")) })
		return err
	}
	j := newJournal(t, hook)
	e := begin(t, j, "mine", grantOp("group:10:member", "user:2"))
	if e.Seq != 2 {
		t.Errorf("Begin after a conflict appended at seq %d, want 2", e.Seq)
	}
	if rep, err := j.Verify(t.Context()); err != nil || rep.Entries != 2 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}

// TestJournalRetrySeesOtherBegin: another process begins the same change
// ID between this one's lookup and its append; the retry sees it and
// refuses.
func TestJournalRetrySeesOtherBegin(t *testing.T) {
	t.Parallel()
	mem := provision.NewMemoryJournalStore()
	other := newJournal(t, mem)
	hook := &hookStore{JournalStore: mem}
	var once sync.Once
	hook.beforeAppend = func(ctx context.Context, es []provision.JournalEntry) error {
		var err error
		once.Do(func() { _, err = other.Begin(ctx, "same", ann, grantOp("group:10:member", "user:2")) })
		return err
	}
	j := newJournal(t, hook)
	if _, err := j.Begin(t.Context(), "same", ann, grantOp("group:10:member", "user:2")); !errors.Is(err, provision.ErrJournalDuplicateChange) {
		t.Errorf("Begin = %v, want ErrJournalDuplicateChange", err)
	}
}

// stuckStore reports a conflict on every append without its head moving: a
// broken store, on which Journal must not spin forever.
type stuckStore struct{ provision.JournalStore }

func (stuckStore) Append(context.Context, ...provision.JournalEntry) error {
	return fmt.Errorf("stuck: %w", provision.ErrJournalConflict)
}

func TestJournalStuckStore(t *testing.T) {
	t.Parallel()
	j := newJournal(t, stuckStore{provision.NewMemoryJournalStore()})
	if _, err := j.Begin(t.Context(), "c", ann, grantOp("group:10:member", "user:2")); !errors.Is(err, provision.ErrJournalConflict) {
		t.Errorf("Begin on a stuck store = %v, want ErrJournalConflict", err)
	}
}

// TestJournalStoreFailsDuringAppend: the store fails while appending, so
// the entry may or may not be stored; Begin returns it with the error, so
// that the caller knows the change ID to look up.
func TestJournalStoreFailsDuringAppend(t *testing.T) {
	t.Parallel()
	mem := provision.NewMemoryJournalStore()
	lost := errors.New("connection reset")
	hook := &hookStore{JournalStore: mem}
	hook.beforeAppend = func(ctx context.Context, es []provision.JournalEntry) error {
		if err := mem.Append(ctx, es...); err != nil { // committed, then the answer is lost
			return err
		}
		return lost
	}
	j := newJournal(t, hook)
	e, err := j.Begin(t.Context(), "", ann, grantOp("group:10:member", "user:2"))
	if !errors.Is(err, lost) || e.ChangeID == "" {
		t.Fatalf("Begin = %+v, %v; want the entry and the store's error", e, err)
	}
	c, err := newJournal(t, mem).Change(t.Context(), e.ChangeID)
	if err != nil || c.Started.Hash != e.Hash {
		t.Errorf("Change(%q) = %+v, %v; want the entry Begin returned", e.ChangeID, c, err)
	}
}

func TestJournalCancelled(t *testing.T) {
	t.Parallel()
	j := newJournal(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := j.Begin(ctx, "c", ann, grantOp("group:10:member", "user:2")); !errors.Is(err, context.Canceled) {
		t.Errorf("Begin with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := j.Verify(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestJournalConcurrent appends hundreds of changes at once through one
// Journal, then through two and four Journals over one store (processes),
// the last with the scheduler run between each read of the head and the
// append after it, so that appends conflict often: the chain stays linear
// and valid, and every change is there exactly once.
func TestJournalConcurrent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		journals int
		yield    bool
	}{{1, false}, {2, false}, {4, true}} {
		journals := tc.journals
		t.Run(fmt.Sprintf("%d journals yield %v", journals, tc.yield), func(t *testing.T) {
			t.Parallel()
			var conflicts atomic.Int64
			store := &hookStore{JournalStore: provision.NewMemoryJournalStore()}
			store.afterAppend = func(err error) {
				if errors.Is(err, provision.ErrJournalConflict) {
					conflicts.Add(1)
				}
			}
			if tc.yield {
				store.afterHead = runtime.Gosched
			}
			js := make([]*provision.Journal, journals)
			for i := range js {
				js[i] = newJournal(t, store)
			}
			const n = 300
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					j := js[i%journals]
					id := fmt.Sprintf("c-%d", i)
					if _, err := j.Begin(t.Context(), id, ann, grantOp("group:10:member", fmt.Sprintf("user:%d", i+1))); err != nil {
						t.Errorf("Begin %s: %v", id, err)
						return
					}
					if _, err := js[(i+1)%journals].Finish(t.Context(), id, provision.JournalOutcome{Status: "granted"}); err != nil {
						t.Errorf("Finish %s: %v", id, err)
					}
				})
			}
			wg.Wait()
			t.Logf("%d appends conflicted and were retried", conflicts.Load())
			rep, err := js[0].Verify(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Entries != 2*n || rep.Unfinished != 0 {
				t.Errorf("Verify = %+v, want %d entries and none unfinished", rep, 2*n)
			}
			per := map[string]int{}
			for _, e := range readAll(t, js[0]) {
				per[e.ChangeID+" "+string(e.Kind)]++
			}
			for i := range n {
				for _, k := range []string{"started", "finished"} {
					if c := per[fmt.Sprintf("c-%d %s", i, k)]; c != 1 {
						t.Errorf("change c-%d has %d %s entries", i, c, k)
					}
				}
			}
		})
	}
}
