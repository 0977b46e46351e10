package accesstest

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

// Checks of Grant, Revoke and the optional capabilities.

// grantRequest returns the request the Grant test uses.
func (s *suite) grantRequest(t *testing.T, snap *access.Snapshot) access.GrantRequest {
	t.Helper()
	if s.h.Grant != (access.GrantRequest{}) {
		return s.h.Grant
	}
	byType := map[string][]access.ResourceRecord{}
	for _, r := range snap.Resources() {
		byType[r.Type()] = append(byType[r.Type()], r)
	}
	for _, e := range snap.Entitlements() {
		for _, gt := range e.GrantableTo() {
			for _, p := range byType[gt] {
				if _, ok := snap.Grant(access.GrantID(e.ID(), p.ID())); !ok {
					return access.GrantRequest{EntitlementID: e.ID(), PrincipalID: p.ID()}
				}
			}
		}
	}
	t.Skip("no entitlement left to grant; set Harness.Grant")
	return access.GrantRequest{}
}

// revokeRequest returns the request the Revoke test uses.
func (s *suite) revokeRequest(t *testing.T, snap *access.Snapshot) access.RevokeRequest {
	t.Helper()
	if s.h.Revoke != (access.RevokeRequest{}) {
		return s.h.Revoke
	}
	gs := snap.Grants()
	if len(gs) == 0 {
		t.Skip("no grant to revoke; set Harness.Revoke")
	}
	return access.RevokeRequest{EntitlementID: gs[0].EntitlementID(), PrincipalID: gs[0].PrincipalID()}
}

