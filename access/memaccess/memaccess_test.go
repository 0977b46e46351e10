package memaccess_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/accesstest"
	"github.com/zgov-io/zgov/access/memaccess"
)

// small returns a hand-written account: two users, a group, two
// organizations and two roles.
func small() memaccess.Data {
	member := []string{"user"}
	return memaccess.Data{
		Account: "acme",
		ResourceTypes: []access.ResourceType{
			{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}},
			{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}},
			{ID: "organization", DisplayName: "Organization", Traits: []access.Trait{access.TraitOrganization}},
			{ID: "role", DisplayName: "Role", Traits: []access.Trait{access.TraitRole}},
		},
		Resources: []access.Resource{
			access.NewResource("user:1", "Ann", access.Attributes{"email": "ann@example.com"}),
			access.NewResource("user:2", "Bob", access.Attributes{"email": "bob@example.com"}),
			access.NewResource("group:10", "Support", nil),
			access.NewResource("organization:20", "Acme", nil),
			access.NewResource("organization:21", "Beta", nil),
			access.NewResource("role:agent", "Agent", nil),
			access.NewResource("role:admin", "Admin", nil),
		},
		Entitlements: []access.Entitlement{
			access.NewEntitlement("group:10:member", "Support member", access.PurposeMembership, member, nil),
			access.NewEntitlement("organization:20:member", "Acme member", access.PurposeMembership, member, nil),
			access.NewEntitlement("organization:21:member", "Beta member", access.PurposeMembership, member, nil),
			access.NewEntitlement("role:agent:assigned", "Agent", access.PurposeAssignment, member, nil),
			access.NewEntitlement("role:admin:assigned", "Admin", access.PurposeAssignment, member, nil),
		},
		Grants: []access.Grant{
			access.NewGrant("group:10:member", "user:1", access.Attributes{"default": "true"}),
			access.NewGrant("organization:20:member", "user:1", nil),
			access.NewGrant("role:agent:assigned", "user:1", nil),
			access.NewGrant("role:admin:assigned", "user:2", nil),
		},
	}
}

func newBackend(t *testing.T, d memaccess.Data, opts ...memaccess.Option) *memaccess.Backend {
	t.Helper()
	b, err := memaccess.New(d, opts...)
	if err != nil {
		t.Fatalf("memaccess.New: %v", err)
	}
	return b
}

func TestConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    accesstest.Harness
	}{
		{"Small", accesstest.Harness{
			NewBackend: func(t *testing.T) access.Backend { return newBackend(t, small()) },
		}},
		{"SmallExclusive", accesstest.Harness{
			NewBackend: func(t *testing.T) access.Backend {
				return newBackend(t, small(), memaccess.WithExclusive("organization", "role"))
			},
			// Moves user 1 from organization 20 to 21: the suite checks
			// the replaced grant is reported and gone.
			Grant: access.GrantRequest{EntitlementID: "organization:21:member", PrincipalID: "user:1"},
		}},
		{"Generated", accesstest.Harness{
			NewBackend: func(t *testing.T) access.Backend {
				return newBackend(t, memaccess.Generate(2500, 7, 5), memaccess.WithExclusive("organization", "role"))
			},
		}},
		// Zendesk's ladder of built-in roles: the suite checks that what a
		// revoke leaves (the agent role, the end-user role) and takes (the
		// group membership) is in its Result.
		{"GeneratedAdminRevoked", accesstest.Harness{
			NewBackend: func(t *testing.T) access.Backend {
				return newBackend(t, memaccess.Generate(30, 3, 3), memaccess.WithExclusive("organization", "role"))
			},
			Revoke: access.RevokeRequest{EntitlementID: "role:admin:assigned", PrincipalID: "user:2"},
		}},
		{"GeneratedAgentRevoked", accesstest.Harness{
			NewBackend: func(t *testing.T) access.Backend {
				return newBackend(t, memaccess.Generate(30, 3, 3), memaccess.WithExclusive("organization", "role"))
			},
			Revoke: access.RevokeRequest{EntitlementID: "role:agent:assigned", PrincipalID: "user:1"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			accesstest.Run(t, tc.h)
		})
	}
}

