package access

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Changes lists what differs between two snapshots. Every list is sorted by
// ID. Items whose ID exists in both snapshots but whose fields differ are
// listed as changed, not as removed and added.
type Changes struct {
	AddedResourceTypes   []string // IDs of types only in the new snapshot
	RemovedResourceTypes []string // IDs of types only in the old snapshot
	ChangedResourceTypes []string // IDs of types whose display name or traits differ

	AddedResources   []ResourceRecord // resources only in the new snapshot
	RemovedResources []ResourceRecord // resources only in the old snapshot, as they were
	ChangedResources []Change         // display name or attribute changes

	AddedEntitlements   []EntitlementRecord // entitlements only in the new snapshot
	RemovedEntitlements []EntitlementRecord // entitlements only in the old snapshot
	ChangedEntitlements []Change            // display name, purpose, grantable-to or attribute changes

	AddedGrants   []GrantRecord // grants only in the new snapshot
	RemovedGrants []GrantRecord // grants only in the old snapshot
	ChangedGrants []Change      // display name or attribute changes
}

// Change lists how an item present in both snapshots differs.
type Change struct {
	// ID is the item's ID.
	ID string
	// Fields lists the differing fields, sorted by Field.
	Fields []FieldChange
}

// FieldOp says how a field changed.
type FieldOp string

// The ways a field can change.
const (
	FieldAdded    FieldOp = "added"    // absent (or empty) before
	FieldRemoved  FieldOp = "removed"  // absent (or empty) after
	FieldModified FieldOp = "modified" // present with different values
)

// FieldChange is one differing field of an item.
type FieldChange struct {
	// Field is "display_name", "purpose", "grantable_to" (types joined with
	// ","), or "attributes." followed by the attribute key.
	Field string
	// Op says whether the field was added, removed or modified.
	Op FieldOp
	// Before and After are the values; the absent side of an added or
	// removed field is "".
	Before, After string
}

// Empty reports whether there are no changes.
func (c *Changes) Empty() bool {
	return len(c.AddedResourceTypes)+len(c.RemovedResourceTypes)+len(c.ChangedResourceTypes)+
		len(c.AddedResources)+len(c.RemovedResources)+len(c.ChangedResources)+
		len(c.AddedEntitlements)+len(c.RemovedEntitlements)+len(c.ChangedEntitlements)+
		len(c.AddedGrants)+len(c.RemovedGrants)+len(c.ChangedGrants) == 0
}

// Diff lists what changed from before to after. Either may be nil, which
// stands for an empty snapshot. Provenance is not compared.
func Diff(before, after *Snapshot) *Changes {
	if before == nil {
		before = &Snapshot{}
	}
	if after == nil {
		after = &Snapshot{}
	}
	c := &Changes{}
	mergeJoin(before.types, after.types, func(t ResourceType) string { return t.ID },
		func(t ResourceType) { c.RemovedResourceTypes = append(c.RemovedResourceTypes, t.ID) },
		func(t ResourceType) { c.AddedResourceTypes = append(c.AddedResourceTypes, t.ID) },
		func(a, b ResourceType) {
			if a.DisplayName != b.DisplayName || !slices.Equal(a.Traits, b.Traits) {
				c.ChangedResourceTypes = append(c.ChangedResourceTypes, a.ID)
			}
		})
	mergeJoin(before.resources, after.resources, ResourceRecord.ID,
		func(r ResourceRecord) { c.RemovedResources = append(c.RemovedResources, r) },
		func(r ResourceRecord) { c.AddedResources = append(c.AddedResources, r) },
		func(a, b ResourceRecord) {
			var fs []FieldChange
			fs = diffField(fs, "display_name", a.name, b.name)
			fs = diffAttrs(fs, a.attrs, b.attrs)
			if len(fs) > 0 {
				c.ChangedResources = append(c.ChangedResources, Change{ID: a.id, Fields: fs})
			}
		})
	mergeJoin(before.entitlements, after.entitlements, EntitlementRecord.ID,
		func(e EntitlementRecord) { c.RemovedEntitlements = append(c.RemovedEntitlements, e) },
		func(e EntitlementRecord) { c.AddedEntitlements = append(c.AddedEntitlements, e) },
		func(a, b EntitlementRecord) {
			var fs []FieldChange
			fs = diffField(fs, "display_name", a.name, b.name)
			fs = diffField(fs, "grantable_to", strings.Join(a.grantableTo, ","), strings.Join(b.grantableTo, ","))
			fs = diffField(fs, "purpose", string(a.purpose), string(b.purpose))
			fs = diffAttrs(fs, a.attrs, b.attrs)
			if len(fs) > 0 {
				c.ChangedEntitlements = append(c.ChangedEntitlements, Change{ID: a.id, Fields: fs})
			}
		})
	mergeJoin(before.grants, after.grants, GrantRecord.ID,
		func(g GrantRecord) { c.RemovedGrants = append(c.RemovedGrants, g) },
		func(g GrantRecord) { c.AddedGrants = append(c.AddedGrants, g) },
		func(a, b GrantRecord) {
			var fs []FieldChange
			fs = diffField(fs, "display_name", a.name, b.name)
			fs = diffAttrs(fs, a.attrs, b.attrs)
			if len(fs) > 0 {
				c.ChangedGrants = append(c.ChangedGrants, Change{ID: a.id, Fields: fs})
			}
		})
	return c
}