func (s *suite) testGrant(t *testing.T) {
	b, before := s.fresh(t)
	req := s.grantRequest(t, before)
	if _, ok := before.Grant(req.GrantID()); ok {
		t.Fatalf("Harness.Grant %s is already granted in a fresh backend", req.GrantID())
	}
	res, err := b.Grant(t.Context(), req)
	if s.h.ReadOnly {
		if !errors.Is(err, access.ErrUnsupported) {
			t.Errorf("Grant on a read-only backend: error = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Grant(%s): %v", req.GrantID(), err)
	}
	if res.Status != access.StatusGranted {
		t.Errorf("Grant: Status = %q, want %q", res.Status, access.StatusGranted)
	}
	if res.Grant == nil || res.Grant.ID() != req.GrantID() {
		t.Errorf("Grant: result grant = %v, want ID %s", grantIDOf(res.Grant), req.GrantID())
	}
	after := s.sync(t, b)
	if _, ok := after.Grant(req.GrantID()); !ok {
		t.Errorf("after Grant, sync does not show %s", req.GrantID())
	}
	changes := access.Diff(before, after)
	var added []string
	for _, g := range changes.AddedGrants {
		added = append(added, g.ID())
	}
	if !slices.Contains(added, req.GrantID()) {
		t.Errorf("Diff after Grant: added grants %v, want %s among them", added, req.GrantID())
	}
	var replaced []string
	for _, g := range res.Replaced {
		replaced = append(replaced, g.ID())
	}
	var removed []string
	for _, g := range changes.RemovedGrants {
		removed = append(removed, g.ID())
	}
	slices.Sort(replaced)
	if d := cmp.Diff(replaced, removed); d != "" {
		t.Errorf("grants removed by Grant (-GrantResult.Replaced +Diff.RemovedGrants):\n%s", d)
	}

	again, err := b.Grant(t.Context(), req)
	if err != nil {
		t.Fatalf("second Grant(%s): %v", req.GrantID(), err)
	}
	if again.Status != access.StatusAlreadyGranted {
		t.Errorf("second Grant: Status = %q, want %q", again.Status, access.StatusAlreadyGranted)
	}
	if again.Grant == nil || again.Grant.ID() != req.GrantID() {
		t.Errorf("second Grant: result grant = %v, want ID %s", grantIDOf(again.Grant), req.GrantID())
	}
	if len(again.Replaced) != 0 {
		t.Errorf("second Grant replaced %d grants, want none", len(again.Replaced))
	}
	if final := s.sync(t, b); final.Hash() != after.Hash() {
		t.Errorf("second Grant changed the backend:\n%s", access.Diff(after, final))
	}
}

// principalOf returns the principal of a grant, from its ID.
func principalOf(g access.Grant) string {
	ref, _ := access.ParseGrantID(g.ID())
	return ref.Principal.String()
}

func grantIDOf(g access.Grant) string {
	if g == nil {
		return "<nil>"
	}
	return g.ID()
}

func (s *suite) testRevoke(t *testing.T) {
	b, before := s.fresh(t)
	req := s.revokeRequest(t, before)
	if _, ok := before.Grant(req.GrantID()); !ok {
		t.Fatalf("Harness.Revoke %s is not granted in a fresh backend", req.GrantID())
	}
	res, err := b.Revoke(t.Context(), req)
	if s.h.ReadOnly {
		if !errors.Is(err, access.ErrUnsupported) {
			t.Errorf("Revoke on a read-only backend: error = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Revoke(%s): %v", req.GrantID(), err)
	}
	if res.Status != access.StatusRevoked {
		t.Errorf("Revoke: Status = %q, want %q", res.Status, access.StatusRevoked)
	}
	if res.Grant == nil || res.Grant.ID() != req.GrantID() {
		t.Errorf("Revoke: result grant = %v, want ID %s", grantIDOf(res.Grant), req.GrantID())
	}
	after := s.sync(t, b)
	if _, ok := after.Grant(req.GrantID()); ok {
		t.Errorf("after Revoke, sync still shows %s", req.GrantID())
	}
	// What the revoke did beside removing the grant (a Zendesk admin
	// demoted to agent holds the agent role) is in the Result: Added and
	// Replaced are what a sync shows changed, but grants of a principal
	// the change took out of the scope (a Zendesk end user, where a sync
	// reads team members).
	changes := access.Diff(before, after)
	var removed, added []string
	for _, g := range changes.RemovedGrants {
		if _, inScope := after.Resource(g.PrincipalID()); inScope || g.ID() == req.GrantID() {
			removed = append(removed, g.ID())
		}
	}
	for _, g := range changes.AddedGrants {
		added = append(added, g.ID())
	}
	wantRemoved := []string{req.GrantID()}
	var wantAdded []string
	for _, g := range res.Replaced {
		if _, inScope := after.Resource(principalOf(g)); inScope {
			wantRemoved = append(wantRemoved, g.ID())
		}
	}
	for _, g := range res.Added {
		if _, inScope := after.Resource(principalOf(g)); inScope {
			wantAdded = append(wantAdded, g.ID())
		}
	}
	slices.Sort(wantRemoved)
	slices.Sort(wantAdded)
	if d := cmp.Diff(wantRemoved, removed); d != "" {
		t.Errorf("grants removed by Revoke (-the request and Result.Replaced +Diff.RemovedGrants):\n%s", d)
	}
	if d := cmp.Diff(wantAdded, added); d != "" {
		t.Errorf("grants added by Revoke (-Result.Added +Diff.AddedGrants):\n%s", d)
	}
	again, err := b.Revoke(t.Context(), req)
	if err != nil {
		t.Fatalf("second Revoke(%s): %v", req.GrantID(), err)
	}
	if again.Status != access.StatusAlreadyRevoked {
		t.Errorf("second Revoke: Status = %q, want %q", again.Status, access.StatusAlreadyRevoked)
	}
	if final := s.sync(t, b); final.Hash() != after.Hash() {
		t.Errorf("second Revoke changed the backend:\n%s", access.Diff(after, final))
	}
}

// unknownIDs returns well-formed IDs of an entitlement and a principal that
// do not exist.
func (s *suite) unknownIDs(t *testing.T, snap *access.Snapshot, req access.GrantRequest) (entitlementID, principalID string) {
	t.Helper()
	entitlementID, principalID = s.h.UnknownEntitlementID, s.h.UnknownPrincipalID
	const missing = "999999999999"
	if entitlementID == "" {
		e, err := access.ParseEntitlementID(req.EntitlementID)
		if err != nil {
			t.Fatalf("Harness.Grant: %v", err)
		}
		e.Resource.ID = missing
		entitlementID = e.String()
	}
	if principalID == "" {
		p, err := access.ParseResourceID(req.PrincipalID)
		if err != nil {
			t.Fatalf("Harness.Grant: %v", err)
		}
		p.ID = missing
		principalID = p.String()
	}
	if _, ok := snap.Entitlement(entitlementID); ok {
		t.Fatalf("unknown entitlement %s exists; set Harness.UnknownEntitlementID", entitlementID)
	}
	if _, ok := snap.Resource(principalID); ok {
		t.Fatalf("unknown principal %s exists; set Harness.UnknownPrincipalID", principalID)
	}
	return entitlementID, principalID
}

func (s *suite) testRequestErrors(t *testing.T) {
	b, snap := s.fresh(t)
	if s.h.ReadOnly {
		t.Skip("read-only backend")
	}
	req := s.grantRequest(t, snap)
	unknownE, unknownP := s.unknownIDs(t, snap, req)
	tests := []struct {
		name                     string
		entitlementID, principal string
		want                     error
	}{
		{"UnknownEntitlement", unknownE, req.PrincipalID, access.ErrUnknownEntitlement},
		{"UnknownPrincipal", req.EntitlementID, unknownP, access.ErrUnknownPrincipal},
		{"MalformedEntitlement", "not an entitlement", req.PrincipalID, access.ErrMalformedID},
		{"MalformedPrincipal", req.EntitlementID, "user", access.ErrMalformedID},
		{"EntitlementAsPrincipal", req.EntitlementID, req.EntitlementID, access.ErrMalformedID},
		{"Empty", "", "", access.ErrMalformedID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: tc.entitlementID, PrincipalID: tc.principal})
			if !errors.Is(err, tc.want) {
				t.Errorf("Grant error = %v, want %v", err, tc.want)
			}
			_, err = b.Revoke(t.Context(), access.RevokeRequest{EntitlementID: tc.entitlementID, PrincipalID: tc.principal})
			if !errors.Is(err, tc.want) {
				t.Errorf("Revoke error = %v, want %v", err, tc.want)
			}
		})
	}
	if after := s.sync(t, b); after.Hash() != snap.Hash() {
		t.Errorf("failed requests changed the backend:\n%s", access.Diff(snap, after))
	}
}

