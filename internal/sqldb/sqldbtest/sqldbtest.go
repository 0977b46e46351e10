// Package sqldbtest gives tests a fresh database of each dialect zgov
// supports, so that a layer's store runs the same tests on SQLite in a
// file, SQLite in memory and PostgreSQL.
//
// PostgreSQL tests need a server: set ZGOV_TEST_POSTGRES_DSN to the URL of a
// role that may CREATE DATABASE, for example
//
//	ZGOV_TEST_POSTGRES_DSN='postgres://zgov:zgov@localhost:5432/zgov?sslmode=disable' go test ./...
//
// Each PostgreSQL DSN it returns names a database of its own, created for
// the test and dropped when the test ends. Without the variable the
// PostgreSQL tests skip, saying so, unless CI=true: then a missing or
// unreachable server fails them.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// EnvPostgresDSN is the environment variable that holds the DSN of a
// PostgreSQL role that may CREATE DATABASE, for the PostgreSQL tests.
const EnvPostgresDSN = "ZGOV_TEST_POSTGRES_DSN"

// Memory is the DSN of a SQLite database in memory: every Open of it is a
// new, private database.
const Memory = "sqlite::memory:"

// Target is one kind of database tests run on.
type Target struct {
	// Name names the target in subtests: "sqlite-file", "sqlite-memory"
	// or "postgres".
	Name string
	// NewDSN returns the DSN of a new, empty database, removed when t
	// ends. The postgres target skips or fails t when no server is
	// configured (see the package documentation).
	NewDSN func(t testing.TB) string
	// Shared reports whether every Open of one of its DSNs reaches the
	// same database, as several processes would: false for
	// sqlite-memory.
	Shared bool
}

// Targets returns the targets: sqlite-file, sqlite-memory, postgres.
func Targets() []Target {
	return []Target{
		{Name: "sqlite-file", NewDSN: SQLiteFileDSN, Shared: true},
		{Name: "sqlite-memory", NewDSN: func(testing.TB) string { return Memory }},
		{Name: "postgres", NewDSN: PostgresDSN, Shared: true},
	}
}

// Each runs f as a subtest per target ("sqlite-file", "sqlite-memory",
// "postgres"), with the DSN of a new, empty database of that kind. The
// postgres subtest skips without a server (see the package documentation).
func Each(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	for _, tg := range Targets() {
		t.Run(tg.Name, func(t *testing.T) { f(t, tg.NewDSN(t)) })
	}
}

// SQLiteFileDSN returns the DSN of a new SQLite file in a temporary
// directory, removed when t ends.
func SQLiteFileDSN(t testing.TB) string {
	path := filepath.ToSlash(filepath.Join(t.TempDir(), "zgov.db"))
	return "sqlite:" + (&url.URL{Path: path}).EscapedPath()
}

// setUpTimeout bounds the creation and the removal of a test database.
const setUpTimeout = 30 * time.Second

// PostgresDSN returns the DSN of a new, empty PostgreSQL database, made with
// the role of ZGOV_TEST_POSTGRES_DSN and dropped (WITH (FORCE)) when t ends.
// Without the variable it skips t, or fails it when CI=true; it fails t
// when the server cannot be reached or refuses the database.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgresDSN)
	if admin == "" {
		const how = EnvPostgresDSN + " is not set: set " + EnvPostgresDSN +
			"=postgres://user:pass@localhost:5432/db?sslmode=disable (a role that may CREATE DATABASE) to run the PostgreSQL tests; CI does"
		if os.Getenv("CI") == "true" {
			t.Fatal(how + ", and CI=true requires them")
		}
		t.Skip("PostgreSQL tests skipped: " + how)
	}
	shown := sqldb.Redact(admin)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s=%s: want a postgres:// URL", EnvPostgresDSN, shown)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "zgov_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(t.Context(), setUpTimeout)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create a test database with %s=%s: %v", EnvPostgresDSN, shown, err)
	}
	t.Cleanup(func() {
		// The test's context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), setUpTimeout)
		defer cancel()
		// An autovacuum worker busy in the database makes FORCE fail
		// (42501: only a superuser or pg_signal_backend may end it): it
		// finishes soon, so try again for a while.
		var err error
		for range 50 {
			if err = adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err == nil || !strings.Contains(err.Error(), "42501") {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("drop the test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// adminExec runs one statement as the role of the admin DSN. Its errors
// are the driver's texts without its configuration (which holds the
// password).
func adminExec(ctx context.Context, admin, stmt string) error {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return fmt.Errorf("%s cannot be read", EnvPostgresDSN)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = sqldb.ConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %s", cleanText(err, cfg.Password))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %s", stmt, cleanText(err, cfg.Password))
	}
	return nil
}

// cleanText returns err's text without password.
func cleanText(err error, password string) string {
	s := err.Error()
	if len(password) >= 4 {
		s = strings.ReplaceAll(s, password, "xxxxx")
	}
	return s
}
