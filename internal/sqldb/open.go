package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is an open database whose schemas are migrated.
type DB struct {
	// SQL is the database. Write queries with '?' placeholders and pass
	// them through Rebind.
	SQL *sql.DB
	// Pool is the PostgreSQL connection pool SQL draws its connections
	// from, for code that talks to pgx directly (River's riverpgxv5
	// driver); nil for SQLite.
	Pool *pgxpool.Pool
	// Dialect is its kind.
	Dialect Dialect
	// Name is its DSN, redacted, for errors.
	Name string
}

// Close closes the database: SQL, then Pool (which waits for the
// connections in use to be released).
func (db *DB) Close() error {
	err := db.SQL.Close()
	if db.Pool != nil {
		db.Pool.Close()
	}
	return err
}

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// another connection or process holds before it fails: far longer than any
// of zgov's write transactions.
const busyTimeout = 5000

// maxConns bounds a file database's connections: one writes at a time, the
// others read.
const maxConns = 8

// Open opens the database dsn names (see the package documentation), sets it
// up and applies the migrations of schemas, in order. It refuses a file
// that is not a SQLite database (ErrNotADatabase) and a database migrated
// past the versions this code knows (ErrSchemaTooNew) before writing
// anything, and a PostgreSQL server it cannot connect to or log in to with
// ErrConnect, within ctx and at most ConnectTimeout. Errors name the DSN
// redacted.
func Open(ctx context.Context, dsn string, schemas ...Schema) (*DB, error) {
	loc, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var db *DB
	if loc.Dialect == Postgres {
		db, err = openPostgres(ctx, dsn)
	} else {
		db, err = openSQLite(dsn, loc)
	}
	if err != nil {
		return nil, err
	}
	if err := db.setUp(ctx, loc, schemas); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", db.Name, classify(err))
	}
	return db, nil
}

// openSQLite opens a SQLite database (without touching it yet).
func openSQLite(dsn string, loc Location) (*DB, error) {
	name := Redact(dsn)
	sdb, err := sql.Open("sqlite", driverDSN(loc))
	if err != nil { // only for a driver that is not registered
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if loc.Memory {
		// Each connection to :memory: is a database of its own: one
		// connection, kept open, holds the database.
		sdb.SetMaxOpenConns(1)
		sdb.SetMaxIdleConns(1)
	} else {
		sdb.SetMaxOpenConns(maxConns)
		sdb.SetMaxIdleConns(maxConns)
	}
	return &DB{SQL: sdb, Dialect: SQLite, Name: name}, nil
}

// driverDSN returns modernc.org/sqlite's name for loc, with the settings of
// every connection (see the package documentation).
func driverDSN(loc Location) string {
	params := fmt.Sprintf("?_busy_timeout=%d&_foreign_keys=1&_synchronous=FULL&_txlock=immediate", busyTimeout)
	if loc.Memory {
		return "file::memory:" + params
	}
	p := filepath.ToSlash(loc.Path)
	if filepath.VolumeName(loc.Path) != "" {
		p = "/" + p // file:///C:/zgov.db
	}
	return (&url.URL{Scheme: "file", Path: p}).String() + params
}

// setUp checks the database, turns WAL on for a SQLite file, and migrates
// each schema. It writes nothing before the checks pass.
func (db *DB) setUp(ctx context.Context, loc Location, schemas []Schema) error {
	ms := make([]*migrator, 0, len(schemas))
	for _, s := range schemas {
		m, err := newMigrator(db, s)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	file := loc.Dialect == SQLite && !loc.Memory
	if file {
		if err := checkFile(loc.Path); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if err := m.checkVersion(ctx); err != nil {
			return err
		}
	}
	if file {
		if err := db.enableWAL(ctx); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if err := m.up(ctx); err != nil {
			return err
		}
	}
	return nil
}

// enableWAL puts the database in WAL mode (which the file keeps). Two
// connections switching a new file at once can deadlock on its locks, and
// SQLite then fails one at once, without waiting for the other; that one
// waits here and tries again, for busyTimeout in all.
func (db *DB) enableWAL(ctx context.Context) error {
	var waited time.Duration
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		var mode string
		err := db.SQL.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("turn WAL on: the database stays in journal mode %q (is its file system local?)", mode)
		case sqliteCode(err)&0xff != sqlite3.SQLITE_BUSY || waited >= busyTimeout*time.Millisecond:
			return fmt.Errorf("turn WAL on: %w", err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("turn WAL on: %w", ctx.Err())
		case <-t.C:
		}
		waited += pause
	}
}

// sqliteHeader begins every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// checkFile refuses a path that cannot be a SQLite database: a directory, a
// file that does not begin with SQLite's header, a file in a directory that
// does not exist. (SQLite itself takes a file shorter than a page for an
// empty database, and would write over it.) An empty file is an empty
// database. A missing file is created empty, readable and writable by its
// owner only: the journal names people, and SQLite gives the -wal and -shm
// files it adds the database file's mode.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		if di, err := os.Stat(dir); err != nil || !di.IsDir() {
			return fmt.Errorf("the directory %s does not exist", dir)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) { // another opener made it first
			return checkFile(path)
		}
		if err != nil {
			return err
		}
		return f.Close()
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s is a directory: %w", path, ErrNotADatabase)
	case fi.Size() == 0:
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	if !bytes.Equal(head, sqliteHeader) {
		return fmt.Errorf("%s does not begin with SQLite's header: %w", path, ErrNotADatabase)
	}
	return nil
}
