package jobs_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/riverqueue/river"

	"github.com/zgov-io/zgov/internal/jobs"
	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
)

type noopArgs struct{ N int }

func (noopArgs) Kind() string { return "zgov_test_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	done chan int
}

func (w *noopWorker) Work(_ context.Context, job *river.Job[noopArgs]) error {
	w.done <- job.Args.N
	return nil
}

// TestMigrateConcurrently opens one new database from 6 connections pools
// at once: each migrates River's tables without an error, and River's
// version table holds every version once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	for _, tg := range sqldbtest.Targets() {
		if !tg.Shared {
			continue
		}
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			dsn := tg.NewDSN(t)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Go(func() {
					db, err := sqldb.Open(context.Background(), dsn)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					errs[i] = jobs.Migrate(context.Background(), db)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("opener %d: %v", i, err)
				}
			}
			db, err := sqldb.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n, distinct int
			if err := db.SQL.QueryRowContext(t.Context(), "SELECT count(*), count(DISTINCT version) FROM river_migration").Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			if n == 0 || n != distinct {
				t.Errorf("river_migration holds %d rows for %d versions", n, distinct)
			}
		})
	}
}

// TestInsertTxCommitsWithTheRecord: a job inserted in a transaction that
// rolls back does not exist; one whose transaction commits is worked.
func TestInsertTxCommitsWithTheRecord(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := t.Context()
		db, err := sqldb.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w := &noopWorker{done: make(chan int, 2)}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := jobs.New(ctx, db, &river.Config{Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		insert := func(n int, commit bool) {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			if _, err := q.InsertTx(ctx, tx, noopArgs{N: n}, nil); err != nil {
				t.Fatal(err)
			}
			if commit {
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
		insert(1, false)
		insert(2, true)
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if got := <-w.done; got != 2 {
			t.Errorf("worked job %d, want 2 (the committed one)", got)
		}
		if err := q.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("river_job holds %d jobs, want 1", n)
		}
	})
}
