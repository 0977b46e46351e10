package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// migrations of the test schema "things": version 1 makes a table and a
// row; version 2 only adds a row, so that applying it twice would show.
var (
	things1 = "-- +goose Up\nCREATE TABLE things (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\nINSERT INTO things (note) VALUES ('v1');\n"
	things2 = "-- +goose Up\nINSERT INTO things (note) VALUES ('v2');\n"
)

// schema returns the test schema with the given migrations, as
// migrations/sqlite/00001_step.sql, 00002_step.sql, ...
func schema(migrations ...string) Schema {
	fsys := fstest.MapFS{}
	for i, m := range migrations {
		fsys[fmt.Sprintf("migrations/sqlite/%05d_step.sql", i+1)] = &fstest.MapFile{Data: []byte(m)}
	}
	return Schema{Name: "things", Migrations: fsys}
}

func open(t *testing.T, dsn string, s ...Schema) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn, s...)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func fileDSN(t *testing.T) (dsn, path string) {
	path = filepath.Join(t.TempDir(), "zgov.db")
	return "sqlite://" + path, path
}

// notes returns the notes of the things table, in order.
func notes(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT note FROM things ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// versions returns the versions recorded for the things schema, in the
// order they were recorded.
func versions(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT version_id FROM zgov_things_migrations ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenMemory(t *testing.T) {
	t.Parallel()
	a := open(t, "sqlite::memory:", schema(things1, things2))
	b := open(t, "sqlite::memory:", schema(things1))
	if diff := cmp.Diff([]string{"v1", "v2"}, notes(t, a.SQL)); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"v1"}, notes(t, b.SQL)); diff != "" {
		t.Errorf("a second database in memory shares the first's rows (-want +got):\n%s", diff)
	}
	if a.Dialect != SQLite || a.Name != "sqlite::memory:" {
		t.Errorf("DB = %+v", a)
	}
	if got := pragma(t, a.SQL, "foreign_keys"); got != "1" {
		t.Errorf("foreign_keys = %s, want 1", got)
	}
}

func TestOpenFile(t *testing.T) {
	t.Parallel()
	dsn, path := fileDSN(t)
	db := open(t, dsn, schema(things1))
	for name, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "2"} {
		if got := pragma(t, db.SQL, name); got != want {
			t.Errorf("PRAGMA %s = %s, want %s", name, got, want)
		}
	}
	if _, err := db.SQL.ExecContext(t.Context(), "INSERT INTO things (note) VALUES ('added')"); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for _, p := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want mode 0600", p, fi.Mode(), err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the database keeps its rows and applies what it lacks,
	// once.
	db = open(t, dsn, schema(things1, things2))
	if diff := cmp.Diff([]string{"v1", "added", "v2"}, notes(t, db.SQL)); diff != "" {
		t.Errorf("notes after reopening (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 1, 2}, versions(t, db.SQL)); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	db.Close()
	db = open(t, "sqlite:"+path, schema(things1, things2))
	if n := len(notes(t, db.SQL)); n != 3 {
		t.Errorf("%d notes after a third open, want 3", n)
	}
}

// TestOpenRefusesFile opens files that are not SQLite databases: each is
// refused with ErrNotADatabase and left as it was.
func TestOpenRefusesFile(t *testing.T) {
	t.Parallel()
	page := make([]byte, 4096)
	copy(page, "SQLite format 3\x00\x00\x03") // a page size of 3 bytes
	for name, content := range map[string][]byte{
		"text":         []byte("name,email\nann,ann@example.com\n"),
		"one byte":     []byte("x"),
		"header only":  []byte("SQLite format 3\x00"),
		"bad page":     page,
		"json journal": []byte(`{"seq":1,"kind":"started"}` + "\n"),
	} {
		path := filepath.Join(t.TempDir(), "zgov.db")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(t.Context(), "sqlite://"+path, schema(things1))
		if err == nil {
			db.Close()
		}
		if !errors.Is(err, ErrNotADatabase) {
			t.Errorf("%s: Open = %v, want ErrNotADatabase", name, err)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Open = %q, want it to name the file", name, err)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, content) {
			t.Errorf("%s: Open changed the file", name)
		}
		if files, _ := filepath.Glob(path + "-*"); len(files) != 0 {
			t.Errorf("%s: Open left %v", name, files)
		}
	}

	dir := t.TempDir()
	if _, err := Open(t.Context(), "sqlite://"+dir, schema(things1)); !errors.Is(err, ErrNotADatabase) {
		t.Errorf("Open(a directory) = %v, want ErrNotADatabase", err)
	}
	missing := filepath.Join(dir, "no", "such", "zgov.db")
	if _, err := Open(t.Context(), "sqlite://"+missing, schema(things1)); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open(a file in a missing directory) = %v, want it to say the directory does not exist", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("Open made the missing directory")
	}
}

