package accesstest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

// Checks of the optional AccountManager capability, through access.System.

// grantIDSet returns the sorted IDs of grants.
func grantIDSet(gs []access.Grant) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.ID())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// heldBy returns the sorted grant IDs principal holds in snap.
func heldBy(snap *access.Snapshot, principal string) []string {
	out := []string{}
	for _, g := range snap.GrantsFor(principal) {
		out = append(out, g.ID())
	}
	return out
}

func minus(a, b []string) []string {
	out := []string{}
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// accountSystem returns a fresh backend's System, or skips if the backend
// manages no accounts.
func (s *suite) accountSystem(t *testing.T) (*access.System, access.Backend) {
	t.Helper()
	b := s.h.NewBackend(t)
	if _, ok := b.(access.AccountManager); !ok {
		t.Skip("backend is not an AccountManager")
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	return sys, b
}

// checkReported compares what a change reports with what two syncs show:
// everything it reports removed was held before; everything held after
// that was not before is reported added; and, when the principal is still in
// the snapshot, what it no longer holds is exactly what it reports removed.
func checkReported(t *testing.T, what string, before, after *access.Snapshot, res access.AccountResult) {
	t.Helper()
	was, now := heldBy(before, res.PrincipalID), heldBy(after, res.PrincipalID)
	// A principal outside the backend's scope (a Zendesk end user when only
	// team members are read) shows no grants; nothing can be compared.
	if _, ok := before.Resource(res.PrincipalID); ok {
		if extra := minus(grantIDSet(res.Replaced), was); len(extra) > 0 {
			t.Errorf("%s: Replaced lists grants the principal did not hold: %v", what, extra)
		}
	}
	if unreported := minus(minus(now, was), grantIDSet(res.Added)); len(unreported) > 0 {
		t.Errorf("%s: the principal gained %v, not in Added %v", what, unreported, grantIDSet(res.Added))
	}
	_, inBefore := before.Resource(res.PrincipalID)
	if _, ok := after.Resource(res.PrincipalID); ok && inBefore {
		if d := cmp.Diff(minus(was, now), grantIDSet(res.Replaced)); d != "" {
			t.Errorf("%s: removed grants differ from Replaced (-sync +Replaced):\n%s", what, d)
		}
	}
}

func (s *suite) testCreateAccount(t *testing.T) {
	sys, b := s.accountSystem(t)
	ctx := t.Context()
	before := s.sync(t, b)
	p := access.Person{Email: "conformance.new@example.com", Name: "Conformance New", ExternalID: "conformance-ext-1"}
	res, err := sys.CreateAccount(ctx, access.AccountRequest{Person: p})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if res.Status != access.AccountCreated {
		t.Fatalf("CreateAccount: Status = %q, want %q", res.Status, access.AccountCreated)
	}
	after := s.sync(t, b)
	if _, ok := after.Resource(res.PrincipalID); !ok {
		t.Errorf("the new account %s is not in a sync", res.PrincipalID)
	}
	checkReported(t, "CreateAccount", before, after, res)

	for _, tc := range []struct {
		name string
		p    access.Person
		by   string
	}{
		{"same e-mail", p, "email"},
		{"e-mail in other case", access.Person{Email: strings.ToUpper(p.Email)}, "email"},
		{"same external id", access.Person{Email: "conformance.other@example.com", ExternalID: p.ExternalID}, "external_id"},
	} {
		again, err := sys.CreateAccount(ctx, access.AccountRequest{Person: tc.p})
		if err != nil {
			t.Errorf("%s: CreateAccount: %v", tc.name, err)
			continue
		}
		if again.Status != access.AccountExists || again.PrincipalID != res.PrincipalID || again.MatchedBy != tc.by {
			t.Errorf("%s: CreateAccount = %q %s matched by %q, want %q %s matched by %q",
				tc.name, again.Status, again.PrincipalID, again.MatchedBy, access.AccountExists, res.PrincipalID, tc.by)
		}
	}
	if final := s.sync(t, b); final.Hash() != after.Hash() {
		t.Errorf("creating existing accounts changed the backend:\n%s", access.Diff(after, final))
	}
}

func (s *suite) testCreateAccountBadInput(t *testing.T) {
	sys, b := s.accountSystem(t)
	before := s.sync(t, b)
	for _, p := range []access.Person{
		{},
		{Name: "No Address"},
		{Email: "not-an-address"},
		{Email: "two words@example.com"},
		{Email: "Ann <ann@example.com>"},
		{Email: "ann@localhost"},
		{Email: "ann@example.com", ExternalID: " padded "},
		{Email: strings.Repeat("a", 250) + "@example.com"},
	} {
		_, err := sys.CreateAccount(t.Context(), access.AccountRequest{Person: p})
		if !errors.Is(err, access.ErrInvalidPerson) {
			t.Errorf("System.CreateAccount(%+v) error = %v, want ErrInvalidPerson", p, err)
		}
		_, err = b.(access.AccountManager).CreateAccount(t.Context(), access.AccountRequest{Person: p})
		if !errors.Is(err, access.ErrInvalidPerson) {
			t.Errorf("backend CreateAccount(%+v) error = %v, want ErrInvalidPerson", p, err)
		}
	}
	if after := s.sync(t, b); after.Hash() != before.Hash() {
		t.Errorf("refused creates changed the backend:\n%s", access.Diff(before, after))
	}
}

func (s *suite) testCreateAccountConcurrently(t *testing.T) {
	sys, _ := s.accountSystem(t)
	const n = 8
	results := make([]access.AccountResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = sys.CreateAccount(t.Context(), access.AccountRequest{
				Person: access.Person{Email: "conformance.race@example.com", Name: "Race"}})
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("CreateAccount %d: %v", i, errs[i])
		}
		if results[i].Status == access.AccountCreated {
			created++
		}
		if results[i].PrincipalID != results[0].PrincipalID {
			t.Errorf("concurrent creates for one person made %s and %s", results[0].PrincipalID, results[i].PrincipalID)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent creates for one person report created, want 1", created, n)
	}
}

func (s *suite) testDeprovisionLadder(t *testing.T) {
	sys, b := s.accountSystem(t)
	ctx := t.Context()
	res, err := sys.CreateAccount(ctx, access.AccountRequest{Person: access.Person{Email: "conformance.leaver@example.com", Name: "Leaver"}})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	principal := res.PrincipalID
	for _, step := range []access.DeprovisionStep{access.DeprovisionSuspend, access.DeprovisionDowngrade, access.DeprovisionSoftDelete, access.DeprovisionPermanentDelete} {
		before := s.sync(t, b)
		got, err := sys.Deprovision(ctx, principal, step)
		if err != nil {
			t.Fatalf("Deprovision(%s, %s): %v", principal, step, err)
		}
		if got.Status != access.AccountChanged || got.PrincipalID != principal {
			t.Errorf("Deprovision(%s): Status %q for %s, want %q for %s", step, got.Status, got.PrincipalID, access.AccountChanged, principal)
		}
		after := s.sync(t, b)
		checkReported(t, fmt.Sprintf("Deprovision(%s)", step), before, after, got)
		if step == access.DeprovisionSoftDelete || step == access.DeprovisionPermanentDelete {
			if _, ok := after.Resource(principal); ok {
				t.Errorf("Deprovision(%s): %s is still in a sync", step, principal)
			}
		}
		again, err := sys.Deprovision(ctx, principal, step)
		if err != nil {
			t.Errorf("Deprovision(%s) again: %v", step, err)
		} else if again.Status != access.AccountUnchanged {
			t.Errorf("Deprovision(%s) again: Status %q, want %q", step, again.Status, access.AccountUnchanged)
		}
		if final := s.sync(t, b); final.Hash() != after.Hash() {
			t.Errorf("Deprovision(%s) again changed the backend:\n%s", step, access.Diff(after, final))
		}
	}
	p, _ := access.ParseResourceID(principal)
	p.ID = "999999999999"
	if _, err := sys.Deprovision(ctx, p.String(), access.DeprovisionSuspend); !errors.Is(err, access.ErrUnknownPrincipal) {
		t.Errorf("Deprovision(%s) error = %v, want ErrUnknownPrincipal", p, err)
	}
}

func (s *suite) testReactivate(t *testing.T) {
	sys, b := s.accountSystem(t)
	ctx := t.Context()
	res, err := sys.CreateAccount(ctx, access.AccountRequest{Person: access.Person{Email: "conformance.back@example.com", Name: "Back"}})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	created := s.sync(t, b)
	for _, step := range []access.DeprovisionStep{access.DeprovisionDowngrade, access.DeprovisionSuspend} {
		if _, err := sys.Deprovision(ctx, res.PrincipalID, step); err != nil {
			t.Fatalf("Deprovision(%s): %v", step, err)
		}
	}
	before := s.sync(t, b)
	got, err := sys.Reactivate(ctx, res.PrincipalID, "")
	if err != nil {
		t.Fatalf("Reactivate: %v", err)
	}
	if got.Status != access.AccountChanged {
		t.Errorf("Reactivate: Status %q, want %q", got.Status, access.AccountChanged)
	}
	after := s.sync(t, b)
	checkReported(t, "Reactivate", before, after, got)
	// The role comes back; memberships a downgrade removed do not.
	if r, ok := after.Resource(res.PrincipalID); !ok || r.Attributes()["suspended"] == "true" {
		t.Errorf("after Reactivate %s is missing or suspended", res.PrincipalID)
	}
	if len(heldBy(after, res.PrincipalID)) == 0 && len(heldBy(created, res.PrincipalID)) > 0 {
		t.Errorf("after Reactivate %s holds nothing; it held %v when created", res.PrincipalID, heldBy(created, res.PrincipalID))
	}
	if again, err := sys.Reactivate(ctx, res.PrincipalID, ""); err != nil || again.Status != access.AccountUnchanged {
		t.Errorf("Reactivate again = %q, %v; want %q", again.Status, err, access.AccountUnchanged)
	}
}

// testPrincipalReader compares ReadPrincipals with a full sync for every
// principal: the grants on ObjectTypes must be the snapshot's, or a plan's
// check would see drift where there is none.
func (s *suite) testPrincipalReader(t *testing.T) {
	b, snap := s.fresh(t)
	r, ok := b.(access.PrincipalReader)
	if !ok {
		t.Skip("backend is not a PrincipalReader")
	}
	types, err := r.ObjectTypes(t.Context())
	if err != nil {
		t.Fatalf("ObjectTypes: %v", err)
	}
	principalTypes := map[string]bool{}
	for _, e := range snap.Entitlements() {
		for _, typ := range e.GrantableTo() {
			principalTypes[typ] = true
		}
	}
	var ids []string
	for _, res := range snap.Resources() {
		if principalTypes[res.Type()] {
			ids = append(ids, res.ID())
		}
	}
	p, _ := access.ParseResourceID(ids[0])
	p.ID = "999999999999"
	missing := p.String()
	states, err := r.ReadPrincipals(t.Context(), append(ids, missing))
	if err != nil {
		t.Fatalf("ReadPrincipals: %v", err)
	}
	if states[missing].Exists {
		t.Errorf("ReadPrincipals says %s exists", missing)
	}
	onTypes := func(gids []string) []string {
		out := []string{}
		for _, id := range gids {
			if slices.Contains(types, strings.SplitN(id, ":", 2)[0]) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, id := range ids {
		st := states[id]
		if !st.Exists {
			t.Errorf("ReadPrincipals says %s, in the snapshot, does not exist", id)
			continue
		}
		if d := cmp.Diff(onTypes(heldBy(snap, id)), onTypes(grantIDSet(st.Grants))); d != "" {
			t.Errorf("ReadPrincipals(%s) disagrees with Sync on %v (-sync +read):\n%s", id, types, d)
		}
	}
}
