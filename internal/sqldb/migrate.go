package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Schema is what one layer stores: its migrations.
type Schema struct {
	// Name names the layer: lowercase letters, digits and '_', starting
	// with a letter ("provision"). Its versions are recorded in the table
	// zgov_<Name>_migrations.
	Name string
	// Migrations holds the layer's goose SQL migrations, annotated
	// "-- +goose Up", in a directory per dialect:
	// migrations/sqlite/00001_journal.sql, ... (the layer embeds its
	// migrations directory).
	Migrations fs.FS
}

// migrator applies one schema's migrations to a database.
type migrator struct {
	db       *DB
	schema   string
	table    string
	provider *goose.Provider
	known    int64 // the newest version of the schema's migrations
}

func newMigrator(db *DB, s Schema) (*migrator, error) {
	if !validSchemaName(s.Name) {
		return nil, fmt.Errorf("schema %q: the name must be lowercase letters, digits and '_', starting with a letter", s.Name)
	}
	if s.Migrations == nil {
		return nil, fmt.Errorf("schema %q: no migrations", s.Name)
	}
	dir, err := fs.Sub(s.Migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, fmt.Errorf("schema %q: %w", s.Name, err)
	}
	m := &migrator{db: db, schema: s.Name, table: "zgov_" + s.Name + "_migrations"}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{
		goose.WithTableName(m.table), goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()),
	}
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
		opts = append(opts, goose.WithSessionLocker(advisoryLocker{id: lockID(m.table)}))
	}
	m.provider, err = goose.NewProvider(dialect, db.SQL, dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("schema %q: %s migrations: %w", s.Name, db.Dialect, err)
	}
	src := m.provider.ListSources()
	m.known = src[len(src)-1].Version // NewProvider refuses an empty set
	return m, nil
}

func validSchemaName(s string) bool {
	if s == "" || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

// version returns the schema's version in the database: 0 if it has none.
// It only reads. On PostgreSQL it looks for the version table where goose
// makes it: in the current schema (the first of the search path).
func (m *migrator) version(ctx context.Context) (int64, error) {
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if m.db.Dialect == Postgres {
		q = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
	}
	var n int
	err := m.db.SQL.QueryRowContext(ctx, m.db.Rebind(q), m.table).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	var v sql.NullInt64
	if err := m.db.SQL.QueryRowContext(ctx, "SELECT max(version_id) FROM "+m.table).Scan(&v); err != nil {
		return 0, err
	}
	return v.Int64, nil
}

// checkVersion refuses a database at a newer version of the schema than
// this code knows. It only reads.
func (m *migrator) checkVersion(ctx context.Context) error {
	v, err := m.version(ctx)
	if err != nil {
		return fmt.Errorf("read the version of schema %q: %w", m.schema, err)
	}
	if v > m.known {
		return &SchemaTooNewError{Schema: m.schema, Version: v, Known: m.known}
	}
	return nil
}

// up applies the migrations the database lacks.
//
// On PostgreSQL, goose holds an advisory lock from before it reads the
// versions applied until it has applied the rest: openers migrate one after
// another, and each migration runs once. (goose also makes its version
// table before that, unlocked, and retries a second later if another opener
// made it meanwhile: the table is made here first, under the lock.)
//
// On SQLite, goose decides what to apply before it takes the write lock, so
// two openers of one new file may both set out to apply a migration. The
// version table is created here, as goose would, but with a unique index on
// the version: the second application fails (on its own statements or on
// recording the version) and rolls back whole. Its opener then finds the
// version applied and looks again.
func (m *migrator) up(ctx context.Context) error {
	if m.db.Dialect == Postgres {
		before, err := m.version(ctx)
		if err != nil {
			return fmt.Errorf("migrate schema %q: %w", m.schema, err)
		}
		if before < m.known {
			if err := m.createPostgresVersionTable(ctx); err != nil {
				return fmt.Errorf("migrate schema %q: create its version table: %w", m.schema, err)
			}
			if _, err := m.provider.Up(ctx); err != nil {
				return fmt.Errorf("migrate schema %q from version %d: %w", m.schema, before, err)
			}
		}
		return m.checkVersion(ctx)
	}
	if err := m.createVersionTable(ctx); err != nil {
		return fmt.Errorf("migrate schema %q: create its version table: %w", m.schema, err)
	}
	for attempt := 0; ; attempt++ {
		before, err := m.version(ctx)
		if err != nil {
			return fmt.Errorf("migrate schema %q: %w", m.schema, err)
		}
		_, err = m.provider.Up(ctx)
		if err == nil {
			break
		}
		after, verr := m.version(ctx)
		if verr != nil || after <= before || attempt > int(m.known) {
			return fmt.Errorf("migrate schema %q from version %d: %w", m.schema, before, err)
		}
	}
	// A newer zgov may have migrated further meanwhile.
	return m.checkVersion(ctx)
}

// createVersionTable creates goose's version table for SQLite, with the
// version 0 goose starts from, if it is missing.
func (m *migrator) createVersionTable(ctx context.Context) error {
	tx, err := m.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + m.table + ` (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			version_id INTEGER NOT NULL,
			is_applied INTEGER NOT NULL,
			tstamp TIMESTAMP DEFAULT (datetime('now'))
		)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS ` + m.table + `_version ON ` + m.table + ` (version_id)`,
		`INSERT INTO ` + m.table + ` (version_id, is_applied) VALUES (0, 1) ON CONFLICT (version_id) DO NOTHING`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// createPostgresVersionTable creates goose's version table for PostgreSQL,
// as goose would, with the version 0 goose starts from, if it is missing.
// It holds the migration lock while it does, so that openers starting
// together make it once.
func (m *migrator) createPostgresVersionTable(ctx context.Context) error {
	tx, err := m.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", lockID(m.table)); err != nil {
		return fmt.Errorf("wait for the migration lock: %w", err)
	}
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + m.table + ` (
			id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,
			version_id bigint NOT NULL,
			is_applied boolean NOT NULL,
			tstamp timestamp NOT NULL DEFAULT now()
		)`,
		`INSERT INTO ` + m.table + ` (version_id, is_applied) SELECT 0, true WHERE NOT EXISTS (SELECT 1 FROM ` + m.table + `)`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}
