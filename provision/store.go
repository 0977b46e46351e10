package provision

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// PlanStore keeps saved plans by their hash. Store implements it; a
// platform may put its own database behind it and check it with the
// conformance suite in provision/plantest.
type PlanStore interface {
	// SavePlan saves p under its hash, setting p.Hash as Plan.Save does.
	// Saving a plan that is saved already does nothing and succeeds. A
	// plan LoadPlan would refuse is refused, and nothing is saved.
	SavePlan(ctx context.Context, p *Plan) error
	// LoadPlan returns the plan saved under hash, checked as the function
	// LoadPlan checks a file: ErrPlanNotFound if there is none, a
	// *PlanModifiedError if what is saved does not hash to hash.
	LoadPlan(ctx context.Context, hash string) (*Plan, error)
}

// Errors of a PlanStore, for errors.Is.
var (
	// ErrPlanNotFound means no plan is saved under a hash (or the hash is
	// not 64 lowercase hex digits, which no plan has).
	ErrPlanNotFound = errors.New("plan not found")

	// ErrPlanHashInUse means SavePlan found other content saved under the
	// plan's hash: the saved plan was changed outside zgov, or written by a
	// zgov that encodes plans differently. Nothing was saved.
	ErrPlanHashInUse = errors.New("another plan is saved under this hash")
)

// Store is provision's state in one SQL database (SQLite in a file or in
// memory, or PostgreSQL): the journal (Journal) and saved plans (SavePlan,
// LoadPlan, Plans). It is safe for concurrent use, and many processes may
// open one database (not one in memory) at once. The zero value is not
// usable; call OpenStore, and Close when done.
type Store struct {
	db      *sqldb.DB
	journal *SQLJournalStore
}

var _ PlanStore = (*Store)(nil)

// OpenStore opens the database dsn names, once for all of provision's
// state, applying provision's migrations if it lacks them. The DSNs, and
// the errors, are OpenSQLJournalStore's: ErrInvalidDSN, ErrNotADatabase,
// ErrSchemaTooNew, ErrConnect. Errors never show a DSN's password.
func OpenStore(ctx context.Context, dsn string) (*Store, error) {
	db, err := sqldb.Open(ctx, dsn, sqlSchema)
	if err != nil {
		return nil, fmt.Errorf("provision: open store: %w", err)
	}
	return &Store{db: db, journal: newSQLJournalStore(db, false)}, nil
}

// Close closes the database. The store's Journal is closed with it.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("provision: close store %s: %w", s.db.Name, err)
	}
	return nil
}

// Journal returns the journal store in the store's database, for
// NewJournal. It shares the Store's connections: its Close does nothing,
// and it is closed when the Store is. Every call returns the same
// *SQLJournalStore.
func (s *Store) Journal() *SQLJournalStore { return s.journal }

// PlanInfo describes a saved plan, for listing without loading it.
type PlanInfo struct {
	// Hash is the plan's hash, which LoadPlan takes.
	Hash string
	// Backend and Account are what the plan was made for.
	Backend, Account string
	// SnapshotHash and PolicyDigest are what it was made from.
	SnapshotHash, PolicyDigest string
	// CreatedAt is when it was made, in UTC.
	CreatedAt time.Time
	// Changes is the number of its changes.
	Changes int
}

// planTimeLayout writes a plan's CreatedAt in the database: to the
// nanosecond, fixed width, so that the text sorts as the time.
const planTimeLayout = "2006-01-02T15:04:05.000000000Z"

// wrap says what the store was doing when err happened.
func (s *Store) wrap(what string, err error) error {
	return fmt.Errorf("provision: store %s: %s: %w", s.db.Name, what, err)
}

