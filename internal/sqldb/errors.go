package sqldb

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors of Open, for errors.Is.
var (
	// ErrNotADatabase means the file a DSN names is not a SQLite database
	// (or is a directory). Open writes nothing to it.
	ErrNotADatabase = errors.New("not a SQLite database")

	// ErrSchemaTooNew means a newer zgov migrated the database past the
	// versions this code knows. Open writes nothing to it. Errors wrapping
	// it are of type *SchemaTooNewError.
	ErrSchemaTooNew = errors.New("database schema newer than this zgov knows")
)

// SchemaTooNewError reports a database migrated past the versions this code
// knows. It matches ErrSchemaTooNew with errors.Is.
type SchemaTooNewError struct {
	// Schema names the layer whose schema is too new ("provision").
	Schema string
	// Version is the database's version of the schema.
	Version int64
	// Known is the newest version this code knows.
	Known int64
}

// Error names the schema and both versions.
func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("schema %q is at version %d, and this zgov knows versions up to %d: open it with a newer zgov", e.Schema, e.Version, e.Known)
}

// Is reports whether target is ErrSchemaTooNew.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// sqliteCode returns the (extended) result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// IsUniqueViolation reports whether err is a write refused because it
// would repeat the key of a unique index or primary key: for a store's
// compare-and-swap, another writer inserted that key first. It knows
// SQLite's result codes and PostgreSQL's SQLSTATE 23505.
func IsUniqueViolation(err error) bool {
	if pgCode(err) == "23505" {
		return true
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

// classify marks an error of SQLite's that says the file is not a database.
func classify(err error) error {
	if err != nil && sqliteCode(err)&0xff == sqlite3.SQLITE_NOTADB && !errors.Is(err, ErrNotADatabase) {
		return fmt.Errorf("%w: %w", ErrNotADatabase, err)
	}
	return err
}
