package provision

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
)

// JournalTamperKind says how a journal fails verification.
type JournalTamperKind string

// The kinds of JournalTamperError.
const (
	// JournalTamperEdited: an entry does not match its hash; some field of
	// it (its seq included) was changed after it was written.
	JournalTamperEdited JournalTamperKind = "edited"
	// JournalTamperDeleted: entries are missing: the sequence numbers jump,
	// or a store's head names entries that it does not return.
	JournalTamperDeleted JournalTamperKind = "deleted"
	// JournalTamperReordered: entries are out of sequence order, appear
	// twice, or were swapped.
	JournalTamperReordered JournalTamperKind = "reordered"
	// JournalTamperForged: an entry matches its hash but does not link to
	// the entry before it: one of the two was rewritten and re-hashed.
	JournalTamperForged JournalTamperKind = "forged"
	// JournalTamperTruncated: the journal ends before an anchor's entry;
	// entries were removed from its end.
	JournalTamperTruncated JournalTamperKind = "truncated"
	// JournalTamperRewritten: the entry at an anchor's sequence number has
	// another hash: the chain up to there was replaced, consistently
	// re-hashed.
	JournalTamperRewritten JournalTamperKind = "rewritten"
	// JournalTamperHead: a store's head names a hash other than its last
	// entry's.
	JournalTamperHead JournalTamperKind = "head"
	// JournalTamperMalformed: an entry that matches its hash and links to
	// the one before it is not a valid entry (a change started twice, a
	// finish without a start, an export line that is not a canonical
	// entry): written to the store or the export by something other than a
	// Journal.
	JournalTamperMalformed JournalTamperKind = "malformed"
)

// JournalTamperError reports where and how a journal fails verification:
// the first break found. It matches ErrJournalTampered with errors.Is.
type JournalTamperError struct {
	// Kind says how the journal fails.
	Kind JournalTamperKind
	// Seq is the first sequence number that does not verify: every entry
	// before it does. For JournalTamperHead, it is the head's.
	Seq int64
	// Line is the line of an export, for VerifyJSONL (0 otherwise).
	Line int
	// Detail explains what was found.
	Detail string
}

// Error names the kind, the sequence number (and line) and the detail.
func (e *JournalTamperError) Error() string {
	where := fmt.Sprintf("seq %d", e.Seq)
	if e.Line > 0 {
		where += fmt.Sprintf(" (line %d)", e.Line)
	}
	return fmt.Sprintf("provision: journal tampered: %s at %s: %s", e.Kind, where, e.Detail)
}

// Is reports whether target is ErrJournalTampered.
func (e *JournalTamperError) Is(target error) bool { return target == ErrJournalTampered }

// JournalReport is what a verification checked.
type JournalReport struct {
	// Entries is the number of entries that verified.
	Entries int64
	// Head is the last entry that verified: after a clean verification,
	// the head to keep as an anchor for the next one.
	Head JournalHead
	// Unfinished is the number of changes started and not finished at
	// Head.
	Unfinished int
	// Anchors is the number of anchors found on the chain with their hash.
	Anchors int
}

// Verify walks the journal from its first entry to its head (as it is when
// Verify starts; entries appended meanwhile are left for the next run). It
// checks that every entry matches its hash, follows the one before it in
// sequence and links to it by hash, and that no change starts while it is
// open or finishes unless it is open (a change started again after it
// finished is not caught: that would hold every change ID in memory). It
// returns what it checked and, at the first break, a *JournalTamperError
// (ErrJournalTampered) saying which entry and how: edited, deleted,
// reordered, forged, rewritten, truncated, a head that disagrees, or
// malformed. Other errors are the store's. The report is returned with
// every error but bad anchors.
//
// anchors are heads an auditor kept from earlier verifications or exports
// (JournalReport.Head, Journal.Head). Without them, a journal whose tail
// was cut, or whose chain was replaced whole and re-hashed consistently,
// verifies: the chain proves the order and integrity of what is there, and
// only something kept outside the store proves what should be there. With
// them, each anchor's entry must be present with the anchor's hash.
func (j *Journal) Verify(ctx context.Context, anchors ...JournalHead) (*JournalReport, error) {
	v, err := newJournalVerifier(anchors)
	if err != nil {
		return nil, err
	}
	head, err := j.store.Head(ctx)
	if err != nil {
		return v.rep, fmt.Errorf("provision: journal: verify: read head: %w", err)
	}
	pull, stop := iter.Pull2(j.Entries(ctx, 1))
	defer stop()
	err = v.walk(func() (journalItem, bool, error) {
		e, err, ok := pull()
		if !ok {
			return journalItem{}, false, nil
		}
		if err != nil {
			return journalItem{}, false, fmt.Errorf("provision: journal: verify: %w", err)
		}
		if e.Seq > head.Seq {
			return journalItem{}, false, nil
		}
		return journalItem{e: e}, true, nil
	})
	if err != nil {
		return v.rep, err
	}
	switch {
	case v.prev.Seq < head.Seq:
		return v.rep, v.fail(JournalTamperDeleted, 0, "the store's head is seq %d, but its entries end at seq %d", head.Seq, v.prev.Seq)
	case v.prev != head:
		return v.rep, &JournalTamperError{Kind: JournalTamperHead, Seq: head.Seq,
			Detail: fmt.Sprintf("the store's head says entry %d has hash %s, the entry has %s", head.Seq, short(head.Hash), short(v.prev.Hash))}
	}
	return v.finish()
}

