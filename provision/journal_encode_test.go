package provision_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

// The hash recipe of doc.go, implemented again here with encoding/json and
// crypto/sha256 only, as an auditor's tool would: nothing below calls the
// package's own encoder.

// recipeCanonical encodes a decoded JSON value (numbers as json.Number) by
// the recipe: members with empty values left out, object members sorted
// (encoding/json sorts map keys), no white space, and every character
// outside printable ASCII escaped (encoding/json already writes \" \\ \b
// \f \n \r \t and \u00XX for other control characters; the rest is done
// here).
func recipeCanonical(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(prune(v)); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, r := range strings.TrimSuffix(buf.String(), "\n") {
		switch {
		case r < 0x7f:
			out = append(out, byte(r))
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// prune drops the members whose value is empty: "", 0, [] and {} (after
// pruning what they hold).
func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			x = prune(x)
			switch x := x.(type) {
			case string:
				if x == "" {
					continue
				}
			case json.Number:
				if x == "0" {
					continue
				}
			case []any:
				if len(x) == 0 {
					continue
				}
			case map[string]any:
				if len(x) == 0 {
					continue
				}
			case nil:
				continue
			}
			out[k] = x
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = prune(x)
		}
		return out
	}
	return v
}

func decodeGeneric(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// richJournal returns a journal holding changes of every operation, with
// text that exercises every escaping rule.
func richJournal(t testing.TB) *provision.Journal {
	t.Helper()
	j := newJournal(t, nil)
	odd := provision.JournalActor{
		Who:    "Zoë <zoe@example.com> & co",
		Reason: "line 1\nline 2\t\"quoted\" \\ / \u2028 \u2029 ☃ 😀 \u00e9",
		Source: "review:2026-q1/item-12",
	}
	ctx := t.Context()
	changes := []struct {
		id    string
		actor provision.JournalActor
		op    provision.JournalOp
		out   *provision.JournalOutcome
	}{
		{"g", odd, grantOp("group:10:member", "user:2"), &provision.JournalOutcome{
			Status: "incomplete", Added: []string{"role:agent:assigned@user:2"}, Replaced: []string{"organization:5:member@user:2"},
			Note: "promoted \x01 then \x1f \x7f \u0085 failed", RequestIDs: []string{"req-1", "req-2"}, Error: "zendesk: 503 <html>&amp;</html>", ErrorClass: "zendesk_api",
		}},
		{"r", ann, provision.JournalRevokeOp(access.RevokeRequest{EntitlementID: "group:10:member", PrincipalID: "user:3"}), &provision.JournalOutcome{Status: "revoked", GrantID: "group:10:member@user:3"}},
		{"c", provision.JournalActor{Who: "svc:hr-sync", Source: "plan:4f2a"}, provision.JournalOp{Name: provision.JournalOpCreateAccount, Email: "zoë@example.com", Role: "end-user", Params: map[string]string{"external_id": "E-1", "name": "Zoë 😀"}},
			&provision.JournalOutcome{Status: "created", PrincipalID: "user:42", Params: map[string]string{"matched_by": "email"}}},
		{"d", ann, provision.JournalOp{Name: provision.JournalOpDeprovision, PrincipalID: "user:42", Step: "soft_delete"}, &provision.JournalOutcome{Error: "context canceled", ErrorClass: "canceled"}},
		{"a", ann, provision.JournalOp{Name: provision.JournalOpReactivate, PrincipalID: "user:42"}, nil},
	}
	for _, c := range changes {
		if _, err := j.Begin(ctx, c.id, c.actor, c.op); err != nil {
			t.Fatalf("Begin %s: %v", c.id, err)
		}
		if c.out != nil {
			if _, err := j.Finish(ctx, c.id, *c.out); err != nil {
				t.Fatalf("Finish %s: %v", c.id, err)
			}
		}
	}
	return j
}

func export(t testing.TB, j *provision.Journal) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := j.ExportJSONL(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func lines(b []byte) [][]byte {
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'})
}

// TestJournalHashRecipeOnExport runs the auditor's recipe on each line of
// an export: the hash is the SHA-256 of the line re-encoded without its
// hash, the line is already in canonical form, and the chain links.
func TestJournalHashRecipeOnExport(t *testing.T) {
	t.Parallel()
	out := export(t, richJournal(t))
	if !utf8.Valid(out) || bytes.ContainsFunc(out, func(r rune) bool { return r > 0x7e || r < 0x20 && r != '\n' }) {
		t.Error("the export is not printable ASCII lines")
	}
	var prev string
	n := 0
	for i, line := range lines(out) {
		line = bytes.TrimSuffix(line, []byte{'\n'})
		m := decodeGeneric(t, line)
		if got := recipeCanonical(t, m); !bytes.Equal(got, line) {
			t.Errorf("line %d is not canonical:\n line %s\n want %s", i+1, line, got)
		}
		h, _ := m["hash"].(string)
		delete(m, "hash")
		if got := sha256Hex(recipeCanonical(t, m)); got != h {
			t.Errorf("line %d: recipe hash %s, line says %s", i+1, got, h)
		}
		if p, _ := m["prev_hash"].(string); p != prev {
			t.Errorf("line %d: prev_hash %q, want %q", i+1, p, prev)
		}
		if s := m["seq"].(json.Number).String(); s != fmt.Sprint(i+1) {
			t.Errorf("line %d: seq %s", i+1, s)
		}
		prev = h
		n++
	}
	if n != 9 {
		t.Errorf("%d lines, want 9", n)
	}
}

// TestJournalHashRecipeOnEntries runs the recipe from the Go value of each
// entry, as a program reading a store would: encoding/json's encoding of
// JournalEntry, with time written as the recipe says.
func TestJournalHashRecipeOnEntries(t *testing.T) {
	t.Parallel()
	j := richJournal(t)
	for _, e := range readAll(t, j) {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		m := decodeGeneric(t, b)
		m["time"] = e.Time.UTC().Format("2006-01-02T15:04:05.000000Z")
		delete(m, "hash")
		if got := sha256Hex(recipeCanonical(t, m)); got != e.Hash {
			t.Errorf("entry %d: recipe hash %s, entry has %s\n%s", e.Seq, got, e.Hash, recipeCanonical(t, m))
		}
	}
}

// TestJournalHashRecipePython runs the Python recipe printed in doc.go on
// an export, where Python is installed: another tool, as an auditor's.
func TestJournalHashRecipePython(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	script := docSample(t, "In Python:")
	dir := t.TempDir()
	j := richJournal(t)
	if err := os.WriteFile(filepath.Join(dir, "journal.jsonl"), export(t, j), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), python, "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python recipe: %v\n%s\nscript:\n%s", err, out, script)
	}
	h, err := j.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), fmt.Sprintf("%d %s", h.Seq, h.Hash); got != want {
		t.Errorf("python recipe printed %q, want %q", got, want)
	}
}

