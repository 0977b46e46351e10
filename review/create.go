package review

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/internal/sqldb"
)

// Create creates a campaign over snap, as spec says, and returns it.
//
// It checks the snapshot first: its content must hash to its recorded hash
// (access.Snapshot.Hash), or Create refuses it with an error wrapping
// ErrInvalidSnapshot, access.ErrInvalidSnapshot and access.ErrHashMismatch.
// (Snapshots from access.Sync and access.Load always pass; a snapshot read
// from a file that was changed fails Load, which CreateFromFile reports the
// same way.) Then it checks the spec (a *SpecError naming the field),
// selects the population by spec.Scope, reads the journal (spec.Journal)
// for each grant's origin, and assigns reviewers by spec.Reviewers and
// spec.Fallback (an item left without an eligible reviewer is an error
// wrapping ErrNoReviewer). Nothing is written until all of this passed;
// then the campaign, its population with the facts a reviewer needs, and
// its assignments are written in one transaction, with the snapshot's
// hash, time, scope, counts and request count as the population's
// evidence (and the snapshot itself with spec.KeepSnapshot).
func (s *Store) Create(ctx context.Context, snap *access.Snapshot, spec CampaignSpec) (*Campaign, error) {
	spec, err := normalize(spec)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, fmt.Errorf("review: create campaign: nil snapshot: %w", ErrInvalidSnapshot)
	}
	// Check the snapshot's hash while the population is selected: both
	// only read it. The check's verdict comes first.
	type checked struct {
		data []byte
		sum  [sha256.Size]byte
		err  error
	}
	check := make(chan checked, 1)
	go func() {
		data, err := checkSnapshot(snap)
		check <- checked{data, sha256.Sum256(data), err}
	}()
	now := s.clock()
	pop, err := s.draft(ctx, snap, spec, now)
	ck := <-check
	if ck.err != nil {
		return nil, fmt.Errorf("review: create campaign %q: %w", spec.Name, ck.err)
	}
	if err != nil {
		return nil, err
	}
	data, sum := ck.data, ck.sum
	if spec.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		spec.ID = hex.EncodeToString(b[:])
	}
	prov := snap.Provenance()
	counts := snap.Counts()
	evidence := Population{
		SnapshotHash: snap.Hash(), SnapshotSHA256: hex.EncodeToString(sum[:]), SnapshotKept: spec.KeepSnapshot,
		Backend: prov.Backend, Account: prov.Account, TakenAt: prov.TakenAt, Scope: prov.Scope, Requests: prov.Requests,
		Snapshot:   SnapshotCounts{counts.ResourceTypes, counts.Resources, counts.Entitlements, counts.Grants},
		Principals: len(pop.principals), Grants: pop.grants, Items: len(pop.items),
	}
	if !spec.KeepSnapshot {
		data = nil
	}
	pk, err := s.insert(ctx, spec, evidence, pop, data, now)
	if err != nil {
		return nil, err
	}
	return &Campaign{s: s, id: spec.ID, pk: pk}, nil
}

// draft selects the population, reads the origins of its grants and
// assigns its reviewers.
func (s *Store) draft(ctx context.Context, snap *access.Snapshot, spec CampaignSpec, now time.Time) (*population, error) {
	pop := selectPopulation(snap, spec, now)
	if len(pop.items) == 0 {
		return nil, &SpecError{Field: "scope", Reason: fmt.Sprintf("snapshot %s", shortHash(snap.Hash())), Err: ErrEmptyPopulation}
	}
	if spec.Journal != nil {
		if err := pop.readOrigins(ctx, spec.Journal); err != nil {
			return nil, fmt.Errorf("review: create campaign %q: read the journal: %w", spec.Name, err)
		}
	}
	if err := pop.assign(ctx, spec); err != nil {
		return nil, err
	}
	return pop, nil
}

// CreateFromFile reads a snapshot file (access.ReadFile) and creates a
// campaign over it (see Create). A file whose content does not match its
// hash is refused with an error wrapping ErrInvalidSnapshot and
// access.ErrHashMismatch, and nothing is written.
func (s *Store) CreateFromFile(ctx context.Context, name string, spec CampaignSpec) (*Campaign, error) {
	snap, err := access.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("review: create campaign %q: %w: %w", spec.Name, ErrInvalidSnapshot, err)
	}
	return s.Create(ctx, snap, spec)
}

// checkSnapshot encodes snap as Save does and checks that its content
// hashes to its recorded hash; it returns the encoding.
func checkSnapshot(snap *access.Snapshot) ([]byte, error) {
	var buf bytes.Buffer
	if err := snap.Save(&buf); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	data := buf.Bytes()
	// The hash covers the bytes from `"format"` to the final "}\n" (see
	// access.Save); the provenance before it is one line of JSON, so the
	// first `\n"format":` starts the content.
	start := bytes.Index(data, []byte("\n\"format\":"))
	if start < 0 || !bytes.HasSuffix(data, []byte("}\n")) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSnapshot, &access.SnapshotError{Reason: "the encoding has no content"})
	}
	sum := sha256.Sum256(data[start+1 : len(data)-2])
	if got := hex.EncodeToString(sum[:]); got != snap.Hash() {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSnapshot, &access.SnapshotError{
			Reason: fmt.Sprintf("content hashes to %s, the snapshot records %q", got, shortHash(snap.Hash())), Err: access.ErrHashMismatch})
	}
	return data, nil
}