func (s *suite) testNotGrantable(t *testing.T) {
	b, snap := s.fresh(t)
	if s.h.ReadOnly {
		t.Skip("read-only backend")
	}
	// Find an entitlement and an existing resource of a type it is not
	// grantable to.
	firstOfType := map[string]string{}
	for _, r := range snap.Resources() {
		if _, ok := firstOfType[r.Type()]; !ok {
			firstOfType[r.Type()] = r.ID()
		}
	}
	types := slices.Sorted(maps.Keys(firstOfType))
	var req access.GrantRequest
find:
	for _, e := range snap.Entitlements() {
		for _, typ := range types {
			if !slices.Contains(e.GrantableTo(), typ) {
				req = access.GrantRequest{EntitlementID: e.ID(), PrincipalID: firstOfType[typ]}
				break find
			}
		}
	}
	if req.EntitlementID == "" {
		t.Skip("every entitlement is grantable to every resource type")
	}
	if _, err := b.Grant(t.Context(), req); !errors.Is(err, access.ErrNotGrantable) {
		t.Errorf("Grant(%s) error = %v, want ErrNotGrantable", req.GrantID(), err)
	}
	if _, err := b.Revoke(t.Context(), access.RevokeRequest(req)); !errors.Is(err, access.ErrNotGrantable) {
		t.Errorf("Revoke(%s) error = %v, want ErrNotGrantable", req.GrantID(), err)
	}
}

