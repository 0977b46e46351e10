package journaltest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/provision"
)

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
