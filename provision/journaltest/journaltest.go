package journaltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zgov-io/zgov/provision"
)

// Run runs the conformance suite as subtests of t. newStore must return a
// new, empty store on every call; it may register cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) provision.JournalStore) {
	t.Helper()
	if newStore == nil {
		t.Fatal("journaltest: newStore is nil")
	}
	s := &suite{newStore: newStore}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Empty", s.testEmpty},
		{"AppendFollowsHead", s.testAppendFollowsHead},
		{"AppendConflict", s.testAppendConflict},
		{"AppendBatch", s.testAppendBatch},
		{"EntriesRange", s.testEntriesRange},
		{"RoundTrip", s.testRoundTrip},
		{"NoAliasing", s.testNoAliasing},
		{"ChangeEntries", s.testChangeEntries},
		{"Unfinished", s.testUnfinished},
		{"CancelledContext", s.testCancelled},
		{"ConcurrentAppends", s.testConcurrentAppends},
		{"JournalConcurrentChanges", s.testJournalConcurrent},
		{"JournalSameChangeOnce", s.testJournalSameChange},
		{"JournalVerifyAndExport", s.testJournalVerify},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	newStore func(t *testing.T) provision.JournalStore
}

func (s *suite) store(t *testing.T) provision.JournalStore {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("newStore returned nil")
	}
	return st
}

// base is the time of the suite's entries: no test reads the real clock.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

// clock returns a clock that advances one second per call, safe for
// concurrent use.
func clock() func() time.Time {
	var mu sync.Mutex
	now := base
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

// fakeHash returns a well-formed hash for a raw entry. Stores do not check
// hashes, so the suite's raw entries carry hashes of their identity.
func fakeHash(seq int64, changeID string, kind provision.JournalEntryKind) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%s", seq, changeID, kind))
	return hex.EncodeToString(sum[:])
}

// raw returns a valid-looking entry at seq after prev.
func raw(seq int64, prev, changeID string, kind provision.JournalEntryKind) provision.JournalEntry {
	e := provision.JournalEntry{
		Seq:      seq,
		Time:     base.Add(time.Duration(seq) * time.Second),
		Kind:     kind,
		ChangeID: changeID,
		Actor:    provision.JournalActor{Who: "journaltest", Reason: "conformance"},
		Op:       provision.JournalOp{Name: provision.JournalOpGrant, EntitlementID: "group:1:member", PrincipalID: "user:1"},
		PrevHash: prev,
	}
	if kind == provision.JournalFinished {
		e.Outcome = &provision.JournalOutcome{Status: "granted", GrantID: "group:1:member@user:1"}
	}
	e.Hash = fakeHash(seq, changeID, kind)
	return e
}

// chain returns n raw started entries after head, of changes named
// prefix-seq.
func chain(head provision.JournalHead, n int, prefix string) []provision.JournalEntry {
	var out []provision.JournalEntry
	for range n {
		e := raw(head.Seq+1, head.Hash, fmt.Sprintf("%s-%d", prefix, head.Seq+1), provision.JournalStarted)
		head = e.Head()
		out = append(out, e)
	}
	return out
}

var entryOpts = cmp.Options{cmpopts.EquateEmpty()}

func mustAppend(t *testing.T, st provision.JournalStore, es ...provision.JournalEntry) {
	t.Helper()
	if err := st.Append(t.Context(), es...); err != nil {
		t.Fatalf("Append(seq %d..): %v", es[0].Seq, err)
	}
}

