package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// ConnectTimeout bounds each attempt to connect to a PostgreSQL server
// whose DSN sets no connect_timeout: a wrong host or port fails Open in
// this time, not the driver's two minutes.
const ConnectTimeout = 10 * time.Second

// ErrConnect means Open could not connect to a PostgreSQL server: it is
// unreachable, or it refused the user, the password or the database. The
// error says which; the server's *pgconn.PgError, if it sent one, is in
// the chain for errors.As.
var ErrConnect = errors.New("cannot connect to the database")

// openPostgres opens a pool on the PostgreSQL database dsn names and
// connects once, so that a wrong host, port, password or database fails
// here, promptly.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	name := Redact(dsn)
	cfg, err := pgxpool.ParseConfig(pgxDSN(dsn))
	if err != nil {
		// pgx's ParseConfigError keeps the DSN whole, password and all:
		// only its text, cleaned, is shown, and it is not wrapped.
		return nil, fmt.Errorf("DSN %q: %s: %w", name, hideSecrets(err.Error(), dsn), ErrInvalidDSN)
	}
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, &cleanError{msg: hideSecrets(err.Error(), dsn), err: withoutConfig(err)})
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		cause := withoutConfig(err)
		return nil, fmt.Errorf("open %s: %w: %w", name, ErrConnect, &cleanError{msg: hideSecrets(cause.Error(), dsn), err: cause})
	}
	return &DB{SQL: stdlib.OpenDBFromPool(pool), Pool: pool, Dialect: Postgres, Name: name}, nil
}

// pgxDSN returns dsn with its scheme in lower case, which is the only case
// pgx reads as a URL.
func pgxDSN(dsn string) string {
	scheme, rest, _ := strings.Cut(dsn, ":")
	return strings.ToLower(scheme) + ":" + rest
}

// withoutConfig returns the cause of a *pgconn.ConnectError in err, or err:
// a ConnectError carries the connection's whole configuration, password
// included, for anyone who unwraps it.
func withoutConfig(err error) error {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		if cause := ce.Unwrap(); cause != nil {
			return cause
		}
		return errors.New(hideSecrets(ce.Error(), ""))
	}
	return err
}

// cleanError is an error whose text has been cleaned of a DSN's secrets,
// and its cause, for errors.Is and errors.As.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// minSecret is the length from which hideSecrets looks for a secret in a
// text: a shorter one is found by chance in any text, and would garble it.
const minSecret = 4

// hideSecrets replaces in text the secrets of dsn (its URL password, and
// the values of its query parameters Redact hides), as written and as
// percent-decoded, by "xxxxx". The driver's errors are not known to show
// them; this makes sure.
func hideSecrets(text, dsn string) string {
	var secrets []string
	if u, err := url.Parse(pgxDSN(dsn)); err == nil {
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw)
		}
		for k, vs := range u.Query() {
			if isSecretKey(k) {
				secrets = append(secrets, vs...)
			}
		}
	}
	// As written: the part of the user information after the first ':'
	// and before the last '@', and each secret parameter's raw value.
	if _, rest, ok := strings.Cut(dsn, "//"); ok {
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				secrets = append(secrets, pw)
				if dec, err := url.PathUnescape(pw); err == nil {
					secrets = append(secrets, dec)
				}
			}
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			for _, p := range strings.Split(query, "&") {
				if k, v, ok := strings.Cut(p, "="); ok && isSecretKey(k) {
					secrets = append(secrets, v)
				}
			}
		}
	}
	for _, s := range secrets {
		if len(s) >= minSecret {
			text = strings.ReplaceAll(text, s, redacted)
		}
	}
	return text
}

// migrateLockWait bounds how long an opener waits for another to finish
// migrating a PostgreSQL database.
const migrateLockWait = 5 * time.Minute

// advisoryLocker is goose's lock.SessionLocker on a PostgreSQL
// session-level advisory lock, as goose's own NewPostgresSessionLocker, but
// waiting for the lock in the server (pg_advisory_lock) rather than trying
// it every second or more: openers starting together migrate one after
// another without pauses. The lock is released when the session ends, if
// not before.
type advisoryLocker struct{ id int64 }

// lockID returns the advisory lock of one schema's migrations: a hash of
// its version table's name, so that the schemas of one database migrate
// independently of each other and of other goose users.
func lockID(table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("zgov migrations " + table))
	return int64(h.Sum64())
}

func (l advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, migrateLockWait)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.id); err != nil {
		return fmt.Errorf("wait for the migration lock: %w", err)
	}
	return nil
}

func (l advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", l.id).Scan(&released); err != nil {
		return fmt.Errorf("release the migration lock: %w", err)
	}
	if !released {
		return errors.New("release the migration lock: the session did not hold it")
	}
	return nil
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
