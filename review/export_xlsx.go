package review

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// The sheets of the workbook.
const (
	sheetOverview  = "Overview"
	sheetItems     = "Items"
	sheetDrift     = "Drift"
	sheetDecisions = "Decisions"
)

// xlsxSink writes FormatXLSX: the Items sheet is streamed as the items are
// read (excelize keeps what exceeds 16 MB in a temporary file), the
// Overview sheet is filled at the end, from the tally.
type xlsxSink struct {
	w        io.Writer
	f        *excelize.File
	sw       *excelize.StreamWriter
	h        *exportHead
	t        *tally
	rows     int // rows written to the Items sheet, the header too
	styles   xlsxStyles
	campaign string
	row      row
	cells    []any
	// decisions streams the Decisions sheet: the decision history, one
	// decision a row, so that every justification is whole; nil once
	// flushed (the decisions come before the items).
	decisions *excelize.StreamWriter
	drows     int
}

// xlsxStyles are the workbook's styles.
type xlsxStyles struct {
	header, date, title, section, label, wrap int
}

// newXLSXSink writes to w; tmpDir is where excelize keeps its temporary
// files ("" for the system's).
func newXLSXSink(w io.Writer, tmpDir string) *xlsxSink {
	return &xlsxSink{w: w, f: excelize.NewFile(excelize.Options{TmpDir: tmpDir})}
}

func (s *xlsxSink) history() bool { return true }

func (s *xlsxSink) begin(h *exportHead) (err error) {
	s.h, s.t, s.campaign = h, newTally(h.Drift), h.Info.ID
	f := s.f
	if err := f.SetSheetName("Sheet1", sheetOverview); err != nil {
		return err
	}
	if _, err := f.NewSheet(sheetItems); err != nil {
		return err
	}
	st := &s.styles
	border := []excelize.Border{{Type: "bottom", Color: "7F8C9A", Style: 1}}
	if st.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F3A5F"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Border: border}); err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	if st.date, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt, Alignment: &excelize.Alignment{Horizontal: "left"}}); err != nil {
		return err
	}
	if st.title, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16, Color: "1F3A5F"}}); err != nil {
		return err
	}
	if st.section, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 12, Color: "1F3A5F"}, Border: border}); err != nil {
		return err
	}
	if st.label, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}}); err != nil {
		return err
	}
	if st.wrap, err = f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true, Horizontal: "left"}}); err != nil {
		return err
	}

	if s.sw, err = f.NewStreamWriter(sheetItems); err != nil {
		return err
	}
	for i, c := range itemColumns {
		if err := s.sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
	}
	if err := s.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := make([]any, len(itemColumns))
	for i, c := range itemColumns {
		header[i] = excelize.Cell{StyleID: st.header, Value: c.title}
	}
	s.rows = 1
	s.cells = make([]any, len(itemColumns))
	return s.sw.SetRow("A1", header, excelize.RowOpts{Height: 30})
}

func (s *xlsxSink) batch(b *evidenceBatch) error {
	s.t.add(b)
	for _, d := range b.decisions {
		if err := s.decision(d); err != nil {
			return err
		}
	}
	if len(b.items) > 0 {
		if err := s.flushDecisions(); err != nil {
			return err
		}
	}
	for i := range b.items {
		if err := itemRows(s.campaign, &b.items[i].Item, s.row, s.emit); err != nil {
			return err
		}
	}
	return nil
}

// emit writes one row of the Items sheet.
func (s *xlsxSink) emit(r row) error {
	s.row = r
	for i, c := range r {
		switch c.kind {
		case cellEmpty:
			s.cells[i] = nil
		case cellText:
			s.cells[i] = cutCell(c.s)
		case cellInt:
			s.cells[i] = c.n
		case cellBool:
			s.cells[i] = c.b
		case cellTime:
			s.cells[i] = excelize.Cell{StyleID: s.styles.date, Value: c.t}
		}
	}
	s.rows++
	return s.sw.SetRow("A"+strconv.Itoa(s.rows), s.cells)
}

// decision writes one row of the Decisions sheet, starting it if need be.
func (s *xlsxSink) decision(d DecisionRecord) error {
	if s.decisions == nil {
		if s.drows > 0 {
			return nil // flushed: a decision after the items cannot be (the reader sends them first)
		}
		if _, err := s.f.NewSheet(sheetDecisions); err != nil {
			return err
		}
		sw, err := s.f.NewStreamWriter(sheetDecisions)
		if err != nil {
			return err
		}
		cols := []struct {
			title string
			width float64
		}{{"#", 8}, {"Item", 10}, {"Reviewer", 28}, {"Decision", 12}, {"Justification", 60}, {"At (UTC)", 20}}
		header := make([]any, len(cols))
		for i, c := range cols {
			if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
				return err
			}
			header[i] = excelize.Cell{StyleID: s.styles.header, Value: c.title}
		}
		if err := sw.SetRow("A1", header); err != nil {
			return err
		}
		s.decisions, s.drows = sw, 1
	}
	s.drows++
	return s.decisions.SetRow("A"+strconv.Itoa(s.drows), []any{d.Seq, d.ItemID, csvText(d.Reviewer), string(d.Verdict),
		csvText(d.Justification), excelize.Cell{StyleID: s.styles.date, Value: d.At.UTC()}})
}

