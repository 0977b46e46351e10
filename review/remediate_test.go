package review_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// trickyBackend fails some revokes and only pretends others.
type trickyBackend struct {
	*failingBackend
	lie map[string]bool
}

func (b *trickyBackend) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	if b.lie[req.GrantID()] {
		return access.RevokeResult{Status: access.StatusRevoked}, nil
	}
	return b.failingBackend.Revoke(ctx, req)
}

// holds reports whether the backend holds grant.
func holds(t testing.TB, sys *access.System, grant string) bool {
	t.Helper()
	_, pid, _ := strings.Cut(grant, "@")
	gs, err := sys.GrantsFor(t.Context(), pid)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == grant })
}

// TestRemediateAtClose: revokes are carried out at close through
// provision (journal, guards), each item gets its status (done, failed
// with the error, manual naming the guard), and each is verified by
// re-reading the principal's access: the re-read's time and result are
// the proof. A second run retries what failed, under new journal IDs.
func TestRemediateAtClose(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		mem, _, snap := testSystem(t)
		b := &trickyBackend{failingBackend: &failingBackend{Backend: mem, fail: map[string]bool{"custom_role:7:assigned@user:2": true}},
			lie: map[string]bool{"group:11:member@user:3": true}}
		sys, err := access.NewSystem(b)
		if err != nil {
			t.Fatal(err)
		}
		j := openJournal(t, dsn)
		r := &review.Remediator{System: sys, Journal: j, Who: "svc:review", Guards: provision.Guards{Protected: []string{dan}}}
		st := openStore(t, dsn, review.WithRemediator(r))
		c, err := st.Create(ctx, snap, baseSpec())
		if err != nil {
			t.Fatal(err)
		}
		revoke := []review.Decision{
			{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Revoke, Justification: "left billing"},
			{ItemID: itemCatBilling, Reviewer: "bill@example.com", Verdict: review.Revoke, Justification: "suspended"},
			{ItemID: itemDanAcme, Reviewer: "ann@example.com", Verdict: review.Revoke, Justification: "not a customer"},
			{ItemID: itemBobStaff, Reviewer: "ciso@example.com", Verdict: review.Revoke, Justification: "no longer staff"},
		}
		if err := c.DecideMany(ctx, revoke); err != nil {
			t.Fatal(err)
		}
		// At close, not before.
		if it, _ := c.Item(ctx, itemBobBilling); it.Remediation.Status != review.RemediationPending || !holds(t, sys, "group:11:member@user:2") {
			t.Fatalf("remediated before close: %+v", it.Remediation)
		}
		rep, err := c.Close(ctx, "auditor@example.com")
		if err != nil {
			t.Fatal(err)
		}
		want := &review.RemediationReport{Items: 4, Done: 1, Failed: 2, Manual: 1, Revokes: 4, Verify: review.VerifyGrantsFor}
		got := *rep.Remediation
		got.Requests, got.VerifyRequests = 0, 0
		if diff := cmp.Diff(want, &got); diff != "" {
			t.Errorf("remediation at close (-want +got):\n%s", diff)
		}

		done, _ := c.Item(ctx, itemBobBilling)
		v := done.Remediation.Verification
		if done.Remediation.Status != review.RemediationDone || v == nil || !v.Verified || v.At.IsZero() || v.Method != review.VerifyGrantsFor ||
			!strings.Contains(v.Result, "re-read of user:2") {
			t.Errorf("bob's Billing: %+v, verification %+v", done.Remediation, v)
		}
		if g := done.Grants[0].Remediation; g == nil || g.JournalID != "review/q1/4" || g.State != string(provision.StateApplied) || g.Status != "revoked" {
			t.Errorf("bob's Billing grant: %+v", g)
		}
		if holds(t, sys, "group:11:member@user:2") {
			t.Error("bob still holds Billing")
		}
		ch, err := j.Change(ctx, "review/q1/4")
		if err != nil || !ch.Done() || ch.Started.Actor.Source != "review:q1" || ch.Started.Actor.Who != "svc:review" || ch.Finished.Outcome.Status != "revoked" {
			t.Errorf("journal of review/q1/4: %+v, %v", ch, err)
		}

		lied, _ := c.Item(ctx, itemCatBilling)
		if lied.Remediation.Status != review.RemediationFailed || lied.Remediation.Verification == nil || lied.Remediation.Verification.Verified ||
			!slices.Equal(lied.Remediation.Verification.Held, []string{"group:11:member@user:3"}) || !strings.Contains(lied.Remediation.Error, "still held") {
			t.Errorf("cat's Billing (the backend lied): %+v", lied.Remediation)
		}
		failed, _ := c.Item(ctx, itemBobStaff)
		if failed.Remediation.Status != review.RemediationFailed || !strings.Contains(failed.Remediation.Error, errBackend.Error()) {
			t.Errorf("bob's Staff (the backend failed): %+v", failed.Remediation)
		}
		manual, _ := c.Item(ctx, itemDanAcme)
		if manual.Remediation.Status != review.RemediationManual || manual.Remediation.Guard != string(provision.GuardProtectedList) {
			t.Errorf("dan's Acme (protected): %+v", manual.Remediation)
		}
		if !holds(t, sys, "organization:20:member@user:4") {
			t.Error("a protected principal lost access")
		}
		// A remediated item's decision is final.
		err = c.Decide(ctx, review.Decision{ItemID: itemBobBilling, Reviewer: "bill@example.com", Verdict: review.Certify})
		if !errors.Is(err, review.ErrCampaignClosed) {
			t.Errorf("decision after close and remediation: %v", err)
		}

		// The backend recovers: a second run retries the failed items with
		// new journal IDs, leaves the done one alone.
		b.lie, b.fail = nil, nil
		before := mem.Requests()
		rep2, err := c.Remediate(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if rep2.Items != 3 || rep2.Done != 2 || rep2.Manual != 1 || rep2.Revokes != 3 {
			t.Errorf("second run: %+v", rep2)
		}
		if mem.Requests() == before {
			t.Error("the second run sent no request")
		}
		for _, id := range []string{"review/q1/5~2", "review/q1/1~2"} {
			if ch, err := j.Change(ctx, id); err != nil || !ch.Done() {
				t.Errorf("journal %s: %+v, %v", id, ch, err)
			}
		}
		if holds(t, sys, "group:11:member@user:3") || holds(t, sys, "custom_role:7:assigned@user:2") {
			t.Error("access remains after the second run")
		}
		info, _ := c.Info(ctx)
		if diff := cmp.Diff(map[review.RemediationStatus]int{review.RemediationDone: 3, review.RemediationManual: 1}, info.Progress.Remediation); diff != "" {
			t.Errorf("remediation progress (-want +got):\n%s", diff)
		}
		n := 0
		for e, err := range c.Events(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == review.EventRemediated {
				n++
			}
		}
		if n != 7 {
			t.Errorf("%d remediation events, want 7 (4 then 3)", n)
		}
	})
}

