package accesstest

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

// Checks of Info, Sync and snapshots.

func (s *suite) testInfo(t *testing.T) {
	b := s.h.NewBackend(t)
	info, err := b.Info(t.Context())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name == "" {
		t.Error("Info.Name is empty")
	}
	if info.Account == "" {
		t.Error("Info.Account is empty")
	}
	if len(info.ResourceTypes) == 0 {
		t.Error("Info.ResourceTypes is empty")
	}
	seen := map[string]bool{}
	for _, rt := range info.ResourceTypes {
		if _, err := access.ParseResourceID(rt.ID + ":x"); err != nil {
			t.Errorf("resource type %q: %v", rt.ID, err)
		}
		if seen[rt.ID] {
			t.Errorf("resource type %q declared twice", rt.ID)
		}
		seen[rt.ID] = true
	}
	streams, err := b.Streams(t.Context())
	if err != nil {
		t.Fatalf("Streams: %v", err)
	}
	if len(streams) == 0 {
		t.Error("Streams returned no streams")
	}
	names := map[string]bool{}
	for _, st := range streams {
		if st.Name == "" || st.Run == nil {
			t.Errorf("stream %q: empty name or nil Run", st.Name)
		}
		if names[st.Name] {
			t.Errorf("stream name %q used twice", st.Name)
		}
		names[st.Name] = true
	}
}

// testSnapshotConsistent checks the snapshot independently of the checks
// Sync makes, so a regression in either is caught.
func (s *suite) testSnapshotConsistent(t *testing.T) {
	_, snap := s.fresh(t)
	types := map[string]bool{}
	for _, rt := range snap.ResourceTypes() {
		types[rt.ID] = true
	}
	res := map[string]bool{}
	for _, r := range snap.Resources() {
		ref, err := access.ParseResourceID(r.ID())
		if err != nil {
			t.Errorf("resource: %v", err)
			continue
		}
		if !types[ref.Type] {
			t.Errorf("resource %s: type %q not declared", r.ID(), ref.Type)
		}
		if res[r.ID()] {
			t.Errorf("resource %s twice", r.ID())
		}
		res[r.ID()] = true
	}
	ents := map[string]access.EntitlementRecord{}
	for _, e := range snap.Entitlements() {
		ref, err := access.ParseEntitlementID(e.ID())
		if err != nil {
			t.Errorf("entitlement: %v", err)
			continue
		}
		if !res[ref.Resource.String()] {
			t.Errorf("entitlement %s: resource absent", e.ID())
		}
		if !e.Purpose().Valid() {
			t.Errorf("entitlement %s: purpose %q", e.ID(), e.Purpose())
		}
		if len(e.GrantableTo()) == 0 {
			t.Errorf("entitlement %s: grantable to nothing", e.ID())
		}
		for _, gt := range e.GrantableTo() {
			if !types[gt] {
				t.Errorf("entitlement %s: grantable to undeclared type %q", e.ID(), gt)
			}
		}
		if _, dup := ents[e.ID()]; dup {
			t.Errorf("entitlement %s twice", e.ID())
		}
		ents[e.ID()] = e
	}
	seen := map[string]bool{}
	for _, g := range snap.Grants() {
		ref, err := access.ParseGrantID(g.ID())
		if err != nil {
			t.Errorf("grant: %v", err)
			continue
		}
		e, ok := ents[ref.Entitlement.String()]
		if !ok {
			t.Errorf("grant %s: entitlement absent", g.ID())
		} else if !slices.Contains(e.GrantableTo(), ref.Principal.Type) {
			t.Errorf("grant %s: principal type %q not in GrantableTo %v", g.ID(), ref.Principal.Type, e.GrantableTo())
		}
		if !res[ref.Principal.String()] {
			t.Errorf("grant %s: principal absent", g.ID())
		}
		if seen[g.ID()] {
			t.Errorf("grant %s twice", g.ID())
		}
		seen[g.ID()] = true
	}
	if len(snap.Hash()) != 64 {
		t.Errorf("Hash() = %q, want 64 hex digits", snap.Hash())
	}
	p := snap.Provenance()
	if p.Backend == "" || p.Account == "" || !p.TakenAt.Equal(fixedNow) {
		t.Errorf("Provenance = %+v, want backend, account and TakenAt %v", p, fixedNow)
	}
}

func (s *suite) testDeterministic(t *testing.T) {
	b, first := s.fresh(t)
	second := s.sync(t, b)
	if first.Hash() != second.Hash() {
		t.Errorf("two syncs: hashes %s and %s differ; changes:\n%s", first.Hash(), second.Hash(), access.Diff(first, second))
	}
	if d := cmp.Diff(string(save(t, first)), string(save(t, second))); d != "" {
		t.Errorf("two syncs of one backend saved differently (-first +second):\n%s", d)
	}
	// A second backend in the same initial state holds the same content.
	other := s.sync(t, s.h.NewBackend(t))
	if first.Hash() != other.Hash() {
		t.Errorf("two fresh backends: hashes differ; changes:\n%s", access.Diff(first, other))
	}
}