// SavePlan saves p in the database under its hash (see PlanStore), setting
// p.Hash as Plan.Save does. What is saved is the JSON Plan.Save writes,
// byte for byte; a plan the function LoadPlan would refuse (another
// version, an invalid change) is refused, and nothing is saved. Saving the
// same plan again, from any process, succeeds and changes nothing; other
// content under the same hash is refused with ErrPlanHashInUse.
func (s *Store) SavePlan(ctx context.Context, p *Plan) error {
	if p == nil {
		return errors.New("provision: save plan: the plan is nil")
	}
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		return err
	}
	data := buf.Bytes()
	if _, err := decodePlan(data); err != nil {
		return fmt.Errorf("%w (so plan %s is not saved in %s)", err, shortHash(p.Hash), s.db.Name)
	}
	what := "save plan " + shortHash(p.Hash)
	res, err := s.db.SQL.ExecContext(ctx, s.db.Rebind(`
		INSERT INTO zgov_plans (hash, backend, account, snapshot_hash, policy_digest, created_at, changes, plan)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO NOTHING`),
		p.Hash, p.Backend, p.Account, p.SnapshotHash, p.PolicyDigest,
		p.CreatedAt.UTC().Format(planTimeLayout), len(p.Changes), data)
	if err != nil {
		return s.wrap(what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.wrap(what, err)
	} else if n == 1 {
		return nil
	}
	// The hash was saved before: by this plan (a second save), or with
	// other content.
	saved, err := s.planData(ctx, p.Hash)
	if err != nil {
		return s.wrap(what, err)
	}
	if !bytes.Equal(saved, data) {
		return s.wrap(what, ErrPlanHashInUse)
	}
	return nil
}

// planData returns the JSON saved under hash.
func (s *Store) planData(ctx context.Context, hash string) ([]byte, error) {
	var data []byte
	err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind("SELECT plan FROM zgov_plans WHERE hash = ?"), hash).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrPlanNotFound
	}
	return data, err
}

// LoadPlan returns the plan saved under hash (see PlanStore). It checks the
// saved JSON as the function LoadPlan checks a file, and that it hashes to
// hash: a plan changed in the database is refused with a
// *PlanModifiedError, even if whoever changed it fixed its recorded hash.
func (s *Store) LoadPlan(ctx context.Context, hash string) (*Plan, error) {
	if !isPlanHash(hash) {
		return nil, fmt.Errorf("provision: store %s: load plan %q: a plan hash is 64 lowercase hex digits: %w", s.db.Name, hash, ErrPlanNotFound)
	}
	what := "load plan " + shortHash(hash)
	data, err := s.planData(ctx, hash)
	if err != nil {
		return nil, s.wrap(what, err)
	}
	p, err := decodePlan(data)
	if err == nil && p.Hash != hash {
		err = &PlanModifiedError{Recorded: hash, Computed: p.Hash}
	}
	if err != nil {
		return nil, fmt.Errorf("%w (plan %s in %s)", err, shortHash(hash), s.db.Name)
	}
	return p, nil
}

// isPlanHash reports whether h has the form of a plan's hash: lowercase
// hex SHA-256.
func isPlanHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := range len(h) {
		if c := h[i]; !('0' <= c && c <= '9') && !('a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Plans lists the saved plans, oldest (by CreatedAt) first, then by hash.
func (s *Store) Plans(ctx context.Context) ([]PlanInfo, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `
		SELECT hash, backend, account, snapshot_hash, policy_digest, created_at, changes
		FROM zgov_plans ORDER BY created_at, hash`)
	if err != nil {
		return nil, s.wrap("list plans", err)
	}
	defer rows.Close()
	var out []PlanInfo
	for rows.Next() {
		var pi PlanInfo
		var created string
		if err := rows.Scan(&pi.Hash, &pi.Backend, &pi.Account, &pi.SnapshotHash, &pi.PolicyDigest, &created, &pi.Changes); err != nil {
			return nil, s.wrap("list plans", err)
		}
		if pi.CreatedAt, err = time.Parse(planTimeLayout, created); err != nil {
			return nil, s.wrap("list plans", fmt.Errorf("plan %s: created_at %q: %w", shortHash(pi.Hash), created, err))
		}
		out = append(out, pi)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list plans", err)
	}
	return out, nil
}
