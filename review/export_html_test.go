package review_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
)

// chromium returns a Chromium or Chrome to render the report with. Without
// one the test skips, saying how to install it, except under CI=true,
// where it fails (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium to render the HTML report with: CI must have one (.ci/run installs Debian's chromium)")
	}
	t.Skip("no Chromium: the HTML report is not rendered (apt-get install chromium, or put chromium, chromium-browser or google-chrome on PATH)")
	return ""
}

// runChromium runs headless Chromium with a fresh profile and no network:
// background services off, every host name unresolvable.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// visibleText returns the text a person sees in a rendered page: every
// text node of the body, white space collapsed, and the elements found.
func visibleText(t *testing.T, dom []byte) (text string, elements map[string]int) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	elements = map[string]int{}
	var b strings.Builder
	var walk func(n *html.Node, inBody bool)
	walk = func(n *html.Node, inBody bool) {
		switch n.Type {
		case html.ElementNode:
			elements[n.Data]++
			switch n.Data {
			case "body":
				inBody = true
			case "style", "script", "template", "head":
				return
			}
		case html.TextNode:
			if inBody {
				b.WriteString(n.Data)
				b.WriteByte(' ')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inBody)
		}
	}
	walk(doc, false)
	return strings.Join(strings.Fields(b.String()), " "), elements
}

// TestExportHTMLInBrowser renders the report in headless Chromium, with no
// network, and checks what a person sees: the sections, the counts, a
// revoke's justification, a failed remediation's error, the drift, the
// journal's verification; hostile names shown as text, no script run.
// It saves a screenshot (ZGOV_REPORT_PNG copies it out, to look at).
func TestExportHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	f := newEvidenceFixture(t, sqldbtest.SQLiteFileDSN(t), true)
	dir := t.TempDir()
	if _, err := f.c.Export(t.Context(), dir, f.options()); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "q1-report.html")
	url := "file://" + filepath.ToSlash(report)

	dom := runChromium(t, bin, "--dump-dom", url)
	text, elements := visibleText(t, dom)
	for _, want := range []string{
		"Access review evidence", "Q1 2026",
		"Summary", "Population evidence", "Reviewers", "Items", "Decisions", "Remediation", "Drift", "Events", "Integrity",
		"11 Items reviewed (grants)", "2 Certified", "4 Revoked", "5 Undecided", "1 Revokes done and verified", "2 Revokes failed",
		"1 Blocked by a guard (manual)", "Needs attention",
		f.snap.Hash(),
		`<img src=x onerror=alert(1)> left billing`, "left support in January", "still covers weekends",
		"backend is down for this grant", "guard protected_list", "still held",
		"1 Granted since, not reviewed", "1 Revoked and held again", "group:11:member@user:2", "group:10:member@user:3",
		"The journal of changes verified", "q1-items.csv", "q1-snapshot.json",
		`<script>alert("ann")</script>Ann O'Hara & Co`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered report does not show %q", want)
		}
	}
	for _, el := range []string{"script", "img", "iframe", "link", "object"} {
		if elements[el] > 0 {
			t.Errorf("the rendered report has %d <%s> elements", elements[el], el)
		}
	}
	if elements["section"] < 8 || elements["table"] < 6 {
		t.Errorf("sections %d, tables %d", elements["section"], elements["table"])
	}

	png := filepath.Join(t.TempDir(), "report.png")
	runChromium(t, bin, "--screenshot="+png, "--window-size=1280,2000", url)
	data, err := os.ReadFile(png)
	if err != nil || len(data) < 20_000 || !bytes.HasPrefix(data, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, %v", len(data), err)
	}
	if out := os.Getenv("ZGOV_REPORT_PNG"); out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(out, ".png")+".html", mustRead(t, report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The HTML report may load nothing: no element refers to anything by URL.
var externalRef = regexp.MustCompile(`(?i)(src|href|action|poster|srcset|data)\s*=\s*["']?\s*(https?:|//)|url\(|@import|<link|<script|<img|<iframe|<object|<embed`)

// TestExportHTML: the report shows each section with its counts, every
// decision with its justification, the failed and manual remediations
// with their errors, the drift, and the journal's verification; hostile
// names are text; nothing is loaded from outside the file.
func TestExportHTML(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		f := newEvidenceFixture(t, dsn, false)
		var buf bytes.Buffer
		if err := f.c.WriteHTML(t.Context(), &buf, f.options()); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		if m := externalRef.FindString(page); m != "" {
			t.Errorf("the report refers outside itself: %q", m)
		}
		for _, want := range []string{
			"<h2>Summary</h2>", "<h2>Population evidence</h2>", "<h2>Reviewers</h2>", "<h2>Items</h2>", "<h2>Decisions</h2>",
			"<h2>Remediation</h2>", "<h2>Drift</h2>", "<h2>Integrity</h2>",
			f.snap.Hash(), "left support in January", "still covers weekends", "not a customer",
			"&lt;script&gt;alert(&#34;ann&#34;)&lt;/script&gt;Ann O&#39;Hara &amp; Co",
			"&lt;img src=x onerror=alert(1)&gt; left billing",
			"backend is down for this grant", "protected_list", "group:11:member@user:2", "group:10:member@user:3",
			"The journal of changes verified", "review/q1/4",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the report lacks %q", want)
			}
		}
		if strings.Contains(page, hostileName) || strings.Contains(page, "<img src=x") {
			t.Error("hostile text reached the report unescaped")
		}
	})
}

// TestExportHTMLSummaries: past HTMLMaxRows items the report lists the
// revoke decisions and the remediations not done, and counts the rest.
func TestExportHTMLSummaries(t *testing.T) {
	f := newEvidenceFixture(t, sqldbtest.SQLiteFileDSN(t), false)
	o := f.options()
	o.HTMLMaxRows = 3
	var buf bytes.Buffer
	if err := f.c.WriteHTML(t.Context(), &buf, o); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<h2>Items</h2>") || strings.Contains(page, "still covers weekends") {
		t.Error("a summary report lists the items or certify decisions")
	}
	for _, want := range []string{"more than the 3 this report lists in full", "left support in January", "not a customer",
		"no longer staff", "backend is down for this grant", "protected_list", "q1-items.csv"} {
		if !strings.Contains(page, want) {
			t.Errorf("the summary report lacks %q", want)
		}
	}
}