func head(t *testing.T, st provision.JournalStore) provision.JournalHead {
	t.Helper()
	h, err := st.Head(t.Context())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

func entries(t *testing.T, st provision.JournalStore, from int64, limit int) []provision.JournalEntry {
	t.Helper()
	es, err := st.Entries(t.Context(), from, limit)
	if err != nil {
		t.Fatalf("Entries(%d, %d): %v", from, limit, err)
	}
	return es
}

// all returns every entry, read in pages of 7.
func all(t *testing.T, st provision.JournalStore) []provision.JournalEntry {
	t.Helper()
	var out []provision.JournalEntry
	for from := int64(1); ; {
		page := entries(t, st, from, 7)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		from = page[len(page)-1].Seq + 1
	}
}

func seqs(es []provision.JournalEntry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func (s *suite) testEmpty(t *testing.T) {
	st := s.store(t)
	if h := head(t, st); h != (provision.JournalHead{}) {
		t.Errorf("Head of an empty store = %v, want the zero head", h)
	}
	if es := entries(t, st, 1, 10); len(es) != 0 {
		t.Errorf("Entries of an empty store = %v", seqs(es))
	}
	if es, err := st.ChangeEntries(t.Context(), "nope"); err != nil || len(es) != 0 {
		t.Errorf("ChangeEntries(unknown) = %v, %v; want none, nil", seqs(es), err)
	}
	if es, err := st.Unfinished(t.Context()); err != nil || len(es) != 0 {
		t.Errorf("Unfinished of an empty store = %v, %v; want none, nil", seqs(es), err)
	}
	if err := st.Append(t.Context()); err != nil {
		t.Errorf("Append() with no entries = %v, want nil", err)
	}
}

func (s *suite) testAppendFollowsHead(t *testing.T) {
	st := s.store(t)
	es := chain(provision.JournalHead{}, 3, "a")
	for _, e := range es {
		mustAppend(t, st, e)
		if h := head(t, st); h != e.Head() {
			t.Fatalf("Head after appending seq %d = %v, want %v", e.Seq, h, e.Head())
		}
	}
	if diff := cmp.Diff(es, all(t, st), entryOpts); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func wantConflict(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, provision.ErrJournalConflict) {
		t.Errorf("%s: Append = %v, want an error wrapping ErrJournalConflict", what, err)
	}
}

func (s *suite) testAppendConflict(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	first := raw(1, "", "a", provision.JournalStarted)

	wantConflict(t, st.Append(ctx, raw(2, first.Hash, "b", provision.JournalStarted)), "seq 2 on an empty store")
	wantConflict(t, st.Append(ctx, raw(1, first.Hash, "b", provision.JournalStarted)), "seq 1 with a prev_hash on an empty store")
	wantConflict(t, st.Append(ctx, raw(0, "", "b", provision.JournalStarted)), "seq 0 on an empty store")
	if h := head(t, st); h != (provision.JournalHead{}) {
		t.Fatalf("refused appends changed the head to %v", h)
	}

	mustAppend(t, st, first)
	wantConflict(t, st.Append(ctx, raw(1, "", "b", provision.JournalStarted)), "seq 1 again (a writer that read the empty head)")
	wantConflict(t, st.Append(ctx, raw(2, fakeHash(9, "x", "started"), "b", provision.JournalStarted)), "seq 2 with another prev_hash")
	wantConflict(t, st.Append(ctx, raw(2, "", "b", provision.JournalStarted)), "seq 2 without prev_hash")
	wantConflict(t, st.Append(ctx, raw(3, first.Hash, "b", provision.JournalStarted)), "seq 3 after seq 1")
	if h := head(t, st); h != first.Head() {
		t.Errorf("head after refused appends = %v, want %v", h, first.Head())
	}
	if diff := cmp.Diff([]provision.JournalEntry{first}, all(t, st), entryOpts); diff != "" {
		t.Errorf("refused appends changed the entries (-want +got):\n%s", diff)
	}
}

func (s *suite) testAppendBatch(t *testing.T) {
	st := s.store(t)
	ctx := t.Context()
	es := chain(provision.JournalHead{}, 5, "a")
	mustAppend(t, st, es[:3]...)
	mustAppend(t, st, es[3:]...)
	h := es[4].Head()

	next := chain(h, 3, "b")
	gap := []provision.JournalEntry{next[0], next[2]}
	if err := st.Append(ctx, gap...); err == nil || errors.Is(err, provision.ErrJournalConflict) {
		t.Errorf("Append of a batch with a gap = %v, want an error that is not ErrJournalConflict", err)
	}
	broken := []provision.JournalEntry{next[0], next[1]}
	broken[1].PrevHash = fakeHash(99, "z", "started")
	if err := st.Append(ctx, broken...); err == nil || errors.Is(err, provision.ErrJournalConflict) {
		t.Errorf("Append of a batch whose second entry does not link = %v, want an error that is not ErrJournalConflict", err)
	}
	stale := chain(es[2].Head(), 2, "c")
	wantConflict(t, st.Append(ctx, stale...), "a batch after an old head")

	if got := head(t, st); got != h {
		t.Errorf("head after refused batches = %v, want %v (batches are all or none)", got, h)
	}
	if diff := cmp.Diff(es, all(t, st), entryOpts); diff != "" {
		t.Errorf("entries after refused batches (-want +got):\n%s", diff)
	}
}

func (s *suite) testEntriesRange(t *testing.T) {
	st := s.store(t)
	es := chain(provision.JournalHead{}, 10, "a")
	mustAppend(t, st, es...)
	for _, tc := range []struct {
		from  int64
		limit int
		want  []int64
	}{
		{1, 3, []int64{1, 2, 3}},
		{0, 2, []int64{1, 2}},
		{-5, 1, []int64{1}},
		{4, 100, []int64{4, 5, 6, 7, 8, 9, 10}},
		{8, 3, []int64{8, 9, 10}},
		{10, 1, []int64{10}},
		{11, 5, []int64{}},
		{1000, 5, []int64{}},
	} {
		if got := seqs(entries(t, st, tc.from, tc.limit)); !cmp.Equal(tc.want, got) {
			t.Errorf("Entries(%d, %d) = seqs %v, want %v", tc.from, tc.limit, got, tc.want)
		}
	}
}

// rich returns entries that use every field, with text that tests a store's
// fidelity: non-ASCII, control characters, quotes, an emoji, a time zone.
func rich() []provision.JournalEntry {
	paris := time.FixedZone("CET", 3600)
	a := raw(1, "", "rich/1", provision.JournalStarted)
	a.Time = time.Date(2026, 12, 31, 23, 59, 59, 999999000, paris)
	a.Actor = provision.JournalActor{Who: "Zoë <zoe@example.com>", Reason: "line 1\nline 2\t\"quoted\" \\ ☃ 😀 \u2028", Source: "ticket:JIRA-1"}
	a.Op = provision.JournalOp{Name: provision.JournalOpCreateAccount, Email: "zoe@example.com", Role: "agent", Params: map[string]string{"external_id": "E-1", "name": "Zoë"}}
	b := raw(2, a.Hash, "rich/1", provision.JournalFinished)
	b.Actor, b.Op = a.Actor, a.Op
	b.Outcome = &provision.JournalOutcome{
		Status:      "incomplete",
		GrantID:     "group:1:member@user:1",
		PrincipalID: "user:1",
		Added:       []string{"role:agent:assigned@user:1", "group:2:member@user:1"},
		Replaced:    []string{"organization:3:member@user:1"},
		Note:        "promoted first\x00\x7f",
		RequestIDs:  []string{"req-1", "req-2"},
		Error:       "zendesk: PUT /api/v2/users/1: 503",
		ErrorClass:  "zendesk_api",
		Params:      map[string]string{"matched_by": "email"},
	}
	c := raw(3, b.Hash, "rich/2", provision.JournalStarted)
	c.Op = provision.JournalOp{Name: provision.JournalOpDeprovision, PrincipalID: "user:1", Step: "permanent_delete"}
	return []provision.JournalEntry{a, b, c}
}

func (s *suite) testRoundTrip(t *testing.T) {
	st := s.store(t)
	es := rich()
	mustAppend(t, st, es[0])
	mustAppend(t, st, es[1:]...)
	if diff := cmp.Diff(es, all(t, st), entryOpts); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
	got, err := st.ChangeEntries(t.Context(), "rich/1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es[:2], got, entryOpts); diff != "" {
		t.Errorf("ChangeEntries (-want +got):\n%s", diff)
	}
	un, err := st.Unfinished(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es[2:], un, entryOpts); diff != "" {
		t.Errorf("Unfinished (-want +got):\n%s", diff)
	}
}

func (s *suite) testNoAliasing(t *testing.T) {
	st := s.store(t)
	es := rich()
	want := rich()
	mustAppend(t, st, es...)
	// The caller changes what it appended...
	es[0].Op.Params["name"] = "changed"
	es[1].Outcome.Added[0] = "changed"
	es[1].Outcome.Status = "changed"
	// ...and what it read.
	got := all(t, st)
	got[0].Op.Params["name"] = "changed"
	got[1].Outcome.Replaced[0] = "changed"
	got[1].Outcome.Params["matched_by"] = "changed"
	got[1].Outcome.RequestIDs[0] = "changed"
	if diff := cmp.Diff(want, all(t, st), entryOpts); diff != "" {
		t.Errorf("the store shares memory with its callers (-want +got):\n%s", diff)
	}
}

func (s *suite) testChangeEntries(t *testing.T) {
	st := s.store(t)
	var es []provision.JournalEntry
	var h provision.JournalHead
	add := func(id string, kind provision.JournalEntryKind) {
		e := raw(h.Seq+1, h.Hash, id, kind)
		mustAppend(t, st, e)
		es = append(es, e)
		h = e.Head()
	}
	add("a", provision.JournalStarted)
	add("b", provision.JournalStarted)
	add("c", provision.JournalStarted)
	add("b", provision.JournalFinished)
	add("a", provision.JournalFinished)
	for id, want := range map[string][]provision.JournalEntry{
		"a": {es[0], es[4]},
		"b": {es[1], es[3]},
		"c": {es[2]},
		"d": nil,
		"A": nil, // change IDs are case-sensitive
	} {
		got, err := st.ChangeEntries(t.Context(), id)
		if err != nil {
			t.Fatalf("ChangeEntries(%q): %v", id, err)
		}
		if diff := cmp.Diff(want, got, entryOpts); diff != "" {
			t.Errorf("ChangeEntries(%q) (-want +got):\n%s", id, diff)
		}
	}
}

func (s *suite) testUnfinished(t *testing.T) {
	st := s.store(t)
	var h provision.JournalHead
	add := func(id string, kind provision.JournalEntryKind) {
		e := raw(h.Seq+1, h.Hash, id, kind)
		mustAppend(t, st, e)
		h = e.Head()
	}
	check := func(want ...string) {
		t.Helper()
		es, err := st.Unfinished(t.Context())
		if err != nil {
			t.Fatalf("Unfinished: %v", err)
		}
		got := []string{}
		for _, e := range es {
			if e.Kind != provision.JournalStarted {
				t.Errorf("Unfinished returned a %s entry (seq %d)", e.Kind, e.Seq)
			}
			got = append(got, e.ChangeID)
		}
		if want == nil {
			want = []string{}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Unfinished change IDs in seq order (-want +got):\n%s", diff)
		}
	}
	add("c", provision.JournalStarted)
	add("a", provision.JournalStarted)
	add("b", provision.JournalStarted)
	check("c", "a", "b")
	add("a", provision.JournalFinished)
	check("c", "b")
	add("c", provision.JournalFinished)
	add("b", provision.JournalFinished)
	check()
	add("d", provision.JournalStarted)
	check("d")
}

func (s *suite) testCancelled(t *testing.T) {
	st := s.store(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.Append(ctx, raw(1, "", "a", provision.JournalStarted)); err == nil {
		t.Error("Append with a cancelled context succeeded")
	}
	if h := head(t, st); h != (provision.JournalHead{}) {
		t.Errorf("Append with a cancelled context appended: head %v", h)
	}
}

// appendLoop appends a started entry of change id by compare-and-swap, as
// a writer in another process would: read the head, append after it, and
// on a conflict read it again.
func appendLoop(ctx context.Context, st provision.JournalStore, id string) error {
	for {
		h, err := st.Head(ctx)
		if err != nil {
			return err
		}
		err = st.Append(ctx, raw(h.Seq+1, h.Hash, id, provision.JournalStarted))
		if !errors.Is(err, provision.ErrJournalConflict) {
			return err
		}
	}
}

func (s *suite) testConcurrentAppends(t *testing.T) {
	st := s.store(t)
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := appendLoop(t.Context(), st, fmt.Sprintf("w%d-%d", w, i)); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	es := all(t, st)
	if len(es) != writers*each {
		t.Fatalf("%d entries after %d appends", len(es), writers*each)
	}
	seen := map[string]int{}
	var prev provision.JournalHead
	for _, e := range es {
		if e.Seq != prev.Seq+1 || e.PrevHash != prev.Hash {
			t.Fatalf("entry %d (prev_hash %.12s) does not follow entry %d (hash %.12s): the chain forked", e.Seq, e.PrevHash, prev.Seq, prev.Hash)
		}
		seen[e.ChangeID]++
		prev = e.Head()
	}
	for w := range writers {
		for i := range each {
			if id := fmt.Sprintf("w%d-%d", w, i); seen[id] != 1 {
				t.Errorf("change %s appended %d times, want once", id, seen[id])
			}
		}
	}
	if h := head(t, st); h != prev {
		t.Errorf("Head = %v, last entry %v", h, prev)
	}
}

// journals returns two Journals over one store, as two processes would
// have.
func (s *suite) journals(t *testing.T) (provision.JournalStore, [2]*provision.Journal) {
	t.Helper()
	st := s.store(t)
	var js [2]*provision.Journal
	tick := clock()
	for i := range js {
		j, err := provision.NewJournal(st, provision.WithJournalClock(tick))
		if err != nil {
			t.Fatal(err)
		}
		js[i] = j
	}
	return st, js
}

var actor = provision.JournalActor{Who: "journaltest", Source: "plan:conformance"}

func op(i int) provision.JournalOp {
	return provision.JournalOp{Name: provision.JournalOpGrant, EntitlementID: fmt.Sprintf("group:%d:member", i%7+1), PrincipalID: fmt.Sprintf("user:%d", i+1)}
}

func (s *suite) testJournalConcurrent(t *testing.T) {
	st, js := s.journals(t)
	const n = 150
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			j := js[i%2]
			e, err := j.Begin(t.Context(), fmt.Sprintf("change-%d", i), actor, op(i))
			if err != nil {
				t.Errorf("Begin %d: %v", i, err)
				return
			}
			if _, err := js[(i+1)%2].Finish(t.Context(), e.ChangeID, provision.JournalOutcome{Status: "granted"}); err != nil {
				t.Errorf("Finish %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	es := all(t, st)
	if len(es) != 2*n {
		t.Fatalf("%d entries, want %d", len(es), 2*n)
	}
	count := map[string]int{}
	for _, e := range es {
		count[e.ChangeID+"/"+string(e.Kind)]++
	}
	for i := range n {
		for _, k := range []string{"started", "finished"} {
			if c := count[fmt.Sprintf("change-%d/%s", i, k)]; c != 1 {
				t.Errorf("change-%d has %d %s entries, want 1", i, c, k)
			}
		}
	}
	for i, j := range js {
		rep, err := j.Verify(t.Context())
		if err != nil {
			t.Fatalf("Verify through journal %d: %v", i, err)
		}
		if rep.Entries != 2*n || rep.Unfinished != 0 {
			t.Errorf("Verify through journal %d = %+v, want %d entries and none unfinished", i, rep, 2*n)
		}
	}
	if un, err := js[0].Unfinished(t.Context()); err != nil || len(un) != 0 {
		t.Errorf("Unfinished = %v, %v; want none", seqs(un), err)
	}
}

func (s *suite) testJournalSameChange(t *testing.T) {
	st, js := s.journals(t)
	const racers = 20
	race := func(what string, call func(j *provision.Journal) error, loser error) {
		t.Helper()
		var mu sync.Mutex
		won := 0
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				err := call(js[i%2])
				switch {
				case err == nil:
					mu.Lock()
					won++
					mu.Unlock()
				case !errors.Is(err, loser):
					t.Errorf("%s: %v, want nil or %v", what, err, loser)
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%s by %d at once: %d succeeded, want exactly 1", what, racers, won)
		}
	}
	for k := range 5 {
		id := fmt.Sprintf("plan-7/item-%d", k)
		race("Begin "+id, func(j *provision.Journal) error {
			_, err := j.Begin(t.Context(), id, actor, op(k))
			return err
		}, provision.ErrJournalDuplicateChange)
		race("Finish "+id, func(j *provision.Journal) error {
			_, err := j.Finish(t.Context(), id, provision.JournalOutcome{Status: "granted"})
			return err
		}, provision.ErrJournalChangeFinished)
	}
	if es := all(t, st); len(es) != 10 {
		t.Errorf("%d entries, want 10 (5 changes, each begun and finished once)", len(es))
	}
	if _, err := js[0].Verify(t.Context()); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func (s *suite) testJournalVerify(t *testing.T) {
	_, js := s.journals(t)
	j := js[0]
	ctx := t.Context()
	a := provision.JournalActor{Who: "Zoë", Reason: "line 1\nline 2 \"☃\" 😀", Source: "review:2026-q1/item-3"}
	e, err := j.Begin(ctx, "", a, provision.JournalOp{Name: provision.JournalOpCreateAccount, Email: "zoe@example.com", Params: map[string]string{"external_id": "E-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Finish(ctx, e.ChangeID, provision.JournalOutcome{Status: "created", PrincipalID: "user:9", Added: []string{"role:agent:assigned@user:9"}, Note: "tab\there \x01", RequestIDs: []string{"r-1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(ctx, "deprovision/user:9", a, provision.JournalOp{Name: provision.JournalOpDeprovision, PrincipalID: "user:9", Step: "suspend"}); err != nil {
		t.Fatal(err)
	}
	rep, err := j.Verify(ctx)
	if err != nil {
		t.Fatalf("Verify: %v (a field the store did not keep exactly breaks its entry's hash)", err)
	}
	want := &provision.JournalReport{Entries: 3, Head: rep.Head, Unfinished: 1}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("Verify report (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := js[1].ExportJSONL(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	rep2, err := provision.VerifyJSONL(&buf, rep.Head)
	if err != nil {
		t.Fatalf("VerifyJSONL of the export: %v", err)
	}
	if rep2.Head != rep.Head || rep2.Anchors != 1 {
		t.Errorf("VerifyJSONL = %+v, want head %v and the anchor found", rep2, rep.Head)
	}
}
