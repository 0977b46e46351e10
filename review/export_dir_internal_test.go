package review

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestCommitExportUndo: when a rename into place fails, the files already
// renamed are taken back and the files they replaced are put back.
func TestCommitExportUndo(t *testing.T) {
	base := t.TempDir()
	dir, stage := filepath.Join(base, "dir"), filepath.Join(base, "stage")
	for _, d := range []string{dir, stage} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "q1-items.csv"), "old items")
	write(filepath.Join(dir, "q1-manifest.json"), "old manifest")
	write(filepath.Join(stage, "q1-items.csv"), "new items")
	write(filepath.Join(stage, "q1-manifest.json"), "new manifest")
	// q1-report.html is missing from the stage: its rename fails after
	// q1-items.csv's.
	err := commitExport(stage, dir, []string{"q1-items.csv", "q1-report.html", "q1-manifest.json"})
	var ee *ExportError
	if !errors.As(err, &ee) || ee.Op != "rename" || ee.Path != filepath.Join(dir, "q1-report.html") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("commit: %v", err)
	}
	for name, want := range map[string]string{"q1-items.csv": "old items", "q1-manifest.json": "old manifest"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s after a failed commit: %q, %v; want %q", name, got, err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %v", entries)
	}
}
