package provision_test

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/provision/journaltest"
)

// openSQLStore opens a SQLJournalStore and closes it when the test ends.
func openSQLStore(t testing.TB, dsn string) *provision.SQLJournalStore {
	t.Helper()
	s, err := provision.OpenSQLJournalStore(t.Context(), dsn)
	if err != nil {
		t.Fatalf("OpenSQLJournalStore(%q): %v", dsn, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// tempDSN returns the DSN of a new SQLite file, and its path.
func tempDSN(t testing.TB) (dsn, path string) {
	path = filepath.Join(t.TempDir(), "zgov.db")
	return "sqlite://" + path, path
}

func TestSQLJournalStoreConformance(t *testing.T) {
	t.Parallel()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		journaltest.Run(t, func(t *testing.T) provision.JournalStore {
			dsn, _ := tempDSN(t)
			return openSQLStore(t, dsn)
		})
	})
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		journaltest.Run(t, func(t *testing.T) provision.JournalStore {
			return openSQLStore(t, "sqlite::memory:")
		})
	})
}

// rawDB opens the file of a store directly, as an intruder (or an older
// or newer zgov) would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestSQLJournalStoreTwoProcesses journals changes through two stores on
// one file, as two processes would, each with its own connections and
// several goroutines: every change is journaled once, the chain stays one
// line, and both see it verify.
func TestSQLJournalStoreTwoProcesses(t *testing.T) {
	t.Parallel()
	dsn, _ := tempDSN(t)
	clock := stepClock(time.Millisecond)
	var js [2]*provision.Journal
	for i := range js {
		j, err := provision.NewJournal(openSQLStore(t, dsn), provision.WithJournalClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		js[i] = j
	}
	const workers, each = 4, 25 // per process
	var wg sync.WaitGroup
	for p := range js {
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("p%d/w%d/%d", p, w, i)
					if _, err := js[p].Begin(t.Context(), id, ann, grantOp("group:10:member", fmt.Sprintf("user:%d", i+1))); err != nil {
						t.Errorf("Begin %s: %v", id, err)
						return
					}
					// The other process finishes it.
					if _, err := js[1-p].Finish(t.Context(), id, provision.JournalOutcome{Status: "granted"}); err != nil {
						t.Errorf("Finish %s: %v", id, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	const changes = 2 * workers * each
	seen := map[string]int{}
	var prev provision.JournalHead
	for e, err := range js[0].Entries(t.Context(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != prev.Seq+1 || e.PrevHash != prev.Hash {
			t.Fatalf("entry %d does not follow entry %d: the chain forked", e.Seq, prev.Seq)
		}
		seen[e.ChangeID+" "+string(e.Kind)]++
		prev = e.Head()
	}
	if len(seen) != 2*changes {
		t.Errorf("%d distinct entries, want %d", len(seen), 2*changes)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s: %d entries, want 1", k, n)
		}
	}
	for i, j := range js {
		rep, err := j.Verify(t.Context())
		if err != nil {
			t.Fatalf("Verify through process %d: %v", i, err)
		}
		if rep.Entries != 2*changes || rep.Unfinished != 0 || rep.Head != prev {
			t.Errorf("Verify through process %d = %+v, want %d entries up to %v, none unfinished", i, rep, 2*changes, prev)
		}
	}
}

// TestOpenSQLJournalStoreConcurrently opens one new file from many stores
// at once, as processes starting together would: provision's migration is
// applied once, and every store works.
func TestOpenSQLJournalStoreConcurrently(t *testing.T) {
	t.Parallel()
	dsn, path := tempDSN(t)
	stores := make([]*provision.SQLJournalStore, 6)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			s, err := provision.OpenSQLJournalStore(t.Context(), dsn)
			if err != nil {
				t.Errorf("opener %d: %v", i, err)
				return
			}
			t.Cleanup(func() { _ = s.Close() })
			stores[i] = s
		})
	}
	wg.Wait()
	for i, s := range stores {
		if s == nil {
			continue
		}
		begin(t, newJournal(t, s), fmt.Sprintf("opener-%d", i), grantOp("group:10:member", "user:1"))
	}
	rows, err := rawDB(t, path).QueryContext(t.Context(), "SELECT version_id FROM zgov_provision_migrations ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{0, 1}, versions); diff != "" {
		t.Errorf("recorded versions (-want +got):\n%s", diff)
	}
}

// TestSQLJournalStoreReopen journals, closes the store (the process ends),
// opens the file again in a fresh Journal and goes on: the entries, the
// unfinished change and the change IDs outlive the process.
func TestSQLJournalStoreReopen(t *testing.T) {
	t.Parallel()
	dsn, path := tempDSN(t)
	clock := stepClock(time.Second)
	s1, err := provision.OpenSQLJournalStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	j1, err := provision.NewJournal(s1, provision.WithJournalClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	begin(t, j1, "plan-1/a", grantOp("group:10:member", "user:1"))
	finish(t, j1, "plan-1/a", provision.JournalOutcome{Status: "granted"})
	open := begin(t, j1, "plan-1/b", grantOp("group:10:member", "user:2"))
	anchor, err := j1.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	j2, err := provision.NewJournal(openSQLStore(t, "sqlite:"+path), provision.WithJournalClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := j2.Verify(t.Context(), anchor)
	if err != nil || rep.Entries != 3 || rep.Unfinished != 1 || rep.Anchors != 1 {
		t.Fatalf("Verify after reopening = %+v, %v; want 3 entries, 1 unfinished, the anchor found", rep, err)
	}
	un, err := j2.Unfinished(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]provision.JournalEntry{open}, un); diff != "" {
		t.Errorf("Unfinished after reopening (-want +got):\n%s", diff)
	}
	if _, err := j2.Begin(t.Context(), "plan-1/a", ann, grantOp("group:10:member", "user:1")); !errors.Is(err, provision.ErrJournalDuplicateChange) {
		t.Errorf("Begin of a change journaled before the restart = %v, want ErrJournalDuplicateChange", err)
	}
	finish(t, j2, "plan-1/b", provision.JournalOutcome{Status: "granted"})
	begin(t, j2, "plan-2/a", grantOp("group:11:member", "user:1"))
	rep, err = j2.Verify(t.Context(), anchor)
	if err != nil || rep.Entries != 5 || rep.Unfinished != 1 {
		t.Errorf("Verify after going on = %+v, %v; want 5 entries, 1 unfinished", rep, err)
	}
}

// TestOpenSQLJournalStoreRefuses opens what is not a journal store this
// code can use: each is refused with its error, naming no password, and a
// file is left as it was.
func TestOpenSQLJournalStoreRefuses(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]error{
		"zgov.db":                    provision.ErrInvalidDSN,
		"sqlite://host/zgov.db":      provision.ErrInvalidDSN,
		"sqlite:zgov.db?cache=share": provision.ErrInvalidDSN,
		"postgres://zgov:s3cret@db.example.com:5432/zgov": errors.ErrUnsupported,
		"host=db.example.com user=zgov password=s3cret":   provision.ErrInvalidDSN,
	} {
		_, err := provision.OpenSQLJournalStore(t.Context(), dsn)
		if !errors.Is(err, want) {
			t.Errorf("OpenSQLJournalStore(%q) = %v, want %v", dsn, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenSQLJournalStore(%q) = %q shows the password", dsn, err)
		}
	}

	// A journal exported as JSONL is not a database.
	dsn, path := tempDSN(t)
	var export bytes.Buffer
	j := newJournal(t, nil)
	begin(t, j, "", grantOp("group:10:member", "user:1"))
	if err := j.ExportJSONL(t.Context(), &export); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, export.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := provision.OpenSQLJournalStore(t.Context(), dsn); !errors.Is(err, provision.ErrNotADatabase) {
		t.Errorf("OpenSQLJournalStore(a JSONL file) = %v, want ErrNotADatabase", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, export.Bytes()) {
		t.Error("OpenSQLJournalStore changed the file that is not a database")
	}

	// A database a newer zgov migrated.
	dsn, path = tempDSN(t)
	s, err := provision.OpenSQLJournalStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	j = newJournal(t, s)
	begin(t, j, "plan-1/a", grantOp("group:10:member", "user:1"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).ExecContext(t.Context(), "INSERT INTO zgov_provision_migrations (version_id, is_applied) VALUES (99, 1)"); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = provision.OpenSQLJournalStore(t.Context(), dsn)
	if !errors.Is(err, provision.ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("OpenSQLJournalStore(a newer schema) = %v, want ErrSchemaTooNew naming version 99", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("OpenSQLJournalStore changed the database of a newer schema")
	}
}

// TestSQLJournalStoreTampered edits the table behind a store: Verify finds
// each edit, at its entry.
func TestSQLJournalStoreTampered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sql  string
		kind provision.JournalTamperKind
	}{
		{"reason edited", `UPDATE zgov_journal SET entry = replace(entry, 'joined billing', 'joined support') WHERE seq = 3`, provision.JournalTamperEdited},
		{"JSON broken", `UPDATE zgov_journal SET entry = '{"seq":3,' WHERE seq = 3`, provision.JournalTamperMalformed},
		{"JSON not in canonical form", `UPDATE zgov_journal SET entry = replace(entry, '"kind":', '"Kind": ') WHERE seq = 3`, provision.JournalTamperMalformed},
		{"JSON with a field zgov never wrote", `UPDATE zgov_journal SET entry = replace(entry, '"kind"', '"extra":1,"kind"') WHERE seq = 3`, provision.JournalTamperMalformed},
		{"entry deleted", `DELETE FROM zgov_journal WHERE seq = 3`, provision.JournalTamperDeleted},
	} {
		dsn, path := tempDSN(t)
		j := newJournal(t, openSQLStore(t, dsn))
		for i := range 3 {
			id := fmt.Sprintf("c-%d", i)
			begin(t, j, id, grantOp("group:10:member", fmt.Sprintf("user:%d", i+1)))
			finish(t, j, id, provision.JournalOutcome{Status: "granted"})
		}
		if _, err := rawDB(t, path).ExecContext(t.Context(), tc.sql); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err := j.Verify(t.Context())
		var te *provision.JournalTamperError
		if !errors.As(err, &te) || te.Kind != tc.kind || te.Seq != 3 {
			t.Errorf("%s: Verify = %v, want %s at seq 3", tc.name, err, tc.kind)
		}
	}
}
