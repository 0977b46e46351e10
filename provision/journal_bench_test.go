package provision_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/zgov-io/zgov/provision"
)

// BenchmarkJournalBeginFinish measures journaling one change (two appends)
// on the in-memory store: the journal's own cost, without a database.
func BenchmarkJournalBeginFinish(b *testing.B) {
	j := newJournal(b, nil)
	ctx := b.Context()
	op := grantOp("group:10:member", "user:2")
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("c-%d", i)
		if _, err := j.Begin(ctx, id, ann, op); err != nil {
			b.Fatal(err)
		}
		if _, err := j.Finish(ctx, id, provision.JournalOutcome{Status: "granted", GrantID: "group:10:member@user:2"}); err != nil {
			b.Fatal(err)
		}
	}
}

// journalOf returns a journal of n entries (n/2 changes).
func journalOf(b *testing.B, n int) *provision.Journal {
	b.Helper()
	j, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(stepClock(time.Millisecond)))
	if err != nil {
		b.Fatal(err)
	}
	for i := range n / 2 {
		id := fmt.Sprintf("c-%d", i)
		if _, err := j.Begin(b.Context(), id, ann, grantOp("group:10:member", fmt.Sprintf("user:%d", i+1))); err != nil {
			b.Fatal(err)
		}
		if _, err := j.Finish(b.Context(), id, provision.JournalOutcome{Status: "granted"}); err != nil {
			b.Fatal(err)
		}
	}
	return j
}

// BenchmarkJournalVerify measures verifying 10,000 entries from the
// in-memory store.
func BenchmarkJournalVerify(b *testing.B) {
	j := journalOf(b, 10000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := j.Verify(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/entry")
}

// BenchmarkVerifyJSONL measures verifying an export of 10,000 entries.
func BenchmarkVerifyJSONL(b *testing.B) {
	var buf bytes.Buffer
	if err := journalOf(b, 10000).ExportJSONL(b.Context(), &buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := provision.VerifyJSONL(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQLJournalBeginFinish measures journaling one change (two
// appends, each a transaction synced to disk) in a SQLite file.
func BenchmarkSQLJournalBeginFinish(b *testing.B) {
	dsn, _ := tempDSN(b)
	j := newJournal(b, openSQLStore(b, dsn))
	ctx := b.Context()
	op := grantOp("group:10:member", "user:2")
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("c-%d", i)
		if _, err := j.Begin(ctx, id, ann, op); err != nil {
			b.Fatal(err)
		}
		if _, err := j.Finish(ctx, id, provision.JournalOutcome{Status: "granted", GrantID: "group:10:member@user:2"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkSQLJournalVerify measures verifying 10,000 entries from a
// SQLite file.
func BenchmarkSQLJournalVerify(b *testing.B) {
	var es []provision.JournalEntry
	for e, err := range journalOf(b, 10000).Entries(b.Context(), 1) {
		if err != nil {
			b.Fatal(err)
		}
		es = append(es, e)
	}
	dsn, _ := tempDSN(b)
	store := openSQLStore(b, dsn)
	if err := store.Append(b.Context(), es...); err != nil {
		b.Fatal(err)
	}
	j := newJournal(b, store)
	b.ResetTimer()
	for b.Loop() {
		if _, err := j.Verify(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/entry")
}
