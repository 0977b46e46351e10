package access_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	before := syncItems(t, testTypes,
		res("user:1", "Ann", access.Attributes{"role": "agent", "email": "ann@example.com", "gone": "x"}),
		res("user:2", "Bob", nil),
		res("group:1", "Support", nil),
		access.Item{Entitlement: access.NewEntitlement("group:1:member", "Member", access.PurposeMembership, []string{"user"}, nil)},
		grant("group:1:member", "user:1"),
		grant("group:1:member", "user:2"),
	)
	after := syncItems(t, append(testTypes, access.ResourceType{ID: "role", Traits: []access.Trait{access.TraitRole}}),
		res("user:1", "Ann B.", access.Attributes{"role": "admin", "email": "ann@example.com", "new": ""}),
		res("user:3", "Cy", nil),
		res("group:1", "Support", nil),
		access.Item{Entitlement: access.NewEntitlement("group:1:member", "Member", access.PurposeAssignment, []string{"group", "user"}, access.Attributes{"k": "v"})},
		access.Item{Grant: access.NewGrant("group:1:member", "user:1", access.Attributes{"default": "true"})},
		grant("group:1:member", "user:3"),
	)
	c := access.Diff(before, after)
	want := `+ resource_type role
- resource user:2 "Bob"
+ resource user:3 "Cy"
~ resource user:1 display_name: "Ann" -> "Ann B."
~ resource user:1 attributes.gone: removed "x"
~ resource user:1 attributes.new: added ""
~ resource user:1 attributes.role: "agent" -> "admin"
~ entitlement group:1:member grantable_to: "user" -> "group,user"
~ entitlement group:1:member purpose: "membership" -> "assignment"
~ entitlement group:1:member attributes.k: added "v"
- grant group:1:member@user:2
+ grant group:1:member@user:3
~ grant group:1:member@user:1 attributes.default: added "true"
`
	if d := cmp.Diff(want, c.String()); d != "" {
		t.Errorf("Diff (-want +got):\n%s", d)
	}
	wantUser1 := access.Change{ID: "user:1", Fields: []access.FieldChange{
		{Field: "display_name", Op: access.FieldModified, Before: "Ann", After: "Ann B."},
		{Field: "attributes.gone", Op: access.FieldRemoved, Before: "x"},
		{Field: "attributes.new", Op: access.FieldAdded},
		{Field: "attributes.role", Op: access.FieldModified, Before: "agent", After: "admin"},
	}}
	if d := cmp.Diff([]access.Change{wantUser1}, c.ChangedResources); d != "" {
		t.Errorf("ChangedResources (-want +got):\n%s", d)
	}
	if c.Empty() {
		t.Error("Empty() = true")
	}
	if got := access.Diff(after, after); !got.Empty() || got.String() != "" {
		t.Errorf("Diff(s, s) = %q, want empty", got)
	}
	// nil stands for the empty snapshot.
	all := access.Diff(nil, after)
	if len(all.AddedResources) != 3 || len(all.AddedGrants) != 2 || len(all.AddedResourceTypes) != 3 {
		t.Errorf("Diff(nil, s) = %v", all)
	}
	if gone := access.Diff(before, nil); len(gone.RemovedResources) != 3 || len(gone.RemovedEntitlements) != 1 {
		t.Errorf("Diff(s, nil) = %v", gone)
	}
}

func syncItems(t *testing.T, types []access.ResourceType, items ...access.Item) *access.Snapshot {
	t.Helper()
	b := newFake(stream("s", items...))
	b.info.ResourceTypes = types
	s, err := access.Sync(t.Context(), b, fixedOpts())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
