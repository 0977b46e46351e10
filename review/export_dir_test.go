package review_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// TestExportUnwritable: an export into a directory that does not exist, is
// a file, lies under a file or cannot be written fails with an
// *ExportError naming it, and leaves nothing behind.
func TestExportUnwritable(t *testing.T) {
	f := newEvidenceFixture(t, sqldbtest.SQLiteFileDSN(t), false)
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(base, "read-only")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		want      error
	}{
		{"read-only", readOnly, fs.ErrPermission},
		{"missing", filepath.Join(base, "missing"), fs.ErrNotExist},
		{"a file", file, review.ErrNotDirectory},
		{"under a file", filepath.Join(file, "sub"), nil},
		{"read-only file system", "/proc/self", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat("/proc/self"); tc.dir == "/proc/self" && err != nil {
				t.Skip("no /proc")
			}
			if tc.dir == readOnly && os.Geteuid() == 0 {
				t.Skip("root writes into a read-only directory (the cases under a file and in /proc fail for root too)")
			}
			_, err := f.c.Export(t.Context(), tc.dir, f.options())
			var ee *review.ExportError
			if !errors.As(err, &ee) || ee.Path != tc.dir {
				t.Fatalf("export into %s: %v, want an *ExportError naming it", tc.dir, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("export into %s: %v, want %v", tc.dir, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.dir) {
				t.Errorf("the error %q does not name %s", err, tc.dir)
			}
		})
	}
	entries, _ := os.ReadDir(base)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
	if entries, _ := os.ReadDir(readOnly); len(entries) != 0 {
		t.Errorf("left behind in the read-only directory: %v", entries)
	}
}

// TestExportAtomic: an export that fails part way (here: cancelled)
// leaves nothing; an existing export is not overwritten without
// Overwrite, and with it is replaced whole.
func TestExportAtomic(t *testing.T) {
	ctx := t.Context()
	f := newEvidenceFixture(t, sqldbtest.SQLiteFileDSN(t), false)
	dir := t.TempDir()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.c.Export(cctx, dir, f.options()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled export: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a cancelled export left %v", entries)
	}

	first, err := f.c.Export(ctx, dir, f.options())
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, dir)
	o := f.options()
	o.Now = func() time.Time { return exportTime.Add(time.Hour) }
	_, err = f.c.Export(ctx, dir, o)
	var ee *review.ExportError
	if !errors.As(err, &ee) || !errors.Is(err, review.ErrExportExists) || filepath.Dir(ee.Path) != dir {
		t.Errorf("export over an export: %v", err)
	}
	if diff := cmp.Diff(before, snapshotDir(t, dir)); diff != "" {
		t.Errorf("a refused export changed the directory (-before +after):\n%s", diff)
	}
	o.Overwrite = true
	second, err := f.c.Export(ctx, dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if second.ExportedAt.Equal(first.ExportedAt) || len(snapshotDir(t, dir)) != len(before) {
		t.Errorf("overwrite: %v then %v", first.ExportedAt, second.ExportedAt)
	}
	for _, mf := range second.Files {
		data, _ := os.ReadFile(filepath.Join(dir, mf.Name))
		if sha(data) != mf.SHA256 {
			t.Errorf("%s is not the second export's", mf.Name)
		}
	}

	// A bad option is refused before anything is written.
	o.Formats = []review.ExportFormat{review.FormatSnapshot}
	if _, err := f.c.Export(ctx, t.TempDir(), o); !errors.Is(err, review.ErrExportOptions) {
		t.Errorf("snapshot of a campaign that keeps none: %v", err)
	}
	o.Formats = []review.ExportFormat{"pdf"}
	if _, err := f.c.Export(ctx, t.TempDir(), o); !errors.Is(err, review.ErrExportOptions) {
		t.Errorf("unknown format: %v", err)
	}
	// One format.
	o.Formats = []review.ExportFormat{review.FormatCSV}
	one := t.TempDir()
	m, err := f.c.Export(ctx, one, o)
	if err != nil || len(m.Files) != 1 || m.Files[0].Name != "q1-items.csv" {
		t.Errorf("CSV only: %+v, %v", m, err)
	}
}

// brokenJournalStore is a journal store that cannot be read.
type brokenJournalStore struct{ provision.JournalStore }

var errJournalDown = errors.New("journal store is down")

func (brokenJournalStore) Head(context.Context) (provision.JournalHead, error) {
	return provision.JournalHead{}, errJournalDown
}

// TestExportFailsLate: an export that fails after it started writing (the
// journal cannot be read once the campaign is) leaves nothing, and the
// files of an earlier export it would have replaced are as they were.
func TestExportFailsLate(t *testing.T) {
	ctx := t.Context()
	f := newEvidenceFixture(t, sqldbtest.SQLiteFileDSN(t), true)
	broken, err := provision.NewJournal(brokenJournalStore{provision.NewMemoryJournalStore()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o := f.options()
	o.Journal = broken
	if _, err := f.c.Export(ctx, dir, o); !errors.Is(err, errJournalDown) {
		t.Errorf("export with a broken journal: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}
	if _, err := f.c.Export(ctx, dir, f.options()); err != nil {
		t.Fatal(err)
	}
	before := snapshotDir(t, dir)
	o.Overwrite = true
	if _, err := f.c.Export(ctx, dir, o); !errors.Is(err, errJournalDown) {
		t.Errorf("export over an export with a broken journal: %v", err)
	}
	if diff := cmp.Diff(before, snapshotDir(t, dir)); diff != "" {
		t.Errorf("a failed export changed the directory (-before +after):\n%s", diff)
	}
}

// snapshotDir returns the digests of the files in dir.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha(data)
	}
	return out
}
