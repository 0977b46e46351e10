package review

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"time"

	"github.com/zgov-io/zgov/provision"
)

// ExportFormat names one kind of file of an evidence export.
type ExportFormat string

// The formats of an export.
const (
	// FormatCSV: one row per grant of each item ("<id>-items.csv").
	FormatCSV ExportFormat = "csv"
	// FormatJSON: the Evidence, with the drift report and the journal's
	// verification ("<id>-evidence.json").
	FormatJSON ExportFormat = "json"
	// FormatXLSX: an Excel workbook, an Overview sheet and an Items sheet
	// of the CSV's rows, and a Drift sheet with a drift report
	// ("<id>-evidence.xlsx").
	FormatXLSX ExportFormat = "xlsx"
	// FormatHTML: one self-contained HTML report ("<id>-report.html").
	FormatHTML ExportFormat = "html"
	// FormatSnapshot: the snapshot the campaign was created from, as
	// access.Snapshot.Save wrote it ("<id>-snapshot.json"), if the
	// campaign keeps it (CampaignSpec.KeepSnapshot).
	FormatSnapshot ExportFormat = "snapshot"
)

// fileName returns the name of a format's file for campaign id.
func (f ExportFormat) fileName(id string) string {
	switch f {
	case FormatCSV:
		return id + "-items.csv"
	case FormatJSON:
		return id + "-evidence.json"
	case FormatXLSX:
		return id + "-evidence.xlsx"
	case FormatHTML:
		return id + "-report.html"
	case FormatSnapshot:
		return id + "-snapshot.json"
	}
	return ""
}

// DefaultHTMLMaxRows is ExportOptions.HTMLMaxRows's default.
const DefaultHTMLMaxRows = 2000

// ExportOptions says what an export writes. The zero value (or nil)
// writes every format, with no journal verification and no drift report.
type ExportOptions struct {
	// Formats are the files to write: nil means FormatCSV, FormatJSON,
	// FormatXLSX, FormatHTML, and FormatSnapshot if the campaign keeps
	// its snapshot. Export always writes the manifest.
	Formats []ExportFormat
	// Journal, if set, is provision's journal the campaign's revokes were
	// recorded in: it is verified (Journal.Verify with Anchors) after the
	// campaign is read, so that its head covers every change the export
	// shows, and the result is part of the manifest and of each report.
	// A journal that fails verification does not stop the export: the
	// failure is what the auditor must see; a journal that cannot be read
	// does. Without a journal, the reports say that it was not verified.
	Journal *provision.Journal
	// Anchors are journal heads kept from earlier verifications, passed
	// to Journal.Verify.
	Anchors []provision.JournalHead
	// JournalCheck, if set, is a verification made already
	// (VerifyJournal), used instead of verifying Journal again: a
	// platform writing several formats itself verifies once.
	JournalCheck *JournalCheck
	// Drift, if set, is a drift report (Campaign.Drift) to include.
	Drift *DriftReport
	// Now gives the export's time; nil means time.Now.
	Now func() time.Time
	// HTMLMaxRows is the size up to which the HTML report lists every
	// item, every decision and every event (default
	// DefaultHTMLMaxRows). A campaign of more items gets a report of
	// summaries: counts per reviewer and per event kind, and every revoke
	// decision, every failed, manual or pending remediation and every
	// access the drift report says came back, in full; the CSV, JSON and
	// workbook hold every row.
	HTMLMaxRows int
	// Overwrite lets Export replace the files of an earlier export of the
	// campaign in the directory; without it, Export refuses
	// (ErrExportExists) before writing anything.
	Overwrite bool
}

