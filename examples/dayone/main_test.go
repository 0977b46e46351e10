package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// small is a small, fast scenario: 50 agents and 10 new hires in 4 teams, 40 grants.
// Without a rate limit and with short retry waits, the tests wait on the simulator's
// jobs and the client's backoff only; they assert no wall time.
func small() params {
	return params{people: 60, users: 300, admins: 1, groups: 4, newHires: 10, grants: 40, orgs: 3, customRoles: 1,
		seed: 1, faultSeed: 7, bulkImports: true, compareFaults: true,
		retryMin: time.Millisecond, retryMax: 20 * time.Millisecond}
}

// runJSON runs the benchmark and decodes its last line.
func runJSON(t *testing.T, p params) result {
	t.Helper()
	var out bytes.Buffer
	if err := run(t.Context(), &out, p); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	return lastLine(t, out.String())
}

func lastLine(t *testing.T, out string) result {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last line is not the JSON summary: %v\n%s", err, out)
	}
	return r
}

// checkCorrect checks what every run must get right, faults or not.
func checkCorrect(t *testing.T, r result) {
	t.Helper()
	if r.Duplicates != 0 || r.Lost != 0 {
		t.Errorf("duplicates %d, lost %d: want 0 and 0", r.Duplicates, r.Lost)
	}
	if r.Applied != r.Changes || r.Failed != 0 || r.Stale != 0 {
		t.Errorf("%d changes: %d applied, %d done, %d stale, %d failed: want all applied", r.Changes, r.Applied, r.Done, r.Stale, r.Failed)
	}
	if !r.JournalVerified || r.JournalEntries != int64(2*r.Changes) {
		t.Errorf("journal verified %v with %d entries, want verified with 2 per change (%d)", r.JournalVerified, r.JournalEntries, 2*r.Changes)
	}
	if r.ReplanChanges != 0 {
		t.Errorf("planning again after the apply gives %d changes, want 0", r.ReplanChanges)
	}
}

func TestDayoneCostsTheMinimum(t *testing.T) {
	t.Parallel()
	p := small()
	r := runJSON(t, p)
	checkCorrect(t, r)
	if r.People != 60 || r.Users != 300 || r.Creates != 10 || r.Grants != 40 || r.Changes != 50 {
		t.Errorf("people %d, users %d, changes %d (%d creates, %d grants): want 60, 300, 50 (10, 40)", r.People, r.Users, r.Changes, r.Creates, r.Grants)
	}
	// 2 account-state reads, 1 show_many (30 agents), 1 users/create_many, 1
	// group_memberships/create_many, and the polls.
	if want := 5 + r.JobPolls; r.MinRequests != want || r.Requests != r.MinRequests {
		t.Errorf("requests %d, minimum %d: want both %d (5 and %d polls)", r.Requests, r.MinRequests, want, r.JobPolls)
	}
	if r.JobPolls < r.JobWaves || r.JobWaves != 2 {
		t.Errorf("%d polls, %d waves: want at least one poll for each of 2 waves (creations, grants)", r.JobPolls, r.JobWaves)
	}
	if r.NaiveRequests != r.Changes || r.Throttled != 0 || r.FaultsInjected != 0 {
		t.Errorf("naive %d, throttled %d, faults %d", r.NaiveRequests, r.Throttled, r.FaultsInjected)
	}
	if r.SnapshotSHA256After == r.SnapshotSHA256Before || r.EndStateSHA256 == "" {
		t.Errorf("snapshots before %s and after %s, end state %q", r.SnapshotSHA256Before, r.SnapshotSHA256After, r.EndStateSHA256)
	}
	if r.SameEndState != nil {
		t.Error("a fault-free run compared itself with a fault-free run")
	}
}

