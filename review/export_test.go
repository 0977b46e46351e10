package review_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// Hostile text from the system under review and from reviewers: it must
// reach every file as text, never as markup or a formula.
const (
	hostileName = `<script>alert("ann")</script>Ann O'Hara & Co`
	hostileWhy  = `<img src=x onerror=alert(1)> left billing`
	formulaWhy  = `=HYPERLINK("http://evil.example","click")`
)

// exportTime is when the tests' exports are made.
var exportTime = time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)

// evidenceFixture is a closed campaign with every outcome an export shows:
// a certified item, a decision changed, revokes done, failed (the backend
// fails; the backend lies and the re-read catches it), blocked by a guard,
// items left undecided, and a drift report with access granted since and
// access that came back.
type evidenceFixture struct {
	c       *review.Campaign
	journal *provision.Journal
	drift   *review.DriftReport
	snap    *access.Snapshot
}

func newEvidenceFixture(t *testing.T, dsn string, keep bool) *evidenceFixture {
	t.Helper()
	ctx := t.Context()
	d := testData()
	for i, r := range d.Resources {
		if r.ID() == ann {
			d.Resources[i] = access.NewResource(ann, hostileName, r.Attributes())
		}
	}
	mem, err := memaccess.New(d, memaccess.WithExclusive("role", "custom_role"))
	if err != nil {
		t.Fatal(err)
	}
	snap := resync(t, mem, t0)
	b := &trickyBackend{failingBackend: &failingBackend{Backend: mem, fail: map[string]bool{"custom_role:7:assigned@user:2": true}},
		lie: map[string]bool{"group:11:member@user:3": true}}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, dsn)
	r := &review.Remediator{System: sys, Journal: j, Who: "svc:review", Guards: provision.Guards{Protected: []string{dan}}}
	st := openStore(t, dsn, review.WithRemediator(r))
	spec := baseSpec()
	spec.KeepSnapshot = keep
	c, err := st.Create(ctx, snap, spec)
	if err != nil {
		t.Fatal(err)
	}
	decide(t, c, itemAnnSupport, "sue@example.com", review.Revoke, "left support in January")
	decide(t, c, itemAnnSupport, "sue@example.com", review.Certify, "still covers weekends")
	decide(t, c, itemBobSupport, "sue@example.com", review.Certify, formulaWhy)
	decide(t, c, itemBobBilling, "bill@example.com", review.Revoke, hostileWhy)
	decide(t, c, itemCatBilling, "bill@example.com", review.Revoke, "suspended")
	decide(t, c, itemDanAcme, "ann@example.com", review.Revoke, "not a customer")
	decide(t, c, itemBobStaff, "ciso@example.com", review.Revoke, "no longer staff")
	if _, err := c.Close(ctx, "auditor@example.com"); err != nil {
		t.Fatal(err)
	}
	// Since: bob's Billing membership is back, and cat joined Support.
	for _, g := range []access.Grant{access.NewGrant("group:11:member", bob, nil), access.NewGrant("group:10:member", cat, nil)} {
		if err := mem.PutGrant(g); err != nil {
			t.Fatal(err)
		}
	}
	drift, err := c.Drift(ctx, resync(t, mem, t0.Add(30*24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	return &evidenceFixture{c: c, journal: j, drift: drift, snap: snap}
}

// options are the export options of the fixture.
func (f *evidenceFixture) options() *review.ExportOptions {
	return &review.ExportOptions{Journal: f.journal, Drift: f.drift, Now: func() time.Time { return exportTime }}
}

// readCSV parses CSV into records keyed by item ID (one grant per item).
func readCSV(t *testing.T, data []byte) (header []string, rows map[string]map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header, rows = recs[0], map[string]map[string]string{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			row[header[i]] = v
		}
		rows[row["item_id"]] = row
	}
	return header, rows
}

// TestExport: an export writes the CSV, JSON, workbook, HTML report and
// snapshot, and a manifest whose digests match the files, which
// sha256sum -c accepts; each file shows every outcome.
func TestExport(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		f := newEvidenceFixture(t, dsn, true)
		dir := t.TempDir()
		m, err := f.c.Export(ctx, dir, f.options())
		if err != nil {
			t.Fatal(err)
		}
		names := []string{"q1-items.csv", "q1-evidence.json", "q1-evidence.xlsx", "q1-snapshot.json", "q1-report.html"}
		var got []string
		for _, mf := range m.Files {
			got = append(got, mf.Name)
			data, err := os.ReadFile(filepath.Join(dir, mf.Name))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) != mf.Size || sha(data) != mf.SHA256 {
				t.Errorf("%s: %d bytes, sha256 %s; the manifest says %d, %s", mf.Name, len(data), sha(data), mf.Size, mf.SHA256)
			}
		}
		if !slices.Equal(got, names) {
			t.Errorf("files %v, want %v", got, names)
		}
		entries, _ := os.ReadDir(dir)
		var all []string
		for _, e := range entries {
			all = append(all, e.Name())
		}
		if want := append(slices.Clone(names), "q1-manifest.json", "q1-manifest.sha256"); !sameSet(all, want) {
			t.Errorf("directory holds %v, want %v", all, want)
		}

		// The manifest on disk is the one returned.
		var onDisk review.Manifest
		data, _ := os.ReadFile(filepath.Join(dir, "q1-manifest.json"))
		if err := json.Unmarshal(data, &onDisk); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(*m, onDisk); diff != "" {
			t.Errorf("manifest on disk (-returned +disk):\n%s", diff)
		}
		if m.Campaign != "q1" || m.State != review.StateClosed || m.SnapshotHash != f.snap.Hash() || !m.ExportedAt.Equal(exportTime) ||
			m.Items != 11 || m.Decisions != 7 || m.Journal == nil || !m.Journal.Verified || m.Journal.Entries == 0 || m.Drift == nil ||
			m.Drift.Granted != 1 || m.Drift.Returned != 1 {
			t.Errorf("manifest %+v", m)
		}
		head, err := f.journal.Head(ctx)
		if err != nil || m.Journal.Head != head {
			t.Errorf("manifest's journal head %v, the journal's %v (%v)", m.Journal.Head, head, err)
		}
		snapData, _ := os.ReadFile(filepath.Join(dir, "q1-snapshot.json"))
		if sha(snapData) != m.SnapshotSHA256 {
			t.Error("the snapshot file does not have the recorded SHA-256")
		}
		if _, err := access.Load(bytes.NewReader(snapData)); err != nil {
			t.Errorf("the exported snapshot does not load: %v", err)
		}

		// Standard tools check the export.
		sums, _ := os.ReadFile(filepath.Join(dir, "q1-manifest.sha256"))
		if n := strings.Count(string(sums), "\n"); n != len(names)+1 {
			t.Errorf("manifest.sha256 has %d lines:\n%s", n, sums)
		}
		if tool, err := exec.LookPath("sha256sum"); err == nil {
			cmd := exec.CommandContext(ctx, tool, "-c", "q1-manifest.sha256")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c: %v\n%s", err, out)
			}
			if err := os.WriteFile(filepath.Join(dir, "q1-items.csv"), []byte("tampered"), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd = exec.CommandContext(ctx, tool, "-c", "q1-manifest.sha256")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("sha256sum -c accepts a changed file:\n%s", out)
			}
		}
	})
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestExportCSV: one row per grant, with the person, the access, the
// reviewers, the decision and its justification, and the remediation
// with its proof; formulas are defused, markup is text.
func TestExportCSV(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		f := newEvidenceFixture(t, dsn, false)
		var buf bytes.Buffer
		if err := f.c.WriteCSV(t.Context(), &buf); err != nil {
			t.Fatal(err)
		}
		header, rows := readCSV(t, buf.Bytes())
		if len(header) != 42 || header[0] != "campaign_id" || len(rows) != 11 {
			t.Fatalf("header %v, %d rows", header, len(rows))
		}
		check := func(item string, want map[string]string) {
			t.Helper()
			row := rows[item]
			for k, v := range want {
				if row[k] != v {
					t.Errorf("item %s: %s = %q, want %q", item, k, row[k], v)
				}
			}
		}
		check("4", map[string]string{ // bob's Billing: revoked, done, verified
			"principal_id": bob, "principal_email": "bob@example.com", "role": "agent", "custom_role": "Staff", "seat_type": "agent",
			"suspended": "false", "last_login_at": "2025-08-13T09:00:00Z", "grant_id": "group:11:member@user:2",
			"entitlement_id": "group:11:member", "resource": "Billing", "resource_type": "group", "access_type": "standing",
			"reviewers": "bill@example.com", "outcome": "revoked", "outcome_by": "decision", "decided_by": "bill@example.com",
			"justification": hostileWhy, "remediation_status": "done", "revoke_state": "applied", "revoke_journal_id": "review/q1/4",
			"verification_method": "grants_for", "verified": "true",
		})
		check("2", map[string]string{"principal_name": hostileName, "outcome": "certified", "justification": "still covers weekends", "remediation_status": ""})
		check("3", map[string]string{"justification": "'" + formulaWhy})
		check("5", map[string]string{"principal_id": cat, "suspended": "true", "last_login_at": "", "access_type": "time-bound",
			"expires_at": "2026-06-01T00:00:00Z", "remediation_status": "failed", "verified": "false"})
		check("1", map[string]string{"entitlement_id": "custom_role:7:assigned", "remediation_status": "failed", "verified": ""})
		check("7", map[string]string{"remediation_status": "manual", "guard": string(provision.GuardProtectedList)})
		check("6", map[string]string{"outcome": "undecided", "decided_by": "", "reviewers": "ciso@example.com"})
		if !strings.Contains(rows["1"]["remediation_error"], "backend is down") || !strings.Contains(rows["5"]["remediation_error"], "still held") {
			t.Errorf("errors: %q, %q", rows["1"]["remediation_error"], rows["5"]["remediation_error"])
		}
		if !strings.Contains(rows["4"]["verification_result"], "user:2") || rows["4"]["verified_at"] == "" {
			t.Errorf("proof: %q at %q", rows["4"]["verification_result"], rows["4"]["verified_at"])
		}
	})
}

