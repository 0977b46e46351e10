package review_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// A review of group memberships on a Zendesk account (the simulator's demo
// account): the campaign is created from a snapshot, the reviewer revokes
// one membership and certifies the rest, and Close carries the revoke out
// through provision and verifies it by re-reading Zendesk.
func Example() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	backend, err := zendeskaccess.New(client, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		log.Fatal(err)
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		log.Fatal(err)
	}
	snap, err := sys.Sync(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}

	// One database holds provision's journal and the campaigns.
	dir, err := os.MkdirTemp("", "zgov-review")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "sqlite:" + filepath.ToSlash(filepath.Join(dir, "zgov.db"))
	ps, err := provision.OpenStore(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer ps.Close()
	journal, err := provision.NewJournal(ps.Journal())
	if err != nil {
		log.Fatal(err)
	}
	st, err := review.Open(ctx, dsn, review.WithRemediator(&review.Remediator{System: sys, Journal: journal, Who: "svc:review"}))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	c, err := st.Create(ctx, snap, review.CampaignSpec{
		ID: "2026-q1-groups", Name: "Group memberships, Q1 2026", CreatedBy: "auditor@example.com",
		Scope:     review.Scope{ResourceTypes: []string{"group"}},
		Reviewers: []review.ReviewerRule{{Kind: review.RuleNamed, Reviewers: []string{"lead@example.com"}}},
		Default:   review.DefaultKeep,
	})
	if err != nil {
		log.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d items; population evidence: snapshot hash recorded %v\n", info.Population.Items, info.Population.SnapshotHash == snap.Hash())

	// The reviewer's queue: revoke the first agent's membership, certify
	// the rest.
	var ds []review.Decision
	var revoked int64
	for it, err := range c.Items(ctx, &review.ItemFilter{Reviewer: "lead@example.com"}) {
		if err != nil {
			log.Fatal(err)
		}
		d := review.Decision{ItemID: it.ID, Reviewer: "lead@example.com", Verdict: review.Certify}
		if revoked == 0 && it.Principal.Role == "agent" {
			d.Verdict, d.Justification = review.Revoke, "no longer in this team"
			revoked = it.ID
		}
		ds = append(ds, d)
	}
	if err := c.DecideMany(ctx, ds); err != nil {
		log.Fatal(err)
	}
	// Nobody decides on an item that is not theirs.
	err = c.Decide(ctx, review.Decision{ItemID: 1, Reviewer: "someone@example.com", Verdict: review.Certify})
	var de *review.DecisionError
	if errors.As(err, &de) && errors.Is(err, review.ErrNotReviewer) {
		fmt.Printf("decision %d refused: not a reviewer of item %d\n", de.Index, de.ItemID)
	}

	rep, err := c.Close(ctx, "auditor@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("closed: %d revoke carried out and verified (%s)\n", rep.Remediation.Done, rep.Remediation.Verify)
	it, err := c.Item(ctx, revoked)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("item %d: %s, remediation %s, verified %v, journal %s\n", it.ID, it.Outcome.State, it.Remediation.Status,
		it.Remediation.Verification.Verified, it.Grants[0].Remediation.JournalID)
	// Output:
	// 14 items; population evidence: snapshot hash recorded true
	// decision 0 refused: not a reviewer of item 1
	// closed: 1 revoke carried out and verified (grants_for)
	// item 2: revoked, remediation done, verified true, journal review/2026-q1-groups/2
}

// A campaign over group memberships and custom roles: the owner of the
// Billing group reviews its members, the auditor the rest (the fallback);
// one revoke, the rest kept by default at close, the revoke carried out and
// verified; then the evidence files, each with its SHA-256 in the manifest.
func Example_campaign() {
	ctx := context.Background()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken))
	if err != nil {
		log.Fatal(err)
	}
	backend, err := zendeskaccess.New(client, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		log.Fatal(err)
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		log.Fatal(err)
	}
	snap, err := sys.Sync(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "zgov-review")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "sqlite:" + filepath.ToSlash(filepath.Join(dir, "zgov.db"))
	ps, err := provision.OpenStore(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer ps.Close()
	journal, err := provision.NewJournal(ps.Journal())
	if err != nil {
		log.Fatal(err)
	}
	st, err := review.Open(ctx, dsn, review.WithRemediator(&review.Remediator{System: sys, Journal: journal}))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	c, err := st.Create(ctx, snap, review.CampaignSpec{ID: "q1", Name: "Groups and custom roles, Q1",
		Scope:     review.Scope{ResourceTypes: []string{"group", "custom_role"}},
		Reviewers: []review.ReviewerRule{{Kind: review.RuleOwner, Owners: map[string][]string{"group:20000000002": {"lead@example.com"}}}},
		Fallback:  []string{"auditor@example.com"}, Default: review.DefaultKeep}) // undecided items are kept at close
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Decide(ctx, review.Decision{ItemID: 10, Reviewer: "lead@example.com", Verdict: review.Revoke, Justification: "left Billing"}); err != nil {
		log.Fatal(err) // a *review.DecisionError: not a reviewer of the item, no justification, closed, ...
	}
	rep, err := c.Close(ctx, "auditor@example.com") // carries the revoke out through provision and re-reads Zendesk
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("revokes done and verified:", rep.Remediation.Done, "by", rep.Remediation.Verify)

	// The evidence: each file with its size and SHA-256 in the manifest,
	// and the journal verified.
	m, err := c.Export(ctx, dir, &review.ExportOptions{Journal: journal})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range m.Files {
		fmt.Println(f.Name, len(f.SHA256) == 64 && f.Size > 0)
	}
	fmt.Println("journal verified:", m.Journal.Verified)
	// Output:
	// revokes done and verified: 1 by grants_for
	// q1-items.csv true
	// q1-evidence.json true
	// q1-evidence.xlsx true
	// q1-report.html true
	// journal verified: true
}