func TestDayoneFaultsKeepTheEndState(t *testing.T) {
	t.Parallel()
	p := small()
	p.faults = 0.3
	r := runJSON(t, p)
	checkCorrect(t, r)
	if r.FaultsInjected == 0 {
		t.Fatal("no fault hit the apply: choose another fault seed")
	}
	if r.SameEndState == nil || !*r.SameEndState || r.EndStateSHA256 != r.FaultFreeEndStateSHA256 {
		t.Errorf("end state %s with faults, %s without (same: %v)", r.EndStateSHA256, r.FaultFreeEndStateSHA256, r.SameEndState)
	}
	// Ten creations fit in one job, submitted alone: the new accounts are numbered in
	// their order whatever fails, so here even the raw snapshots agree.
	if r.SnapshotSHA256After != r.FaultFreeSnapshotSHA256After {
		t.Errorf("snapshot after %s with faults, %s without", r.SnapshotSHA256After, r.FaultFreeSnapshotSHA256After)
	}
	if r.Requests <= r.MinRequests-r.JobPolls {
		t.Errorf("requests %d with %d faults, minimum %d: the faults cost nothing", r.Requests, r.FaultsInjected, r.MinRequests)
	}
}

func TestDayoneWithoutBulkImports(t *testing.T) {
	t.Parallel()
	p := small()
	p.bulkImports = false
	r := runJSON(t, p)
	checkCorrect(t, r)
	// One refused create_many, then a search and a create per person.
	if r.Requests < r.MinRequests || r.MinRequests != 5+2*r.Creates+r.JobPolls {
		t.Errorf("requests %d, minimum %d, creations %d, polls %d", r.Requests, r.MinRequests, r.Creates, r.JobPolls)
	}
}

func TestDayoneEndsWithJSON(t *testing.T) {
	t.Parallel()
	args := []string{"-people", "30", "-users", "100", "-groups", "3", "-new-hires", "5", "-grants", "12", "-orgs", "2", "-rpm", "0", "-job-delay", "0s"}
	var stdout, stderr bytes.Buffer
	if code := cli(t.Context(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr.String())
	}
	r := lastLine(t, stdout.String())
	checkCorrect(t, r)
	if r.RPM != 0 || r.WallBoundS != 0 || r.Creates != 5 || r.Grants != 12 {
		t.Errorf("rpm %d, wall bound %v, creates %d, grants %d", r.RPM, r.WallBoundS, r.Creates, r.Grants)
	}
	for _, s := range []string{"no rate limit", "apply: the minimum, by part", "journal", "end state"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("the report lacks %q:\n%s", s, stdout.String())
		}
	}
}

func TestDayoneRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"-people", "-1"}, "-people -1 is negative"},
		{[]string{"-users", "-5"}, "-users -5 is negative"},
		{[]string{"-grants", "-2"}, "-grants -2 is negative"},
		{[]string{"-rpm", "-700"}, "-rpm -700 is negative"},
		{[]string{"-latency", "-1ms"}, "-latency -1ms is negative"},
		{[]string{"-job-delay", "-1ms"}, "-job-delay -1ms is negative"},
		{[]string{"-faults", "1.5"}, "-faults 1.5 is not between 0 and 1"},
		{[]string{"-faults", "NaN"}, "-faults NaN is not between 0 and 1"},
		{[]string{"-new-hires", "400"}, "-new-hires 400 is more than the 300 people"},
		{[]string{"-grants", "10"}, "-grants 10 is fewer than the 30 new hires"},
		{[]string{"-grants", "1000"}, "the 270 agents"},
		{[]string{"-users", "100"}, "-users 100 is fewer than the owner"},
		{[]string{"-groups", "0"}, "-groups 0"},
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

