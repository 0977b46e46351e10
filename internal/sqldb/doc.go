// Package sqldb is zgov's shared SQL plumbing: it opens a database by DSN,
// sets it up for safe concurrent use, and applies the embedded migrations of
// each layer that stores something in it. What a layer stores (its tables and
// their migrations) is defined in that layer and handed to Open as a Schema;
// this package knows nothing of journals, plans or campaigns.
//
// # DSNs
//
//	sqlite:///var/lib/zgov/zgov.db   a SQLite file, absolute path
//	sqlite:zgov.db, sqlite:./data/zgov.db
//	                                 a SQLite file, relative to the working directory
//	sqlite::memory:                  a private SQLite database in memory, gone when closed
//	postgres://user:password@host:5432/database?sslmode=verify-full
//	postgresql://...                 a PostgreSQL database
//
// SQLite paths may be percent-encoded (%20 for a space, %3F for '?'); a
// SQLite DSN takes no query parameters. SQLite runs through
// modernc.org/sqlite, in pure Go.
//
// A PostgreSQL DSN is a URL, read by pgx (jackc/pgx/v5): its query takes
// pgx's and libpq's parameters (sslmode, connect_timeout, pool_max_conns,
// application_name, ...), and characters such as @ : / ? # % in the user
// name or password must be percent-encoded. The keyword/value form
// (host=db dbname=zgov) is refused with ErrInvalidDSN.
//
// # Set-up
//
// Every connection waits up to 5 s for a lock held by another connection or
// process (busy_timeout), enforces foreign keys, syncs every commit to disk
// (synchronous=FULL: what is committed survives a power cut) and begins its
// write transactions IMMEDIATE, so that two writers queue for the lock instead
// of failing when one upgrades a read to a write. A file database runs in WAL
// mode: readers never block the writer, nor the writer them; a new file is
// readable and writable by its owner only. An in-memory database has one
// connection, which holds it. (All of this is SQLite's.)
//
// A PostgreSQL database is opened as a pgxpool.Pool (DB.Pool, for pgx's own
// API and River's riverpgxv5 driver) with a *sql.DB over it (DB.SQL). Open
// connects once, so that an unreachable server or a wrong user, password or
// database fails Open with ErrConnect, within ctx and within ConnectTimeout
// per attempt unless the DSN sets connect_timeout.
//
// Queries are written once, with '?' placeholders, and passed through
// DB.Rebind, which numbers them $1, $2, ... for PostgreSQL.
//
// # Migrations
//
// Each Schema's migrations are goose SQL files (pressly/goose/v3, Provider
// API) that the layer embeds as migrations/<dialect>/NNNNN_name.sql
// (migrations/sqlite/ and migrations/postgres/), applied on Open in version
// order, each in its own transaction, and recorded in the table
// zgov_<schema>_migrations. Before anything is written Open checks the
// database: a file that is not a SQLite database is refused with
// ErrNotADatabase, and a database that a newer zgov migrated past the
// versions this code knows is refused with ErrSchemaTooNew (a
// *SchemaTooNewError).
//
// Several processes opening one new database at once migrate it once. On
// SQLite a version can be recorded only once, so a second run of a
// migration fails and rolls back whole, and its opener finds the version
// applied and goes on. On PostgreSQL each schema's migrations run under a
// session-level advisory lock of their own: openers wait in the server for
// the one migrating, then find nothing left to do.
//
// # Secrets
//
// Errors never show a DSN's password: they show Redact(dsn). An error of
// Open does not hold pgx's *pgconn.ConnectError, whose Config holds the
// password; the server's *pgconn.PgError stays in the chain.
package sqldb
