// Package jobs sets River up over a zgov database, the same way for SQLite
// and PostgreSQL: River's own tables are migrated on New (River's migrator,
// so that processes starting at once migrate once; see Migrate), and a
// Queue inserts jobs in the caller's *sql.Tx, so a record and the job that
// needs it commit together.
//
// On SQLite the riversqlite driver both inserts and works jobs. On
// PostgreSQL riverpgxv5 works them (over the database's pgx pool) and
// riverdatabasesql inserts them in a database/sql transaction: both drivers
// use the same tables, and a job inserted by one is worked by the other.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// migrateLockKey is the PostgreSQL advisory lock key that keeps River's
// migrations of one database to one process at a time ("zgovrivr").
const migrateLockKey = 0x7a676f7672697672

// Queue is a River client over a zgov database.
type Queue struct {
	db *sqldb.DB

	start    func(context.Context) error
	stop     func(context.Context) error
	stopped  func() <-chan struct{}
	insertTx func(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// New migrates River's tables in db and returns a Queue with cfg (whose
// Workers, if any, it works once started).
func New(ctx context.Context, db *sqldb.DB, cfg *river.Config) (*Queue, error) {
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	q := &Queue{db: db}
	switch db.Dialect {
	case sqldb.SQLite:
		c, err := river.NewClient(riversqlite.New(db.SQL), cfg)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		q.start, q.stop, q.stopped, q.insertTx = c.Start, c.Stop, c.Stopped, c.InsertTx
	case sqldb.Postgres:
		if db.Pool == nil {
			return nil, errors.New("jobs: a PostgreSQL database without a pgx pool")
		}
		c, err := river.NewClient(riverpgxv5.New(db.Pool), cfg)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		// An insert-only client for database/sql transactions: it takes
		// no workers and never starts.
		ins, err := river.NewClient(riverdatabasesql.New(db.SQL), &river.Config{Logger: cfg.Logger, MaxAttempts: cfg.MaxAttempts})
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		q.start, q.stop, q.stopped, q.insertTx = c.Start, c.Stop, c.Stopped, ins.InsertTx
	default:
		return nil, fmt.Errorf("jobs: unknown dialect %q", db.Dialect)
	}
	return q, nil
}

// InsertTx inserts a job in tx: it exists if and only if tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return q.insertTx(ctx, tx, args, opts)
}

// Start starts working jobs; Stop stops, letting running jobs finish.
func (q *Queue) Start(ctx context.Context) error { return q.start(ctx) }

// Stop stops working jobs, waiting for those running to finish or ctx to end.
func (q *Queue) Stop(ctx context.Context) error { return q.stop(ctx) }

// Stopped is closed when the queue has stopped.
func (q *Queue) Stopped() <-chan struct{} { return q.stopped() }

// Migrate applies River's migrations to db, so that several processes
// opening one new database migrate it once: on PostgreSQL under an advisory
// lock; on SQLite each in a transaction that holds the file's write lock,
// trying again when another process applied a version first.
func Migrate(ctx context.Context, db *sqldb.DB) error {
	if err := checkVersion(ctx, db); err != nil {
		return err
	}
	switch db.Dialect {
	case sqldb.SQLite:
		// Each migration runs in a transaction of its own, which takes the
		// file's write lock: two processes migrating one new file at once
		// may both set out to apply a version, and the second then fails
		// on it. Its opener finds the version applied and goes on.
		m, err := rivermigrate.New(riversqlite.New(db.SQL), nil)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		for {
			before, verr := m.ExistingVersions(ctx)
			if verr != nil {
				before = nil // no table yet
			}
			_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
			if err == nil {
				return nil
			}
			after, verr := m.ExistingVersions(ctx)
			if verr != nil || len(after) <= len(before) || ctx.Err() != nil {
				return fmt.Errorf("jobs: migrate River's tables: %w", err)
			}
			// Another process applied a version meanwhile: look again.
		}
	case sqldb.Postgres:
		// River's PostgreSQL migrations cannot all run in one transaction
		// (one adds an enum value that a later one uses), so each runs in
		// its own, while this session holds an advisory lock.
		m, err := rivermigrate.New(riverpgxv5.New(db.Pool), nil)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer conn.Release()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLockKey)); err != nil {
			return fmt.Errorf("jobs: migrate: take the lock: %w", err)
		}
		defer func() {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLockKey))
		}()
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate River's tables: %w", err)
		}
		return nil
	}
	return fmt.Errorf("jobs: unknown dialect %q", db.Dialect)
}

// checkVersion refuses, before anything is written, a database whose River
// tables a newer River migrated past the versions this one knows.
func checkVersion(ctx context.Context, db *sqldb.DB) error {
	var known []rivermigrate.Migration
	switch db.Dialect {
	case sqldb.SQLite:
		m, err := rivermigrate.New(riversqlite.New(db.SQL), nil)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		known = m.AllVersions()
	case sqldb.Postgres:
		m, err := rivermigrate.New(riverpgxv5.New(db.Pool), nil)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		known = m.AllVersions()
	default:
		return fmt.Errorf("jobs: unknown dialect %q", db.Dialect)
	}
	var newest sql.NullInt64
	if err := db.SQL.QueryRowContext(ctx, "SELECT max(version) FROM river_migration WHERE line = 'main'").Scan(&newest); err != nil {
		return nil // no River tables yet (or unreadable: migrating says why)
	}
	if knows := int64(known[len(known)-1].Version); newest.Int64 > knows {
		return fmt.Errorf("jobs: %w", &sqldb.SchemaTooNewError{Schema: "river", Version: newest.Int64, Known: knows})
	}
	return nil
}
