package review_test

import (
	"context"
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

// Exporting a campaign's evidence: the CSV, the JSON, the workbook and the
// HTML report, with a manifest of their SHA-256 digests and the journal's
// verification (`sha256sum -c 2026-q1-admins-manifest.sha256` checks them).
func ExampleCampaign_Export() {
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
	dir, err := os.MkdirTemp("", "zgov-evidence")
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
	st, err := review.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	c, err := st.Create(ctx, snap, review.CampaignSpec{
		ID: "2026-q1-admins", Name: "Admins, Q1 2026", CreatedBy: "auditor@example.com",
		Scope:     review.Scope{Admins: true, ResourceTypes: []string{"role"}},
		Reviewers: []review.ReviewerRule{{Kind: review.RuleNamed, Reviewers: []string{"ciso@example.com"}}},
		Default:   review.DefaultKeep,
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
		log.Fatal(err)
	}

	evidence := filepath.Join(dir, "evidence")
	if err := os.Mkdir(evidence, 0o755); err != nil {
		log.Fatal(err)
	}
	m, err := c.Export(ctx, evidence, &review.ExportOptions{Journal: journal})
	if err != nil {
		log.Fatal(err) // an *review.ExportError names the path; nothing is left half-written
	}
	for _, f := range m.Files {
		fmt.Println(f.Name)
	}
	fmt.Println("journal verified:", m.Journal.Verified)
	// Output:
	// 2026-q1-admins-items.csv
	// 2026-q1-admins-evidence.json
	// 2026-q1-admins-evidence.xlsx
	// 2026-q1-admins-report.html
	// journal verified: true
}
