package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