// TestOpenRefusesNewerSchema opens a database a newer zgov migrated: it is
// refused with a *SchemaTooNewError, and nothing is written.
func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dsn, path := fileDSN(t)
	db := open(t, dsn, schema(things1, things2))
	if _, err := db.SQL.ExecContext(t.Context(), "INSERT INTO zgov_things_migrations (version_id, is_applied) VALUES (3, 1)"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // the last connection checkpoints the WAL into the file
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{{things1, things2}, {things1}} {
		_, err = Open(t.Context(), dsn, schema(s...))
		var tooNew *SchemaTooNewError
		if !errors.As(err, &tooNew) || !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("Open with %d migrations = %v, want a *SchemaTooNewError", len(s), err)
		}
		if diff := cmp.Diff(&SchemaTooNewError{Schema: "things", Version: 3, Known: int64(len(s))}, tooNew); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
		if !strings.Contains(err.Error(), "newer zgov") {
			t.Errorf("error %q does not say what to do", err)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the refused Opens changed the file")
	}
}

// TestOpenConcurrently opens one new file from many openers at once, as
// processes starting together would (each has its own connections, and
// SQLite locks the file between them): each migration is applied once.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		dsn, _ := fileDSN(t)
		const openers = 8
		dbs := make([]*DB, openers)
		var wg sync.WaitGroup
		for i := range openers {
			wg.Go(func() {
				db, err := Open(t.Context(), dsn, schema(things1, things2))
				if err != nil {
					t.Errorf("round %d: opener %d: %v", round, i, err)
					return
				}
				dbs[i] = db
			})
		}
		wg.Wait()
		for _, db := range dbs {
			if db == nil {
				continue
			}
			if diff := cmp.Diff([]string{"v1", "v2"}, notes(t, db.SQL)); diff != "" {
				t.Errorf("round %d: notes (-want +got):\n%s", round, diff)
			}
			if diff := cmp.Diff([]int64{0, 1, 2}, versions(t, db.SQL)); diff != "" {
				t.Errorf("round %d: versions (-want +got):\n%s", round, diff)
			}
			db.Close()
		}
	}
}

// TestOpenBadMigration applies a migration that fails partway: Open fails,
// naming the schema, and the migration leaves nothing behind.
func TestOpenBadMigration(t *testing.T) {
	t.Parallel()
	dsn, _ := fileDSN(t)
	open(t, dsn, schema(things1)).Close()
	bad := "-- +goose Up\nINSERT INTO things (note) VALUES ('half');\nINSERT INTO nowhere VALUES (1);\n"
	_, err := Open(t.Context(), dsn, schema(things1, bad))
	if err == nil || !strings.Contains(err.Error(), `schema "things"`) || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("Open with a failing migration = %v, want an error naming the schema and the cause", err)
	}
	db := open(t, dsn, schema(things1))
	if diff := cmp.Diff([]string{"v1"}, notes(t, db.SQL)); diff != "" {
		t.Errorf("the failed migration left rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 1}, versions(t, db.SQL)); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestOpenRefusesSchema(t *testing.T) {
	t.Parallel()
	for _, s := range []Schema{
		{Name: "Things", Migrations: schema(things1).Migrations},
		{Name: "things; DROP TABLE x", Migrations: schema(things1).Migrations},
		{Name: "things"},
		{Name: "things", Migrations: fstest.MapFS{}},
		{Name: "things", Migrations: fstest.MapFS{"migrations/postgres/00001_x.sql": &fstest.MapFile{Data: []byte(things1)}}},
	} {
		if db, err := Open(t.Context(), "sqlite::memory:", s); err == nil {
			db.Close()
			t.Errorf("Open with schema %q (%v) succeeded", s.Name, s.Migrations)
		}
	}
}

func TestOpenPostgresNotYet(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), "postgres://zgov:s3cret@db.example.com/zgov")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Open(postgres://...) = %v, want errors.ErrUnsupported", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(postgres://...) = %q shows the password", err)
	}
}

func TestIsUniqueViolation(t *testing.T) {
	t.Parallel()
	db := open(t, "sqlite::memory:", schema(things1))
	_, err := db.SQL.ExecContext(t.Context(), "INSERT INTO things (id, note) VALUES (1, 'again')")
	if !IsUniqueViolation(err) {
		t.Errorf("IsUniqueViolation(%v) = false", err)
	}
	_, err = db.SQL.ExecContext(t.Context(), "INSERT INTO things (id) VALUES (9)")
	if err == nil || IsUniqueViolation(err) {
		t.Errorf("IsUniqueViolation(%v) = true for a NOT NULL violation", err)
	}
	if IsUniqueViolation(nil) || IsUniqueViolation(errors.New("UNIQUE constraint failed")) {
		t.Error("IsUniqueViolation is true for an error that is not SQLite's")
	}
}
