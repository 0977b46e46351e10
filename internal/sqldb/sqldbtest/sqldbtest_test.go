package sqldbtest_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
)

// recorder is a testing.TB that records Skip and Fatal instead of ending
// the test that runs it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skip(args ...any)  { r.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls PostgresDSN with a recorder, in a goroutine of its own, as
// Skip and Fatal end it.
func run(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sqldbtest.PostgresDSN(r)
	}()
	<-done
	return r
}

// TestPostgresDSNWithoutServer checks what PostgresDSN does without a
// usable server: it skips, saying how to run the tests; under CI=true it
// fails; with a server nobody answers at, it fails without showing the
// password.
func TestPostgresDSNWithoutServer(t *testing.T) {
	t.Setenv(sqldbtest.EnvPostgresDSN, "")
	t.Setenv("CI", "")
	r := run(t)
	if r.failed != "" || !strings.Contains(r.skipped, "set ZGOV_TEST_POSTGRES_DSN=postgres://") || !strings.Contains(r.skipped, "CREATE DATABASE") {
		t.Errorf("without the variable: skipped %q, failed %q; want a skip saying how to run the tests", r.skipped, r.failed)
	}

	t.Setenv("CI", "true")
	if r := run(t); r.skipped != "" || !strings.Contains(r.failed, "CI=true") {
		t.Errorf("without the variable under CI=true: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}

	t.Setenv("CI", "")
	t.Setenv(sqldbtest.EnvPostgresDSN, "postgres://zgov:s3cret-pw@127.0.0.1:1/zgov?sslmode=disable")
	r = run(t)
	if r.skipped != "" || r.failed == "" {
		t.Errorf("with a server nobody answers at: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
	if strings.Contains(r.failed, "s3cret") {
		t.Errorf("the failure %q shows the password", r.failed)
	}
}

// TestEach opens the database of each target.
func TestEach(t *testing.T) {
	var names []string
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		names = append(names, t.Name())
		db, err := sqldb.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.SQL.PingContext(t.Context()); err != nil {
			t.Error(err)
		}
	})
	want := "TestEach/sqlite-file TestEach/sqlite-memory"
	if os.Getenv(sqldbtest.EnvPostgresDSN) != "" {
		want += " TestEach/postgres"
	}
	if got := strings.Join(names, " "); got != want {
		t.Errorf("subtests %s, want %s", got, want)
	}
}

// TestPostgresDSNFresh checks that each call gives a database of its own.
func TestPostgresDSNFresh(t *testing.T) {
	a, b := sqldbtest.PostgresDSN(t), sqldbtest.PostgresDSN(t)
	if a == b {
		t.Fatalf("two calls gave one database: %s", sqldb.Redact(a))
	}
	for _, dsn := range []string{a, b} {
		db, err := sqldb.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&n); err != nil || n != 0 {
			t.Errorf("a new database has %d tables (%v), want none", n, err)
		}
		db.Close()
	}
}