// flushDecisions ends the Decisions sheet.
func (s *xlsxSink) flushDecisions() error {
	if s.decisions == nil {
		return nil
	}
	sw := s.decisions
	s.decisions = nil
	return sw.Flush()
}

func (s *xlsxSink) end() error {
	defer s.f.Close()
	if err := s.flushDecisions(); err != nil {
		return err
	}
	f := s.f
	last, err := excelize.ColumnNumberToName(len(itemColumns))
	if err != nil {
		return err
	}
	if err := f.AutoFilter(sheetItems, fmt.Sprintf("A1:%s%d", last, max(s.rows, 2)), nil); err != nil {
		return err
	}
	if err := s.sw.Flush(); err != nil {
		return err
	}
	if err := s.overview(); err != nil {
		return err
	}
	if s.h.Drift != nil {
		if err := s.drift(); err != nil {
			return err
		}
	}
	t := s.h.ExportedAt.Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Title: "Access review evidence: " + s.h.Info.Name, Subject: "Campaign " + s.h.Info.ID,
		Creator: "zgov", Created: t, Modified: t, LastModifiedBy: "zgov"}); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(s.w)
	return err
}

// overviewWriter fills the Overview sheet a row at a time.
type overviewWriter struct {
	f   *excelize.File
	st  *xlsxStyles
	row int
	err error
}

// set writes values on the next row, the first in style (0: none); times
// are dates in UTC.
func (o *overviewWriter) set(style int, values ...any) {
	if o.err != nil {
		return
	}
	o.row++
	cell := "A" + strconv.Itoa(o.row)
	var dates []int
	for i, v := range values {
		if t, ok := v.(time.Time); ok {
			if t.IsZero() {
				values[i] = nil
			} else {
				values[i] = t.UTC()
				dates = append(dates, i)
			}
		}
	}
	if o.err = o.f.SetSheetRow(sheetOverview, cell, &values); o.err != nil {
		return
	}
	if style != 0 {
		if o.err = o.f.SetCellStyle(sheetOverview, cell, cell, style); o.err != nil {
			return
		}
	}
	for _, i := range dates {
		name, err := excelize.CoordinatesToCellName(i+1, o.row)
		if err == nil {
			err = o.f.SetCellStyle(sheetOverview, name, name, o.st.date)
		}
		if err != nil {
			o.err = err
			return
		}
	}
}

// kv writes a labelled value, text wrapped.
func (o *overviewWriter) kv(label string, value any) {
	o.set(o.st.label, label, value)
	if _, text := value.(string); text && o.err == nil {
		cell := "B" + strconv.Itoa(o.row)
		o.err = o.f.SetCellStyle(sheetOverview, cell, cell, o.st.wrap)
	}
}

// section starts a section after a blank row.
func (o *overviewWriter) section(title string) {
	o.row++
	o.set(o.st.section, title)
}