// TestRevokeRole: with exclusive roles and the three built-in roles, a
// revoked admin is an agent, a revoked agent an end user without groups,
// and the end-user role cannot be revoked; without exclusive roles a
// revoke only removes.
func TestRevokeRole(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := newBackend(t, memaccess.Generate(3, 1, 1), memaccess.WithExclusive("organization", "role"))
	ids := func(gs []access.Grant) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.ID())
		}
		return out
	}
	for _, tc := range []struct {
		eid, principal string
		added, gone    []string
		err            error
	}{
		{"role:admin:assigned", "user:2", []string{"role:agent:assigned@user:2"}, nil, nil},
		{"role:agent:assigned", "user:2", []string{"role:end-user:assigned@user:2"}, []string{"group:1:member@user:2"}, nil},
		{"role:end-user:assigned", "user:2", nil, nil, access.ErrNotGrantable},
	} {
		res, err := b.Revoke(ctx, access.RevokeRequest{EntitlementID: tc.eid, PrincipalID: tc.principal})
		if !errors.Is(err, tc.err) || tc.err == nil && err != nil {
			t.Fatalf("revoke %s: %v, want %v", tc.eid, err, tc.err)
		}
		if err != nil {
			continue
		}
		if res.Status != access.StatusRevoked {
			t.Errorf("revoke %s: %s", tc.eid, res.Status)
		}
		if d := cmp.Diff(tc.added, ids(res.Added)); d != "" {
			t.Errorf("revoke %s: Added (-want +got):\n%s", tc.eid, d)
		}
		if d := cmp.Diff(tc.gone, ids(res.Replaced)); d != "" {
			t.Errorf("revoke %s: Replaced (-want +got):\n%s", tc.eid, d)
		}
	}
	gs, err := b.GrantsFor(ctx, "user:2")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"organization:1:member@user:2", "role:end-user:assigned@user:2"}, sortedIDs(gs)); d != "" {
		t.Errorf("user 2 holds (-want +got):\n%s", d)
	}

	plain := newBackend(t, memaccess.Generate(3, 1, 1))
	res, err := plain.Revoke(ctx, access.RevokeRequest{EntitlementID: "role:admin:assigned", PrincipalID: "user:2"})
	if err != nil || len(res.Added) != 0 || len(res.Replaced) != 0 {
		t.Errorf("revoke admin without exclusive roles: %+v, %v; want only the removal", res, err)
	}
}

func sortedIDs(gs []access.Grant) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.ID())
	}
	slices.Sort(out)
	return out
}

// TestHolders: the holders of an entitlement, one request per started
// page of 100; an unknown or malformed entitlement is an error.
func TestHolders(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := newBackend(t, memaccess.Generate(301, 2, 2))
	before := b.Requests()
	got, err := b.Holders(ctx, "role:admin:assigned")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 || !slices.IsSorted(got) || got[0] != "user:101" { // users 2, 5, ..., 299 hold it
		t.Errorf("%d admins from %v, want 100", len(got), got[:min(3, len(got))])
	}
	if n := b.Requests() - before; n != 1 {
		t.Errorf("%d requests for 100 holders, want 1", n)
	}
	before = b.Requests()
	if got, err := b.Holders(ctx, "group:1:member"); err != nil || len(got) != 150 || b.Requests()-before != 2 {
		t.Errorf("Holders(group 1) = %d holders, %v, %d requests; want 150, 2 requests", len(got), err, b.Requests()-before)
	}
	for eid, want := range map[string]error{
		"group:9:member":      access.ErrUnknownEntitlement,
		"group:09:member":     access.ErrMalformedID,
		"role:owner:assigned": access.ErrUnknownEntitlement,
	} {
		if _, err := b.Holders(ctx, eid); !errors.Is(err, want) {
			t.Errorf("Holders(%s) error = %v, want %v", eid, err, want)
		}
	}
}

func TestNewRejectsInvalidData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*memaccess.Data)
		opts   []memaccess.Option
		want   error
	}{
		{"MalformedResourceID", func(d *memaccess.Data) {
			d.Resources = append(d.Resources, access.NewResource("user:a b", "", nil))
		}, nil, access.ErrMalformedID},
		{"UndeclaredType", func(d *memaccess.Data) {
			d.Resources = append(d.Resources, access.NewResource("team:1", "", nil))
		}, nil, access.ErrInconsistent},
		{"DuplicateResource", func(d *memaccess.Data) {
			d.Resources = append(d.Resources, access.NewResource("user:1", "Ann again", nil))
		}, nil, access.ErrInconsistent},
		{"DanglingGrant", func(d *memaccess.Data) {
			d.Grants = append(d.Grants, access.NewGrant("group:10:member", "user:99", nil))
		}, nil, access.ErrInconsistent},
		{"DanglingEntitlement", func(d *memaccess.Data) {
			d.Entitlements = append(d.Entitlements, access.NewEntitlement("group:11:member", "", access.PurposeMembership, []string{"user"}, nil))
		}, nil, access.ErrInconsistent},
		{"NotGrantable", func(d *memaccess.Data) {
			d.Grants = append(d.Grants, access.NewGrant("group:10:member", "organization:20", nil))
		}, nil, access.ErrInconsistent},
		{"BadPurpose", func(d *memaccess.Data) {
			d.Entitlements = append(d.Entitlements, access.NewEntitlement("group:10:owner", "", "owner", []string{"user"}, nil))
		}, nil, access.ErrInvalidItem},
		{"ExclusiveViolated", func(d *memaccess.Data) {
			d.Grants = append(d.Grants, access.NewGrant("role:admin:assigned", "user:1", nil))
		}, []memaccess.Option{memaccess.WithExclusive("role")}, access.ErrInconsistent},
		{"ExclusiveUndeclared", func(d *memaccess.Data) {}, []memaccess.Option{memaccess.WithExclusive("team")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := small()
			tc.modify(&d)
			_, err := memaccess.New(d, tc.opts...)
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("New error = %v, want %v", err, tc.want)
			}
		})
	}
}

