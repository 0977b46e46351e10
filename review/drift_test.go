package review_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/review"
)

// TestDrift: a later snapshot shows access granted to a reviewed person
// after the campaign's snapshot, and revoked access that came back.
func TestDrift(t *testing.T) {
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
		if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		if rep, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: j}); err != nil || rep.Done != 1 {
			t.Fatalf("remediate: %+v, %v", rep, err)
		}
		// Since: cat joins Support, bob's Billing membership is given back,
		// and a new user joins Support (not in the population).
		for _, g := range []access.Grant{
			access.NewGrant("group:10:member", cat, nil),
			access.NewGrant("group:11:member", bob, nil),
		} {
			if err := mem.PutGrant(g); err != nil {
				t.Fatal(err)
			}
		}
		if err := mem.PutResource(access.NewResource("user:5", "eve", access.Attributes{"email": "eve@example.com", "role": "agent"})); err != nil {
			t.Fatal(err)
		}
		if err := mem.PutGrant(access.NewGrant("group:10:member", "user:5", nil)); err != nil {
			t.Fatal(err)
		}
		later := resync(t, mem, t0.Add(30*24*time.Hour))
		rep, err := c.Drift(ctx, later)
		if err != nil {
			t.Fatal(err)
		}
		want := &review.DriftReport{SnapshotHash: later.Hash(), TakenAt: t0.Add(30 * 24 * time.Hour), Items: []review.DriftItem{
			{Kind: review.DriftGranted, PrincipalID: cat, GrantID: "group:10:member@user:3"},
			{Kind: review.DriftReturned, PrincipalID: bob, GrantID: "group:11:member@user:2", ItemID: itemBobBilling},
		}}
		if diff := cmp.Diff(want, rep); diff != "" {
			t.Errorf("drift (-want +got):\n%s", diff)
		}
		if _, err := c.Drift(ctx, new(access.Snapshot)); !errors.Is(err, review.ErrInvalidSnapshot) {
			t.Errorf("drift against a zero snapshot: %v", err)
		}
		found := false
		for e, err := range c.Events(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			found = found || e.Kind == review.EventDrift
		}
		if !found {
			t.Error("no drift event")
		}
	})
}

// TestReminders: reviewers with undecided items are reported, overdue
// after the due date, and the hook is called for each.
func TestReminders(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		spec := baseSpec()
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		decide(t, c, itemBobBilling, "bill@example.com", review.Certify, "")
		decide(t, c, itemCatBilling, "bill@example.com", review.Certify, "")
		rs, err := c.Reminders(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		want := []review.Reminder{
			{Campaign: "q1", Reviewer: "ann@example.com", Pending: 1, Due: spec.Due},
			{Campaign: "q1", Reviewer: "ciso@example.com", Pending: 6, Due: spec.Due},
			{Campaign: "q1", Reviewer: "sue@example.com", Pending: 2, Due: spec.Due},
		}
		if diff := cmp.Diff(want, rs); diff != "" {
			t.Errorf("reminders before the due date (-want +got):\n%s", diff)
		}
		var got []string
		n, err := c.Remind(ctx, spec.Due.Add(time.Hour), func(_ context.Context, r review.Reminder) error {
			if !r.Overdue {
				t.Errorf("%s not overdue after the due date", r.Reviewer)
			}
			got = append(got, r.Reviewer)
			return nil
		})
		if err != nil || n != 3 || len(got) != 3 {
			t.Errorf("Remind: %d, %v, %v", n, got, err)
		}
		boom := errors.New("mail is down")
		if n, err := c.Remind(ctx, spec.Due, func(context.Context, review.Reminder) error { return boom }); n != 0 || !errors.Is(err, boom) {
			t.Errorf("a failing hook: %d, %v", n, err)
		}
		if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		if rs, err := c.Reminders(ctx, t0); err != nil || len(rs) != 0 {
			t.Errorf("reminders after close: %v, %v", rs, err)
		}
	})
}
