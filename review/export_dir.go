package review

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Export writes the campaign's evidence into dir, an existing directory:
// the files of opts.Formats (by default the CSV, the JSON, the workbook,
// the HTML report, and the snapshot if the campaign keeps it), named after
// the campaign ("q1-items.csv", "q1-evidence.json", "q1-evidence.xlsx",
// "q1-report.html", "q1-snapshot.json"), then "q1-manifest.json" (every
// file with its size and SHA-256, the campaign, its snapshot hash, the
// export's time, zgov's version, the journal's verification) and
// "q1-manifest.sha256", which `sha256sum -c` reads. Every file shows the
// campaign as one read-only transaction saw it.
//
// Nothing is half-written: the files are written into a temporary
// directory inside dir, synced to disk, then renamed into place, the
// manifests last; on any error the temporary directory is removed, files
// already renamed are taken back, and the files of an earlier export they
// replaced (ExportOptions.Overwrite) are put back. A failure of the file
// system is an *ExportError naming the path; a crash can leave only a
// directory named ".zgov-export-*", which may be removed.
func (c *Campaign) Export(ctx context.Context, dir string, opts *ExportOptions) (*Manifest, error) {
	o := opts.withDefaults()
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	spec, err := c.spec(ctx)
	if err != nil {
		return nil, err
	}
	formats, err := o.formats(spec.KeepSnapshot)
	if err != nil {
		return nil, err
	}
	// The HTML report goes last: it lists the other files' digests.
	if i := indexOf(formats, FormatHTML); i >= 0 {
		formats = append(append(formats[:i:i], formats[i+1:]...), FormatHTML)
	}
	manifestName, sumsName := c.id+"-manifest.json", c.id+"-manifest.sha256"
	var names []string
	for _, f := range formats {
		names = append(names, f.fileName(c.id))
	}
	names = append(names, manifestName, sumsName)
	// One export of a campaign into a directory at a time: two at once
	// would mix their files (and a manifest of one with the files of the
	// other).
	unlock, err := lockExport(dir, c.id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	for _, n := range names {
		p := filepath.Join(dir, n)
		fi, err := os.Lstat(p)
		switch {
		case err == nil && !o.Overwrite:
			return nil, &ExportError{Op: "create", Path: p, Err: ErrExportExists}
		case err == nil && !fi.Mode().IsRegular():
			// Overwrite replaces an earlier export's files, never a
			// directory or a link that happens to have the name.
			return nil, &ExportError{Op: "replace", Path: p, Err: fmt.Errorf("%w: it is not a regular file, so not an earlier export's", ErrExportExists)}
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, &ExportError{Op: "open", Path: p, Err: pathCause(err)}
		}
	}
	h := newHead(o)

	stage, err := os.MkdirTemp(dir, ".zgov-export-")
	if err != nil {
		return nil, &ExportError{Op: "create", Path: dir, Err: pathCause(err)}
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(stage)
		}
	}()

	m := &Manifest{Campaign: c.id, ExportedAt: h.ExportedAt, Version: h.Version, Drift: summarise(o.Drift), Files: []ManifestFile{}}
	var outs []*exportFile
	defer func() {
		for _, f := range outs {
			f.abort()
		}
	}()
	sinks := map[ExportFormat]evidenceSink{}
	var all []evidenceSink
	files := map[ExportFormat]*exportFile{}
	count := &countSink{}
	for _, f := range formats {
		out, err := createExportFile(stage, dir, f, f.fileName(c.id))
		if err != nil {
			return nil, err
		}
		outs = append(outs, out)
		files[f] = out
		var s evidenceSink
		switch f {
		case FormatCSV:
			s = newCSVSink(out)
		case FormatJSON:
			s = newJSONSink(out)
		case FormatXLSX:
			s = newXLSXSink(out, stage)
		case FormatHTML:
			s = newHTMLSink(out)
		default:
			continue
		}
		sinks[f] = s
		all = append(all, s)
	}
	if err := c.pass(ctx, h, append(all, count)...); err != nil {
		return nil, exportCause(err, outs)
	}
	if err := h.verifyJournal(ctx, o); err != nil {
		return nil, err
	}
	m.Journal = h.Journal
	// In the order of formats: the HTML report last, listing the others.
	for _, f := range formats {
		out := files[f]
		if f == FormatSnapshot {
			data, err := c.Snapshot(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := out.Write(data); err != nil {
				return nil, exportCause(err, outs)
			}
		} else if err := sinks[f].end(); err != nil {
			return nil, exportCause(err, outs)
		}
		mf, err := out.finish()
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, mf)
		h.Files = append(h.Files, mf)
	}
	m.Name, m.State = h.Info.Name, h.Info.State
	m.SnapshotHash, m.SnapshotSHA256 = h.Info.Population.SnapshotHash, h.Info.Population.SnapshotSHA256
	m.Items, m.Decisions, m.Events = h.Info.Progress.Items, count.decisions, count.events

	// The manifests.
	out, err := createExportFile(stage, dir, "", manifestName)
	if err != nil {
		return nil, err
	}
	outs = append(outs, out)
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, exportCause(err, outs)
	}
	mf, err := out.finish()
	if err != nil {
		return nil, err
	}
	var sums strings.Builder
	for _, f := range append(m.Files, mf) {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Name)
	}
	if out, err = createExportFile(stage, dir, "", sumsName); err != nil {
		return nil, err
	}
	outs = append(outs, out)
	if _, err := io.WriteString(out, sums.String()); err != nil {
		return nil, exportCause(err, outs)
	}
	if _, err := out.finish(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := syncDir(stage); err != nil {
		return nil, &ExportError{Op: "sync", Path: stage, Err: pathCause(err)}
	}
	if err := commitExport(stage, dir, names); err != nil {
		return nil, err
	}
	done = true
	_ = os.RemoveAll(stage)
	return m, nil
}