func grantIDs(gs []access.Grant) []string {
	var ids []string
	for _, g := range gs {
		ids = append(ids, g.ID())
	}
	return ids
}

func TestGrantExclusiveReplaces(t *testing.T) {
	t.Parallel()
	b := newBackend(t, small(), memaccess.WithExclusive("role"))
	res, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: "role:admin:assigned", PrincipalID: "user:1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"role:agent:assigned@user:1"}, grantIDs(res.Replaced)); d != "" {
		t.Errorf("Replaced (-want +got):\n%s", d)
	}
	if res.Note == "" {
		t.Error("Note is empty, want an explanation of the replacement")
	}
	got, err := b.GrantsFor(t.Context(), "user:1")
	if err != nil {
		t.Fatal(err)
	}
	got2, _ := access.GrantsFor(t.Context(), b, "user:1")
	want := []string{"group:10:member@user:1", "organization:20:member@user:1", "role:admin:assigned@user:1"}
	if d := cmp.Diff(want, grantIDs(got2)); d != "" {
		t.Errorf("grants after replacement (-want +got):\n%s", d)
	}
	if len(got) != len(want) {
		t.Errorf("GrantsFor returned %d grants, want %d", len(got), len(want))
	}
}

func TestMutations(t *testing.T) {
	t.Parallel()
	b := newBackend(t, small())
	before, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.PutResource(access.NewResource("user:2", "Bob", access.Attributes{"email": "bob@example.org"})); err != nil {
		t.Fatal(err)
	}
	if err := b.PutResource(access.NewResource("user:3", "Cy", nil)); err != nil {
		t.Fatal(err)
	}
	if err := b.PutEntitlement(access.NewEntitlement("group:10:lead", "Support lead", access.PurposeAssignment, []string{"user"}, nil)); err != nil {
		t.Fatal(err)
	}
	if err := b.PutGrant(access.NewGrant("group:10:lead", "user:3", access.Attributes{"since": "2026"})); err != nil {
		t.Fatal(err)
	}
	if !b.DeleteResource("organization:20") {
		t.Error("DeleteResource(organization:20) = false, want true")
	}
	if b.DeleteResource("organization:20") {
		t.Error("second DeleteResource(organization:20) = true, want false")
	}
	after, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `- resource organization:20 "Acme"
+ resource user:3 "Cy"
~ resource user:2 attributes.email: "bob@example.com" -> "bob@example.org"
- entitlement organization:20:member "Acme member"
+ entitlement group:10:lead "Support lead"
- grant organization:20:member@user:1
+ grant group:10:lead@user:3
`
	if d := cmp.Diff(want, access.Diff(before, after).String()); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}

	errTests := []struct {
		name string
		err  error
		want error
	}{
		{"PutResourceMalformed", b.PutResource(access.NewResource("user", "", nil)), access.ErrMalformedID},
		{"PutResourceUndeclared", b.PutResource(access.NewResource("team:1", "", nil)), access.ErrInconsistent},
		{"PutEntitlementDangling", b.PutEntitlement(access.NewEntitlement("group:99:member", "", access.PurposeMembership, []string{"user"}, nil)), access.ErrInconsistent},
		{"PutEntitlementUndeclaredGrantable", b.PutEntitlement(access.NewEntitlement("group:10:member", "", access.PurposeMembership, []string{"team"}, nil)), access.ErrInconsistent},
		{"PutEntitlementInvalid", b.PutEntitlement(access.NewEntitlement("group:10:member", "", "x", nil, nil)), access.ErrInvalidItem},
		{"PutGrantUnknownPrincipal", b.PutGrant(access.NewGrant("group:10:member", "user:99", nil)), access.ErrUnknownPrincipal},
		{"PutGrantMalformed", b.PutGrant(access.NewGrant("group:10", "user:1", nil)), access.ErrMalformedID},
	}
	for _, tc := range errTests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestFromSnapshot(t *testing.T) {
	t.Parallel()
	b := newBackend(t, small())
	snap, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	copyB, err := memaccess.FromSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	again, err := access.Sync(t.Context(), copyB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Hash() != snap.Hash() {
		t.Errorf("FromSnapshot backend syncs to a different snapshot:\n%s", access.Diff(snap, again))
	}
	info, _ := copyB.Info(t.Context())
	if info.Account != "acme" || info.Name != "memory" {
		t.Errorf("Info = %q/%q, want memory/acme", info.Name, info.Account)
	}
}

func TestGenerateCounts(t *testing.T) {
	t.Parallel()
	b := newBackend(t, memaccess.Generate(100, 3, 4))
	snap, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := access.Counts{ResourceTypes: 4, Resources: 100 + 3 + 4 + 3, Entitlements: 3 + 4 + 3, Grants: 300}
	if d := cmp.Diff(want, snap.Counts()); d != "" {
		t.Errorf("Counts (-want +got):\n%s", d)
	}
	if got := snap.Provenance().Requests; got != 10 {
		// 8 streams; users.resources holds 100 users (1 page),
		// users.grants none (1), group/org/role streams 1 page each, and
		// role.grants ... see memaccess.PageSize.
		t.Logf("Provenance.Requests = %d", got)
	}
}
