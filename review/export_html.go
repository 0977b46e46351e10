package review

import (
	"bufio"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
)

// The HTML report is one file with its styles inline and no script, font,
// image or link to anything outside it, so that it opens offline and shows
// the same wherever it is opened. html/template escapes every text of the
// campaign (names, justifications and errors are untrusted input).
//
// It stays usable at any size: a campaign of up to HTMLMaxRows items is
// listed in full (every item, every decision, every event, every revoked
// item with its proof); a larger one gets summaries (counts per reviewer,
// per outcome, per remediation status and verification method, per event
// kind), and, in full, every revoke decision with its item's remediation
// and proof, every revoked item whose remediation is not done (failed with
// its error, manual with its guard, pending), and every access a drift
// report says came back. Certify decisions, items and events beyond that
// are in the CSV, JSON and workbook.

// htmlItem is what the report shows of an item.
type htmlItem struct {
	ID          int64
	Name        string
	Email       string
	PrincipalID string
	Role        string
	Suspended   bool
	LastLogin   time.Time
	Grants      []ItemGrant
	Reviewers   []Assignment
	Outcome     Outcome
	Remediation Remediation
}

// Label names the item's person: their name, or their ID.
func (it *htmlItem) Label() string {
	if it.Name != "" {
		return it.Name
	}
	return it.PrincipalID
}

// DecidedBy returns who made the item's outcome.
func (it *htmlItem) DecidedBy() string {
	by, _ := deciders(&Item{Reviewers: it.Reviewers, Outcome: it.Outcome})
	return strings.Join(by, ", ")
}

// Why returns the justification of the item's outcome.
func (it *htmlItem) Why() string {
	_, why := deciders(&Item{Reviewers: it.Reviewers, Outcome: it.Outcome})
	return why
}

// JournalIDs returns the journal IDs of the item's revokes.
func (it *htmlItem) JournalIDs() []string {
	var out []string
	for _, g := range it.Grants {
		if g.Remediation != nil && g.Remediation.JournalID != "" {
			out = append(out, g.Remediation.JournalID)
		}
	}
	return out
}

// htmlDecision is a decision with its item.
type htmlDecision struct {
	DecisionRecord
	Item *htmlItem
}

// reviewerDecisions are one reviewer's decisions.
type reviewerDecisions struct {
	Reviewer  string
	Decisions []htmlDecision
}

// htmlDrift is a drift item with its person.
type htmlDrift struct {
	DriftItem
	Name, Email string
}

// htmlSink collects what the report shows as the campaign is read, then
// renders it at the end.
type htmlSink struct {
	w    io.Writer
	h    *exportHead
	t    *tally
	full bool
	// items are the items the report shows: every item when full, else
	// those some kept decision names and those whose remediation is not
	// done.
	items     map[int64]*htmlItem
	order     []*htmlItem
	want      map[int64]bool // items a kept decision names (summaries)
	decisions []DecisionRecord
	events    []Event
	driftEvs  []Event
	omittedEv int
}

func newHTMLSink(w io.Writer) *htmlSink { return &htmlSink{w: w} }

func (s *htmlSink) history() bool { return true }

func (s *htmlSink) begin(h *exportHead) error {
	s.h, s.t = h, newTally(h.Drift)
	s.full = h.Info.Progress.Items <= h.MaxRows
	s.items, s.want = map[int64]*htmlItem{}, map[int64]bool{}
	return nil
}

func (s *htmlSink) batch(b *evidenceBatch) error {
	s.t.add(b)
	for _, d := range b.decisions {
		if s.full || d.Verdict == Revoke {
			s.decisions = append(s.decisions, d)
			s.want[d.ItemID] = true
		}
	}
	for _, e := range b.events {
		if e.Kind == EventDrift {
			s.driftEvs = append(s.driftEvs, e)
		}
		perItem := e.Kind == EventDefault || e.Kind == EventRemediated
		if s.full || (!perItem && len(s.events) < s.h.MaxRows) {
			s.events = append(s.events, e)
		} else {
			s.omittedEv++
		}
	}
	for i := range b.items {
		it := &b.items[i].Item
		problem := it.Outcome.State == Revoked && it.Remediation.Status != RemediationDone
		if !s.full && !s.want[it.ID] && !problem {
			continue
		}
		p := &it.Principal
		hi := &htmlItem{ID: it.ID, Name: p.Name, Email: p.Email, PrincipalID: p.ID, Role: p.Role, Suspended: p.Suspended, LastLogin: p.LastLoginAt,
			Grants: it.Grants, Reviewers: it.Reviewers, Outcome: it.Outcome, Remediation: it.Remediation}
		s.items[it.ID] = hi
		s.order = append(s.order, hi)
	}
	return nil
}

// htmlReport is the template's data.
type htmlReport struct {
	H         *exportHead
	T         *tally
	Full      bool
	Items     []*htmlItem
	Revoked   []*htmlItem // full: every revoked item
	Problems  []*htmlItem // revoked items whose remediation is not done
	Decisions []htmlDecision
	// ByReviewer are the decisions listed by reviewer (summaries).
	ByReviewer []*reviewerDecisions
	Reviewers  []*reviewerStats
	Verify     []*verifyStats
	Events     []Event
	Omitted    int // events not listed
	DriftEvs   []Event
	Drift      *DriftSummary
	Returned   []htmlDrift
	Granted    []htmlDrift
	GrantedN   int // granted drift items not listed
	Attention  []string
}