// TestRemediateOnDecision: with RemediateOnDecision a revoke is carried
// out as soon as it is decided; the decision can then not be changed.
func TestRemediateOnDecision(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, sys, snap := testSystem(t)
		j := openJournal(t, dsn)
		st := openStore(t, dsn, review.WithRemediator(&review.Remediator{System: sys, Journal: j}))
		spec := baseSpec()
		spec.Remediate = review.RemediateOnDecision
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		decide(t, c, itemBobSupport, "sue@example.com", review.Revoke, "moved to billing")
		it, _ := c.Item(ctx, itemBobSupport)
		if it.Remediation.Status != review.RemediationDone || holds(t, sys, "group:10:member@user:2") {
			t.Errorf("not remediated on decision: %+v", it.Remediation)
		}
		err = c.Decide(ctx, review.Decision{ItemID: itemBobSupport, Reviewer: "sue@example.com", Verdict: review.Certify})
		if !errors.Is(err, review.ErrRemediationStarted) {
			t.Errorf("changing a carried-out revoke: %v", err)
		}
		if err := c.Reassign(ctx, review.Reassignment{ItemID: itemBobSupport, From: "sue@example.com", To: "ann@example.com", Reason: "x"}); !errors.Is(err, review.ErrRemediationStarted) {
			t.Errorf("reassigning a carried-out revoke: %v", err)
		}
		// A certify is not remediated.
		decide(t, c, itemAnnSupport, "sue@example.com", review.Certify, "")
		if it, _ := c.Item(ctx, itemAnnSupport); it.Remediation.Status != review.RemediationNone {
			t.Errorf("a certified item: %+v", it.Remediation)
		}
	})
}

// TestRemediateBlastRadius: a blast-radius cap refuses the whole run; its
// items are manual, naming the guard, and nothing changes; with the cap
// raised they are carried out.
func TestRemediateBlastRadius(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, sys, snap := testSystem(t)
		j := openJournal(t, dsn)
		st := openStore(t, dsn)
		spec := baseSpec()
		spec.Default = review.DefaultRevoke
		spec.Scope = review.Scope{ResourceTypes: []string{"group", "organization"}}
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		r := &review.Remediator{System: sys, Journal: j, Guards: provision.Guards{MaxDestructive: 2}}
		rep, err := c.Remediate(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Manual != 6 || rep.Done != 0 {
			t.Errorf("capped run: %+v", rep)
		}
		it, _ := c.Item(ctx, 1)
		if it.Remediation.Status != review.RemediationManual || it.Remediation.Guard != string(provision.GuardBlastRadius) {
			t.Errorf("capped item: %+v", it.Remediation)
		}
		if !holds(t, sys, "group:10:member@user:1") {
			t.Error("a capped run changed access")
		}
		r.Guards.MaxDestructive = 10
		r.Guards.Protected = []string{ann}
		rep, err = c.Remediate(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done != 4 || rep.Manual != 2 {
			t.Errorf("run with the cap raised: %+v", rep)
		}
	})
}