// VerifyJSONL verifies an export written by ExportJSONL, without a store,
// as Verify verifies a journal; it also requires every line to be the
// canonical encoding of an entry (JournalTamperMalformed otherwise, with
// the line). An export of an empty journal is empty. Errors other than a
// *JournalTamperError are r's.
func VerifyJSONL(r io.Reader, anchors ...JournalHead) (*JournalReport, error) {
	v, err := newJournalVerifier(anchors)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	var buf []byte
	line := 0
	err = v.walk(func() (journalItem, bool, error) {
		var err error
		buf, err = readJournalLine(br, buf[:0])
		switch {
		case err == io.EOF && len(buf) == 0:
			return journalItem{}, false, nil
		case err == errLineTooLong:
			line++
			return journalItem{line: line, bad: fmt.Sprintf("longer than %d bytes", maxJournalEntry)}, true, nil
		case err != nil && err != io.EOF:
			return journalItem{}, false, fmt.Errorf("provision: journal: verify export: line %d: %w", line+1, err)
		}
		line++
		e, bad := decodeJournalLine(bytes.TrimSuffix(buf, []byte{'\n'}))
		return journalItem{e: e, line: line, bad: bad}, true, nil
	})
	if err != nil {
		return v.rep, err
	}
	return v.finish()
}

var errLineTooLong = errors.New("line too long")

// readJournalLine appends the next line, with its newline, to buf; it
// fails with errLineTooLong past the longest line an export has.
func readJournalLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxJournalEntry+1 {
			return buf, errLineTooLong
		}
		buf = append(buf, chunk...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

// journalItem is an entry as a verification reads it: from a store, or
// from a line of an export (line > 0), which may not be an entry (bad).
type journalItem struct {
	e    JournalEntry
	line int
	bad  string
}

// journalVerifier walks a chain of entries.
type journalVerifier struct {
	anchors map[int64]string
	rep     *JournalReport
	prev    JournalHead // the last entry verified; zero before the first
	open    map[string]JournalEntry
}

func newJournalVerifier(anchors []JournalHead) (*journalVerifier, error) {
	v := &journalVerifier{anchors: map[int64]string{}, rep: &JournalReport{}, open: map[string]JournalEntry{}}
	for i, a := range anchors {
		if a.Seq < 1 {
			return nil, inputErr(fmt.Sprintf("anchors[%d].seq", i), "%d, want 1 or more", a.Seq)
		}
		if !isHash(a.Hash) {
			return nil, inputErr(fmt.Sprintf("anchors[%d].hash", i), "%q is not 64 lowercase hex digits", a.Hash)
		}
		if h, ok := v.anchors[a.Seq]; ok && h != a.Hash {
			return nil, inputErr(fmt.Sprintf("anchors[%d]", i), "two anchors for seq %d with different hashes", a.Seq)
		}
		v.anchors[a.Seq] = a.Hash
	}
	return v, nil
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// short abbreviates a hash for messages.
func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "..."
	}
	if h == "" {
		return `""`
	}
	return h
}

// fail returns the tamper error at the first sequence number not verified.
func (v *journalVerifier) fail(kind JournalTamperKind, line int, format string, args ...any) error {
	return &JournalTamperError{Kind: kind, Seq: v.prev.Seq + 1, Line: line, Detail: fmt.Sprintf(format, args...)}
}

// walk checks the items next returns, one item ahead so that a swap can be
// told from an edit or a deletion.
func (v *journalVerifier) walk(next func() (journalItem, bool, error)) error {
	cur, ok, err := next()
	if err != nil {
		return err
	}
	for ok {
		after, more, err := next()
		if err != nil {
			return err
		}
		var peek *JournalEntry
		if more && after.bad == "" {
			peek = &after.e
		}
		if err := v.check(&cur, peek); err != nil {
			return err
		}
		cur, ok = after, more
	}
	return nil
}