func (s *htmlSink) end() error {
	t, h := s.t, s.h
	r := &htmlReport{H: h, T: t, Full: s.full, Reviewers: t.reviewerList(), Verify: t.verifyList(), Events: s.events, Omitted: s.omittedEv,
		DriftEvs: s.driftEvs, Drift: summarise(h.Drift)}
	if s.full {
		r.Items = s.order
	}
	for _, it := range s.order {
		if it.Outcome.State != Revoked {
			continue
		}
		if s.full {
			r.Revoked = append(r.Revoked, it)
		}
		if it.Remediation.Status != RemediationDone {
			r.Problems = append(r.Problems, it)
		}
	}
	by := map[string]*reviewerDecisions{}
	for _, d := range s.decisions {
		hd := htmlDecision{DecisionRecord: d, Item: s.items[d.ItemID]}
		r.Decisions = append(r.Decisions, hd)
		if !s.full {
			rd := by[d.Reviewer]
			if rd == nil {
				rd = &reviewerDecisions{Reviewer: d.Reviewer}
				by[d.Reviewer] = rd
				r.ByReviewer = append(r.ByReviewer, rd)
			}
			rd.Decisions = append(rd.Decisions, hd)
		}
	}
	slices.SortFunc(r.ByReviewer, func(a, b *reviewerDecisions) int { return cmp.Compare(a.Reviewer, b.Reviewer) })
	if h.Drift != nil {
		for _, d := range h.Drift.Items {
			hd := htmlDrift{DriftItem: d}
			if p := t.People[d.PrincipalID]; p != nil {
				hd.Name, hd.Email = p.Name, p.Email
			}
			switch {
			case d.Kind == DriftReturned:
				r.Returned = append(r.Returned, hd)
			case len(r.Granted) < h.MaxRows:
				r.Granted = append(r.Granted, hd)
			default:
				r.GrantedN++
			}
		}
	}
	r.Attention = attention(r)
	bw := bufio.NewWriterSize(s.w, 64<<10)
	if err := htmlTemplate.Execute(bw, r); err != nil {
		return err
	}
	return bw.Flush()
}

// attention lists what an auditor should look at first.
func attention(r *htmlReport) []string {
	var out []string
	t := r.T
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return number(n) + " " + many
	}
	if j := r.H.Journal; j == nil {
		out = append(out, "The journal of changes was not verified for this export.")
	} else if !j.Verified {
		out = append(out, "The journal of changes FAILED verification: "+j.Error)
	} else if j.Unfinished > 0 {
		out = append(out, plural(j.Unfinished, "change in the journal was started and not finished.", "changes in the journal were started and not finished."))
	}
	if n := t.Remediation[RemediationFailed]; n > 0 {
		out = append(out, plural(n, "revoke failed", "revokes failed")+": the access may still be held (see Remediation).")
	}
	if n := t.Remediation[RemediationManual]; n > 0 {
		out = append(out, plural(n, "revoke was", "revokes were")+" blocked by a guard and must be handled by a person (see Remediation).")
	}
	if n := t.Remediation[RemediationPending] + t.Remediation[RemediationNone]; n > 0 {
		out = append(out, plural(n, "revoke has", "revokes have")+" not been carried out yet.")
	}
	if t.Undecided > 0 {
		if r.H.Info.State == StateClosed {
			out = append(out, plural(t.Undecided, "item was", "items were")+" left undecided at close.")
		} else {
			out = append(out, plural(t.Undecided, "item is", "items are")+" still undecided: the campaign is open.")
		}
	}
	if d := r.Drift; d != nil {
		if d.Returned > 0 {
			out = append(out, plural(d.Returned, "revoked access is", "revoked accesses are")+" held again (drift).")
		}
		if d.Granted > 0 {
			out = append(out, plural(d.Granted, "access was", "accesses were")+" granted to reviewed people after the snapshot and not reviewed (drift).")
		}
	}
	return out
}

// pct returns n as a percentage of total, for bar widths.
func pct(n, total int) string {
	if total == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", float64(n)*100/float64(total))
}

var htmlFuncs = template.FuncMap{
	"utc":       utc,
	"pct":       pct,
	"join":      strings.Join,
	"outcome":   outcomeText,
	"remText":   remediationText,
	"map":       describeMap,
	"scope":     describeScope,
	"rules":     describeRules,
	"consensus": consensusText,
	"defaultAt": defaultText,
	"remediate": remediateText,
	"add":       func(a, b int) int { return a + b },
	"gt":        func(a, b int) bool { return a > b },
	"eventN":    func(t *tally, k EventKind) int { return t.Events[k] },
	"remN":      func(t *tally, s RemediationStatus) int { return t.Remediation[s] },
	"kinds":     func() []EventKind { return eventKinds },
	"statuses":  func() []RemediationStatus { return remediationStatuses },
	"number":    number,
}

// number writes n with thousands separators.
func number(n any) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var htmlTemplate = template.Must(template.New("report").Funcs(htmlFuncs).Parse(htmlSource))
