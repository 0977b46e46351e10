package plantest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zgov-io/zgov/provision"
)

// Run runs the conformance suite as subtests of t. newStore must return a
// new, empty store on every call; it may register cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) provision.PlanStore) {
	t.Helper()
	if newStore == nil {
		t.Fatal("plantest: newStore is nil")
	}
	s := &suite{newStore: newStore}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"NotFound", s.testNotFound},
		{"RoundTrip", s.testRoundTrip},
		{"SetsHash", s.testSetsHash},
		{"Idempotent", s.testIdempotent},
		{"Several", s.testSeveral},
		{"RefusesInvalid", s.testRefusesInvalid},
		{"NoAliasing", s.testNoAliasing},
		{"Concurrent", s.testConcurrent},
		{"CancelledContext", s.testCancelled},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	newStore func(t *testing.T) provision.PlanStore
}

func (s *suite) store(t *testing.T) provision.PlanStore {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("newStore returned nil")
	}
	return st
}

// base is the time of the suite's plans: no test reads the real clock.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

// plan returns a valid plan, the same for the same n, different for
// different n. Its labels hold text beyond ASCII, which a store keeps as
// it is.
func plan(n int) *provision.Plan {
	principal := fmt.Sprintf("user:%d", n+1)
	return &provision.Plan{
		Version:         provision.PlanVersion,
		Backend:         "plantest",
		Account:         "acme",
		SnapshotHash:    strings.Repeat("ab", 32),
		SnapshotTakenAt: base,
		PolicyDigest:    strings.Repeat("cd", 32),
		CreatedAt:       base.Add(time.Duration(n) * time.Second),
		ObjectTypes:     []string{"group", "user"},
		Changes: []provision.Change{
			{ID: "grant group:10:member@" + principal, Kind: provision.ChangeGrant, PrincipalID: principal, EntitlementID: "group:10:member"},
			{ID: "revoke group:11:member@" + principal, Kind: provision.ChangeRevoke, PrincipalID: principal, EntitlementID: "group:11:member",
				SideEffects: []string{"removes the default group"}},
		},
		Basis:  map[string]string{principal: strings.Repeat("ef", 32)},
		Labels: map[string]string{principal: fmt.Sprintf("zoë%d@example.com", n), "group:10:member": "group Support ☃", "group:11:member": "group \"Billing\"\t<b>"},
	}
}

// saved returns the bytes Plan.Save writes for p, and p's hash.
func saved(t *testing.T, p *provision.Plan) ([]byte, string) {
	t.Helper()
	c := *p
	var buf bytes.Buffer
	if err := c.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), c.Hash
}

func mustSave(t *testing.T, st provision.PlanStore, p *provision.Plan) {
	t.Helper()
	if err := st.SavePlan(t.Context(), p); err != nil {
		t.Fatalf("SavePlan: %v", err)
	}
}

func mustLoad(t *testing.T, st provision.PlanStore, hash string) *provision.Plan {
	t.Helper()
	p, err := st.LoadPlan(t.Context(), hash)
	if err != nil {
		t.Fatalf("LoadPlan(%s): %v", hash, err)
	}
	return p
}

var planOpts = cmp.Options{cmpopts.EquateEmpty()}

func (s *suite) testNotFound(t *testing.T) {
	st := s.store(t)
	_, hash := saved(t, plan(1))
	for _, h := range []string{hash, strings.ToUpper(hash), "", "not-a-hash", hash[:63], hash + "0"} {
		if _, err := st.LoadPlan(t.Context(), h); !errors.Is(err, provision.ErrPlanNotFound) {
			t.Errorf("LoadPlan(%q) of an empty store = %v, want ErrPlanNotFound", h, err)
		}
	}
}

func (s *suite) testRoundTrip(t *testing.T) {
	st := s.store(t)
	p := plan(1)
	want, hash := saved(t, p)
	mustSave(t, st, p)
	got := mustLoad(t, st, hash)
	if diff := cmp.Diff(p, got, planOpts); diff != "" {
		t.Errorf("loaded plan (-saved +loaded):\n%s", diff)
	}
	again, _ := saved(t, got)
	if !bytes.Equal(want, again) {
		t.Errorf("the loaded plan saves to other bytes:\n%s\nwant\n%s", again, want)
	}
}

func (s *suite) testSetsHash(t *testing.T) {
	st := s.store(t)
	_, want := saved(t, plan(1))
	for _, preset := range []string{"", strings.Repeat("0", 64)} {
		p := plan(1)
		p.Hash = preset
		mustSave(t, st, p)
		if p.Hash != want {
			t.Errorf("SavePlan of a plan with Hash %q set it to %q, want %q (as Plan.Save)", preset, p.Hash, want)
		}
	}
	if _, err := st.LoadPlan(t.Context(), strings.Repeat("0", 64)); !errors.Is(err, provision.ErrPlanNotFound) {
		t.Errorf("LoadPlan(the hash the plan carried before SavePlan) = %v, want ErrPlanNotFound", err)
	}
	mustLoad(t, st, want)
}