// check verifies one entry against the one before it; peek is the entry
// after it, if known.
func (v *journalVerifier) check(it *journalItem, peek *JournalEntry) error {
	want := v.prev.Seq + 1
	if it.bad != "" {
		return v.fail(JournalTamperMalformed, it.line, "%s", it.bad)
	}
	e := &it.e
	if journalHash(e) != e.Hash {
		if peek != nil && e.PrevHash != "" && peek.Hash == e.PrevHash {
			return v.fail(JournalTamperReordered, it.line, "the entry at seq %d links to the entry after it (seq %d): the two were swapped", e.Seq, peek.Seq)
		}
		if e.Seq != want {
			return v.fail(JournalTamperEdited, it.line, "the entry after seq %d (seq %d) does not match its hash: it was changed after it was written", v.prev.Seq, e.Seq)
		}
		return v.fail(JournalTamperEdited, it.line, "entry %d does not match its hash: it was changed after it was written", e.Seq)
	}
	switch {
	case e.Seq < 1:
		return v.fail(JournalTamperMalformed, it.line, "seq %d is not positive", e.Seq)
	case e.Seq == v.prev.Seq:
		return v.fail(JournalTamperReordered, it.line, "entry %d appears twice", e.Seq)
	case e.Seq < want:
		return v.fail(JournalTamperReordered, it.line, "entry %d appears after entry %d", e.Seq, v.prev.Seq)
	case e.Seq > want && peek != nil && peek.Seq < e.Seq:
		return v.fail(JournalTamperReordered, it.line, "entry %d appears before entry %d", e.Seq, peek.Seq)
	case e.Seq == want+1:
		return v.fail(JournalTamperDeleted, it.line, "entry %d is missing (entry %d follows entry %d)", want, e.Seq, v.prev.Seq)
	case e.Seq > want:
		return v.fail(JournalTamperDeleted, it.line, "entries %d to %d are missing (entry %d follows entry %d)", want, e.Seq-1, e.Seq, v.prev.Seq)
	}
	if e.PrevHash != v.prev.Hash {
		if want == 1 {
			return v.fail(JournalTamperForged, it.line, "entry 1 names a previous hash %s: it was rewritten and re-hashed, or entries before it were removed and the chain renumbered and re-hashed", short(e.PrevHash))
		}
		return v.fail(JournalTamperForged, it.line, "entry %d does not link to entry %d (its prev_hash is %s, entry %d's hash is %s): one of them was rewritten and re-hashed", e.Seq, v.prev.Seq, short(e.PrevHash), v.prev.Seq, short(v.prev.Hash))
	}
	if h, ok := v.anchors[e.Seq]; ok {
		if h != e.Hash {
			return v.fail(JournalTamperRewritten, it.line, "an anchor says entry %d has hash %s, the journal's has %s: the chain up to seq %d was replaced and re-hashed", e.Seq, short(h), short(e.Hash), e.Seq)
		}
		v.rep.Anchors++
	}
	if reason := v.follow(e); reason != "" {
		return v.fail(JournalTamperMalformed, it.line, "entry %d: %s", e.Seq, reason)
	}
	v.prev = e.Head()
	v.rep.Entries++
	v.rep.Head = v.prev
	return nil
}

// follow checks that e is a valid entry given the changes open before it,
// and records it; it returns why not.
func (v *journalVerifier) follow(e *JournalEntry) string {
	switch {
	case e.ChangeID == "":
		return "no change_id"
	case e.Actor.Who == "":
		return "no actor"
	case e.Op.Name == "":
		return "no op"
	case e.Time.IsZero():
		return "no time"
	}
	switch e.Kind {
	case JournalStarted:
		if e.Outcome != nil {
			return "a started entry with an outcome"
		}
		if s, ok := v.open[e.ChangeID]; ok {
			return fmt.Sprintf("change %q started again (first at seq %d)", e.ChangeID, s.Seq)
		}
		v.open[e.ChangeID] = JournalEntry{Seq: e.Seq, Actor: e.Actor, Op: e.Op}
	case JournalFinished:
		if e.Outcome == nil {
			return "a finished entry without an outcome"
		}
		s, ok := v.open[e.ChangeID]
		if !ok {
			return fmt.Sprintf("change %q finished without being started, or finished twice", e.ChangeID)
		}
		if s.Actor != e.Actor || !sameOp(s.Op, e.Op) {
			return fmt.Sprintf("the finished entry of change %q has another actor or op than its started entry (seq %d)", e.ChangeID, s.Seq)
		}
		delete(v.open, e.ChangeID)
	default:
		return fmt.Sprintf("unknown kind %q", e.Kind)
	}
	return ""
}

func sameOp(a, b JournalOp) bool {
	return a.Name == b.Name && a.EntitlementID == b.EntitlementID && a.PrincipalID == b.PrincipalID &&
		a.Email == b.Email && a.Role == b.Role && a.Step == b.Step && maps.Equal(a.Params, b.Params)
}

// finish checks the anchors beyond the chain's end and completes the
// report.
func (v *journalVerifier) finish() (*JournalReport, error) {
	v.rep.Unfinished = len(v.open)
	var beyond []int64
	for seq := range v.anchors {
		if seq > v.prev.Seq {
			beyond = append(beyond, seq)
		}
	}
	if len(beyond) > 0 {
		seq := slices.Min(beyond)
		return v.rep, v.fail(JournalTamperTruncated, 0, "an anchor names entry %d, but the journal ends at seq %d: entries were removed from its end", seq, v.prev.Seq)
	}
	return v.rep, nil
}
