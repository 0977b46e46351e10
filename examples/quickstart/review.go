package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// The demo campaign's reviewers: the owner of the groups (Tier 2's is Erin Fox, an agent
// of the account), the owner of the custom roles, and the fallback reviewer of what no
// rule covers.
const (
	groupOwner = "support.lead@example.com"
	tier2Owner = "erin.fox@example.com"
	roleOwner  = "it.security@example.com"
	auditor    = "auditor@example.com"
)

// reviewDemo runs a small access review on the simulator, in the database of the
// time-bound step (dsn): a campaign over a snapshot of group memberships and custom
// roles, decided in code by two reviewers, closed, its two revokes carried out through
// provision (journal j) and verified by re-reading the account, and its evidence
// exported into dir (created if missing; beside the state file, named after it) with each
// file's size and SHA-256.
func reviewDemo(ctx context.Context, out io.Writer, sys *access.System, j *provision.Journal, tb *provision.TimeBound, dsn, dir string) error {
	st, err := review.Open(ctx, dsn, review.WithRemediator(&review.Remediator{System: sys, Journal: j, Who: "svc:review"}))
	if err != nil {
		return err
	}
	defer st.Close()
	marks, err := tb.Marks(ctx)
	if err != nil {
		return err
	}
	snap, err := sys.Sync(ctx, &access.SyncOptions{TimeBound: marks})
	if err != nil {
		return fmt.Errorf("review: snapshot: %w", err)
	}
	earlier, err := st.Campaigns(ctx)
	if err != nil {
		return err
	}

	// Reviewers by rule: the owner of each group and of each custom role. Nobody reviews
	// their own access: Erin's own membership of Tier 2 goes to the fallback reviewer.
	owners := map[string][]string{}
	for _, r := range snap.Resources() {
		switch r.Type() {
		case zendeskaccess.TypeGroup:
			owners[r.ID()] = []string{groupOwner}
			if r.DisplayName() == "Tier 2" {
				owners[r.ID()] = []string{tier2Owner}
			}
		case zendeskaccess.TypeCustomRole:
			owners[r.ID()] = []string{roleOwner}
		}
	}
	c, err := st.Create(ctx, snap, review.CampaignSpec{
		ID: fmt.Sprintf("quickstart-%d", len(earlier)+1), Name: "Groups and custom roles", CreatedBy: auditor,
		Scope:     review.Scope{ResourceTypes: []string{zendeskaccess.TypeGroup, zendeskaccess.TypeCustomRole}},
		Reviewers: []review.ReviewerRule{{Kind: review.RuleOwner, Owners: owners}},
		Fallback:  []string{auditor}, Default: review.DefaultKeep, Remediate: review.RemediateAtClose,
		KeepSnapshot: true, Journal: j,
	})
	if err != nil {
		return fmt.Errorf("review: create: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAccess review %s (%s), in the same database\n", c.ID(), info.Name)
	fmt.Fprintf(out, "Population: %d items from snapshot %s… (hash recorded: the completeness evidence)\n",
		info.Population.Items, info.Population.SnapshotHash[:12])

	// Each reviewer's queue, decided in code: the group owner revokes two agents'
	// memberships and certifies the rest; the role owner certifies the custom roles.
	var ds []review.Decision
	var revoked []int64
	var own int64 // Erin's own membership of Tier 2
	perReviewer := map[string]int{}
	for it, err := range c.Items(ctx, nil) {
		if err != nil {
			return err
		}
		who := it.Reviewers[0].Reviewer
		perReviewer[who]++
		if strings.EqualFold(it.Principal.Email, tier2Owner) && it.Grants[0].Resource == "Tier 2" {
			own = it.ID
		}
		d := review.Decision{ItemID: it.ID, Reviewer: who, Verdict: review.Certify, Justification: "still needed for the job"}
		if len(revoked) < 2 && who == groupOwner && it.Principal.Role == "agent" {
			d.Verdict, d.Justification = review.Revoke, "left the team"
			revoked = append(revoked, it.ID)
		}
		ds = append(ds, d)
	}
	fmt.Fprintf(out, "Reviewers by owner: %s %d items, %s %d, %s %d, fallback %s %d\n", groupOwner, perReviewer[groupOwner],
		tier2Owner, perReviewer[tier2Owner], roleOwner, perReviewer[roleOwner], auditor, perReviewer[auditor])
	// Refused, with nothing recorded: Erin certifying her own access, and a revoke
	// without a justification.
	var de *review.DecisionError
	if own != 0 {
		err = c.Decide(ctx, review.Decision{ItemID: own, Reviewer: tier2Owner, Verdict: review.Certify, Justification: "I need it"})
		if !errors.As(err, &de) {
			return fmt.Errorf("review: a decision on one's own access: got %v", err)
		}
		fmt.Fprintf(out, "Refused, Erin on her own Tier 2 membership (it went to the fallback): %v\n", err)
	}
	err = c.Decide(ctx, review.Decision{ItemID: revoked[0], Reviewer: groupOwner, Verdict: review.Revoke})
	if !errors.As(err, &de) || !errors.Is(err, review.ErrJustificationRequired) {
		return fmt.Errorf("review: a revoke without justification: got %v", err)
	}
	fmt.Fprintf(out, "Refused, a revoke without a justification (%T): %v\n", de, err)
	if err := c.DecideMany(ctx, ds); err != nil {
		return fmt.Errorf("review: decide: %w", err)
	}
	fmt.Fprintf(out, "Decided: %d certified, %d revoked (%q)\n", len(ds)-len(revoked), len(revoked), "left the team")

	rep, err := c.Close(ctx, auditor)
	if err != nil {
		return fmt.Errorf("review: close: %w", err)
	}
	fmt.Fprintf(out, "Closed by %s: remediation through provision, %d done, %d failed, %d manual; verified by %s\n",
		auditor, rep.Remediation.Done, rep.Remediation.Failed, rep.Remediation.Manual, rep.Remediation.Verify)
	for _, id := range revoked {
		it, err := c.Item(ctx, id)
		if err != nil {
			return err
		}
		g := it.Grants[0]
		fmt.Fprintf(out, "  item %d: %s in %s %s: %s, remediation %s, journal %s\n",
			it.ID, it.Principal.Name, g.ResourceType, g.Resource, it.Outcome.State, it.Remediation.Status, g.Remediation.JournalID)
		v := it.Remediation.Verification
		if v == nil {
			return fmt.Errorf("review: item %d has no verification: %+v", it.ID, it.Remediation)
		}
		fmt.Fprintf(out, "    re-read at %s (%s): verified %v: %s\n", clock(v.At), v.Method, v.Verified, v.Result)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m, err := c.Export(ctx, dir, &review.ExportOptions{Journal: j})
	if err != nil {
		return fmt.Errorf("review: export: %w", err)
	}
	fmt.Fprintf(out, "Evidence in %s:\n", dir)
	for _, f := range m.Files {
		fmt.Fprintf(out, "  %-32s %8d  sha256 %s\n", f.Name, f.Size, f.SHA256)
	}
	fmt.Fprintf(out, "  and %s-manifest.json (these files, sizes, hashes), %s-manifest.sha256 (sha256sum -c)\n", c.ID(), c.ID())
	if jc := m.Journal; jc != nil {
		status := "verified"
		if !jc.Verified {
			status = "NOT verified: " + strings.TrimSpace(jc.Error)
		}
		fmt.Fprintf(out, "Journal %s for the export: %d entries, head %d:%s… at %s\n",
			status, jc.Entries, jc.Head.Seq, jc.Head.Hash[:12], jc.At.UTC().Format(time.RFC3339))
	}
	return nil
}
