package review_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/review"
)

// TestEvidence: Evidence holds the campaign, every item with its
// reviewers, outcome and remediation, the decision history and the
// events, as JSON an export can write.
func TestEvidence(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, sys, snap := testSystem(t)
		j := openJournal(t, dsn)
		st := openStore(t, dsn, review.WithRemediator(&review.Remediator{System: sys, Journal: j}))
		c, err := st.Create(ctx, snap, baseSpec())
		if err != nil {
			t.Fatal(err)
		}
		decide(t, c, itemBobBilling, "bill@example.com", review.Revoke, "left billing")
		decide(t, c, itemBobBilling, "bill@example.com", review.Revoke, "left billing in February")
		decide(t, c, itemAnnSupport, "sue@example.com", review.Certify, "")
		if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
			t.Fatal(err)
		}
		ev, err := c.Evidence(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Campaign.State != review.StateClosed || ev.Campaign.Population.SnapshotHash != snap.Hash() || len(ev.Items) != 11 || len(ev.Decisions) != 3 {
			t.Fatalf("evidence: campaign %+v, %d items, %d decisions", ev.Campaign, len(ev.Items), len(ev.Decisions))
		}
		var kinds []review.EventKind
		for _, e := range ev.Events {
			kinds = append(kinds, e.Kind)
		}
		if want := []review.EventKind{review.EventCreated, review.EventClosed, review.EventRemediated}; !slices.Equal(kinds, want) {
			t.Errorf("events %v, want %v", kinds, want)
		}
		seqs := map[int64]bool{}
		for _, d := range ev.Decisions {
			seqs[d.Seq] = true
		}
		for _, e := range ev.Events {
			seqs[e.Seq] = true
		}
		for s := int64(1); s <= int64(len(seqs)); s++ {
			if !seqs[s] {
				t.Errorf("the history skips seq %d: %v", s, seqs)
			}
		}
		it := ev.Items[itemBobBilling-1]
		if it.Remediation.Status != review.RemediationDone || it.Remediation.Verification == nil || it.Reviewers[0].Justification != "left billing in February" {
			t.Errorf("bob's billing in the evidence: %+v", it)
		}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back review.Evidence
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back.Items[itemBobBilling-1].Remediation.Verification.Result != it.Remediation.Verification.Result {
			t.Error("the evidence does not round-trip through JSON")
		}
	})
}

// TestConcurrentDecisions: reviewers deciding at once, through stores of
// their own on one database (as processes would), lose nothing; a Close
// racing with them leaves every decision either recorded before it or
// refused.
func TestConcurrentDecisions(t *testing.T) {
	for _, tg := range sqldbtest.Targets() {
		if !tg.Shared {
			continue
		}
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dsn := tg.NewDSN(t)
			_, _, snap := testSystem(t)
			spec := baseSpec()
			spec.Reviewers = []review.ReviewerRule{{Kind: review.RuleNamed, Reviewers: []string{"r0@example.com", "r1@example.com", "r2@example.com", "r3@example.com"}}}
			if _, err := openStore(t, dsn).Create(ctx, snap, spec); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			refused := make([]int, 4)
			recorded := make([]int, 4)
			for r := range 4 {
				st := openStore(t, dsn)
				c, err := st.Campaign(ctx, "q1")
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					for round := range 5 {
						for item := int64(1); item <= 11; item++ {
							v := review.Certify
							if (int(item)+round+r)%3 == 0 {
								v = review.Revoke
							}
							err := c.Decide(ctx, review.Decision{ItemID: item, Reviewer: fmt.Sprintf("r%d@example.com", r), Verdict: v, Justification: "round"})
							switch {
							case err == nil:
								recorded[r]++
							case errors.Is(err, review.ErrCampaignClosed):
								refused[r]++
							default:
								t.Errorf("decide: %v", err)
							}
						}
					}
				})
			}
			closer, _ := openStore(t, dsn).Campaign(ctx, "q1")
			wg.Go(func() {
				if _, err := closer.Close(ctx, "auditor@example.com"); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			wg.Wait()
			total := 0
			for r := range 4 {
				total += recorded[r]
			}
			c, _ := openStore(t, dsn).Campaign(ctx, "q1")
			var hist []review.DecisionRecord
			for d, err := range c.Decisions(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				hist = append(hist, d)
			}
			if len(hist) != total {
				t.Errorf("%d decisions recorded, %d in the history", total, len(hist))
			}
			var closedAt int64
			for e, err := range c.Events(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				if e.Kind == review.EventClosed {
					closedAt = e.Seq
				}
			}
			for _, d := range hist {
				if d.Seq > closedAt {
					t.Errorf("decision %d recorded after the close (seq %d)", d.Seq, closedAt)
				}
			}
			t.Logf("%d decisions recorded before the close, %v refused after", total, refused)
		})
	}
}