// indexOf returns the index of f in fs, or -1.
func indexOf(fs []ExportFormat, f ExportFormat) int {
	for i, g := range fs {
		if g == f {
			return i
		}
	}
	return -1
}

// checkDir checks that dir is an existing directory.
func checkDir(dir string) error {
	if dir == "" {
		return &ExportError{Op: "open", Path: dir, Err: fs.ErrNotExist}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return &ExportError{Op: "open", Path: dir, Err: pathCause(err)}
	}
	if !fi.IsDir() {
		return &ExportError{Op: "open", Path: dir, Err: ErrNotDirectory}
	}
	return nil
}

// pathCause returns the cause of a *fs.PathError or *os.LinkError, whose
// path the ExportError names already.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// exportCause returns err, or, if it is a write error of one of the
// export's files, an *ExportError naming the file.
func exportCause(err error, outs []*exportFile) error {
	for _, f := range outs {
		if f.err != nil && errors.Is(err, f.err) {
			return &ExportError{Op: "write", Path: f.final, Err: pathCause(f.err)}
		}
	}
	return err
}

// exportFile is one file of an export being written in the temporary
// directory: it counts and hashes what is written.
type exportFile struct {
	f      *os.File
	bw     *bufio.Writer
	sum    hash.Hash
	n      int64
	err    error // the first write error
	name   string
	final  string // its path once renamed into place
	format ExportFormat
}

// createExportFile creates name in stage.
func createExportFile(stage, dir string, format ExportFormat, name string) (*exportFile, error) {
	f, err := os.OpenFile(filepath.Join(stage, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, &ExportError{Op: "create", Path: filepath.Join(dir, name), Err: pathCause(err)}
	}
	return &exportFile{f: f, bw: bufio.NewWriterSize(f, 256<<10), sum: sha256.New(), name: name, final: filepath.Join(dir, name), format: format}, nil
}

// Write writes to the file through its buffer, and hashes.
func (f *exportFile) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.bw.Write(p)
	f.sum.Write(p[:n])
	f.n += int64(n)
	if err != nil {
		f.err = err
	}
	return n, err
}

