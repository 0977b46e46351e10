package review_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/review"
)

// Item IDs of baseSpec's campaign over the test account.
const (
	itemBobStaff   = 1 // custom_role:7:assigned@user:2, fallback ciso
	itemAnnSupport = 2 // group:10:member@user:1, sue
	itemBobSupport = 3 // group:10:member@user:2, sue
	itemBobBilling = 4 // group:11:member@user:2, bill
	itemCatBilling = 5 // group:11:member@user:3, bill
	itemAnnAcme    = 6 // organization:20:member@user:1, ciso (self-review)
	itemDanAcme    = 7 // organization:20:member@user:4, ann
)

// TestDecide: decisions are durable, attributed and timestamped, can be
// changed until the campaign closes, and the history keeps every one.
func TestDecide(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		c, err := st.Create(ctx, snap, baseSpec())
		if err != nil {
			t.Fatal(err)
		}
		decide(t, c, itemBobBilling, "bill@example.com", review.Certify, "")
		decide(t, c, itemAnnSupport, "sue@example.com", review.Revoke, "left support in January")
		it, _ := c.Item(ctx, itemAnnSupport)
		if it.Outcome.State != review.Revoked || it.Outcome.By != "decision" || it.Remediation.Status != review.RemediationPending {
			t.Errorf("after a revoke: %+v, %+v", it.Outcome, it.Remediation)
		}
		// Sue changes her mind.
		decide(t, c, itemAnnSupport, "sue@example.com", review.Certify, "still covers weekends")

		it, _ = c.Item(ctx, itemAnnSupport)
		a := it.Reviewers[0]
		if it.Outcome.State != review.Certified || it.Remediation.Status != review.RemediationNone ||
			a.Verdict != review.Certify || a.Justification != "still covers weekends" || a.DecidedAt.IsZero() {
			t.Errorf("after the change: outcome %+v, remediation %+v, assignment %+v", it.Outcome, it.Remediation, a)
		}
		var hist []review.DecisionRecord
		for d, err := range c.Decisions(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if d.At.IsZero() || d.Seq == 0 {
				t.Errorf("decision without time or seq: %+v", d)
			}
			d.At, d.Seq = d.At.Truncate(0), 0
			hist = append(hist, review.DecisionRecord{ItemID: d.ItemID, Reviewer: d.Reviewer, Verdict: d.Verdict, Justification: d.Justification})
		}
		want := []review.DecisionRecord{
			{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Certify},
			{ItemID: itemAnnSupport, Reviewer: "sue@example.com", Verdict: review.Revoke, Justification: "left support in January"},
			{ItemID: itemAnnSupport, Reviewer: "sue@example.com", Verdict: review.Certify, Justification: "still covers weekends"},
		}
		if diff := cmp.Diff(want, hist); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		info, _ := c.Info(ctx)
		if info.Progress.Certified != 2 || info.Progress.Undecided != 9 || info.Progress.Revoked != 0 {
			t.Errorf("progress %+v", info.Progress)
		}
		// A reviewer's queue.
		var queue []int64
		for it, err := range c.Items(ctx, &review.ItemFilter{Reviewer: "sue@example.com", Undecided: true}) {
			if err != nil {
				t.Fatal(err)
			}
			queue = append(queue, it.ID)
		}
		if diff := cmp.Diff([]int64{itemBobSupport}, queue); diff != "" {
			t.Errorf("sue's undecided queue (-want +got):\n%s", diff)
		}
	})
}

