package zgov_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every code sample in doc.go and the README must be code that compiles and
// runs: each one's lines must appear, in order and together, in an Example
// function of some example_test.go (whose output go test checks).

// exampleFiles returns the normalised lines of every example_test.go.
func exampleFiles(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "example_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = normalise(strings.Split(string(b), "\n"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normalise trims each line, collapses runs of white space (gofmt aligns
// comments) and drops blank lines, so layout may differ between a sample and
// its example.
func normalise(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func contains(file, sample []string) bool {
	for i := 0; i+len(sample) <= len(file); i++ {
		match := true
		for j, l := range sample {
			if file[i+j] != l {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func checkSample(t *testing.T, where string, sample []string, files map[string][]string) {
	t.Helper()
	sample = normalise(sample)
	if len(sample) == 0 {
		return
	}
	for _, f := range files {
		if contains(f, sample) {
			return
		}
	}
	t.Errorf("%s: this sample is in no example_test.go, so nothing compiles or runs it:\n%s", where, strings.Join(sample, "\n"))
}

func TestDocGoSampleIsAnExample(t *testing.T) {
	files := exampleFiles(t)
	f, err := os.Open("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sample []string
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			sample = append(sample, code)
			continue
		}
		if len(sample) > 0 {
			n++
			checkSample(t, "doc.go", sample, files)
			sample = nil
		}
	}
	if n == 0 {
		t.Fatal("doc.go has no code sample")
	}
}

func TestReadmeSamplesAreExamples(t *testing.T) {
	files := exampleFiles(t)
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var sample []string
	in, n := false, 0
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case !in && strings.HasPrefix(line, "```go"):
			in, sample = true, nil
		case in && strings.HasPrefix(line, "```"):
			in = false
			n++
			checkSample(t, "README.md block ending on line "+strconv.Itoa(i+1), sample, files)
		case in:
			sample = append(sample, line)
		}
	}
	if n == 0 {
		t.Fatal("README.md has no Go sample")
	}
}
