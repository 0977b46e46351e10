package journaltest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/provision"
)

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