func TestMinCost(t *testing.T) {
	t.Parallel()
	plan := func(creates, existing, grantsEach int) *provision.Plan {
		p := &provision.Plan{}
		for i := range existing {
			pid := "user:" + strconv.Itoa(i+1)
			for g := range grantsEach {
				p.Changes = append(p.Changes, provision.Change{Kind: provision.ChangeGrant, PrincipalID: pid, EntitlementID: "group:" + strconv.Itoa(g+1) + ":member"})
			}
		}
		for range creates {
			p.Changes = append(p.Changes, provision.Change{Kind: provision.ChangeCreateAccount, Person: &access.Person{Email: "a@b.example"}},
				provision.Change{Kind: provision.ChangeGrant, Person: &access.Person{Email: "a@b.example"}, EntitlementID: "group:1:member"})
		}
		return p
	}
	tests := []struct {
		name  string
		plan  *provision.Plan
		bulk  bool
		polls int
		want  cost
	}{
		{"nothing", plan(0, 0, 0), true, 0, cost{accountState: 2}},
		{"the issue's run", plan(500, 4500, 1), true, 4,
			cost{accountState: 2, check: 45, userJobs: 5, grantJobs: 50, polls: 4, waves: 2 + 2}},
		{"two grants each", plan(0, 150, 2), true, 1, cost{accountState: 2, check: 2, grantJobs: 3, polls: 1, waves: 1}},
		{"one creation job", plan(100, 0, 0), true, 2, cost{accountState: 2, userJobs: 1, grantJobs: 1, polls: 2, waves: 2}},
		{"imports off", plan(30, 0, 0), false, 1, cost{accountState: 2, userJobs: 1, userSingles: 60, grantJobs: 1, polls: 1, waves: 1}},
	}
	for _, tt := range tests {
		got := minCost(tt.plan, params{bulkImports: tt.bulk}, tt.polls)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(cost{})); diff != "" {
			t.Errorf("%s: minCost (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDuplicateWrites(t *testing.T) {
	t.Parallel()
	rec := func(path string, status int, body string) zendesktest.RequestRecord {
		return zendesktest.RequestRecord{Method: "POST", Path: path, Status: status, Body: []byte(body)}
	}
	log := []zendesktest.RequestRecord{
		rec("/api/v2/group_memberships/create_many", 200, `{"group_memberships":[{"user_id":1,"group_id":2},{"user_id":3,"group_id":2}]}`),
		rec("/api/v2/group_memberships/create_many", 500, `{"group_memberships":[{"user_id":1,"group_id":2}]}`), // faulted: no effect
		rec("/api/v2/group_memberships.json", 201, `{"group_membership":{"user_id":3,"group_id":2}}`),           // sent twice
		rec("/api/v2/users/create_many", 200, `{"users":[{"email":"Ann@example.com"}]}`),
		rec("/api/v2/users", 201, `{"user":{"email":"ann@example.com"}}`), // sent twice
		rec("/api/v2/users", 422, `{"user":{"email":"ann@example.com"}}`),
		{Method: "GET", Path: "/api/v2/job_statuses/show_many", Status: 200},
	}
	if n, err := duplicateWrites(log); n != 2 || err != nil {
		t.Errorf("duplicateWrites = %d, %v; want 2, nil", n, err)
	}
	if n := answeredPolls(log); n != 1 {
		t.Errorf("answeredPolls = %d, want 1", n)
	}
	if _, err := duplicateWrites([]zendesktest.RequestRecord{rec("/api/v2/users", 201, `{"user":`)}); err == nil {
		t.Error("a body cut off was audited")
	}
}

// TestEndStateHash checks that the end state ignores the ids users were given, and
// nothing else.
func TestEndStateHash(t *testing.T) {
	t.Parallel()
	snap := func(annID, bobID string, bobInGroup bool) *access.Snapshot {
		t.Helper()
		user := func(id, email string) access.Resource {
			return access.NewResource(id, email, access.Attributes{"email": email})
		}
		d := memaccess.Data{
			ResourceTypes: []access.ResourceType{
				{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}},
				{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}},
			},
			Resources:    []access.Resource{user(annID, "ann@example.com"), user(bobID, "bob@example.com"), access.NewResource("group:1", "Team", nil)},
			Entitlements: []access.Entitlement{access.NewEntitlement("group:1:member", "Member of Team", access.PurposeMembership, []string{"user"}, nil)},
			Grants:       []access.Grant{access.NewGrant("group:1:member", annID, nil)},
		}
		if bobInGroup {
			d.Grants = append(d.Grants, access.NewGrant("group:1:member", bobID, nil))
		}
		b, err := memaccess.New(d)
		if err != nil {
			t.Fatal(err)
		}
		s, err := access.Sync(t.Context(), b, &access.SyncOptions{Now: takenAt})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, swapped, other := snap("user:1", "user:2", true), snap("user:2", "user:1", true), snap("user:1", "user:2", false)
	if a.Hash() == swapped.Hash() {
		t.Fatal("the snapshots with swapped ids have one hash: the test shows nothing")
	}
	if endStateHash(a) != endStateHash(swapped) {
		t.Error("the end state depends on the ids the users were given")
	}
	if endStateHash(a) == endStateHash(other) {
		t.Error("the end state does not see a grant missing")
	}
}
