package accesstest

import (
	"bytes"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
)

// Harness tells the suite how to create backends and which changes it may
// make. Only NewBackend is required.
type Harness struct {
	// NewBackend returns a backend in the same initial state on every call:
	// each subtest gets its own, and may change it. It may register cleanup
	// with t.Cleanup. Subtests run one after another, not in parallel.
	NewBackend func(t *testing.T) access.Backend

	// Grant names an entitlement and a principal that are not granted in a
	// fresh backend and that the backend can grant. If zero, the suite
	// grants the first entitlement in the snapshot to the first principal
	// of a grantable type that does not hold it; set it when the backend
	// has rules beyond GrantableTo (a Zendesk end user cannot join a group).
	Grant access.GrantRequest

	// Revoke names a grant that exists in a fresh backend and that the
	// backend can revoke. If zero, the suite revokes the first grant in the
	// snapshot.
	Revoke access.RevokeRequest

	// UnknownEntitlementID and UnknownPrincipalID are well-formed IDs of
	// things that do not exist. If empty, the suite uses the type and slug
	// of the Grant request with the native ID "999999999999".
	UnknownEntitlementID string
	// UnknownPrincipalID: see UnknownEntitlementID.
	UnknownPrincipalID string

	// ReadOnly says the backend does not support Grant and Revoke: the suite
	// then checks that they fail with access.ErrUnsupported.
	ReadOnly bool

	// SyncOptions are used for every sync the suite runs, except that Now,
	// Progress and ProgressEvery are set by the suite where it needs to.
	SyncOptions access.SyncOptions
}

// fixedNow is the clock of the suite's syncs, so snapshots compare by bytes.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.NewBackend == nil {
		t.Fatal("accesstest: Harness.NewBackend is nil")
	}
	s := &suite{h: h}
	tests := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Info", s.testInfo},
		{"SnapshotConsistent", s.testSnapshotConsistent},
		{"Deterministic", s.testDeterministic},
		{"SaveLoad", s.testSaveLoad},
		{"ConcurrentSyncs", s.testConcurrentSyncs},
		{"Progress", s.testProgress},
		{"CancelledBeforeSync", s.testCancelledBefore},
		{"CancelledDuringSync", s.testCancelledDuring},
		{"Grant", s.testGrant},
		{"Revoke", s.testRevoke},
		{"RequestErrors", s.testRequestErrors},
		{"AliasedIDs", s.testAliasedIDs},
		{"NotGrantable", s.testNotGrantable},
		{"PrincipalGrantsLister", s.testGrantsFor},
		{"RequestCounter", s.testRequestCounter},
		{"CreateAccount", s.testCreateAccount},
		{"CreateAccountBadInput", s.testCreateAccountBadInput},
		{"CreateAccountConcurrently", s.testCreateAccountConcurrently},
		{"DeprovisionLadder", s.testDeprovisionLadder},
		{"Reactivate", s.testReactivate},
		{"PrincipalReader", s.testPrincipalReader},
		{"HolderLister", s.testHolders},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	h Harness
}

func (s *suite) opts() *access.SyncOptions {
	o := s.h.SyncOptions
	o.Now = func() time.Time { return fixedNow }
	return &o
}

// fresh returns a new backend and its snapshot.
func (s *suite) fresh(t *testing.T) (access.Backend, *access.Snapshot) {
	t.Helper()
	b := s.h.NewBackend(t)
	if b == nil {
		t.Fatal("Harness.NewBackend returned nil")
	}
	return b, s.sync(t, b)
}

func (s *suite) sync(t *testing.T, b access.Backend) *access.Snapshot {
	t.Helper()
	snap, err := access.Sync(t.Context(), b, s.opts())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return snap
}

func save(t *testing.T, snap *access.Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := snap.Save(&buf); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return buf.Bytes()
}
