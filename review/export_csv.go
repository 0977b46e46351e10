package review

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// itemColumn is one column of the CSV and of the workbook's Items sheet.
type itemColumn struct {
	key   string  // the CSV header
	title string  // the workbook's header
	width float64 // the workbook's column width
}

// itemColumns are the columns of a row: one per grant of each item.
var itemColumns = []itemColumn{
	{"campaign_id", "Campaign", 12},
	{"item_id", "Item", 8},
	{"item_kind", "Item kind", 10},
	{"principal_id", "Principal ID", 16},
	{"principal_name", "Name", 22},
	{"principal_email", "Email", 28},
	{"principal_external_id", "External ID", 14},
	{"role", "Role", 10},
	{"custom_role", "Custom role", 16},
	{"seat_type", "Seat", 12},
	{"suspended", "Suspended", 11},
	{"last_login_at", "Last login (UTC)", 19},
	{"grant_id", "Grant ID", 34},
	{"entitlement_id", "Entitlement ID", 26},
	{"entitlement", "Entitlement", 22},
	{"resource_id", "Resource ID", 18},
	{"resource", "Resource", 20},
	{"resource_type", "Resource type", 14},
	{"access_type", "Standing / time-bound", 14},
	{"expires_at", "Expires (UTC)", 19},
	{"granted_at", "Granted (UTC)", 19},
	{"granted_by", "Granted by", 20},
	{"granted_reason", "Grant reason", 26},
	{"granted_source", "Grant source", 16},
	{"granted_journal_id", "Grant journal ID", 20},
	{"reviewers", "Reviewers", 26},
	{"assignment_reason", "Why these reviewers", 30},
	{"outcome", "Outcome", 11},
	{"outcome_by", "Outcome by", 11},
	{"decided_by", "Decided by", 24},
	{"justification", "Justification", 36},
	{"decided_at", "Decided (UTC)", 19},
	{"remediation_status", "Remediation", 12},
	{"remediation_at", "Remediation at (UTC)", 19},
	{"remediation_error", "Remediation error", 36},
	{"guard", "Guard", 16},
	{"revoke_state", "Revoke state", 12},
	{"revoke_journal_id", "Revoke journal ID", 20},
	{"verified_at", "Verified (UTC)", 19},
	{"verification_method", "Verified by", 16},
	{"verified", "Verified", 9},
	{"verification_result", "Verification result", 40},
}

// outcomeText names an outcome; Undecided is "undecided".
func outcomeText(s OutcomeState) string {
	if s == Undecided {
		return "undecided"
	}
	return string(s)
}

// deciders returns who made an item's outcome (its active reviewers whose
// current verdict is the outcome) and their justifications, each prefixed
// with its reviewer when there are several.
func deciders(it *Item) (by []string, why string) {
	if it.Outcome.State == Undecided || it.Outcome.By == "default" {
		return nil, ""
	}
	want := Certify
	if it.Outcome.State == Revoked {
		want = Revoke
	}
	var ws []string
	var justified []Assignment
	for _, a := range it.Reviewers {
		if a.Active && a.Verdict == want {
			by = append(by, a.Reviewer)
			if a.Justification != "" {
				justified = append(justified, a)
			}
		}
	}
	if len(justified) == 1 {
		return by, justified[0].Justification
	}
	for _, a := range justified {
		ws = append(ws, a.Reviewer+": "+a.Justification)
	}
	return by, strings.Join(ws, "; ")
}

// activeReviewers returns an item's active reviewers and the reasons they
// were assigned.
func activeReviewers(it *Item) (who []string, why []string) {
	for _, a := range it.Reviewers {
		if a.Active {
			who = append(who, a.Reviewer)
			r := string(a.Rule)
			if a.Reason != "" {
				r += ": " + a.Reason
			}
			why = append(why, r)
		}
	}
	return who, why
}

// cellKind is the type of a cell's value.
type cellKind uint8

// The kinds of cell.
const (
	cellEmpty cellKind = iota
	cellText
	cellInt
	cellBool
	cellTime // zero times are cellEmpty
)

// cell is one value of a row, typed, so that a row of many is built
// without boxing each value.
type cell struct {
	kind cellKind
	s    string
	n    int64
	b    bool
	t    time.Time
}

// row builds a row of cells.
type row []cell

func (r *row) text(s string) {
	if s == "" {
		*r = append(*r, cell{})
		return
	}
	*r = append(*r, cell{kind: cellText, s: s})
}
func (r *row) int(n int64) { *r = append(*r, cell{kind: cellInt, n: n}) }
func (r *row) bool(b bool) { *r = append(*r, cell{kind: cellBool, b: b}) }
func (r *row) empty(n int) {
	for range n {
		*r = append(*r, cell{})
	}
}
func (r *row) time(t time.Time) {
	if t.IsZero() {
		*r = append(*r, cell{})
		return
	}
	*r = append(*r, cell{kind: cellTime, t: t.UTC()})
}

