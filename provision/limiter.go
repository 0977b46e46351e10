package provision

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// SharedLimiter paces requests to one Zendesk account across every process
// that opens the same database: one token bucket per account key, kept in
// the database, so that four workers on one account together send at the
// account's rate instead of four times it. It is meant for
// zendesk.WithLimiter (it has the method of zendesk.Limiter, Wait), in
// place of the client's own bucket:
//
//	lim, err := store.Limiter("acme", 700)
//	...
//	client, err := zendesk.NewClient("acme", zendesk.WithLimiter(lim), ...)
//
// The bucket refills at requestsPerMinute/60 tokens a second and holds a
// burst of tokens, which it starts with: as many as the client's own bucket
// holds (zendesk.WithRateLimit), a twentieth of the rate per minute, at
// least 1 and at most 25, so that a minute's budget is never sent at once
// to a server that counts fixed windows.
//
// Taking a token is one atomic statement: it refills the bucket by the time
// since the last take and takes a token only if one is there, so takers in
// any number of processes never take the same token twice. When none is
// there, Wait reads when the next one will be, sleeps until then (or until
// ctx ends) and tries again. On PostgreSQL the time is the server's
// (clock_timestamp()), so processes on hosts whose clocks differ share one
// time; on SQLite, which processes on one host share, it is the host's.
//
// The bucket stores no rate: each limiter takes with its own. Processes
// sharing an account key must pass the same requestsPerMinute; one that
// passes less spends more of the budget with each request, as if its
// requests cost more. A clock that steps forward fills the bucket; one
// that steps back holds takers for at most a minute, or, stepping back
// further, lets one request through early.
//
// A SharedLimiter is safe for concurrent use. It holds no connection of its
// own: it uses the Store's, and fails once the Store is closed.
type SharedLimiter struct {
	db      *sqldb.DB
	account string
	burst   int
	// interval is the time one token is worth, in microseconds: a minute
	// divided by the rate, rounded up so that the rate is never exceeded.
	interval int64
	// tolerance is how far, in microseconds, the bucket's theoretical
	// arrival time may be ahead of now for a take to succeed: burst-1
	// intervals.
	tolerance int64

	// now is the clock of a SQLite database; PostgreSQL uses the server's.
	now func() time.Time
	// sleep waits for d or until ctx ends.
	sleep func(ctx context.Context, d time.Duration) error
}

// maxAhead is the furthest a take ever leaves a bucket's time ahead of now:
// one interval plus the tolerance, at most a minute (for a rate of one
// request a minute). A bucket time further ahead was written before the
// clock stepped back.
const maxAhead = int64(time.Minute / time.Microsecond)

// limiterBurst is the bucket's size for a rate: zendesk.WithRateLimit's.
func limiterBurst(requestsPerMinute int) int {
	return max(1, min(requestsPerMinute/20, 25))
}

// Limiter returns the limiter of the account's rate limit shared through
// the store's database, for zendesk.WithLimiter. account names the bucket:
// use the account's Zendesk subdomain, so that every process on the
// account shares one. requestsPerMinute is the budget it paces to, the
// account's limit or the share of it left for zgov; every process sharing
// the account must pass the same. An empty account, an account that is not
// UTF-8 or holds a NUL byte, and a requestsPerMinute that is not positive
// are refused. Limiter does not touch the database: the bucket is made by
// the first Wait.
func (s *Store) Limiter(account string, requestsPerMinute int) (*SharedLimiter, error) {
	switch {
	case s == nil || s.db == nil:
		return nil, errors.New("provision: Limiter: the store is nil; call OpenStore")
	case account == "":
		return nil, errors.New("provision: Limiter: account is empty: pass the account's subdomain")
	case !utf8.ValidString(account) || strings.ContainsRune(account, 0):
		return nil, fmt.Errorf("provision: Limiter: account %q is not UTF-8 text without NUL bytes", account)
	case requestsPerMinute <= 0:
		return nil, fmt.Errorf("provision: Limiter: requestsPerMinute %d is not positive", requestsPerMinute)
	}
	burst := limiterBurst(requestsPerMinute)
	const minute = int64(time.Minute / time.Microsecond)
	interval := (minute + int64(requestsPerMinute) - 1) / int64(requestsPerMinute)
	return &SharedLimiter{
		db:        s.db,
		account:   account,
		burst:     burst,
		interval:  interval,
		tolerance: int64(burst-1) * interval,
		now:       time.Now,
		sleep:     sleepCtx,
	}, nil
}