// testGrantsFor compares GrantsFor with a full sync for every principal
// (every resource of a type some entitlement is grantable to), through the
// backend's PrincipalGrantsLister and through access.GrantsFor: one principal
// is not enough, since the two paths decide separately what to include and
// can disagree on a kind of grant only some principals hold.
func (s *suite) testGrantsFor(t *testing.T) {
	b, snap := s.fresh(t)
	if len(snap.Grants()) == 0 {
		t.Skip("no grants")
	}
	principalTypes := map[string]bool{}
	for _, e := range snap.Entitlements() {
		for _, typ := range e.GrantableTo() {
			principalTypes[typ] = true
		}
	}
	ids := func(gs []access.Grant) []string {
		out := []string{}
		for _, g := range gs {
			out = append(out, g.ID())
		}
		slices.Sort(out)
		return out
	}
	l, lister := b.(access.PrincipalGrantsLister)
	n := 0
	for _, r := range snap.Resources() {
		if !principalTypes[r.Type()] {
			continue
		}
		n++
		principal := r.ID()
		var want []string
		for _, g := range snap.GrantsFor(principal) {
			want = append(want, g.ID())
		}
		if want == nil {
			want = []string{}
		}
		if lister {
			got, err := l.GrantsFor(t.Context(), principal)
			if err != nil {
				t.Errorf("GrantsFor(%s): %v", principal, err)
			} else if d := cmp.Diff(want, ids(got)); d != "" {
				t.Errorf("GrantsFor(%s) disagrees with Sync (-sync +GrantsFor):\n%s", principal, d)
			}
		} else if n > 3 {
			continue // without the capability each call is a full sync
		}
		got, err := access.GrantsFor(t.Context(), b, principal)
		if err != nil {
			t.Errorf("access.GrantsFor(%s): %v", principal, err)
		} else if d := cmp.Diff(want, ids(got)); d != "" {
			t.Errorf("access.GrantsFor(%s) disagrees with Sync (-sync +got):\n%s", principal, d)
		}
	}
	if !lister {
		t.Skip("backend is not a PrincipalGrantsLister")
	}
	p, _ := access.ParseResourceID(snap.Grants()[0].PrincipalID())
	p.ID = "999999999999"
	if s.h.UnknownPrincipalID != "" {
		p, _ = access.ParseResourceID(s.h.UnknownPrincipalID)
	}
	if _, err := l.GrantsFor(t.Context(), p.String()); !errors.Is(err, access.ErrUnknownPrincipal) {
		t.Errorf("GrantsFor(%s) error = %v, want ErrUnknownPrincipal", p, err)
	}
}

// testHolders compares Holders with a full sync for every entitlement the
// backend lists the holders of (those it answers ErrUnsupported for are
// left out): the principals of the snapshot's grants of it, each once,
// through the backend and through access.System.
func (s *suite) testHolders(t *testing.T) {
	b, snap := s.fresh(t)
	l, ok := b.(access.HolderLister)
	if !ok {
		t.Skip("backend is not a HolderLister")
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range snap.Entitlements() {
		got, err := l.Holders(t.Context(), e.ID())
		if errors.Is(err, access.ErrUnsupported) {
			continue
		}
		if err != nil {
			t.Errorf("Holders(%s): %v", e.ID(), err)
			continue
		}
		listed = append(listed, e.ID())
		want := []string{}
		for _, g := range snap.GrantsOf(e.ID()) {
			want = append(want, g.PrincipalID())
		}
		got = append([]string{}, got...)
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Holders(%s) disagrees with Sync (-sync +Holders):\n%s", e.ID(), d)
		}
		if viaSys, err := sys.Holders(t.Context(), e.ID()); err != nil {
			t.Errorf("System.Holders(%s): %v", e.ID(), err)
		} else if d := cmp.Diff(want, append([]string{}, viaSys...)); d != "" {
			t.Errorf("System.Holders(%s) disagrees with Sync (-sync +Holders):\n%s", e.ID(), d)
		}
	}
	if len(listed) == 0 {
		t.Skip("the backend lists the holders of none of the snapshot's entitlements")
	}
	t.Logf("Holders agrees with Sync on %d of %d entitlements", len(listed), len(snap.Entitlements()))
	unknown := s.h.UnknownEntitlementID
	if unknown == "" {
		e, _ := access.ParseEntitlementID(listed[0])
		e.Resource.ID = "999999999999"
		unknown = e.String()
	}
	if _, err := l.Holders(t.Context(), unknown); !errors.Is(err, access.ErrUnknownEntitlement) && !errors.Is(err, access.ErrUnsupported) {
		t.Errorf("Holders(%s) error = %v, want ErrUnknownEntitlement (or ErrUnsupported)", unknown, err)
	}
}

func (s *suite) testRequestCounter(t *testing.T) {
	b := s.h.NewBackend(t)
	rc, ok := b.(access.RequestCounter)
	if !ok {
		t.Skip("backend is not a RequestCounter")
	}
	before := rc.Requests()
	snap := s.sync(t, b)
	after := rc.Requests()
	if after < before {
		t.Errorf("Requests went down from %d to %d", before, after)
	}
	if got := snap.Provenance().Requests; got != after-before || got <= 0 {
		t.Errorf("Provenance.Requests = %d, want %d (> 0)", got, after-before)
	}
}
