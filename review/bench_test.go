package review_test

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/review"
)

// bigSnapshot syncs a generated account of 100,000 users and 300,000
// grants (memaccess.Generate).
func bigSnapshot(tb testing.TB) *access.Snapshot {
	tb.Helper()
	b, err := memaccess.New(memaccess.Generate(100_000, 200, 1_000))
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := access.Sync(tb.Context(), b, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// bigSpec is a campaign over every grant of bigSnapshot, owners per group
// and a fallback.
func bigSpec() review.CampaignSpec {
	owners := map[string][]string{}
	for i := 1; i <= 200; i++ {
		owners["group:"+itoaT(i)] = []string{"owner" + itoaT(i%20) + "@example.com"}
	}
	return review.CampaignSpec{Name: "big", Reviewers: []review.ReviewerRule{{Kind: review.RuleOwner, Owners: owners}},
		Fallback: []string{"auditor@example.com"}}
}

func itoaT(i int) string { return strconv.Itoa(i) }

// BenchmarkCreate creates a campaign over 100,000 users and 300,000
// grants on a SQLite file.
func BenchmarkCreate(b *testing.B) {
	snap := bigSnapshot(b)
	st := openStore(b, sqldbtest.SQLiteFileDSN(b))
	for b.Loop() {
		if _, err := st.Create(b.Context(), snap, bigSpec()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide records 300,000 decisions, 10,000 a call, on a SQLite
// file (the campaign's creation is not timed).
func BenchmarkDecide(b *testing.B) {
	snap := bigSnapshot(b)
	st := openStore(b, sqldbtest.SQLiteFileDSN(b))
	for b.Loop() {
		b.StopTimer()
		c, err := st.Create(b.Context(), snap, bigSpec())
		if err != nil {
			b.Fatal(err)
		}
		ds := allDecisions(b, c)
		b.StartTimer()
		for i := 0; i < len(ds); i += 10_000 {
			if err := c.DecideMany(b.Context(), ds[i:min(i+10_000, len(ds))]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// allDecisions returns a decision on every item of c: a revoke on every
// tenth.
func allDecisions(tb testing.TB, c *review.Campaign) []review.Decision {
	tb.Helper()
	var ds []review.Decision
	for it, err := range c.Items(tb.Context(), nil) {
		if err != nil {
			tb.Fatal(err)
		}
		d := review.Decision{ItemID: it.ID, Reviewer: it.Reviewers[0].Reviewer, Verdict: review.Certify}
		if it.ID%10 == 0 {
			d.Verdict, d.Justification = review.Revoke, "not needed"
		}
		ds = append(ds, d)
	}
	return ds
}

// TestBigCampaign times a campaign over 100,000 users and 300,000 grants
// on a SQLite file: its creation, reading its items, and 300,000
// decisions in calls of 10,000. It logs the times (go test -run
// TestBigCampaign -v); the benchmarks measure them.
func TestBigCampaign(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a 300,000-grant campaign, timed: not with -short or -race")
	}
	snap := bigSnapshot(t)
	st := openStore(t, sqldbtest.SQLiteFileDSN(t))
	m := startMeasure()
	c, err := st.Create(t.Context(), snap, bigSpec())
	if err != nil {
		t.Fatal(err)
	}
	created := m.stop()
	m = startMeasure()
	ds := allDecisions(t, c)
	read := m.stop()
	m = startMeasure()
	for i := 0; i < len(ds); i += 10_000 {
		if err := c.DecideMany(t.Context(), ds[i:min(i+10_000, len(ds))]); err != nil {
			t.Fatal(err)
		}
	}
	decided := m.stop()
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Progress.Certified != 270_000 || info.Progress.Revoked != 30_000 {
		t.Errorf("progress %+v", info.Progress)
	}
	t.Logf("create %s; read %d items %s; %d decisions %s", created, len(ds), read, len(ds), decided)
}

// measure measures the wall time and the process's CPU time of a step,
// which a busy machine inflates less.
type measure struct {
	wall time.Time
	cpu  time.Duration
}

func startMeasure() measure { return measure{time.Now(), cpuTime()} }

func (m measure) stop() string {
	return fmt.Sprintf("%v (CPU %v)", time.Since(m.wall).Round(time.Millisecond), (cpuTime() - m.cpu).Round(time.Millisecond))
}

// cpuTime returns the user and system CPU time the process used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