// shortHash returns the first 12 digits of a hash.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// insert writes a new campaign in one transaction.
func (s *Store) insert(ctx context.Context, spec CampaignSpec, evidence Population, pop *population, snapshot []byte, now time.Time) (int64, error) {
	what := fmt.Sprintf("create campaign %q", spec.ID)
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return 0, s.wrap(what, err)
	}
	popJSON, err := json.Marshal(evidence)
	if err != nil {
		return 0, s.wrap(what, err)
	}
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(what, err)
	}
	defer func() { _ = tx.Rollback() }()
	ms := now.UnixMilli()
	var due int64
	if !spec.Due.IsZero() {
		due = spec.Due.UnixMilli()
	}
	var snapArg any
	if snapshot != nil {
		snapArg = snapshot
	}
	var pk int64
	err = tx.QueryRowContext(ctx, s.db.Rebind(`
		INSERT INTO zgov_review_campaigns (id, name, created_by, created_ms, due_ms, state, next_seq, spec, population, snapshot_hash, snapshot)
		VALUES (?, ?, ?, ?, ?, ?, 2, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING RETURNING pk`),
		spec.ID, spec.Name, spec.CreatedBy, ms, due, string(StateOpen), string(specJSON), string(popJSON), evidence.SnapshotHash, snapArg).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("review: %s: %w", what, ErrCampaignExists)
	}
	if err != nil {
		return 0, s.wrap(what, err)
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`
		INSERT INTO zgov_review_events (campaign, seq, at_ms, kind, item_id, actor, from_reviewer, to_reviewer, reason, detail)
		VALUES (?, 1, ?, ?, 0, ?, '', '', '', ?)`),
		pk, ms, string(EventCreated), spec.CreatedBy,
		fmt.Sprintf("%d items (%d grants of %d principals) from snapshot %s of %s/%s taken %s",
			evidence.Items, evidence.Grants, evidence.Principals, evidence.SnapshotHash, evidence.Backend, evidence.Account,
			evidence.TakenAt.Format(time.RFC3339))); err != nil {
		return 0, s.wrap(what, err)
	}

	if err := s.insertPopulation(ctx, tx, pk, pop, ms); err != nil {
		return 0, s.wrap(what, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(what, err)
	}
	if s.db.Dialect == sqldb.Postgres {
		// Tell the planner how big the tables have grown (autovacuum
		// would, later): reading a new campaign's items page by page and
		// recording its decisions need their indexes.
		if _, err := s.db.SQL.ExecContext(ctx, "ANALYZE zgov_review_items, zgov_review_assignments, zgov_review_principals"); err != nil {
			return pk, nil // only statistics: the campaign is created
		}
	}
	return pk, nil
}

// insertPopulation writes the principals, entitlements, items and
// assignments of a new campaign.
func (s *Store) insertPopulation(ctx context.Context, tx *sql.Tx, id int64, pop *population, ms int64) error {
	b := newBulkInserter(ctx, tx, s.db, "zgov_review_principals", []string{"campaign", "principal_id", "facts"}, "")
	for _, p := range pop.principals {
		facts, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := b.add(id, p.ID, string(facts)); err != nil {
			return err
		}
	}
	if err := b.close(); err != nil {
		return fmt.Errorf("principals: %w", err)
	}
	b = newBulkInserter(ctx, tx, s.db, "zgov_review_entitlements", []string{"campaign", "entitlement_id", "facts"}, "")
	for eid, f := range pop.ents {
		facts, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := b.add(id, eid, string(facts)); err != nil {
			return err
		}
	}
	if err := b.close(); err != nil {
		return fmt.Errorf("entitlements: %w", err)
	}
	items := newBulkInserter(ctx, tx, s.db, "zgov_review_items", []string{"campaign", "id", "principal_id", "grants", "reviewers"}, "")
	as := newBulkInserter(ctx, tx, s.db, "zgov_review_assignments",
		[]string{"campaign", "item_id", "reviewer", "pos", "active", "rule", "reason", "fallback", "assigned_ms"}, "")
	var buf []byte
	for i, it := range pop.items {
		n := int64(i + 1)
		buf = appendGrants(buf[:0], it.grants)
		if err := items.add(id, n, pop.principals[it.principal].ID, string(buf), len(it.reviewers)); err != nil {
			return fmt.Errorf("items: %w", err)
		}
		for k, a := range it.reviewers {
			if err := as.add(id, n, a.reviewer, k+1, 1, string(a.rule), a.reason, b2i(a.fallback), ms); err != nil {
				return fmt.Errorf("assignments: %w", err)
			}
		}
	}
	if err := items.close(); err != nil {
		return fmt.Errorf("items: %w", err)
	}
	if err := as.close(); err != nil {
		return fmt.Errorf("assignments: %w", err)
	}
	return nil
}

// appendGrants appends the JSON of an item's grants.
func appendGrants(buf []byte, gs []storedGrant) []byte {
	data, err := json.Marshal(gs)
	if err != nil { // strings and maps of strings always marshal
		panic(err)
	}
	return append(buf, data...)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
