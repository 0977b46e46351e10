package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// TestJitbenchEndsWithJSON runs both phases small, on SQLite (and on PostgreSQL when
// ZGOV_TEST_POSTGRES_DSN is set), and checks the summary: every grant ended, none
// failed, no 429.
func TestJitbenchEndsWithJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real expiries")
	}
	t.Parallel()
	dbs := map[string]string{"sqlite": ""}
	if dsn := os.Getenv("ZGOV_TEST_POSTGRES_DSN"); dsn != "" {
		dbs["postgres"] = dsn
	}
	for name, dsn := range dbs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-grants", "20", "-workers", "2", "-spread", "3s", "-lead", "3s", "-rpm", "1200"}
			if dsn != "" {
				args = append(args, "-db", dsn)
			}
			var stdout, stderr bytes.Buffer
			if code := cli(t.Context(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit status %d, stderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			last := lines[len(lines)-1]
			var fields map[string]any
			if err := json.Unmarshal([]byte(last), &fields); err != nil {
				t.Fatalf("last line is not JSON: %v\n%s", err, stdout.String())
			}
			for _, f := range []string{"grants", "workers", "db", "p50_s", "p99_s", "max_s", "late_over_5s", "failed", "phase2"} {
				if _, ok := fields[f]; !ok {
					t.Errorf("the summary lacks %q: %s", f, last)
				}
			}
			var r result
			if err := json.Unmarshal([]byte(last), &r); err != nil {
				t.Fatal(err)
			}
			if r.Grants != 20 || r.Workers != 2 || r.DB != name {
				t.Errorf("grants %d, workers %d, db %q; want 20, 2, %q", r.Grants, r.Workers, r.DB, name)
			}
			if r.Failed != 0 || r.StillHeld != 0 || r.P50S <= 0 || r.P99S < r.P50S || r.MaxS < r.P99S {
				t.Errorf("phase 1: failed %d, still held %d, p50 %v, p99 %v, max %v", r.Failed, r.StillHeld, r.P50S, r.P99S, r.MaxS)
			}
			p2 := r.Phase2
			if p2 == nil {
				t.Fatalf("no phase 2 in %s", last)
			}
			if p2.Failed != 0 || p2.Throttled != 0 || p2.OverLimit || p2.Revokes != 20 || p2.StillHeld != 0 || !p2.Bulk || p2.LimitRPM != 1200 {
				t.Errorf("phase 2: %+v; want 20 revokes in bulk, none failed, held or throttled, limit 1200", *p2)
			}
			if p2.Requests == 0 || p2.RevokesPerMin <= 0 {
				t.Errorf("phase 2: %d requests, %v revokes a minute", p2.Requests, p2.RevokesPerMin)
			}
			if strings.Contains(stdout.String()+stderr.String(), ":zgov@") {
				t.Error("the output shows the database password")
			}
		})
	}
}

func TestJitbenchRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"-grants", "0"}, "-grants 0: want at least 1"},
		{[]string{"-workers", "-1"}, "-workers -1: want at least 1"},
		{[]string{"-spread", "-1s"}, "-spread -1s is negative"},
		{[]string{"-lead", "100ms"}, "-lead 100ms: want at least 1s"},
		{[]string{"-rpm", "0"}, "-rpm 0: want at least 1"},
		{[]string{"-timeout", "-1s"}, "-timeout -1s is negative"},
		{[]string{"-entitlement", "role"}, `-entitlement "role"`},
		{[]string{"-phases", "both"}, `-phases "both"`},
		{[]string{"-clients", "two"}, `-clients "two"`},
		{[]string{"-db", "mysql://x"}, "-db: want sqlite:<file> or a postgres:// URL"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := cli(t.Context(), tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: stderr %q lacks %q", tt.args, stderr.String(), tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: wrote a report for refused flags:\n%s", tt.args, stdout.String())
		}
	}
}

func TestQuantileAndPeakIn(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := range 100 {
		ds = append(ds, time.Duration(i+1)*time.Second)
	}
	for _, tt := range []struct {
		q    float64
		want float64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := quantile(ds, tt.q); got != tt.want {
			t.Errorf("quantile(1..100 s, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile(nil) = %v", got)
	}
	t0 := time.Unix(1000, 0)
	var log []zendesktest.RequestRecord
	for _, s := range []int{0, 10, 59, 60, 61, 62, 200} { // most in 60 s: 10, 59, 60, 61, 62 (0 and 60 are 60 s apart)
		log = append(log, zendesktest.RequestRecord{Time: t0.Add(time.Duration(s) * time.Second)})
	}
	if got := peakIn(log, time.Minute); got != 5 {
		t.Errorf("peakIn = %d, want 5", got)
	}
}
