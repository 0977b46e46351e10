package review

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// migrations holds what package review stores in a SQL database, as goose
// migrations per dialect.
//
//go:embed migrations
var migrations embed.FS

// sqlSchema names review's migrations for sqldb.Open.
var sqlSchema = sqldb.Schema{Name: "review", Migrations: migrations}

// Store keeps review campaigns in one SQL database: SQLite in a file or in
// memory, or PostgreSQL, the database provision.OpenStore opens for the
// journal, plans and time-bound grants (review's tables sit beside
// provision's). It is safe for concurrent use, and many processes may open
// one database (not one in memory) at once. The zero value is not usable;
// call Open, and Close when done.
type Store struct {
	db         *sqldb.DB
	now        func() time.Time
	remediator *Remediator
}

// Option configures a Store.
type Option func(*Store) error

// WithClock sets the clock the Store stamps decisions and events with
// (default time.Now). Times are stored to the millisecond, in UTC.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("review: WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithRemediator gives the Store what it needs to carry out revokes as
// soon as they are decided, in campaigns with RemediateOnDecision: Decide
// and DecideMany then remediate the items they revoke after recording the
// decisions.
func WithRemediator(r *Remediator) Option {
	return func(s *Store) error {
		if err := r.check(); err != nil {
			return fmt.Errorf("review: WithRemediator: %w", err)
		}
		s.remediator = r
		return nil
	}
}

// Open opens the database dsn names, applying review's migrations if it
// lacks them. The DSNs, and the errors, are provision.OpenStore's:
// ErrInvalidDSN, ErrNotADatabase, ErrSchemaTooNew, ErrConnect; errors never
// show a DSN's password. Open the same DSN with provision.OpenStore for
// the journal that remediation writes, so that all of zgov's state is in
// one database ("sqlite::memory:" is a new database at each Open: the
// Store's and provision's are then two).
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	db, err := sqldb.Open(ctx, dsn, sqlSchema)
	if err != nil {
		return nil, fmt.Errorf("review: open store: %w", err)
	}
	s.db = db
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("review: close store %s: %w", s.db.Name, err)
	}
	return nil
}

// wrap says what the store was doing when err happened.
func (s *Store) wrap(what string, err error) error {
	return fmt.Errorf("review: %s: %w", what, err)
}

// clock returns the time now, in UTC, to the millisecond (what is stored).
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Campaign is a handle on one campaign of a Store. It holds no state of
// its own: every call reads and writes the database, so that many
// processes can work on one campaign.
type Campaign struct {
	s  *Store
	id string
	pk int64 // the key of the campaign's rows
}

// ID returns the campaign's ID.
func (c *Campaign) ID() string { return c.id }

// Campaign returns the campaign of the ID, or an error wrapping
// ErrUnknownCampaign.
func (s *Store) Campaign(ctx context.Context, id string) (*Campaign, error) {
	var pk int64
	err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind("SELECT pk FROM zgov_review_campaigns WHERE id = ?"), id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("review: campaign %q: %w", id, ErrUnknownCampaign)
	}
	if err != nil {
		return nil, s.wrap("campaign "+id, err)
	}
	return &Campaign{s: s, id: id, pk: pk}, nil
}

// Campaigns lists the campaigns' IDs, oldest first.
func (s *Store) Campaigns(ctx context.Context) ([]string, error) {
	rows, err := s.db.SQL.QueryContext(ctx, "SELECT id FROM zgov_review_campaigns ORDER BY created_ms, id")
	if err != nil {
		return nil, s.wrap("list campaigns", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("list campaigns", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list campaigns", err)
	}
	return ids, nil
}

// tx runs f in a transaction that holds the campaign's row locked (on
// PostgreSQL; SQLite's write transactions are exclusive already), so that
// the campaign's writers queue: a decision cannot slip past a Close, and
// seq numbers do not collide. f gets the campaign's state and next seq.
func (c *Campaign) tx(ctx context.Context, what string, f func(tx *sql.Tx, h *txHead) error) error {
	tx, err := c.s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return c.s.wrap(what, err)
	}
	defer func() { _ = tx.Rollback() }()
	q := "SELECT state, next_seq, spec FROM zgov_review_campaigns WHERE id = ?"
	if c.s.db.Dialect == sqldb.Postgres {
		q += " FOR UPDATE"
	}
	h := &txHead{c: c}
	var spec string
	err = tx.QueryRowContext(ctx, c.s.db.Rebind(q), c.id).Scan(&h.state, &h.seq, &spec)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("review: %s: campaign %q: %w", what, c.id, ErrUnknownCampaign)
	}
	if err != nil {
		return c.s.wrap(what, err)
	}
	if h.spec, err = decodeSpec(spec); err != nil {
		return c.s.wrap(what, err)
	}
	first := h.seq
	if err := f(tx, h); err != nil {
		var r *refusal
		if errors.As(err, &r) {
			return r.err
		}
		return c.s.wrap(what+" (campaign "+c.id+")", err)
	}
	if h.seq != first {
		if _, err := tx.ExecContext(ctx, c.s.db.Rebind("UPDATE zgov_review_campaigns SET next_seq = ? WHERE id = ?"), h.seq, c.id); err != nil {
			return c.s.wrap(what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return c.s.wrap(what, err)
	}
	return nil
}

// txHead is the campaign as a write transaction found it.
type txHead struct {
	c     *Campaign
	state CampaignState
	seq   int64 // the next seq to give
	spec  CampaignSpec
}

// next returns the next seq of the campaign's history.
func (h *txHead) next() int64 { h.seq++; return h.seq - 1 }

// refusal marks an error a campaign transaction returns as it is: a
// refusal of bad input that says what it is, not a failure of the
// database to wrap.
type refusal struct{ err error }

// Error returns the refusal's text.
func (r *refusal) Error() string { return r.err.Error() }

// Unwrap returns the refusal.
func (r *refusal) Unwrap() error { return r.err }

// refuse returns err marked as a refusal.
func refuse(err error) error { return &refusal{err} }
