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
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for rawDB

	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
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

// eachShared runs f as a subtest, in parallel, on each database target
// that several stores can share, as processes do: a SQLite file and
// PostgreSQL.
func eachShared(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		if dsn == sqldbtest.Memory {
			t.Skip("a database in memory is private to its store")
		}
		t.Parallel()
		f(t, dsn)
	})
}

// tempDSN returns the DSN of a new SQLite file, and its path.
func tempDSN(t testing.TB) (dsn, path string) {
	path = filepath.Join(t.TempDir(), "zgov.db")
	return "sqlite://" + path, path
}

func TestSQLJournalStoreConformance(t *testing.T) {
	t.Parallel()
	for _, tg := range sqldbtest.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			journaltest.Run(t, func(t *testing.T) provision.JournalStore {
				return openSQLStore(t, tg.NewDSN(t))
			})
		})
	}
}

// TestStoreJournalConformance runs the suite on the journal of a Store,
// which shares the Store's database.
func TestStoreJournalConformance(t *testing.T) {
	t.Parallel()
	for _, tg := range sqldbtest.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			journaltest.Run(t, func(t *testing.T) provision.JournalStore {
				return openStore(t, tg.NewDSN(t)).Journal()
			})
		})
	}
}

// rawDB opens the database of a store directly, without zgov, as an
// intruder (or an older or newer zgov) would. Queries take '?' on SQLite,
// $1 on PostgreSQL.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	loc, err := sqldb.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	driver, name := "sqlite", loc.Path
	if loc.Dialect == sqldb.Postgres {
		driver, name = "pgx", dsn
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// dbState returns what a database holds of provision's, as text: the
// journal's rows and the recorded versions, to see that nothing changed.
func dbState(t *testing.T, dsn string) string {
	t.Helper()
	if loc, _ := sqldb.ParseDSN(dsn); loc.Path != "" {
		b, err := os.ReadFile(loc.Path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var out strings.Builder
	for _, q := range []string{
		"SELECT seq, entry FROM zgov_journal ORDER BY seq",
		"SELECT version_id, is_applied FROM zgov_provision_migrations ORDER BY id",
	} {
		rows, err := rawDB(t, dsn).QueryContext(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "%s %s\n", a, b)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}

// TestSQLJournalStoreTwoProcesses journals changes through two stores on
// one file, as two processes would, each with its own connections and
// several goroutines: every change is journaled once, the chain stays one
// line, and both see it verify.
func TestSQLJournalStoreTwoProcesses(t *testing.T) {
	t.Parallel()
	eachShared(t, testTwoProcesses)
}

func testTwoProcesses(t *testing.T, dsn string) {
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
	eachShared(t, testOpenConcurrently)
}

func testOpenConcurrently(t *testing.T, dsn string) {
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
	rows, err := rawDB(t, dsn).QueryContext(t.Context(), "SELECT version_id FROM zgov_provision_migrations ORDER BY id")
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
	if diff := cmp.Diff([]int64{0, 1, 2, 3, 4}, versions); diff != "" {
		t.Errorf("recorded versions (-want +got):\n%s", diff)
	}
}

// TestSQLJournalStoreReopen journals, closes the store (the process ends),
// opens the file again in a fresh Journal and goes on: the entries, the
// unfinished change and the change IDs outlive the process.
func TestSQLJournalStoreReopen(t *testing.T) {
	t.Parallel()
	eachShared(t, testReopen)
}

func testReopen(t *testing.T, dsn string) {
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

	j2, err := provision.NewJournal(openSQLStore(t, dsn), provision.WithJournalClock(clock))
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
// code can use: each is refused with its error, naming no password.
func TestOpenSQLJournalStoreRefuses(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]error{
		"zgov.db":                    provision.ErrInvalidDSN,
		"sqlite://host/zgov.db":      provision.ErrInvalidDSN,
		"sqlite:zgov.db?cache=share": provision.ErrInvalidDSN,
		"postgres://zgov:s3cret@127.0.0.1:1/zgov?sslmode=disable":    provision.ErrConnect,
		"postgres://zgov:s3cret@db.example.com/zgov?sslmode=maybe":   provision.ErrInvalidDSN,
		"postgres:zgov:s3cret@db.example.com/zgov":                   provision.ErrInvalidDSN,
		"host=db.example.com user=zgov password=s3cret":              provision.ErrInvalidDSN,
		"mysql://zgov:s3cret@db.example.com/zgov":                    provision.ErrInvalidDSN,
		"postgres://zgov:s3cret@db.example.com/zgov#s3cret":          provision.ErrInvalidDSN,
		"postgresql://zgov:s3/cret@db.example.com:5432/zgov":         provision.ErrInvalidDSN,
		"postgres://db.example.com/zgov?password=s3cret&sslmode=bad": provision.ErrInvalidDSN,
	} {
		_, err := provision.OpenSQLJournalStore(t.Context(), dsn)
		if !errors.Is(err, want) {
			t.Errorf("OpenSQLJournalStore(%q) = %v, want %v", sqldb.Redact(dsn), err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("OpenSQLJournalStore(%q) = %q shows the password", sqldb.Redact(dsn), err)
		}
		if _, err := provision.OpenStore(t.Context(), dsn); !errors.Is(err, want) || strings.Contains(fmt.Sprint(err), "s3cret") {
			t.Errorf("OpenStore(%q) = %v, want %v without the password", sqldb.Redact(dsn), err, want)
		}
	}
}

// TestOpenSQLJournalStoreRefusesFile opens a journal exported as JSONL,
// which is not a database: it is refused, and the file is left as it was.
func TestOpenSQLJournalStoreRefusesFile(t *testing.T) {
	t.Parallel()
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
}

// TestOpenSQLJournalStoreRefusesNewerSchema opens a database a newer zgov
// migrated: it is refused with ErrSchemaTooNew, and nothing is written.
func TestOpenSQLJournalStoreRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	eachShared(t, func(t *testing.T, dsn string) {
		s, err := provision.OpenSQLJournalStore(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		j := newJournal(t, s)
		begin(t, j, "plan-1/a", grantOp("group:10:member", "user:1"))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := rawDB(t, dsn).ExecContext(t.Context(), "INSERT INTO zgov_provision_migrations (version_id, is_applied) VALUES (99, true)"); err != nil {
			t.Fatal(err)
		}
		before := dbState(t, dsn)
		_, err = provision.OpenSQLJournalStore(t.Context(), dsn)
		if !errors.Is(err, provision.ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 99") {
			t.Errorf("OpenSQLJournalStore(a newer schema) = %v, want ErrSchemaTooNew naming version 99", err)
		}
		_, err = provision.OpenStore(t.Context(), dsn)
		if !errors.Is(err, provision.ErrSchemaTooNew) {
			t.Errorf("OpenStore(a newer schema) = %v, want ErrSchemaTooNew", err)
		}
		if after := dbState(t, dsn); before != after {
			t.Error("opening the database of a newer schema changed it")
		}
	})
}

// TestSQLJournalStoreTampered edits the table behind a store: Verify finds
// each edit, at its entry.
func TestSQLJournalStoreTampered(t *testing.T) {
	t.Parallel()
	eachShared(t, func(t *testing.T, dsn string) {
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
			st := openSQLStore(t, dsn)
			if _, err := rawDB(t, dsn).ExecContext(t.Context(), "DELETE FROM zgov_journal"); err != nil { // the last case's
				t.Fatal(err)
			}
			j := newJournal(t, st)
			for i := range 3 {
				id := fmt.Sprintf("c-%d", i)
				begin(t, j, id, grantOp("group:10:member", fmt.Sprintf("user:%d", i+1)))
				finish(t, j, id, provision.JournalOutcome{Status: "granted"})
			}
			if rep, err := j.Verify(t.Context()); err != nil || rep.Entries != 6 {
				t.Fatalf("%s: Verify before the edit = %+v, %v", tc.name, rep, err)
			}
			if _, err := rawDB(t, dsn).ExecContext(t.Context(), tc.sql); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			_, err := j.Verify(t.Context())
			var te *provision.JournalTamperError
			if !errors.As(err, &te) || te.Kind != tc.kind || te.Seq != 3 {
				t.Errorf("%s: Verify = %v, want %s at seq 3", tc.name, err, tc.kind)
			}
		}
	})
}

// TestSQLJournalStoreStoresExport checks that the entry column holds each
// entry's line of ExportJSONL byte for byte, on every dialect.
func TestSQLJournalStoreStoresExport(t *testing.T) {
	t.Parallel()
	eachShared(t, func(t *testing.T, dsn string) {
		j := newJournal(t, openSQLStore(t, dsn))
		begin(t, j, "c-1", grantOp("group:10:member", "user:1"))
		finish(t, j, "c-1", provision.JournalOutcome{Status: "granted", Note: "snowman \u2603 ☃, tab\t, NUL \x00"})
		var export bytes.Buffer
		if err := j.ExportJSONL(t.Context(), &export); err != nil {
			t.Fatal(err)
		}
		rows, err := rawDB(t, dsn).QueryContext(t.Context(), "SELECT entry FROM zgov_journal ORDER BY seq")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var stored bytes.Buffer
		for rows.Next() {
			var line []byte
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			stored.Write(line)
			stored.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(export.String(), stored.String()); diff != "" {
			t.Errorf("stored entries against the export (-want +got):\n%s", diff)
		}
	})
}