// docSample returns the code sample of doc.go that follows the line
// holding marker.
func docSample(t *testing.T, marker string) string {
	t.Helper()
	f, err := os.Open("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var code []string
	found := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !found {
			found = strings.Contains(line, marker)
			continue
		}
		c, ok := strings.CutPrefix(line, "//\t")
		if ok {
			code = append(code, c)
		} else if len(code) > 0 {
			break
		}
	}
	if len(code) == 0 {
		t.Fatalf("doc.go has no sample after %q", marker)
	}
	return strings.Join(code, "\n") + "\n"
}

// TestExportJSONLStopsAtHead: entries appended while an export runs are
// left for the next export, so an export is one consistent prefix.
func TestExportJSONLStopsAtHead(t *testing.T) {
	t.Parallel()
	mem := provision.NewMemoryJournalStore()
	j := newJournal(t, mem)
	begin(t, j, "a", grantOp("group:10:member", "user:2"))
	late := &lateStore{MemoryJournalStore: mem, j: newJournal(t, mem)}
	out := export(t, newJournal(t, late))
	if n := len(lines(out)); n != 1 {
		t.Errorf("export has %d lines, want 1 (the head when it started)", n)
	}
	if late.err != nil {
		t.Fatal(late.err)
	}
}

// lateStore appends an entry when its entries are first read.
type lateStore struct {
	*provision.MemoryJournalStore
	j    *provision.Journal
	done bool
	err  error
}

func (s *lateStore) Entries(ctx context.Context, from int64, limit int) ([]provision.JournalEntry, error) {
	if !s.done {
		s.done = true
		_, s.err = s.j.Begin(ctx, "late", ann, grantOp("group:10:member", "user:3"))
	}
	return s.MemoryJournalStore.Entries(ctx, from, limit)
}

func TestExportJSONLEmpty(t *testing.T) {
	t.Parallel()
	if out := export(t, newJournal(t, nil)); len(out) != 0 {
		t.Errorf("export of an empty journal = %q, want nothing", out)
	}
}

// TestDocGoSampleIsAnExample: the Go sample in doc.go is code that runs,
// in ExampleJournal.
func TestDocGoSampleIsAnExample(t *testing.T) {
	t.Parallel()
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	sample := docSample(t, "package's Journal example")
	ex, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(norm(string(ex)), norm(sample)) {
		t.Errorf("doc.go's sample is in no example:\n%s", sample)
	}
}