// TestRemediateAccounts: revoking an account item revokes each of its
// grants, under a journal ID each, and verifies them all.
func TestRemediateAccounts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, sys, snap := testSystem(t)
		j := openJournal(t, dsn)
		st := openStore(t, dsn)
		spec := baseSpec()
		spec.ItemKind = review.KindAccount
		spec.Scope = review.Scope{ResourceTypes: []string{"group", "custom_role"}}
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		its := items(t, c)
		bobItem := its[1]
		if bobItem.Principal.ID != bob || len(bobItem.Grants) != 3 {
			t.Fatalf("bob's item: %+v", bobItem)
		}
		for _, rv := range active(bobItem) {
			decide(t, c, bobItem.ID, rv, review.Revoke, "left the company")
		}
		// A sync costs less than reading bob alone here: force it.
		rep, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: j, SyncCost: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done != 1 || rep.Revokes != 3 || rep.Verify != review.VerifySync {
			t.Errorf("report %+v", rep)
		}
		it, _ := c.Item(ctx, bobItem.ID)
		if it.Remediation.Status != review.RemediationDone || it.Remediation.Verification.SnapshotHash == "" {
			t.Errorf("bob's account: %+v", it.Remediation)
		}
		for k, g := range it.Grants {
			want := "review/q1/2/" + string(rune('1'+k))
			if g.Remediation == nil || g.Remediation.JournalID != want {
				t.Errorf("grant %s: %+v, want journal ID %s", g.GrantID, g.Remediation, want)
			}
			if holds(t, sys, g.GrantID) {
				t.Errorf("%s still held", g.GrantID)
			}
		}
	})
}

// TestRemediateResumes: a run that died after provision began a revoke is
// resumed by the next one, under the same journal ID, and not done twice.
func TestRemediateResumes(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		mem, sys, snap := testSystem(t)
		j := openJournal(t, dsn)
		st := openStore(t, dsn)
		c, err := st.Create(ctx, snap, baseSpec())
		if err != nil {
			t.Fatal(err)
		}
		decide(t, c, itemBobBilling, "bill@example.com", review.Revoke, "left billing")
		// The crash: the journal shows the revoke begun and never finished.
		actor := provision.JournalActor{Who: "zgov-review", Source: "review:q1"}
		op := provision.JournalRevokeOp(access.RevokeRequest{EntitlementID: "group:11:member", PrincipalID: bob})
		if _, err := j.Begin(ctx, "review/q1/4", actor, op); err != nil {
			t.Fatal(err)
		}
		before := mem.Requests()
		rep, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: j})
		if err != nil || rep.Done != 1 {
			t.Fatalf("resume: %+v, %v", rep, err)
		}
		if ch, err := j.Change(ctx, "review/q1/4"); err != nil || !ch.Done() {
			t.Errorf("the begun revoke is not finished: %+v, %v", ch, err)
		}
		if holds(t, sys, "group:11:member@user:2") {
			t.Error("bob still holds Billing")
		}
		if mem.Requests()-before > 4 {
			t.Errorf("%d requests", mem.Requests()-before)
		}
	})
}

// TestRemediateWrongAccount: revokes decided on one account are not
// carried out in another.
func TestRemediateWrongAccount(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, _, snap := testSystem(t)
	d := testData()
	d.Account = "globex"
	other, err := memaccess.New(d)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(other)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, sqldbtest.Memory)
	c, err := st.Create(ctx, snap, baseSpec())
	if err != nil {
		t.Fatal(err)
	}
	decide(t, c, itemBobBilling, "bill@example.com", review.Revoke, "left")
	before := other.Requests()
	if _, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: openJournal(t, sqldbtest.Memory)}); !errors.Is(err, provision.ErrWrongAccount) {
		t.Errorf("remediate in another account: %v", err)
	}
	if other.Requests() != before {
		t.Error("requests sent to the other account")
	}
	if it, _ := c.Item(ctx, itemBobBilling); it.Remediation.Status != review.RemediationPending || it.Remediation.Attempts != 0 {
		t.Errorf("item after the refusal: %+v", it.Remediation)
	}
}
