package review_test

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	heapmeasure "github.com/zgov-io/zgov/internal/measure"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// bigEvidence builds a closed campaign over 100,000 users and 300,000
// grants on a SQLite file, every item decided (a revoke on every tenth,
// 30,000), the revokes carried out through provision on the in-memory
// backend and verified; then drops the snapshot, so that what the export
// holds in memory is what the heap shows.
func bigEvidence(b *testing.B, dsn string) (*review.Campaign, *review.ExportOptions) {
	b.Helper()
	start := time.Now()
	mem, err := memaccess.New(memaccess.Generate(100_000, 200, 1_000))
	if err != nil {
		b.Fatal(err)
	}
	sys, err := access.NewSystem(mem)
	if err != nil {
		b.Fatal(err)
	}
	snap, err := sys.Sync(b.Context(), nil)
	if err != nil {
		b.Fatal(err)
	}
	j := openJournal(b, dsn)
	st := openStore(b, dsn)
	c, err := st.Create(b.Context(), snap, bigSpec())
	if err != nil {
		b.Fatal(err)
	}
	ds := allDecisions(b, c)
	for i := 0; i < len(ds); i += 10_000 {
		if err := c.DecideMany(b.Context(), ds[i:min(i+10_000, len(ds))]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.Close(b.Context(), "auditor@example.com"); err != nil {
		b.Fatal(err)
	}
	rep, err := c.Remediate(b.Context(), &review.Remediator{System: sys, Journal: j, Guards: provision.Guards{MaxDestructive: 1_000_000, MaxTeamShare: 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("campaign of 300,000 items built in %v; remediation: %d done, %d failed, %d manual", time.Since(start).Round(time.Second), rep.Done, rep.Failed, rep.Manual)
	check, err := review.VerifyJournal(b.Context(), j, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	return c, &review.ExportOptions{JournalCheck: check}
}

// exportRun measures one export: its time, the peak of the heap while it
// runs (sampled every 5 ms), and the bytes written.
func exportRun(b *testing.B, f func(w io.Writer) error) {
	b.Helper()
	var peak uint64
	var size int64
	for b.Loop() {
		runtime.GC()
		out, err := os.Create(filepath.Join(b.TempDir(), "out"))
		if err != nil {
			b.Fatal(err)
		}
		s := heapmeasure.StartPeakSampler(5 * time.Millisecond)
		bw := bufio.NewWriter(out)
		if err := f(bw); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, s.Stop())
		fi, err := out.Stat()
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
		out.Close()
	}
	b.ReportMetric(heapmeasure.MB(peak), "peak-heap-MB")
	b.ReportMetric(float64(size)/1e6, "file-MB")
}

// BenchmarkExport exports a campaign of 300,000 items (30,000 revoked,
// remediated and verified) from a SQLite file, each format on its own and
// all at once (go test -run '^$' -bench Export -benchtime 1x ./review).
// Each reads the campaign in one read-only transaction.
func BenchmarkExport(b *testing.B) {
	if testing.Short() {
		b.Skip("a 300,000-item campaign")
	}
	benchmarkExport(b, sqldbtest.SQLiteFileDSN(b))
}

// BenchmarkExportPostgres is BenchmarkExport on PostgreSQL
// (ZGOV_TEST_POSTGRES_DSN).
func BenchmarkExportPostgres(b *testing.B) {
	if testing.Short() {
		b.Skip("a 300,000-item campaign")
	}
	benchmarkExport(b, sqldbtest.PostgresDSN(b))
}

func benchmarkExport(b *testing.B, dsn string) {
	c, opts := bigEvidence(b, dsn)
	ctx := b.Context()
	b.Run("csv", func(b *testing.B) {
		exportRun(b, func(w io.Writer) error { return c.WriteCSV(ctx, w) })
	})
	b.Run("json", func(b *testing.B) {
		exportRun(b, func(w io.Writer) error { return c.WriteJSON(ctx, w, opts) })
	})
	b.Run("xlsx", func(b *testing.B) {
		exportRun(b, func(w io.Writer) error { return c.WriteXLSX(ctx, w, opts) })
	})
	b.Run("html", func(b *testing.B) {
		exportRun(b, func(w io.Writer) error { return c.WriteHTML(ctx, w, opts) })
		// ZGOV_BENCH_HTML keeps a copy of the report, to look at.
		if out := os.Getenv("ZGOV_BENCH_HTML"); out != "" {
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := c.WriteHTML(ctx, f, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		var peak uint64
		var total int64
		for b.Loop() {
			runtime.GC()
			s := heapmeasure.StartPeakSampler(5 * time.Millisecond)
			m, err := c.Export(ctx, b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			peak = max(peak, s.Stop())
			total = 0
			for _, f := range m.Files {
				total += f.Size
			}
		}
		b.ReportMetric(heapmeasure.MB(peak), "peak-heap-MB")
		b.ReportMetric(float64(total)/1e6, "files-MB")
	})
}