// TestConsensus: with several reviewers one revoke wins, unless the
// campaign says AllRevoke: then one certify keeps the access.
func TestConsensus(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		for _, tc := range []struct {
			consensus review.Consensus
			steps     []review.Decision
			want      []review.OutcomeState // after each step
		}{
			{review.AnyRevoke, []review.Decision{
				{Reviewer: "x@example.com", Verdict: review.Certify},
				{Reviewer: "y@example.com", Verdict: review.Certify},
				{Reviewer: "x@example.com", Verdict: review.Revoke, Justification: "no longer needed"},
			}, []review.OutcomeState{review.Undecided, review.Certified, review.Revoked}},
			{review.AllRevoke, []review.Decision{
				{Reviewer: "x@example.com", Verdict: review.Revoke, Justification: "no longer needed"},
				{Reviewer: "y@example.com", Verdict: review.Revoke, Justification: "agreed"},
				{Reviewer: "x@example.com", Verdict: review.Certify},
			}, []review.OutcomeState{review.Undecided, review.Revoked, review.Certified}},
		} {
			spec := baseSpec()
			spec.ID = string(tc.consensus)
			spec.Consensus = tc.consensus
			spec.Reviewers = []review.ReviewerRule{{Kind: review.RuleNamed, Reviewers: []string{"x@example.com", "y@example.com"}}}
			c, err := st.Create(ctx, snap, spec)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tc.steps {
				d.ItemID = itemBobBilling
				if err := c.Decide(ctx, d); err != nil {
					t.Fatal(err)
				}
				it, _ := c.Item(ctx, itemBobBilling)
				if it.Outcome.State != tc.want[i] {
					t.Errorf("%s step %d: outcome %q, want %q", tc.consensus, i, it.Outcome.State, tc.want[i])
				}
			}
		}
	})
}

// TestDecisionErrors: a decision on an item not in the campaign, by
// someone who is not its reviewer (the person under review included),
// after close, or without a justification where one is required, is
// refused with a clear error naming it; a batch with one bad decision
// records none.
func TestDecisionErrors(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		spec := baseSpec()
		spec.JustifyCertify = true
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			d    review.Decision
			want error
		}{
			{"unknown item", review.Decision{ItemID: 99, Reviewer: "sue@example.com", Verdict: review.Certify, Justification: "ok"}, review.ErrUnknownItem},
			{"item zero", review.Decision{ItemID: 0, Reviewer: "sue@example.com", Verdict: review.Certify, Justification: "ok"}, review.ErrUnknownItem},
			{"not its reviewer", review.Decision{ItemID: itemBobBilling, Reviewer: "sue@example.com", Verdict: review.Certify, Justification: "ok"}, review.ErrNotReviewer},
			{"own access", review.Decision{ItemID: itemAnnAcme, Reviewer: "ann@example.com", Verdict: review.Certify, Justification: "mine"}, review.ErrNotReviewer},
			{"revoke without justification", review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Revoke, Justification: "  "}, review.ErrJustificationRequired},
			{"certify without justification", review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Certify}, review.ErrJustificationRequired},
			{"unknown verdict", review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: "approve", Justification: "ok"}, review.ErrInvalidDecision},
			{"no reviewer", review.Decision{ItemID: itemBobBilling, Verdict: review.Certify, Justification: "ok"}, review.ErrInvalidDecision},
			{"control characters", review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Certify, Justification: "ok\x00"}, review.ErrInvalidDecision},
		} {
			err := c.Decide(ctx, tc.d)
			var de *review.DecisionError
			if !errors.Is(err, tc.want) || !errors.As(err, &de) || de.ItemID != tc.d.ItemID || de.Index != 0 {
				t.Errorf("%s: %v, want %v in a *DecisionError", tc.name, err, tc.want)
			}
		}

		// All or nothing: the third of four is bad.
		batch := []review.Decision{
			{ItemID: itemAnnSupport, Reviewer: "sue@example.com", Verdict: review.Certify, Justification: "ok"},
			{ItemID: itemBobSupport, Reviewer: "sue@example.com", Verdict: review.Revoke, Justification: "moved"},
			{ItemID: itemCatBilling, Reviewer: "sue@example.com", Verdict: review.Certify, Justification: "ok"},
			{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Certify, Justification: "ok"},
		}
		err = c.DecideMany(ctx, batch)
		var de *review.DecisionError
		if !errors.As(err, &de) || de.Index != 2 || de.ItemID != itemCatBilling || de.Reviewer != "sue@example.com" || !errors.Is(err, review.ErrNotReviewer) {
			t.Errorf("batch: %v", err)
		}
		if !strings.Contains(err.Error(), "decision 2 (item 5") {
			t.Errorf("the error does not name the decision: %v", err)
		}
		n := 0
		for _, err := range c.Decisions(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		info, _ := c.Info(ctx)
		if n != 0 || info.Progress.Undecided != info.Progress.Items {
			t.Errorf("after refusals: %d decisions recorded, progress %+v", n, info.Progress)
		}
		batch[2].Reviewer = "bill@example.com"
		if err := c.DecideMany(ctx, batch); err != nil {
			t.Fatal(err)
		}

		if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		err = c.Decide(ctx, review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Revoke, Justification: "too late"})
		if !errors.Is(err, review.ErrCampaignClosed) || !errors.As(err, &de) {
			t.Errorf("after close: %v", err)
		}
		if _, err := c.Close(ctx, "auditor@example.com"); !errors.Is(err, review.ErrCampaignClosed) {
			t.Errorf("second close: %v", err)
		}
		if it, _ := c.Item(ctx, itemBobBilling); it.Outcome.State != review.Certified {
			t.Errorf("a refused decision changed the item: %+v", it.Outcome)
		}
	})
}

