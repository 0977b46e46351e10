package review

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
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

// itemRows calls row with each row of an item, one per grant: values are
// strings, int64, bool, time.Time (zero: empty) or nil (empty).
func itemRows(campaign string, it *Item, row []any, emit func([]any) error) error {
	by, why := deciders(it)
	who, reasons := activeReviewers(it)
	p := &it.Principal
	r := &it.Remediation
	v := r.Verification
	grants := it.Grants
	if len(grants) == 0 {
		grants = []ItemGrant{{}}
	}
	for _, g := range grants {
		row = row[:0]
		row = append(row, campaign, it.ID, string(it.Kind),
			p.ID, p.Name, p.Email, p.ExternalID, p.Role, p.CustomRole, p.SeatType, p.Suspended, p.LastLoginAt,
			g.GrantID, g.EntitlementID, g.Entitlement, g.ResourceID, g.Resource, g.ResourceType)
		if g.TimeBound() {
			row = append(row, "time-bound", g.ExpiresAt)
		} else {
			row = append(row, "standing", nil)
		}
		if o := g.Granted; o != nil {
			row = append(row, o.At, o.By, o.Reason, o.Source, o.JournalID)
		} else {
			row = append(row, nil, nil, nil, nil, nil)
		}
		row = append(row, strings.Join(who, "; "), strings.Join(reasons, "; "),
			outcomeText(it.Outcome.State), it.Outcome.By, strings.Join(by, "; "), why, it.Outcome.At,
			string(r.Status), r.At, r.Error, r.Guard)
		if gr := g.Remediation; gr != nil {
			row = append(row, gr.State, gr.JournalID)
		} else {
			row = append(row, nil, nil)
		}
		if v != nil {
			row = append(row, v.At, string(v.Method), v.Verified, v.Result)
		} else {
			row = append(row, nil, nil, nil, nil)
		}
		if err := emit(row); err != nil {
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

// csvText defuses a cell a spreadsheet would take for a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvSink writes FormatCSV.
type csvSink struct {
	bw       *bufio.Writer
	w        *csv.Writer
	campaign string
	row      []any
	rec      []string
}

func newCSVSink(w io.Writer) *csvSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &csvSink{bw: bw, w: csv.NewWriter(bw)}
}

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
func (s *csvSink) emit(row []any) error {
	s.row = row
	for i, v := range row {
		switch v := v.(type) {
		case nil:
			s.rec[i] = ""
		case string:
			s.rec[i] = csvText(v)
		case int64:
			s.rec[i] = strconv.FormatInt(v, 10)
		case bool:
			s.rec[i] = strconv.FormatBool(v)
		case time.Time:
			s.rec[i] = csvTime(v)
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