// finish flushes, syncs and closes the file, and returns its entry.
func (f *exportFile) finish() (ManifestFile, error) {
	fail := func(op string, err error) (ManifestFile, error) {
		f.abort()
		return ManifestFile{}, &ExportError{Op: op, Path: f.final, Err: pathCause(err)}
	}
	if f.err != nil {
		return fail("write", f.err)
	}
	if err := f.bw.Flush(); err != nil {
		return fail("write", err)
	}
	if err := f.f.Sync(); err != nil {
		return fail("sync", err)
	}
	err := f.f.Close()
	f.f = nil
	if err != nil {
		return fail("write", err)
	}
	return ManifestFile{Name: f.name, Format: f.format, Size: f.n, SHA256: hex.EncodeToString(f.sum.Sum(nil))}, nil
}

// abort closes the file if it is open (the temporary directory is removed
// after).
func (f *exportFile) abort() {
	if f.f != nil {
		_ = f.f.Close()
		f.f = nil
	}
}

// syncDir syncs a directory, so that the names of the files in it are on
// disk (not possible on Windows, where renames are durable when they
// return).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// commitExport renames the files names from stage into dir, the last
// (the manifests) last. Files of an earlier export with those names are
// moved aside into stage first, the manifests first, and put back if any
// rename fails, after the files already renamed are taken back.
func commitExport(stage, dir string, names []string) error {
	aside := filepath.Join(stage, "replaced")
	var moved, placed []string
	undo := func() {
		for _, n := range placed {
			_ = os.Rename(filepath.Join(dir, n), filepath.Join(stage, n))
		}
		for _, n := range moved {
			_ = os.Rename(filepath.Join(aside, n), filepath.Join(dir, n))
		}
		_ = syncDir(dir)
	}
	for i := len(names) - 1; i >= 0; i-- {
		n := names[i]
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if len(moved) == 0 {
			if err := os.Mkdir(aside, 0o700); err != nil {
				return &ExportError{Op: "create", Path: aside, Err: pathCause(err)}
			}
		}
		if err := os.Rename(p, filepath.Join(aside, n)); err != nil {
			undo()
			return &ExportError{Op: "rename", Path: p, Err: pathCause(err)}
		}
		moved = append(moved, n)
	}
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.Rename(filepath.Join(stage, n), p); err != nil {
			undo()
			return &ExportError{Op: "rename", Path: p, Err: pathCause(err)}
		}
		placed = append(placed, n)
	}
	if err := syncDir(dir); err != nil {
		undo()
		return &ExportError{Op: "sync", Path: dir, Err: pathCause(err)}
	}
	return nil
}

// countSink counts the decisions and events an export holds.
type countSink struct{ decisions, events int }

func (s *countSink) history() bool { return true }

func (s *countSink) begin(*exportHead) error { return nil }
func (s *countSink) end() error              { return nil }
func (s *countSink) batch(b *evidenceBatch) error {
	s.decisions += len(b.decisions)
	s.events += len(b.events)
	return nil
}

// exportLockStale is how old an export's lock file must be for another
// export to take it over (its export died).
const exportLockStale = time.Hour

// lockExport takes the lock of exports of campaign id into dir: a file
// created exclusively, removed by the returned func. A lock older than
// exportLockStale is taken over.
func lockExport(dir, id string) (func(), error) {
	p := filepath.Join(dir, ".zgov-export-"+id+".lock")
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_ = f.Close()
			return func() { _ = os.Remove(p) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, &ExportError{Op: "create", Path: dir, Err: pathCause(err)}
		}
		fi, serr := os.Stat(p)
		if attempt > 0 || serr != nil || time.Since(fi.ModTime()) < exportLockStale {
			return nil, &ExportError{Op: "lock", Path: p, Err: fmt.Errorf("%w: another export of campaign %q into this directory is running (a lock older than %v is taken over)", ErrExportExists, id, exportLockStale)}
		}
		_ = os.Remove(p) // stale: its export died
	}
}