// withDefaults returns a copy of o with its defaults filled in.
func (o *ExportOptions) withDefaults() ExportOptions {
	var out ExportOptions
	if o != nil {
		out = *o
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.HTMLMaxRows <= 0 {
		out.HTMLMaxRows = DefaultHTMLMaxRows
	}
	return out
}

// JournalCheck is the result of verifying provision's journal for an
// export (provision.Journal.Verify).
type JournalCheck struct {
	// Verified reports that every entry verified: no edit, deletion,
	// reordering or truncation was found.
	Verified bool `json:"verified"`
	// At is when the verification ran, in UTC.
	At time.Time `json:"at"`
	// Entries is the number of entries that verified.
	Entries int64 `json:"entries"`
	// Head is the last entry that verified: the anchor to keep for the
	// next verification.
	Head provision.JournalHead `json:"head"`
	// Unfinished is the number of changes started and not finished at
	// Head.
	Unfinished int `json:"unfinished"`
	// Anchors is the number of anchors checked.
	Anchors int `json:"anchors"`
	// Tamper is how the journal failed, if it did
	// (provision.JournalTamperKind).
	Tamper string `json:"tamper,omitempty"`
	// Error is the verification's error, if it failed.
	Error string `json:"error,omitempty"`
}

// VerifyJournal verifies j (provision.Journal.Verify with anchors) for an
// export. A journal that fails verification (provision.ErrJournalTampered)
// is a result, not an error: the check says where and how it failed.
// Other errors (the store's, bad anchors) are returned.
func VerifyJournal(ctx context.Context, j *provision.Journal, now time.Time, anchors ...provision.JournalHead) (*JournalCheck, error) {
	if j == nil {
		return nil, fmt.Errorf("review: verify journal: nil journal: %w", ErrExportOptions)
	}
	rep, err := j.Verify(ctx, anchors...)
	var te *provision.JournalTamperError
	if err != nil && !errors.As(err, &te) {
		return nil, fmt.Errorf("review: verify journal: %w", err)
	}
	jc := &JournalCheck{Verified: err == nil, At: now.UTC(), Anchors: len(anchors)}
	if rep != nil {
		jc.Entries, jc.Head, jc.Unfinished, jc.Anchors = rep.Entries, rep.Head, rep.Unfinished, rep.Anchors
	}
	if te != nil {
		jc.Tamper, jc.Error = string(te.Kind), te.Error()
	}
	return jc, nil
}

// Manifest lists the files of an export with their sizes and SHA-256
// digests, and says what the export shows: Export writes it as
// "<id>-manifest.json", and "<id>-manifest.sha256" in the format of
// sha256sum, so that `sha256sum -c <id>-manifest.sha256` checks every file.
type Manifest struct {
	// Campaign is the campaign's ID.
	Campaign string `json:"campaign"`
	// Name is its name.
	Name string `json:"name"`
	// State is its state when it was exported.
	State CampaignState `json:"state"`
	// SnapshotHash is the hash of the snapshot its population was drawn
	// from (Population.SnapshotHash).
	SnapshotHash string `json:"snapshot_hash"`
	// SnapshotSHA256 is the SHA-256 of that snapshot's bytes
	// (Population.SnapshotSHA256): the digest of the snapshot file, when
	// the export has one.
	SnapshotSHA256 string `json:"snapshot_sha256"`
	// ExportedAt is when the export was made, in UTC.
	ExportedAt time.Time `json:"exported_at"`
	// Version is the version of zgov that wrote it, as the Go build
	// records it ("(devel)" in zgov's own tests), or "" if unknown.
	Version string `json:"zgov_version,omitempty"`
	// Items, Decisions and Events count what the export holds.
	Items int `json:"items"`
	// Decisions is the number of decisions in the history.
	Decisions int `json:"decisions"`
	// Events is the number of events.
	Events int `json:"events"`
	// Files are the files written, in the order written; the manifest
	// itself is not among them (the .sha256 file lists it).
	Files []ManifestFile `json:"files"`
	// Journal is the verification of provision's journal; nil if the
	// export was given none.
	Journal *JournalCheck `json:"journal"`
	// Drift summarises the drift report included, if any.
	Drift *DriftSummary `json:"drift,omitempty"`
}

// ManifestFile is one file of an export.
type ManifestFile struct {
	// Name is the file's name in the export's directory.
	Name string `json:"name"`
	// Format is what it holds.
	Format ExportFormat `json:"format"`
	// Size is its size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex SHA-256 of its content.
	SHA256 string `json:"sha256"`
}

// DriftSummary counts a drift report.
type DriftSummary struct {
	// SnapshotHash is the later snapshot's hash.
	SnapshotHash string `json:"snapshot_hash"`
	// TakenAt is when it was taken.
	TakenAt time.Time `json:"taken_at"`
	// Granted counts DriftGranted items.
	Granted int `json:"granted"`
	// Returned counts DriftReturned items.
	Returned int `json:"returned"`
}

// summarise counts a drift report; nil for nil.
func summarise(d *DriftReport) *DriftSummary {
	if d == nil {
		return nil
	}
	s := &DriftSummary{SnapshotHash: d.SnapshotHash, TakenAt: d.TakenAt}
	for _, it := range d.Items {
		if it.Kind == DriftReturned {
			s.Returned++
		} else {
			s.Granted++
		}
	}
	return s
}

// Errors of an export.
var (
	// ErrExportOptions means ExportOptions were refused: an unknown
	// format, or FormatSnapshot for a campaign that keeps no snapshot.
	ErrExportOptions = errors.New("invalid export options")
	// ErrExportExists means a file an export would write exists, and
	// ExportOptions.Overwrite is not set.
	ErrExportExists = errors.New("export file exists")
	// ErrNotDirectory means an export's directory is not a directory.
	ErrNotDirectory = errors.New("not a directory")
)

// ExportError is an export that failed on the file system: it names the
// path and what was being done to it, and wraps the cause
// (fs.ErrNotExist, fs.ErrPermission, ErrNotDirectory, ErrExportExists,
// ...). When Export returns one, nothing of the export is left in the
// directory, and files an earlier export wrote there are as they were.
type ExportError struct {
	// Op is what was being done: "open", "create", "write", "sync",
	// "rename".
	Op string
	// Path is the file or directory.
	Path string
	// Err is the cause.
	Err error
}

// Error returns "review: export: <op> <path>: <cause>".
func (e *ExportError) Error() string {
	return "review: export: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *ExportError) Unwrap() error { return e.Err }

// exportHead is what every writer of an export is given before the
// campaign's records: the campaign (read in the export's transaction), and
// what the options add.
type exportHead struct {
	Info       CampaignInfo
	Journal    *JournalCheck
	Drift      *DriftReport
	ExportedAt time.Time
	Version    string
	MaxRows    int
	// Files are the files of the export written before the HTML report,
	// which lists them with their digests (Export only).
	Files []ManifestFile
}

// newHead prepares the head of an export.
func newHead(o ExportOptions) *exportHead {
	return &exportHead{Drift: o.Drift, Journal: o.JournalCheck, ExportedAt: o.Now().UTC().Truncate(time.Millisecond), Version: version(), MaxRows: o.HTMLMaxRows}
}

// verifyJournal verifies o.Journal into h, unless a verification was given.
// It runs after the campaign is read, so that the journal's head covers
// every change the export shows.
func (h *exportHead) verifyJournal(ctx context.Context, o ExportOptions) error {
	if h.Journal != nil || o.Journal == nil {
		return nil
	}
	jc, err := VerifyJournal(ctx, o.Journal, o.Now(), o.Anchors...)
	if err != nil {
		return err
	}
	h.Journal = jc
	return nil
}

// version returns zgov's version as the build records it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	const module = "github.com/zgov-io/zgov"
	if bi.Main.Path == module {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == module {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// WriteCSV writes the campaign's items as CSV (FormatCSV): a header row,
// then one row per grant of each item, an item's own columns repeated on
// each of its grants' rows (an item of KindGrant has one). The columns are
// what an auditor tests: the person, the access and whether it is
// time-bound, when, by whom and why it was granted, the reviewers, the
// outcome and who decided it with their justification, and the
// remediation with its proof. Times are RFC 3339 in UTC. A cell that a
// spreadsheet would take for a formula (it starts with '=', '+', '-', '@',
// a tab or a carriage return) is prefixed with "'"; the JSON holds the
// values as they are. It reads the campaign in one read-only transaction,
// a page at a time.
func (c *Campaign) WriteCSV(ctx context.Context, w io.Writer) error {
	h := &exportHead{}
	s := newCSVSink(w)
	if err := c.pass(ctx, h, s); err != nil {
		return err
	}
	return s.end()
}

// WriteJSON writes the campaign's evidence as JSON (FormatJSON): an object
// that decodes into Evidence (campaign, decisions, events, items, one
// item a line), with "exported_at", "zgov_version", "journal" (the
// verification, null without a journal) and "drift" (opts.Drift, if set).
// It reads the campaign in one read-only transaction, a page at a time,
// and holds no more than a page in memory.
func (c *Campaign) WriteJSON(ctx context.Context, w io.Writer, opts *ExportOptions) error {
	return c.writeOne(ctx, opts, func(*exportHead) evidenceSink { return newJSONSink(w) })
}

// WriteXLSX writes the campaign's evidence as an Excel workbook
// (FormatXLSX): an "Overview" sheet (the campaign, its population
// evidence, counts by outcome, remediation and reviewer, the journal's
// verification, the drift report's counts), an "Items" sheet with the
// CSV's rows (header bold and frozen, an autofilter, times as dates in
// UTC), and, with opts.Drift, a "Drift" sheet. Rows are streamed to a
// temporary file, not held in memory.
func (c *Campaign) WriteXLSX(ctx context.Context, w io.Writer, opts *ExportOptions) error {
	return c.writeOne(ctx, opts, func(*exportHead) evidenceSink { return newXLSXSink(w, "") })
}

// WriteHTML writes the campaign's evidence as one self-contained HTML
// report (FormatHTML): no scripts, fonts, images or links outside the
// file, styles inline, printable. It shows the summary with counts, the
// population evidence, the reviewers with their counts, the decisions
// with their justifications and times, the remediation with its proof,
// the drift report and the journal's verification; every text from the
// campaign is escaped. A campaign of more items than opts.HTMLMaxRows
// gets summaries instead of full tables (see ExportOptions.HTMLMaxRows).
func (c *Campaign) WriteHTML(ctx context.Context, w io.Writer, opts *ExportOptions) error {
	return c.writeOne(ctx, opts, func(*exportHead) evidenceSink { return newHTMLSink(w) })
}

// writeOne writes one format.
func (c *Campaign) writeOne(ctx context.Context, opts *ExportOptions, sink func(*exportHead) evidenceSink) error {
	o := opts.withDefaults()
	h := newHead(o)
	s := sink(h)
	if err := c.pass(ctx, h, s); err != nil {
		return err
	}
	if err := h.verifyJournal(ctx, o); err != nil {
		return err
	}
	return s.end()
}

// formats returns the formats o asks for, checked.
func (o *ExportOptions) formats(kept bool) ([]ExportFormat, error) {
	if o.Formats == nil {
		fs := []ExportFormat{FormatCSV, FormatJSON, FormatXLSX, FormatHTML}
		if kept {
			fs = append(fs, FormatSnapshot)
		}
		return fs, nil
	}
	var out []ExportFormat
	for _, f := range o.Formats {
		switch f {
		case FormatCSV, FormatJSON, FormatXLSX, FormatHTML:
		case FormatSnapshot:
			if !kept {
				return nil, fmt.Errorf("review: export: format %q: the campaign keeps no snapshot (CampaignSpec.KeepSnapshot): %w", f, ErrExportOptions)
			}
		default:
			return nil, fmt.Errorf("review: export: unknown format %q: %w", f, ErrExportOptions)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}