func (s *suite) testSaveLoad(t *testing.T) {
	_, snap := s.fresh(t)
	data := save(t, snap)
	loaded, err := access.Load(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Load(Save(snapshot)): %v", err)
	}
	if loaded.Hash() != snap.Hash() {
		t.Errorf("loaded hash %s, want %s", loaded.Hash(), snap.Hash())
	}
	if d := cmp.Diff(string(data), string(save(t, loaded))); d != "" {
		t.Errorf("Save(Load(data)) != data (-want +got):\n%s", d)
	}
	if c := access.Diff(snap, loaded); !c.Empty() {
		t.Errorf("Diff(snapshot, loaded) is not empty:\n%s", c)
	}
	name := filepath.Join(t.TempDir(), "snapshot.json")
	if err := snap.WriteFile(name); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	fromFile, err := access.ReadFile(name)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if fromFile.Hash() != snap.Hash() {
		t.Errorf("ReadFile hash %s, want %s", fromFile.Hash(), snap.Hash())
	}
	// Any change to the content must be caught.
	if i := bytes.Index(data, []byte(`"format"`)); i >= 0 {
		tampered := bytes.Clone(data)
		j := bytes.LastIndex(tampered, []byte(`"id":"`))
		if j > i {
			tampered[j+6] ^= 0x01
			if _, err := access.Load(bytes.NewReader(tampered)); !errors.Is(err, access.ErrInvalidSnapshot) {
				t.Errorf("Load(tampered) error = %v, want ErrInvalidSnapshot", err)
			}
		}
	}
}

func (s *suite) testConcurrentSyncs(t *testing.T) {
	b := s.h.NewBackend(t)
	var wg sync.WaitGroup
	snaps := make([]*access.Snapshot, 3)
	errs := make([]error, 3)
	for i := range snaps {
		wg.Go(func() { snaps[i], errs[i] = access.Sync(t.Context(), b, s.opts()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Sync %d: %v", i, err)
		}
	}
	for i := 1; i < len(snaps); i++ {
		if snaps[i].Hash() != snaps[0].Hash() {
			t.Errorf("concurrent syncs disagree:\n%s", access.Diff(snaps[0], snaps[i]))
		}
	}
}

func (s *suite) testProgress(t *testing.T) {
	b := s.h.NewBackend(t)
	var calls []access.Progress
	var mu sync.Mutex
	o := s.opts()
	o.ProgressEvery = 7
	o.Progress = func(p access.Progress) {
		mu.Lock() // calls are serialized; the lock only makes that checkable by -race
		defer mu.Unlock()
		calls = append(calls, p)
	}
	snap, err := access.Sync(t.Context(), b, o)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if len(calls) == 0 {
		t.Fatal("Progress never called")
	}
	last := calls[len(calls)-1]
	if !last.Done {
		t.Error("last Progress call has Done false")
	}
	for i, p := range calls[:len(calls)-1] {
		if p.Done {
			t.Errorf("Progress call %d of %d has Done set", i, len(calls))
		}
		for j, sp := range p.Streams {
			if n := calls[i+1].Streams[j]; n.Items() < sp.Items() {
				t.Errorf("stream %s: counts went down from %d to %d", sp.Name, sp.Items(), n.Items())
			}
		}
	}
	var got access.Counts
	var byStream []access.StreamCount
	for _, sp := range last.Streams {
		if !sp.Done {
			t.Errorf("stream %s not done in the final progress", sp.Name)
		}
		got.Resources += sp.Resources
		got.Entitlements += sp.Entitlements
		got.Grants += sp.Grants
		byStream = append(byStream, access.StreamCount{Name: sp.Name, Resources: sp.Resources, Entitlements: sp.Entitlements, Grants: sp.Grants})
	}
	if d := cmp.Diff(snap.Provenance().Streams, byStream); d != "" {
		t.Errorf("final progress does not match provenance (-provenance +progress):\n%s", d)
	}
	want := snap.Counts()
	got.ResourceTypes = want.ResourceTypes
	if p := snap.Provenance(); p.Dropped == 0 {
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("final progress does not match the snapshot (-snapshot +progress):\n%s", d)
		}
	}
}

func (s *suite) testCancelledBefore(t *testing.T) {
	b := s.h.NewBackend(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := access.Sync(ctx, b, s.opts())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Sync(cancelled context) error = %v, want context.Canceled", err)
	}
}

func (s *suite) testCancelledDuring(t *testing.T) {
	b := s.h.NewBackend(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	o := s.opts()
	o.ProgressEvery = 1
	o.Progress = func(p access.Progress) {
		if !p.Done {
			cancel()
		}
	}
	start := time.Now()
	_, err := access.Sync(ctx, b, o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Sync cancelled after its first item: error = %v, want context.Canceled", err)
	}
	// Generous, because this runs against simulators on loaded machines;
	// it catches streams that ignore cancellation and read to the end.
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Sync took %v to return after cancellation", d)
	}
}
