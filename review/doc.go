// Package review runs user access reviews of a system that package access
// reads (Zendesk, through access/zendeskaccess): campaigns over a
// snapshot, reviewers assigned by rule, durable decisions, remediation
// carried out through package provision and verified by re-reading the
// system, drift, and the evidence an auditor tests.
//
// # State
//
// A Store keeps campaigns in the database of zgov's state (Open takes the
// DSN provision.OpenStore takes: SQLite in a file or in memory, or
// PostgreSQL), in tables of its own beside provision's, migrated on Open.
// Every write of a campaign is one transaction, and writers of one
// campaign queue on its row, so a decision cannot slip past a Close and
// nothing is ever half-written. A Campaign is a handle: many processes may
// work on one campaign at once.
//
// # Campaigns
//
// Store.Create freezes a campaign's population from an access.Snapshot:
// the snapshot must hash to its recorded hash (ErrInvalidSnapshot,
// access.ErrHashMismatch otherwise), and its hash, time, scope, counts and
// request count are recorded (Population) as the evidence that the
// population is complete and accurate; with CampaignSpec.KeepSnapshot the
// snapshot itself is kept (Campaign.Snapshot). A Scope narrows the
// population by resource type, entitlement, principal and attribute
// (admins, holders of a custom role, accounts unused for a number of
// days, time-bound or standing grants). An item is a grant, or an account
// with all of its grants in scope (CampaignSpec.ItemKind), and shows the
// reviewer the person, the access, role and seat type, suspension, last
// login, whether the grant is time-bound, and, where provision's journal
// knows, when, by whom and why it was granted.
//
// # Reviewers
//
// Rules assign reviewers (ReviewerRule): the owners of each group,
// organization or role, the person's manager (a ManagerSource: the
// directory), named reviewers; fallback reviewers take what no rule
// covers. Nobody reviews their own access: a rule that gives the person
// under review routes the item to a fallback reviewer, and the
// assignment's reason says so. Reassign and Delegate move items with a
// reason, never to the person under review. A due date, Reminders and
// Remind (a hook per reviewer) chase the reviewers; at Close, undecided
// items take the campaign's Default (keep, revoke, or leave open).
//
// # Decisions
//
// Decide and DecideMany record certify and revoke decisions, all or none
// per call, with a justification (required for revoke). They are kept
// with their reviewer and time, may be changed until the campaign closes,
// and every one stays in the history (Decisions). With several reviewers
// on an item one revoke wins (AnyRevoke), or one certify does (AllRevoke).
//
// # Remediation
//
// Revoked items are carried out through provision.Do (guards, blast-radius
// caps, journal, bulk endpoints) as soon as they are decided or at close
// (CampaignSpec.Remediate, with a Store WithRemediator), or by Remediate.
// Each item has a remediation status: pending, done, failed with the
// error, or manual with the guard that blocked it. Done means verified: the
// principal's access was re-read after the change, and the re-read's time,
// method and result are the proof (Verification). The re-read is the
// cheapest of reading the principals' records (access.PrincipalReader, 100
// a request on Zendesk), listing their grants one by one
// (System.GrantsFor), and one re-read of the account (System.Sync). Drift
// compares a later snapshot with the campaign: access granted to a
// reviewed person since, and revoked access that came back.
//
// # Evidence
//
// Evidence returns, as plain JSON-tagged values, all an export needs: the
// campaign's metadata and population evidence, the items with their
// facts, reviewers and assignments with their reasons, outcomes and
// remediation with its proof, the decision history and the events
// (assignments moved, defaults applied, remediation, reminders, drift).
// Items, Decisions and Events stream the same values a page at a time for
// large campaigns. Export writes them into a directory, all or nothing:
// "<id>-items.csv", "<id>-evidence.json", "<id>-evidence.xlsx",
// "<id>-report.html", the snapshot if the campaign keeps it, and a
// manifest ("<id>-manifest.json", and "<id>-manifest.sha256" for
// sha256sum -c) of every file's size and SHA-256, with the verification
// of provision's journal (ExportOptions.Journal). Export returns the
// Manifest. The quickstart (examples/quickstart) ends with a campaign on
// the simulator, decided in code, remediated, verified and exported.
//
// Export writes what an auditor receives into a directory: the items as
// CSV (a row per grant), the Evidence as JSON, an Excel workbook (an
// Overview sheet with the population evidence and the counts, an Items
// sheet with the CSV's rows, a Decisions sheet with the decision history,
// a justification a cell, and a Drift sheet when a drift report is given;
// a cell longer than the 32,767 characters a spreadsheet holds is cut and
// says so), one self-contained HTML report (no scripts,
// fonts, images or links; printable), the snapshot if the campaign keeps
// it, and a manifest of every file's SHA-256 with the verification of
// provision's journal (ExportOptions.Journal) and a .sha256 file that
// `sha256sum -c` checks. Every file shows the campaign as one read-only
// transaction saw it. The files are written into a temporary directory,
// synced and renamed into place: on any error nothing is left, and an
// *ExportError names the path. WriteCSV, WriteJSON, WriteXLSX and
// WriteHTML stream one format to any io.Writer. The HTML report lists a
// campaign of up to ExportOptions.HTMLMaxRows items (2,000) in full; a
// larger one gets summaries per reviewer and, in full, every revoke
// decision with its remediation and every revoke not done.
//
// # Errors
//
// Refusals are typed, and nothing is written when one is returned: a
// *SpecError names the field of a bad spec; a *DecisionError names the
// decision of a call (its index, item and reviewer) and wraps the reason:
//
//	err := c.DecideMany(ctx, decisions)
//	var de *review.DecisionError
//	switch {
//	case errors.As(err, &de) && errors.Is(err, review.ErrNotReviewer):
//		// decisions[de.Index] is by someone who does not review de.ItemID
//	case errors.Is(err, review.ErrCampaignClosed):
//		// too late
//	}
//
// # Performance
//
// On a SQLite file, a campaign over a snapshot of 100,000 users and
// 300,000 grants is created in about 2.4 s, and 300,000 decisions are
// recorded, 10,000 a call, in about 4 to 5 s (TestBigCampaign,
// BenchmarkCreate, BenchmarkDecide; two shared cores). Its export takes
// about 2 s for the CSV, 3 s for the JSON or the HTML report, 8 s for the
// workbook and 11 s for all of them, the heap peaking near 275 MB
// (BenchmarkExport, BenchmarkExportPostgres). On Zendesk, 10,000
// group-membership revokes take 100 bulk jobs and their polls, the reads
// that find the memberships, and one re-read of the account to verify them
// (TestRemediateZendesk10k: about 490 requests).
package review