// TestExportCSVAccounts: an item of an account has a row per grant.
func TestExportCSVAccounts(t *testing.T) {
	ctx := t.Context()
	dsn := sqldbtest.SQLiteFileDSN(t)
	_, _, snap := testSystem(t)
	spec := baseSpec()
	spec.ItemKind = review.KindAccount
	c, err := openStore(t, dsn).Create(ctx, snap, spec)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteCSV(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	perItem := map[string][]string{}
	for _, r := range recs[1:] {
		perItem[r[1]] = append(perItem[r[1]], r[12])
	}
	its := items(t, c)
	if len(perItem) != len(its) {
		t.Fatalf("%d items in the CSV, %d in the campaign", len(perItem), len(its))
	}
	for _, it := range its {
		var want []string
		for _, g := range it.Grants {
			want = append(want, g.GrantID)
		}
		if got := perItem[itoaT(int(it.ID))]; !slices.Equal(got, want) {
			t.Errorf("item %d: rows for %v, want %v", it.ID, got, want)
		}
	}
}

// TestExportJSON: the JSON decodes into the Evidence the campaign returns,
// with the journal's verification and the drift report.
func TestExportJSON(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		f := newEvidenceFixture(t, dsn, false)
		var buf bytes.Buffer
		if err := f.c.WriteJSON(ctx, &buf, f.options()); err != nil {
			t.Fatal(err)
		}
		var got struct {
			review.Evidence
			ExportedAt time.Time            `json:"exported_at"`
			Journal    *review.JournalCheck `json:"journal"`
			Drift      *review.DriftReport  `json:"drift"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%v\n%s", err, buf.Bytes())
		}
		want, err := f.c.Evidence(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(*want, got.Evidence); diff != "" {
			t.Errorf("JSON export (-Evidence +JSON):\n%s", diff)
		}
		if got.Journal == nil || !got.Journal.Verified || !got.ExportedAt.Equal(exportTime) {
			t.Errorf("journal %+v, exported at %v", got.Journal, got.ExportedAt)
		}
		if diff := cmp.Diff(f.drift, got.Drift); diff != "" {
			t.Errorf("drift (-want +got):\n%s", diff)
		}
		// One record a line: a large export can be read line by line.
		if n := bytes.Count(buf.Bytes(), []byte("\n")); n < len(want.Items)+len(want.Decisions)+len(want.Events) {
			t.Errorf("%d lines", n)
		}
	})
}

// TestExportJSONItemFields: the JSON export writes an item with the
// fields of Item (it copies the stored principal rather than decoding it).
func TestExportJSONItemFields(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[review.Item]().Fields() {
		fields = append(fields, f.Tag.Get("json"))
	}
	want := []string{"id", "kind", "principal", "grants", "reviewers", "outcome", "remediation"}
	if !slices.Equal(fields, want) {
		t.Errorf("Item's JSON fields are %v; the export writes %v: update jsonItem in export_json.go", fields, want)
	}
}

// TestExportXLSX: the workbook has an Overview sheet with the population
// evidence, counts and the journal's verification, an Items sheet with
// the CSV's rows under a bold, frozen, filtered header, and a Drift sheet.
func TestExportXLSX(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		f := newEvidenceFixture(t, dsn, false)
		var buf bytes.Buffer
		if err := f.c.WriteXLSX(ctx, &buf, f.options()); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		if got := x.GetSheetList(); !slices.Equal(got, []string{"Overview", "Items", "Decisions", "Drift"}) {
			t.Errorf("sheets %v", got)
		}
		// The Decisions sheet is the history: a header and a row per decision.
		if ds, err := x.GetRows("Decisions"); err != nil || len(ds) < 2 || ds[0][4] != "Justification" {
			t.Errorf("Decisions sheet: %v, %v", ds, err)
		}
		overview, err := x.GetRows("Overview")
		if err != nil {
			t.Fatal(err)
		}
		kv := map[string]string{}
		for _, r := range overview {
			if len(r) >= 2 {
				kv[r[0]] = r[1]
			}
		}
		for k, v := range map[string]string{"Campaign ID": "q1", "Snapshot hash": f.snap.Hash(), "State": "closed", "Items": "11",
			"Revoked": "4", "Certified": "2", "Undecided": "5", "done": "1", "failed": "2", "manual": "1", "Verified": "TRUE",
			"Granted since, unreviewed": "1", "Revoked and back": "1"} {
			if kv[k] != v {
				t.Errorf("Overview: %s = %q, want %q", k, kv[k], v)
			}
		}
		// Times are dates in the workbook, shown in UTC.
		if !regexp.MustCompile(`^2026-03-01 10:00:\d\d$`).MatchString(kv["Created"]) {
			t.Errorf("Overview: Created = %q, want a date", kv["Created"])
		}
		rows, err := x.GetRows("Items")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 12 || rows[0][0] != "Campaign" || rows[0][4] != "Name" {
			t.Fatalf("Items: %d rows, header %v", len(rows), rows[0])
		}
		var csvBuf bytes.Buffer
		if err := f.c.WriteCSV(ctx, &csvBuf); err != nil {
			t.Fatal(err)
		}
		_, csvRows := readCSV(t, csvBuf.Bytes())
		for _, r := range rows[1:] {
			c := csvRows[r[1]]
			at := func(i int) string {
				if i < len(r) {
					return r[i]
				}
				return ""
			}
			if at(4) != c["principal_name"] || at(30) != c["justification"] && "'"+at(30) != c["justification"] || at(32) != c["remediation_status"] {
				t.Errorf("Items row %v does not match the CSV's %v", r, c)
			}
		}
		if got := rows[4][31]; !regexp.MustCompile(`^2026-03-01 10:00:\d\d$`).MatchString(got) {
			t.Errorf("Items: decided at %q, want a date", got)
		}
		style, err := x.GetCellStyle("Items", "A1")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := x.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
			t.Errorf("header style %+v, %v", s, err)
		}
		panes, err := x.GetPanes("Items")
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("panes %+v, %v", panes, err)
		}
		names := x.GetDefinedName()
		if !slices.ContainsFunc(names, func(d excelize.DefinedName) bool {
			return d.Name == "_xlnm._FilterDatabase" && strings.HasPrefix(d.RefersTo, "'Items'!$A$1:$AP$12")
		}) {
			t.Errorf("no autofilter on Items: %+v", names)
		}
		drift, _ := x.GetRows("Drift")
		if len(drift) != 3 || drift[2][0] != "returned" || drift[2][5] != "4" {
			t.Errorf("Drift sheet %v", drift)
		}
	})
}

// TestExportJournalTampered: a journal that fails verification does not
// stop the export; the manifest and the report say how it failed.
func TestExportJournalTampered(t *testing.T) {
	ctx := t.Context()
	dsn := sqldbtest.SQLiteFileDSN(t)
	f := newEvidenceFixture(t, dsn, false)
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.ExecContext(ctx, "UPDATE zgov_journal SET entry = replace(entry, 'svc:review', 'svc:someone') WHERE seq = 1"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := f.c.Export(ctx, dir, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if m.Journal == nil || m.Journal.Verified || m.Journal.Tamper != string(provision.JournalTamperEdited) {
		t.Errorf("journal check %+v", m.Journal)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "q1-report.html"))
	if !strings.Contains(string(page), "failed verification") {
		t.Error("the report does not say the journal failed verification")
	}
}
