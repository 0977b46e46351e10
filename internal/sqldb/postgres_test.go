package sqldb_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
)

// TestOpenPostgres opens a PostgreSQL database: the DB has its pool, the
// name hides the password, Rebind numbers placeholders, and Close closes
// the pool too.
func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	dsn := sqldbtest.PostgresDSN(t)
	db := open(t, dsn, schema(things1))
	if db.Dialect != sqldb.Postgres || db.Pool == nil || db.Name != sqldb.Redact(dsn) {
		t.Errorf("DB = {Dialect: %q, Pool: %v, Name: %q}, want postgres, a pool, %q", db.Dialect, db.Pool, db.Name, sqldb.Redact(dsn))
	}
	var note string
	if err := db.SQL.QueryRowContext(t.Context(), db.Rebind("SELECT note FROM things WHERE id = ? AND note = ?"), 1, "v1").Scan(&note); err != nil || note != "v1" {
		t.Errorf("a rebound query = %q, %v; want v1", note, err)
	}
	if err := db.Pool.Ping(t.Context()); err != nil {
		t.Errorf("Pool.Ping: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.Ping(t.Context()); err == nil {
		t.Error("the pool answers after Close")
	}
}

// withPassword returns dsn with its password replaced.
func withPassword(t *testing.T, dsn, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// TestOpenPostgresRefused opens a PostgreSQL database with a wrong
// password, and one that does not exist: each fails at once with
// ErrConnect, naming the DSN redacted and the server's reason, never the
// password.
func TestOpenPostgresRefused(t *testing.T) {
	t.Parallel()
	dsn := sqldbtest.PostgresDSN(t)
	const wrong = "s3cret-wrong"
	for _, tc := range []struct {
		name, dsn, code string
	}{
		{"wrong password", withPassword(t, dsn, wrong), "28P01"},
		{"no such database", func() string {
			u, _ := url.Parse(dsn)
			u.Path = "/zgov_no_such_database"
			return u.String()
		}(), "3D000"},
	} {
		_, err := sqldb.Open(t.Context(), tc.dsn, schema(things1))
		if !errors.Is(err, sqldb.ErrConnect) {
			t.Errorf("%s: Open = %v, want ErrConnect", tc.name, err)
			continue
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code {
			t.Errorf("%s: Open = %v, want a *pgconn.PgError with code %s in the chain", tc.name, err, tc.code)
		}
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			t.Errorf("%s: Open's error holds a *pgconn.ConnectError, which holds the password", tc.name)
		}
		if !strings.Contains(err.Error(), sqldb.Redact(tc.dsn)) {
			t.Errorf("%s: Open = %q, want it to name %s", tc.name, err, sqldb.Redact(tc.dsn))
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("%s: Open = %q shows the password", tc.name, err)
		}
	}
}

// TestOpenPostgresUnreachable opens a PostgreSQL DSN whose port nobody
// listens on (no server needed), and one with a cancelled context: both
// fail at once, with ErrConnect, without the password.
func TestOpenPostgresUnreachable(t *testing.T) {
	t.Parallel()
	const dsn = "postgres://zgov:s3cret-pw@127.0.0.1:1/zgov?sslmode=disable"
	_, err := sqldb.Open(t.Context(), dsn)
	if !errors.Is(err, sqldb.ErrConnect) || !strings.Contains(err.Error(), "postgres://zgov:xxxxx@127.0.0.1:1/zgov") {
		t.Errorf("Open(a closed port) = %v, want ErrConnect naming the DSN redacted", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(a closed port) = %q shows the password", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A host in TEST-NET-1 (RFC 5737), which no one answers: only ctx can
	// end the attempt before ConnectTimeout.
	_, err = sqldb.Open(ctx, "postgres://zgov:s3cret-pw@192.0.2.1:5432/zgov?sslmode=disable")
	if !errors.Is(err, sqldb.ErrConnect) || !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context = %v, want ErrConnect and context.Canceled", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open with a cancelled context = %q shows the password", err)
	}
}

// TestOpenPostgresSilentServer opens a PostgreSQL DSN whose server accepts
// the connection and never answers: Open ends when ctx does (cancelled as
// soon as the server accepts), not after ConnectTimeout.
func TestOpenPostgresSilentServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
		cancel()
	}()
	_, err = sqldb.Open(ctx, "postgres://zgov:s3cret-pw@"+ln.Addr().String()+"/zgov?sslmode=disable")
	ln.Close() // ends an Accept still waiting
	if c, ok := <-accepted; ok {
		c.Close()
	}
	if !errors.Is(err, sqldb.ErrConnect) || !errors.Is(err, context.Canceled) {
		t.Errorf("Open against a silent server, cancelled = %v, want ErrConnect and context.Canceled", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open = %q shows the password", err)
	}
}

// TestOpenPostgresBadParameter opens a PostgreSQL DSN whose parameter the
// driver refuses: ErrInvalidDSN, before any connection, without the
// password.
func TestOpenPostgresBadParameter(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://zgov:s3cret-pw@db.example.com/zgov?sslmode=sometimes",
		"postgres://zgov:s3cret-pw@db.example.com/zgov?connect_timeout=soon",
		"postgres://zgov:s3cret-pw@db.example.com:99999/zgov",
	} {
		_, err := sqldb.Open(t.Context(), dsn)
		if !errors.Is(err, sqldb.ErrInvalidDSN) {
			t.Errorf("Open(%s) = %v, want ErrInvalidDSN", sqldb.Redact(dsn), err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%s) = %q shows the password", sqldb.Redact(dsn), err)
		}
	}
}