// TestReassignDelegate: reassignment and delegation carry a reason,
// never make a person review their own access, and a reviewer moved away
// no longer decides.
func TestReassignDelegate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		c, err := st.Create(ctx, snap, baseSpec())
		if err != nil {
			t.Fatal(err)
		}
		decide(t, c, itemBobBilling, "bill@example.com", review.Certify, "")
		ra := review.Reassignment{ItemID: itemBobBilling, From: "bill@example.com", To: "ann@example.com", Reason: "bill is on leave", By: "auditor@example.com"}
		if err := c.Reassign(ctx, ra); err != nil {
			t.Fatal(err)
		}
		it, _ := c.Item(ctx, itemBobBilling)
		if it.Outcome.State != review.Undecided {
			t.Errorf("bill's certify still counts after the reassignment: %+v", it.Outcome)
		}
		if diff := cmp.Diff([]string{"ann@example.com"}, active(it)); diff != "" {
			t.Errorf("active reviewers (-want +got):\n%s", diff)
		}
		moved := it.Reviewers[1]
		if moved.Rule != review.RuleReassigned || moved.Reason != "reassigned from bill@example.com: bill is on leave" || it.Reviewers[0].Active {
			t.Errorf("assignments after reassign: %+v", it.Reviewers)
		}
		err = c.Decide(ctx, review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Certify})
		if !errors.Is(err, review.ErrNotReviewer) || !strings.Contains(err.Error(), "reassigned") {
			t.Errorf("bill after the reassignment: %v", err)
		}
		decide(t, c, itemBobBilling, "ann@example.com", review.Revoke, "not in billing any more")

		for _, tc := range []struct {
			ra   review.Reassignment
			want error
		}{
			{review.Reassignment{ItemID: itemBobSupport, From: "sue@example.com", To: "BOB@example.com", Reason: "x"}, review.ErrSelfReview},
			{review.Reassignment{ItemID: itemBobSupport, From: "sue@example.com", To: bob, Reason: "x"}, review.ErrSelfReview},
			{review.Reassignment{ItemID: itemBobSupport, From: "sue@example.com", To: "ann@example.com"}, review.ErrReasonRequired},
			{review.Reassignment{ItemID: itemBobSupport, From: "bill@example.com", To: "ann@example.com", Reason: "x"}, review.ErrNotReviewer},
			{review.Reassignment{ItemID: 99, From: "sue@example.com", To: "ann@example.com", Reason: "x"}, review.ErrUnknownItem},
		} {
			if err := c.Reassign(ctx, tc.ra); !errors.Is(err, tc.want) {
				t.Errorf("Reassign(%+v): %v, want %v", tc.ra, err, tc.want)
			}
		}

		// The fallback reviewer delegates to dan: dan's own organization
		// stays with the fallback.
		decide(t, c, itemBobStaff, "ciso@example.com", review.Certify, "")
		rep, err := c.Delegate(ctx, review.Delegation{From: "ciso@example.com", To: "dan@example.com", Reason: "vacation", By: "ciso@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		// ciso reviews items 1 (decided), 6 (ann's Acme), 8-11 (roles);
		// item 11 is dan's role.
		want := &review.DelegationReport{Moved: []int64{itemAnnAcme, 8, 9, 10}, KeptSelf: []int64{11}}
		if diff := cmp.Diff(want, rep); diff != "" {
			t.Errorf("delegation (-want +got):\n%s", diff)
		}
		if it, _ := c.Item(ctx, 9); it.Reviewers[len(it.Reviewers)-1].Reason != "delegated by ciso@example.com: vacation" {
			t.Errorf("delegated assignment: %+v", it.Reviewers)
		}
		if _, err := c.Delegate(ctx, review.Delegation{From: "ciso@example.com", To: "dan@example.com"}); !errors.Is(err, review.ErrReasonRequired) {
			t.Errorf("delegation without a reason: %v", err)
		}
		var kinds []string
		for e, err := range c.Events(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, string(e.Kind)+":"+e.From+">"+e.To+":"+e.Reason)
		}
		wantKinds := []string{"created:>:", "reassigned:bill@example.com>ann@example.com:bill is on leave",
			"delegated:ciso@example.com>dan@example.com:vacation", "delegated:ciso@example.com>dan@example.com:vacation", "delegated:ciso@example.com>dan@example.com:vacation", "delegated:ciso@example.com>dan@example.com:vacation"}
		if diff := cmp.Diff(wantKinds, kinds); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := c.Reassign(ctx, review.Reassignment{ItemID: itemBobSupport, From: "sue@example.com", To: "ann@example.com", Reason: "x"}); !errors.Is(err, review.ErrCampaignClosed) {
			t.Errorf("reassign after close: %v", err)
		}
	})
}

