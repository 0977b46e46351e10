package access_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// timeBoundBackend holds two users in a group, ann's membership with an
// attribute of its own.
func timeBoundBackend() (*fakeBackend, access.Attributes) {
	annAttrs := access.Attributes{"default": "true"}
	return newFake(stream("all",
		res("user:1", "Ann", nil),
		res("user:2", "Bob", nil),
		res("group:1", "Support", nil),
		ent("group:1:member", "user"),
		access.Item{Grant: access.NewGrant("group:1:member", "user:1", annAttrs)},
		grant("group:1:member", "user:2"),
	)), annAttrs
}

func TestSyncMarksTimeBound(t *testing.T) {
	t.Parallel()
	ends := time.Date(2026, 3, 4, 18, 30, 0, 500_000_000, time.FixedZone("CET", 3600))
	b, annAttrs := timeBoundBackend()
	opts := fixedOpts()
	opts.TimeBound = map[string]time.Time{
		"group:1:member@user:1": ends,
		"group:1:member@user:9": ends, // not in the snapshot: ignored
	}
	snap, err := access.Sync(t.Context(), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 4, 17, 30, 0, 0, time.UTC)
	ann, _ := snap.Grant("group:1:member@user:1")
	if got, ok := ann.ExpiresAt(); !ok || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ann's grant ExpiresAt = %v, %v; want %v, true", got, ok, want)
	}
	if got := ann.Attributes()[access.AttrExpiresAt]; got != "2026-03-04T17:30:00Z" {
		t.Errorf("ann's grant %s = %q, want 2026-03-04T17:30:00Z", access.AttrExpiresAt, got)
	}
	if ann.Attributes()["default"] != "true" {
		t.Errorf("the mark lost the grant's own attributes: %v", ann.Attributes())
	}
	if _, ok := annAttrs[access.AttrExpiresAt]; ok {
		t.Error("Sync wrote the mark into the backend's attribute map")
	}
	bob, _ := snap.Grant("group:1:member@user:2")
	if got, ok := bob.ExpiresAt(); ok {
		t.Errorf("bob's standing grant ExpiresAt = %v, true; want none", got)
	}
	if n := snap.Counts().Grants; n != 2 {
		t.Errorf("%d grants, want 2: a mark must not add a grant", n)
	}

	// The hash covers the mark.
	plainBackend, _ := timeBoundBackend()
	plain, err := access.Sync(t.Context(), plainBackend, fixedOpts())
	if err != nil {
		t.Fatal(err)
	}
	if plain.Hash() == snap.Hash() {
		t.Error("a marked and an unmarked snapshot have one hash")
	}
	if d := access.Diff(plain, snap); len(d.ChangedGrants) != 1 {
		t.Errorf("Diff of the mark: %+v, want one changed grant", d)
	}

	// Save and Load keep it, byte for byte.
	data := saveBytes(t, snap)
	loaded, err := access.Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saveBytes(t, loaded), data) || loaded.Hash() != snap.Hash() {
		t.Error("Save(Load(data)) differs from data")
	}
	if g, _ := loaded.Grant("group:1:member@user:1"); !hasExpiry(g, want) {
		t.Errorf("loaded: ann's grant %v, want marked %v", g.Attributes(), want)
	}

	// memaccess holds a snapshot's grants with their attributes: a sync
	// of it keeps the mark without being told again.
	mem, err := memaccess.FromSnapshot(loaded)
	if err != nil {
		t.Fatal(err)
	}
	again, err := access.Sync(t.Context(), mem, fixedOpts())
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := again.Grant("group:1:member@user:1"); !hasExpiry(g, want) {
		t.Errorf("memaccess: ann's grant %v, want marked %v", g.Attributes(), want)
	}
	if g, _ := again.Grant("group:1:member@user:2"); hasExpiry(g, want) {
		t.Error("memaccess: bob's grant is marked")
	}
}

func hasExpiry(g access.GrantRecord, want time.Time) bool {
	got, ok := g.ExpiresAt()
	return ok && got.Equal(want)
}

func TestSyncRefusesBadTimeBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    map[string]time.Time
		want string
	}{
		{"not a grant ID", map[string]time.Time{"group:1:member": fixed}, "TimeBound"},
		{"empty principal id", map[string]time.Time{"group:1:member@user:": fixed}, "TimeBound"},
		{"zero time", map[string]time.Time{"group:1:member@user:1": {}}, "zero expiry"},
		{"year 10000", map[string]time.Time{"group:1:member@user:1": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside years"},
	} {
		b, _ := timeBoundBackend()
		ran := false
		b.streams = []access.Stream{{Name: "all", Run: func(context.Context, func(access.Item) error) error { ran = true; return nil }}}
		opts := fixedOpts()
		opts.TimeBound = tc.m
		_, err := access.Sync(t.Context(), b, opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
		if ran {
			t.Errorf("%s: the sync ran before its options were checked", tc.name)
		}
	}
}

func TestExpiresAtNeedsRFC3339(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"2026-03-04T17:30:00Z":      true,
		"2026-03-04T18:30:00+01:00": true,
		"tomorrow":                  false,
		"":                          false,
		"2026-03-04":                false,
	} {
		g := access.NewGrant("group:1:member", "user:1", access.Attributes{access.AttrExpiresAt: v})
		if got, ok := g.ExpiresAt(); ok != want {
			t.Errorf("ExpiresAt of %q = %v, %v; want ok %v", v, got, ok, want)
		}
	}
	if _, ok := access.NewGrant("group:1:member", "user:1", nil).ExpiresAt(); ok {
		t.Error("an unmarked grant is time-bound")
	}
}
