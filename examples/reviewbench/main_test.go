package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReviewbenchEndsWithJSON runs both phases tiny on SQLite and checks the
// summary on the last line.
func TestReviewbenchEndsWithJSON(t *testing.T) {
	t.Parallel()
	args := []string{"-users", "200", "-grants", "600", "-batch", "250", "-remediate", "100"}
	var stdout, stderr bytes.Buffer
	if code := cli(t.Context(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	var r result
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, stdout.String())
	}
	c, m := r.Campaign, r.Remediation
	if r.DB != "sqlite" || c == nil || m == nil {
		t.Fatalf("summary %s", last)
	}
	if c.Items != 600 || c.Decisions != 600 || c.Certified != 540 || c.Revoked != 60 {
		t.Errorf("campaign %+v", *c)
	}
	for _, f := range []string{"csv", "json", "xlsx", "html"} {
		if e := c.Exports[f]; e.SizeMB <= 0 || e.PeakHeapMB <= 0 {
			t.Errorf("export %s: %+v", f, e)
		}
	}
	if m.Done+m.Manual != 100 || m.Failed != 0 || m.Throttled != 0 || m.Jobs != m.JobsExpected || m.Jobs != (m.Done+99)/100 {
		t.Errorf("remediation %+v", *m)
	}
	if len(r.TargetsMet)+len(r.TargetsMissed) != 9 {
		t.Errorf("targets met %v, missed %v", r.TargetsMet, r.TargetsMissed)
	}
}

func TestReviewbenchRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-users", "0"}, "-users 0: want at least 1"},
		{[]string{"-users", "10", "-grants", "20"}, "-grants 20: the generated snapshot holds three grants a user, want 30"},
		{[]string{"-batch", "0"}, "-batch 0"},
		{[]string{"-remediate", "0"}, "-remediate 0"},
		{[]string{"-rpm", "0"}, "-rpm 0"},
		{[]string{"-phases", "both"}, `-phases "both"`},
		{[]string{"-db", "mysql://x"}, "-db: want sqlite:<file> or a postgres:// URL"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		if code := cli(t.Context(), tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: stderr %q lacks %q", tt.args, stderr.String(), tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: wrote a report", tt.args)
		}
	}
}
