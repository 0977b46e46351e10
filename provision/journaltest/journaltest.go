package journaltest

import (
	"crypto/sha256"
	"encoding/hex"
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
