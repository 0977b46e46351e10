package provision

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// migrations holds what package provision stores in a SQL database, as
// goose migrations per dialect.
//
//go:embed migrations
var migrations embed.FS

// sqlSchema names provision's migrations for sqldb.Open.
var sqlSchema = sqldb.Schema{Name: "provision", Migrations: migrations}

// Errors of OpenSQLJournalStore and OpenStore, for errors.Is.
var (
	// ErrInvalidDSN means a DSN could not be read; the error says why.
	ErrInvalidDSN = sqldb.ErrInvalidDSN

	// ErrNotADatabase means the file a DSN names is not a SQLite database
	// (or is a directory). Nothing was written to it.
	ErrNotADatabase = sqldb.ErrNotADatabase

	// ErrSchemaTooNew means a newer zgov migrated the database past what
	// this one knows; the error names both versions. Nothing was written
	// to it: open it with that zgov or a later one.
	ErrSchemaTooNew = sqldb.ErrSchemaTooNew

	// ErrConnect means a PostgreSQL server could not be reached, or
	// refused the user, the password or the database; the error says
	// which, and holds the server's *pgconn.PgError if it sent one.
	ErrConnect = sqldb.ErrConnect
)

// SQLJournalStore is a JournalStore in a SQL database: SQLite in a file,
// which many processes may share, SQLite in memory, or PostgreSQL, which
// many processes on many machines may share. It is safe for concurrent use.
// The zero value is not usable; call OpenSQLJournalStore, or
// Store.Journal for the journal of a Store.
//
// Each entry is a row of the table zgov_journal: the entry's canonical
// JSON with its hash, as ExportJSONL writes it, from which the store reads
// the entry back, and columns for its seq (the primary key), time, kind,
// change ID and hashes. The canonical encoding keeps every field a Journal
// writes exactly; of an entry a Journal would not write, it keeps what the
// entry's hash covers (empty values are left out, times are cut to the
// microsecond). A row whose JSON is not a canonical entry was changed
// outside a Journal: reads fail on it with a *JournalTamperError
// (JournalTamperMalformed), which Verify reports.
//
// Append is a compare-and-swap in one transaction: it reads the head,
// refuses entries that do not follow it with ErrJournalConflict, and
// inserts them; two writers that read the same head insert the same seq,
// and the primary key refuses the second, also with ErrJournalConflict.
// Appends of one store queue in the process; those of several processes
// queue for a SQLite file's write lock, while on PostgreSQL they run side
// by side and the second of two that read one head waits for the first's
// insert of the seq, then conflicts.
type SQLJournalStore struct {
	db *sqldb.DB
	// owned is set when the store opened db and closes it.
	owned bool
	// appending serialises this store's appends (cancellably): waiting on
	// a channel is cheaper and fairer than SQLite's polling for its lock.
	appending chan struct{}
}

var _ JournalStore = (*SQLJournalStore)(nil)

// OpenSQLJournalStore opens the database dsn names and the journal in it,
// creating a SQLite file if it is missing and applying provision's
// migrations if the database lacks them. The DSN forms:
//
//	sqlite:///var/lib/zgov/zgov.db   a SQLite file, absolute path
//	sqlite:zgov.db                   a SQLite file, relative to the working directory
//	sqlite::memory:                  a SQLite database in memory, private to the store
//	postgres://user:password@host:5432/database?sslmode=verify-full
//	                                 a PostgreSQL database (postgresql:// too)
//
// SQLite paths may be percent-encoded (%20 for a space); a SQLite DSN takes
// no parameters. The file runs in WAL mode, every commit synced to disk. A
// PostgreSQL DSN takes pgx's parameters (sslmode, connect_timeout,
// pool_max_conns, ...); its user name and password must be percent-encoded.
//
// A bad DSN is refused with ErrInvalidDSN, a file that is not a SQLite
// database with ErrNotADatabase, a database a newer zgov migrated with
// ErrSchemaTooNew, the last two before anything is written, and a
// PostgreSQL server that cannot be reached or refuses the login with
// ErrConnect. Errors never show a DSN's password. Close the store when
// done.
//
// To keep plans and other state in the same database, open a Store and use
// its Journal instead.
func OpenSQLJournalStore(ctx context.Context, dsn string) (*SQLJournalStore, error) {
	db, err := sqldb.Open(ctx, dsn, sqlSchema)
	if err != nil {
		return nil, fmt.Errorf("provision: open journal store: %w", err)
	}
	return newSQLJournalStore(db, true), nil
}

func newSQLJournalStore(db *sqldb.DB, owned bool) *SQLJournalStore {
	return &SQLJournalStore{db: db, owned: owned, appending: make(chan struct{}, 1)}
}

// Close closes the store's database, if the store opened it: a store in
// memory is gone. The journal of a Store (Store.Journal) shares the
// Store's database: its Close does nothing, and the Store's Close closes
// the database.
func (s *SQLJournalStore) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("provision: close journal store %s: %w", s.db.Name, err)
	}
	return nil
}

// wrap says what the store was doing when err happened.
func (s *SQLJournalStore) wrap(what string, err error) error {
	return fmt.Errorf("provision: sql journal %s: %s: %w", s.db.Name, what, err)
}