func (s *suite) testIdempotent(t *testing.T) {
	st := s.store(t)
	p := plan(1)
	mustSave(t, st, p)
	mustSave(t, st, p)
	mustSave(t, st, plan(1)) // an equal plan, built again
	if diff := cmp.Diff(plan(1), mustLoad(t, st, p.Hash), planOpts, cmpopts.IgnoreFields(provision.Plan{}, "Hash")); diff != "" {
		t.Errorf("loaded plan (-want +got):\n%s", diff)
	}
}

func (s *suite) testSeveral(t *testing.T) {
	st := s.store(t)
	var hashes []string
	for n := range 3 {
		p := plan(n)
		mustSave(t, st, p)
		hashes = append(hashes, p.Hash)
	}
	for n, h := range hashes {
		got := mustLoad(t, st, h)
		if got.Hash != h || !got.CreatedAt.Equal(plan(n).CreatedAt) {
			t.Errorf("LoadPlan(%s) = the plan of %v with hash %s, want plan %d", h, got.CreatedAt, got.Hash, n)
		}
	}
}

func (s *suite) testRefusesInvalid(t *testing.T) {
	st := s.store(t)
	newer := plan(1)
	newer.Version = provision.PlanVersion + 1
	dup := plan(2)
	dup.Changes[1].ID = dup.Changes[0].ID
	bad := plan(3)
	bad.Changes[0].Kind = "teleport"
	for name, p := range map[string]*provision.Plan{"a newer version": newer, "a change ID twice": dup, "an unknown kind": bad} {
		if err := st.SavePlan(t.Context(), p); err == nil {
			t.Errorf("SavePlan of a plan with %s succeeded", name)
		}
		if _, err := st.LoadPlan(t.Context(), p.Hash); !errors.Is(err, provision.ErrPlanNotFound) {
			t.Errorf("LoadPlan of the refused plan with %s = %v, want ErrPlanNotFound", name, err)
		}
	}
	if err := st.SavePlan(t.Context(), dup); !errors.Is(err, provision.ErrInvalidPlan) {
		t.Errorf("SavePlan of a plan with a change ID twice = %v, want ErrInvalidPlan", err)
	}
	if err := st.SavePlan(t.Context(), nil); err == nil {
		t.Error("SavePlan(nil) succeeded")
	}
}

func (s *suite) testNoAliasing(t *testing.T) {
	st := s.store(t)
	p := plan(1)
	mustSave(t, st, p)
	p.Changes[0].ID = "edited after SavePlan"
	p.Labels["user:2"] = "edited"
	got := mustLoad(t, st, p.Hash)
	if got.Changes[0].ID == "edited after SavePlan" || got.Labels["user:2"] == "edited" {
		t.Error("editing a plan after SavePlan changed the saved plan")
	}
	got.Changes[0].ID = "edited after LoadPlan"
	got.Basis["user:2"] = "edited"
	again := mustLoad(t, st, p.Hash)
	if again.Changes[0].ID == "edited after LoadPlan" || again.Basis["user:2"] == "edited" {
		t.Error("editing a loaded plan changed the saved plan")
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	st := s.store(t)
	const writers, plans = 8, 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range plans {
				// Every writer saves every plan, each from its own copy,
				// starting at a different one.
				if err := st.SavePlan(t.Context(), plan((n+w)%plans)); err != nil {
					t.Errorf("writer %d: SavePlan(plan %d): %v", w, (n+w)%plans, err)
				}
			}
		})
	}
	wg.Wait()
	for n := range plans {
		_, hash := saved(t, plan(n))
		if diff := cmp.Diff(plan(n), mustLoad(t, st, hash), planOpts, cmpopts.IgnoreFields(provision.Plan{}, "Hash")); diff != "" {
			t.Errorf("plan %d (-want +got):\n%s", n, diff)
		}
	}
}

func (s *suite) testCancelled(t *testing.T) {
	st := s.store(t)
	p := plan(1)
	mustSave(t, st, p)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.SavePlan(ctx, plan(2)); err == nil {
		t.Error("SavePlan with a cancelled context succeeded")
	}
	if _, err := st.LoadPlan(ctx, p.Hash); err == nil {
		t.Error("LoadPlan with a cancelled context succeeded")
	}
	_, hash := saved(t, plan(2))
	if _, err := st.LoadPlan(t.Context(), hash); !errors.Is(err, provision.ErrPlanNotFound) {
		t.Errorf("LoadPlan of the plan saved with a cancelled context = %v, want ErrPlanNotFound", err)
	}
}
