package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// runJSON runs the benchmark and decodes its last line.
func runJSON(t *testing.T, p params) result {
	t.Helper()
	var out bytes.Buffer
	if err := run(t.Context(), &out, p); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not the JSON summary: %v\n%s", err, out.String())
	}
	return r
}

func TestSyncbenchCostAndFaults(t *testing.T) {
	p := params{users: 500, agents: 150, admins: 3, groups: 12, orgs: 250, customRoles: 3, rpm: 60000, faultSeed: 3, seed: 1}
	clean := runJSON(t, p)
	if clean.Requests != int64(clean.MinRequests) || clean.Throttled != 0 {
		t.Errorf("requests %d (minimum %d), throttled %d: a fault-free sync must cost exactly the minimum", clean.Requests, clean.MinRequests, clean.Throttled)
	}
	if clean.Grants == 0 || clean.SnapshotSHA256 == "" {
		t.Errorf("empty result: %+v", clean)
	}
	p.faults = 0.3
	faulty := runJSON(t, p)
	if faulty.FaultsInjected == 0 {
		t.Fatal("no faults were injected")
	}
	if faulty.SnapshotSHA256 != clean.SnapshotSHA256 {
		t.Errorf("snapshot with faults %s, without %s: faults must not change what is read", faulty.SnapshotSHA256, clean.SnapshotSHA256)
	}

	p.faults, p.multipleOrgs, p.allUsers = 0, true, true
	multi := runJSON(t, p)
	if multi.Requests != int64(multi.MinRequests) {
		t.Errorf("multiple organizations, all users: requests %d, minimum %d", multi.Requests, multi.MinRequests)
	}
}

func TestSyncbenchRejectsBadFaultRate(t *testing.T) {
	if err := run(t.Context(), &bytes.Buffer{}, params{faults: 2}); err == nil {
		t.Error("want an error for -faults 2")
	}
}

// small is a command line for a small, fast account.
var small = []string{"-users", "50", "-agents", "20", "-admins", "1", "-groups", "3", "-orgs", "5", "-custom-roles", "1"}

func TestSyncbenchUnlimitedRateEndsWithJSON(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := cli(t.Context(), append(small, "-rpm", "0"), &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, stdout.String())
	}
	if r.RPM != 0 || r.Throttled != 0 || r.Requests != int64(r.MinRequests) {
		t.Errorf("rpm %d, throttled %d, requests %d (minimum %d): want an unlimited, unthrottled, minimal sync", r.RPM, r.Throttled, r.Requests, r.MinRequests)
	}
	if r.RateFloorS != 0 || math.IsInf(r.FloorS, 0) {
		t.Errorf("rate floor %v, floor %v: an unlimited simulator sets no rate floor", r.RateFloorS, r.FloorS)
	}
	if !strings.Contains(stdout.String(), "no rate limit") {
		t.Errorf("the report does not say there is no rate limit:\n%s", stdout.String())
	}
}

func TestSyncbenchRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"-latency", "-1ms"}, "-latency -1ms is negative"},
		{[]string{"-users", "-1"}, "-users -1 is negative"},
		{[]string{"-agents", "-2"}, "-agents -2 is negative"},
		{[]string{"-group-memberships", "-3"}, "-group-memberships -3 is negative"},
		{[]string{"-rpm", "-700"}, "-rpm -700 is negative"},
		{[]string{"-faults", "1.5"}, "-faults 1.5 is not between 0 and 1"},
		{[]string{"-faults", "NaN"}, "-faults NaN is not between 0 and 1"},
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

// TestSyncbenchFloorIsBelowWall checks that the floor is a lower bound on the wall time:
// at the default rate, where the floor was once ten times the wall time, and on a
// latency-bound sync, whose floor is positive (the simulator's latency is a timer, which
// never fires early).
func TestSyncbenchFloorIsBelowWall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		p         params
		wantFloor float64
	}{
		{"default rate", params{users: 50, agents: 20, admins: 1, groups: 3, orgs: 5, customRoles: 1, rpm: 700, seed: 1}, 0},
		// Account state, then 8 pages of 753 group memberships: 9 rounds of 2ms.
		{"latency", params{users: 50, agents: 250, admins: 1, groups: 3, orgs: 5, customRoles: 1, rpm: 60000, latency: 2 * time.Millisecond, seed: 1}, 0.018},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runJSON(t, tt.p)
			if r.FloorS != tt.wantFloor {
				t.Errorf("floor %v (rate %v, latency %v), want %v", r.FloorS, r.RateFloorS, r.LatencyFloorS, tt.wantFloor)
			}
			if r.FloorS > r.WallS {
				t.Errorf("floor %vs is above the wall time %vs", r.FloorS, r.WallS)
			}
		})
	}
}

func TestFloorOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minReq, rpm, rounds int
		latency             time.Duration
		rate, total         time.Duration
	}{
		{11, 700, 5, 0, 0, 0},                                       // fits in the full bucket
		{700, 700, 5, 0, 0, 0},                                      // exactly the bucket
		{1400, 700, 5, 0, time.Minute, time.Minute},                 // one bucket more: one minute
		{771, 700, 5, 0, 6085714285 * time.Nanosecond, 6085714285},  // 71 beyond, at 700/min
		{11, 0, 5, 10 * time.Millisecond, 0, 50 * time.Millisecond}, // unlimited: latency only
		{1400, 700, 3, time.Second, time.Minute, time.Minute},       // the larger part wins
		{20, 10, 100, time.Second, time.Minute, 100 * time.Second},  // the larger part wins
	}
	for _, tt := range tests {
		f := floorOf(tt.minReq, tt.rpm, tt.rounds, tt.latency)
		if f.rate != tt.rate || f.total() != tt.total {
			t.Errorf("floorOf(%d, %d, %d, %v) = rate %v, total %v; want %v, %v", tt.minReq, tt.rpm, tt.rounds, tt.latency, f.rate, f.total(), tt.rate, tt.total)
		}
	}
}