// Head returns the last entry's Seq and Hash.
func (s *SQLJournalStore) Head(ctx context.Context) (JournalHead, error) {
	h, err := readHead(ctx, s.db.SQL)
	if err != nil {
		return JournalHead{}, s.wrap("read head", err)
	}
	return h, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func readHead(ctx context.Context, q querier) (JournalHead, error) {
	var h JournalHead
	err := q.QueryRowContext(ctx, "SELECT seq, hash FROM zgov_journal ORDER BY seq DESC LIMIT 1").Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return JournalHead{}, nil
	}
	return h, err
}

// Append adds entries after the head, all or none (see JournalStore).
func (s *SQLJournalStore) Append(ctx context.Context, entries ...JournalEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	for i := 1; i < len(entries); i++ {
		if !entries[i].follows(entries[i-1].Head()) {
			return fmt.Errorf("provision: sql journal %s: append: entry %d of the batch (seq %d) does not follow the one before it (seq %d)", s.db.Name, i, entries[i].Seq, entries[i-1].Seq)
		}
	}
	rows := make([][]any, len(entries))
	for i := range entries {
		e := &entries[i]
		rows[i] = []any{e.Seq, e.Time.UTC().Format(journalTimeLayout), string(e.Kind), e.ChangeID, e.PrevHash, e.Hash,
			string(appendJournalJSON(nil, e, true))}
	}
	first := entries[0]
	insertEntry := s.db.Rebind("INSERT INTO zgov_journal (seq, time, kind, change_id, prev_hash, hash, entry) VALUES (?, ?, ?, ?, ?, ?, ?)")
	select {
	case s.appending <- struct{}{}:
		defer func() { <-s.appending }()
	case <-ctx.Done():
		return ctx.Err()
	}
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(fmt.Sprintf("append seq %d", first.Seq), err)
	}
	defer func() { _ = tx.Rollback() }()
	head, err := readHead(ctx, tx)
	if err != nil {
		return s.wrap(fmt.Sprintf("append seq %d: read head", first.Seq), err)
	}
	if !first.follows(head) {
		return s.wrap(fmt.Sprintf("append seq %d after head %d", first.Seq, head.Seq), ErrJournalConflict)
	}
	for i, row := range rows {
		_, err := tx.ExecContext(ctx, insertEntry, row...)
		if err != nil {
			// Another writer inserted this seq first (on PostgreSQL, the
			// insert waited for its transaction to commit).
			if sqldb.IsUniqueViolation(err) {
				err = fmt.Errorf("%w (%w)", ErrJournalConflict, err)
			}
			return s.wrap(fmt.Sprintf("append seq %d", entries[i].Seq), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(fmt.Sprintf("append seq %d: commit", first.Seq), err)
	}
	return nil
}

// Entries returns at most limit entries from Seq from on.
func (s *SQLJournalStore) Entries(ctx context.Context, from int64, limit int) ([]JournalEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("provision: sql journal %s: entries: limit must be positive", s.db.Name)
	}
	es, err := s.query(ctx, "SELECT seq, entry FROM zgov_journal WHERE seq >= ? ORDER BY seq LIMIT ?", from, limit)
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("read entries from seq %d", from), err)
	}
	return es, nil
}

// ChangeEntries returns the entries of one change.
func (s *SQLJournalStore) ChangeEntries(ctx context.Context, changeID string) ([]JournalEntry, error) {
	es, err := s.query(ctx, "SELECT seq, entry FROM zgov_journal WHERE change_id = ? ORDER BY seq", changeID)
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("read change %q", changeID), err)
	}
	return es, nil
}

// Unfinished returns the first started entry of each change that has no
// finished entry, in sequence order.
func (s *SQLJournalStore) Unfinished(ctx context.Context) ([]JournalEntry, error) {
	es, err := s.query(ctx, `
		SELECT s.seq, s.entry FROM zgov_journal s
		WHERE s.kind = 'started'
		AND NOT EXISTS (SELECT 1 FROM zgov_journal f WHERE f.change_id = s.change_id AND f.kind = 'finished')
		AND NOT EXISTS (SELECT 1 FROM zgov_journal p WHERE p.change_id = s.change_id AND p.kind = 'started' AND p.seq < s.seq)
		ORDER BY s.seq`)
	if err != nil {
		return nil, s.wrap("read unfinished changes", err)
	}
	return es, nil
}

// query returns the entries of a query for seq and entry.
func (s *SQLJournalStore) query(ctx context.Context, q string, args ...any) ([]JournalEntry, error) {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []JournalEntry
	for rows.Next() {
		var seq int64
		var text []byte
		if err := rows.Scan(&seq, &text); err != nil {
			return nil, err
		}
		e, err := decodeStoredEntry(seq, text)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// decodeStoredEntry decodes the JSON of the entry stored at seq, which must
// be the entry's canonical encoding, as Append stored it: then what Verify
// checks is the very text an auditor reads from the table. A row whose JSON
// is not that was changed outside a Journal: it is reported as a malformed
// entry, which Verify calls tampering.
func decodeStoredEntry(seq int64, text []byte) (JournalEntry, error) {
	e, bad := decodeJournalLine(text)
	if bad != "" {
		return JournalEntry{}, &JournalTamperError{Kind: JournalTamperMalformed, Seq: seq, Detail: "stored JSON: " + bad}
	}
	return e, nil
}