// itemRows calls emit with each row of an item, one per grant (itemColumns).
func itemRows(campaign string, it *Item, r row, emit func(row) error) error {
	by, why := deciders(it)
	who, reasons := activeReviewers(it)
	p := &it.Principal
	rem := &it.Remediation
	v := rem.Verification
	grants := it.Grants
	if len(grants) == 0 {
		grants = []ItemGrant{{}}
	}
	reviewers, reasonText, decidedBy := strings.Join(who, "; "), strings.Join(reasons, "; "), strings.Join(by, "; ")
	for _, g := range grants {
		r = r[:0]
		r.text(campaign)
		r.int(it.ID)
		r.text(string(it.Kind))
		r.text(p.ID)
		r.text(p.Name)
		r.text(p.Email)
		r.text(p.ExternalID)
		r.text(p.Role)
		r.text(p.CustomRole)
		r.text(p.SeatType)
		r.bool(p.Suspended)
		r.time(p.LastLoginAt)
		r.text(g.GrantID)
		r.text(g.EntitlementID)
		r.text(g.Entitlement)
		r.text(g.ResourceID)
		r.text(g.Resource)
		r.text(g.ResourceType)
		if g.TimeBound() {
			r.text("time-bound")
		} else {
			r.text("standing")
		}
		r.time(g.ExpiresAt)
		if o := g.Granted; o != nil {
			r.time(o.At)
			r.text(o.By)
			r.text(o.Reason)
			r.text(o.Source)
			r.text(o.JournalID)
		} else {
			r.empty(5)
		}
		r.text(reviewers)
		r.text(reasonText)
		r.text(outcomeText(it.Outcome.State))
		r.text(it.Outcome.By)
		r.text(decidedBy)
		r.text(why)
		r.time(it.Outcome.At)
		r.text(string(rem.Status))
		r.time(rem.At)
		r.text(rem.Error)
		r.text(rem.Guard)
		if gr := g.Remediation; gr != nil {
			r.text(gr.State)
			r.text(gr.JournalID)
		} else {
			r.empty(2)
		}
		if v != nil {
			r.time(v.At)
			r.text(string(v.Method))
			r.bool(v.Verified)
			r.text(v.Result)
		} else {
			r.empty(4)
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

// csvTime is the CSV's form of a time: RFC 3339 in UTC, "" for zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvText defuses a cell a spreadsheet would take for a formula, and cuts
// one longer than a spreadsheet cell holds (cellLimit), saying so.
func csvText(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			s = "'" + s
		}
	}
	return cutCell(s)
}

// cellLimit is the most characters a cell of Excel holds.
const cellLimit = 32767

// cutMark ends a cell cut at cellLimit.
const cutMark = " [cut at the 32,767 characters a spreadsheet cell holds: the whole text is in the JSON, and each decision's justification in the workbook's Decisions sheet]"

// cutCell cuts s to cellLimit characters, ending with cutMark, if it is
// longer.
func cutCell(s string) string {
	if len(s) <= cellLimit || utf8.RuneCountInString(s) <= cellLimit {
		return s
	}
	keep := cellLimit - utf8.RuneCountInString(cutMark)
	i := 0
	for n := 0; n < keep; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + cutMark
}

// csvSink writes FormatCSV.
type csvSink struct {
	bw       *bufio.Writer
	w        *csv.Writer
	campaign string
	row      row
	rec      []string
}

func newCSVSink(w io.Writer) *csvSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &csvSink{bw: bw, w: csv.NewWriter(bw)}
}

func (s *csvSink) history() bool { return false }

func (s *csvSink) begin(h *exportHead) error {
	s.campaign = h.Info.ID
	s.rec = make([]string, len(itemColumns))
	for i, c := range itemColumns {
		s.rec[i] = c.key
	}
	return s.w.Write(s.rec)
}

func (s *csvSink) batch(b *evidenceBatch) error {
	for i := range b.items {
		if err := itemRows(s.campaign, &b.items[i].Item, s.row, s.emit); err != nil {
			return err
		}
	}
	return nil
}

// emit writes one row.
func (s *csvSink) emit(r row) error {
	s.row = r
	for i, c := range r {
		switch c.kind {
		case cellEmpty:
			s.rec[i] = ""
		case cellText:
			s.rec[i] = csvText(c.s)
		case cellInt:
			s.rec[i] = strconv.FormatInt(c.n, 10)
		case cellBool:
			s.rec[i] = strconv.FormatBool(c.b)
		case cellTime:
			s.rec[i] = csvTime(c.t)
		}
	}
	return s.w.Write(s.rec)
}

func (s *csvSink) end() error {
	s.w.Flush()
	if err := s.w.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}