// TestClose: at close, undecided items take the campaign's default.
func TestClose(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		for _, tc := range []struct {
			def             review.Default
			want            review.OutcomeState
			defaulted, open int
		}{
			{review.DefaultKeep, review.Certified, 10, 0},
			{review.DefaultRevoke, review.Revoked, 10, 0},
			{review.DefaultOpen, review.Undecided, 0, 10},
		} {
			spec := baseSpec()
			spec.ID = string(tc.def)
			spec.Default = tc.def
			c, err := st.Create(ctx, snap, spec)
			if err != nil {
				t.Fatal(err)
			}
			decide(t, c, itemBobBilling, "bill@example.com", review.Certify, "")
			rep, err := c.Close(ctx, "auditor@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Defaulted != tc.defaulted || rep.Open != tc.open || rep.Remediation != nil {
				t.Errorf("%s: close report %+v", tc.def, rep)
			}
			for _, it := range items(t, c) {
				if it.ID == itemBobBilling {
					if it.Outcome.State != review.Certified || it.Outcome.By != "decision" {
						t.Errorf("%s: the decided item: %+v", tc.def, it.Outcome)
					}
					continue
				}
				if it.Outcome.State != tc.want || (tc.want != review.Undecided && it.Outcome.By != "default") {
					t.Errorf("%s: item %d: %+v", tc.def, it.ID, it.Outcome)
				}
				if tc.want == review.Revoked && it.Remediation.Status != review.RemediationPending {
					t.Errorf("%s: item %d remediation %+v", tc.def, it.ID, it.Remediation)
				}
			}
			info, _ := c.Info(ctx)
			if info.State != review.StateClosed || info.ClosedBy != "auditor@example.com" || info.ClosedAt.IsZero() {
				t.Errorf("%s: info after close %+v", tc.def, info)
			}
			defaults := 0
			for e, err := range c.Events(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Kind == review.EventDefault {
					defaults++
				}
			}
			if defaults != tc.defaulted {
				t.Errorf("%s: %d default events, want %d", tc.def, defaults, tc.defaulted)
			}
		}
	})
}