func (s *xlsxSink) overview() error {
	f, h, t := s.f, s.h, s.t
	info, pop := h.Info, h.Info.Population
	o := &overviewWriter{f: f, st: &s.styles}
	for col, w := range map[string]float64{"A": 30, "B": 70, "C": 12, "D": 12, "E": 12, "F": 12, "G": 12, "H": 22} {
		if err := f.SetColWidth(sheetOverview, col, col, w); err != nil {
			return err
		}
	}
	o.set(s.styles.title, "Access review evidence")
	o.set(s.styles.label, info.Name)
	o.kv("Exported", h.ExportedAt)
	o.kv("Exported by", "zgov "+h.Version)

	o.section("Campaign")
	o.kv("Campaign ID", info.ID)
	o.kv("Name", info.Name)
	o.kv("State", string(info.State))
	o.kv("Created by", info.CreatedBy)
	o.kv("Created", info.CreatedAt)
	o.kv("Due", info.Due)
	o.kv("Closed", info.ClosedAt)
	o.kv("Closed by", info.ClosedBy)
	o.kv("Item kind", string(info.Spec.ItemKind))
	o.kv("Scope", describeScope(info.Spec.Scope))
	o.kv("Reviewers assigned by", describeRules(info.Spec))
	o.kv("Several reviewers on an item", consensusText(info.Spec.Consensus))
	o.kv("Undecided items at close", defaultText(info.Spec.Default))
	o.kv("Revokes carried out", remediateText(info.Spec.Remediate)+", each verified by re-reading the person's access")

	o.section("Population evidence")
	o.kv("Snapshot hash", pop.SnapshotHash)
	o.kv("Snapshot SHA-256", pop.SnapshotSHA256)
	o.kv("Snapshot kept", pop.SnapshotKept)
	o.kv("System", pop.Backend)
	o.kv("Account", pop.Account)
	o.kv("Snapshot taken", pop.TakenAt)
	o.kv("Sync scope", describeMap(pop.Scope))
	o.kv("Sync requests", pop.Requests)
	o.kv("Snapshot: resources", pop.Snapshot.Resources)
	o.kv("Snapshot: entitlements", pop.Snapshot.Entitlements)
	o.kv("Snapshot: grants", pop.Snapshot.Grants)
	o.kv("In scope: principals", pop.Principals)
	o.kv("In scope: grants", pop.Grants)
	o.kv("In scope: items", pop.Items)

	o.section("Outcomes")
	o.kv("Items", t.Items)
	o.kv("Certified", t.Certified)
	o.kv("  of which by the default at close", t.CertifiedByDefault)
	o.kv("Revoked", t.Revoked)
	o.kv("  of which by the default at close", t.RevokedByDefault)
	o.kv("Undecided", t.Undecided)
	o.kv("Decisions recorded (history)", t.Decisions)

	o.section("Remediation of revoked items")
	for _, st := range remediationStatuses {
		o.kv(remediationText(st), t.Remediation[st])
	}
	if n := t.Remediation[RemediationNone]; n > 0 {
		o.kv("not started", n)
	}
	for _, v := range t.verifyList() {
		o.kv("Verified by "+string(v.Method), fmt.Sprintf("%d items (%d verified) between %s and %s", v.Items, v.Verified, utc(v.First), utc(v.Last)))
	}

	o.section("Journal verification")
	if j := h.Journal; j != nil {
		o.kv("Verified", j.Verified)
		o.kv("Verified at", j.At)
		o.kv("Entries", j.Entries)
		o.kv("Head", j.Head.String())
		o.kv("Unfinished changes", j.Unfinished)
		o.kv("Anchors checked", j.Anchors)
		if j.Error != "" {
			o.kv("Failure", j.Error)
		}
	} else {
		o.kv("Verified", "not verified: the export was given no journal")
	}

	o.section("Drift")
	if d := summarise(h.Drift); d != nil {
		o.kv("Later snapshot", d.SnapshotHash)
		o.kv("Taken", d.TakenAt)
		o.kv("Granted since, unreviewed", d.Granted)
		o.kv("Revoked and back", d.Returned)
	} else {
		o.kv("Drift", "no drift report in this export")
	}

	o.section("Reviewers")
	o.set(s.styles.header, "Reviewer", "Items", "Certified", "Revoked", "Undecided", "Moved away", "Decisions", "Last decision (UTC)")
	if o.err == nil {
		o.err = f.SetCellStyle(sheetOverview, "A"+strconv.Itoa(o.row), "H"+strconv.Itoa(o.row), s.styles.header)
	}
	for _, r := range t.reviewerList() {
		o.set(0, r.Reviewer, r.Items, r.Certified, r.Revoked, r.Undecided, r.Moved, r.Decisions, r.Last)
	}
	return o.err
}

// drift writes the Drift sheet.
func (s *xlsxSink) drift() error {
	f := s.f
	if _, err := f.NewSheet(sheetDrift); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheetDrift)
	if err != nil {
		return err
	}
	cols := []struct {
		title string
		width float64
	}{{"Kind", 12}, {"Principal ID", 16}, {"Name", 22}, {"Email", 28}, {"Grant ID", 36}, {"Item that revoked it", 12}}
	header := make([]any, len(cols))
	for i, c := range cols {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
		header[i] = excelize.Cell{StyleID: s.styles.header, Value: c.title}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, d := range s.h.Drift.Items {
		var name, email string
		if p := s.t.People[d.PrincipalID]; p != nil {
			name, email = p.Name, p.Email
		}
		var item any
		if d.ItemID != 0 {
			item = d.ItemID
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), []any{string(d.Kind), d.PrincipalID, name, email, d.GrantID, item}); err != nil {
			return err
		}
	}
	if err := f.AutoFilter(sheetDrift, fmt.Sprintf("A1:F%d", max(len(s.h.Drift.Items)+1, 2)), nil); err != nil {
		return err
	}
	return sw.Flush()
}