// sleepCtx waits for d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait blocks until a request may be sent to the account, taking a token
// from the shared bucket, or until ctx ends. It returns ctx.Err() if ctx
// ends first, and an error wrapping context.DeadlineExceeded at once if the
// next token is due after ctx's deadline. An error of the database (the
// store closed, the server gone) is returned wrapped, and no token is
// taken: the client then fails the request rather than send it unpaced.
func (l *SharedLimiter) Wait(ctx context.Context) error {
	for {
		t, err := l.take(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return err
		}
		if t.ok {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < t.wait {
			return fmt.Errorf("%w: the shared rate limit of %q has no token for %v", context.DeadlineExceeded, l.account, t.wait)
		}
		if err := l.sleep(ctx, t.wait); err != nil {
			return err
		}
	}
}

// took is what one attempt to take a token found.
type took struct {
	ok bool
	// now is the time of the attempt by the database's clock, in Unix
	// microseconds.
	now int64
	// wait is how long until a token may be there, when ok is false.
	wait time.Duration
}

// The take, one statement: insert a bucket for the account that has just
// given its first token, or take one from the bucket that is there if it
// has one (its theoretical arrival time at most the tolerance ahead of
// now), moving its time on by one interval; a bucket time more than
// maxAhead ahead was set before the clock stepped back, and is brought
// back to now + tolerance (one token left, which this take takes). The
// parameters: account, interval, tolerance, maxAhead, and on SQLite now.
const (
	takePostgres = `
		INSERT INTO zgov_rate_buckets AS b (account, tat_us, taken_us)
		SELECT $1::text, c.now_us + $2::bigint, c.now_us
		FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us) AS c
		ON CONFLICT (account) DO UPDATE SET
			tat_us = (CASE WHEN b.tat_us > EXCLUDED.taken_us + $4::bigint THEN EXCLUDED.taken_us + $3::bigint
				ELSE GREATEST(b.tat_us, EXCLUDED.taken_us) END) + $2::bigint,
			taken_us = EXCLUDED.taken_us
		WHERE b.tat_us <= EXCLUDED.taken_us + $3::bigint OR b.tat_us > EXCLUDED.taken_us + $4::bigint
		RETURNING b.taken_us`
	takeSQLite = `
		INSERT INTO zgov_rate_buckets AS b (account, tat_us, taken_us) VALUES (?1, ?5 + ?2, ?5)
		ON CONFLICT (account) DO UPDATE SET
			tat_us = (CASE WHEN b.tat_us > excluded.taken_us + ?4 THEN excluded.taken_us + ?3
				ELSE max(b.tat_us, excluded.taken_us) END) + ?2,
			taken_us = excluded.taken_us
		WHERE b.tat_us <= excluded.taken_us + ?3 OR b.tat_us > excluded.taken_us + ?4
		RETURNING taken_us`

	// The bucket's time, and now, after a take found no token.
	bucketPostgres = `SELECT tat_us, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
		FROM zgov_rate_buckets WHERE account = $1`
	bucketSQLite = `SELECT tat_us, ?2 FROM zgov_rate_buckets WHERE account = ?1`
)

// take tries once to take a token, and when there is none says how long
// until there may be one.
func (l *SharedLimiter) take(ctx context.Context) (took, error) {
	takeQuery, bucketQuery := takeSQLite, bucketSQLite
	args := []any{l.account, l.interval, l.tolerance, maxAhead}
	if l.db.Dialect == sqldb.Postgres {
		takeQuery, bucketQuery = takePostgres, bucketPostgres
	} else {
		args = append(args, l.now().UnixMicro())
	}
	var t took
	err := l.db.SQL.QueryRowContext(ctx, takeQuery, args...).Scan(&t.now)
	if err == nil {
		t.ok = true
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return took{}, l.wrap("take a token", err)
	}
	// No token. When the next one is due is for this wait only: the next
	// take decides.
	var tat int64
	bucketArgs := []any{l.account}
	if l.db.Dialect != sqldb.Postgres {
		bucketArgs = append(bucketArgs, l.now().UnixMicro())
	}
	err = l.db.SQL.QueryRowContext(ctx, bucketQuery, bucketArgs...).Scan(&tat, &t.now)
	switch {
	case errors.Is(err, sql.ErrNoRows): // removed since: try again
		return t, nil
	case err != nil:
		return took{}, l.wrap("read the bucket", err)
	}
	if ahead := tat - t.now; ahead <= maxAhead && ahead > l.tolerance {
		t.wait = time.Duration(ahead-l.tolerance) * time.Microsecond
	}
	return t, nil
}

// wrap says which limiter was doing what when err happened.
func (l *SharedLimiter) wrap(what string, err error) error {
	return fmt.Errorf("provision: shared rate limit %q in %s: %s: %w", l.account, l.db.Name, what, err)
}