// mergeJoin walks two slices sorted by key and calls onlyA, onlyB or both.
func mergeJoin[T any](a, b []T, key func(T) string, onlyA, onlyB func(T), both func(T, T)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && key(a[i]) < key(b[j]):
			onlyA(a[i])
			i++
		case i == len(a) || key(b[j]) < key(a[i]):
			onlyB(b[j])
			j++
		default:
			both(a[i], b[j])
			i++
			j++
		}
	}
}

func diffField(fs []FieldChange, field, before, after string) []FieldChange {
	switch {
	case before == after:
		return fs
	case before == "":
		return append(fs, FieldChange{Field: field, Op: FieldAdded, After: after})
	case after == "":
		return append(fs, FieldChange{Field: field, Op: FieldRemoved, Before: before})
	}
	return append(fs, FieldChange{Field: field, Op: FieldModified, Before: before, After: after})
}

// diffAttrs appends attribute changes in key order. An attribute set to ""
// differs from an absent one, so presence decides the op, not emptiness.
func diffAttrs(fs []FieldChange, a, b Attributes) []FieldChange {
	if maps.Equal(a, b) {
		return fs
	}
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		va, inA := a[k]
		vb, inB := b[k]
		switch {
		case !inA:
			fs = append(fs, FieldChange{Field: "attributes." + k, Op: FieldAdded, After: vb})
		case !inB:
			fs = append(fs, FieldChange{Field: "attributes." + k, Op: FieldRemoved, Before: va})
		case va != vb:
			fs = append(fs, FieldChange{Field: "attributes." + k, Op: FieldModified, Before: va, After: vb})
		}
	}
	return fs
}

// String returns the changes in the format of WriteTo.
func (c *Changes) String() string {
	var b strings.Builder
	c.WriteTo(&b)
	return b.String()
}

// WriteTo writes the changes to w, one line per added ("+") or removed
// ("-") item and per changed field ("~"), in the order resource types,
// resources, entitlements, grants. For example, a new user, a removed
// membership and a changed attribute read:
//
//	output:
//	+ resource user:4 "Dana"
//	- grant group:1:member@user:3
//	~ resource user:1 attributes.role: "agent" -> "admin"
//
// It writes nothing if there are no changes.
func (c *Changes) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	line := func(sign, kind, id, name string) {
		if name != "" {
			fmt.Fprintf(cw, "%s %s %s %q\n", sign, kind, id, name)
		} else {
			fmt.Fprintf(cw, "%s %s %s\n", sign, kind, id)
		}
	}
	changed := func(kind string, chs []Change) {
		for _, ch := range chs {
			for _, f := range ch.Fields {
				switch f.Op {
				case FieldAdded:
					fmt.Fprintf(cw, "~ %s %s %s: added %q\n", kind, ch.ID, f.Field, f.After)
				case FieldRemoved:
					fmt.Fprintf(cw, "~ %s %s %s: removed %q\n", kind, ch.ID, f.Field, f.Before)
				default:
					fmt.Fprintf(cw, "~ %s %s %s: %q -> %q\n", kind, ch.ID, f.Field, f.Before, f.After)
				}
			}
		}
	}
	for _, id := range c.RemovedResourceTypes {
		line("-", "resource_type", id, "")
	}
	for _, id := range c.AddedResourceTypes {
		line("+", "resource_type", id, "")
	}
	for _, id := range c.ChangedResourceTypes {
		line("~", "resource_type", id, "")
	}
	for _, r := range c.RemovedResources {
		line("-", "resource", r.id, r.name)
	}
	for _, r := range c.AddedResources {
		line("+", "resource", r.id, r.name)
	}
	changed("resource", c.ChangedResources)
	for _, e := range c.RemovedEntitlements {
		line("-", "entitlement", e.id, e.name)
	}
	for _, e := range c.AddedEntitlements {
		line("+", "entitlement", e.id, e.name)
	}
	changed("entitlement", c.ChangedEntitlements)
	for _, g := range c.RemovedGrants {
		line("-", "grant", g.id, g.name)
	}
	for _, g := range c.AddedGrants {
		line("+", "grant", g.id, g.name)
	}
	changed("grant", c.ChangedGrants)
	return cw.n, cw.err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

// Write writes p to the underlying writer, counting bytes and keeping the
// first error.
func (w *countWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	w.err = err
	return n, err
}
