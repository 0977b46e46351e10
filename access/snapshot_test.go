package access_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

// sampleSnapshot returns a small snapshot covering every field.
func sampleSnapshot(t testing.TB) *access.Snapshot {
	t.Helper()
	b := newFake(stream("all",
		res("user:1", "Ann", access.Attributes{"email": "ann@example.com", "note": "tab\there"}),
		res("user:2", "", nil),
		res("group:1", "Support", nil),
		access.Item{Entitlement: access.NewEntitlement("group:1:member", "Member", access.PurposeMembership, []string{"user"}, access.Attributes{"k": "v"})},
		access.Item{Entitlement: access.NewEntitlement("group:1:lead", "", access.PurposeAssignment, []string{"user"}, nil)},
		access.Item{Grant: access.NewGrant("group:1:member", "user:1", access.Attributes{"default": "true"}).WithDisplayName("Ann in Support")},
		grant("group:1:lead", "user:2"),
	))
	b.info.Scope = map[string]string{"users": "all"}
	snap, err := access.Sync(t.Context(), b, fixedOpts())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func saveBytes(t testing.TB, s *access.Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	snap := sampleSnapshot(t)
	data := saveBytes(t, snap)
	loaded, err := access.Load(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(data), string(saveBytes(t, loaded))); d != "" {
		t.Errorf("Save(Load(data)) (-want +got):\n%s", d)
	}
	if loaded.Hash() != snap.Hash() {
		t.Errorf("hash %s, want %s", loaded.Hash(), snap.Hash())
	}
	if d := cmp.Diff(snap.Provenance(), loaded.Provenance()); d != "" {
		t.Errorf("Provenance (-want +got):\n%s", d)
	}
	opt := cmp.AllowUnexported(access.ResourceRecord{}, access.EntitlementRecord{}, access.GrantRecord{})
	if d := cmp.Diff(snap.Resources(), loaded.Resources(), opt); d != "" {
		t.Errorf("Resources (-want +got):\n%s", d)
	}
	if d := cmp.Diff(snap.Entitlements(), loaded.Entitlements(), opt); d != "" {
		t.Errorf("Entitlements (-want +got):\n%s", d)
	}
	if d := cmp.Diff(snap.Grants(), loaded.Grants(), opt); d != "" {
		t.Errorf("Grants (-want +got):\n%s", d)
	}

	name := filepath.Join(t.TempDir(), "snap.json")
	if err := snap.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	fromFile, err := access.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Hash() != snap.Hash() {
		t.Errorf("ReadFile hash differs")
	}
	if _, err := access.ReadFile(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) error = %v, want os.ErrNotExist", err)
	}
	if err := snap.WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir.json")); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	good := string(saveBytes(t, sampleSnapshot(t)))
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("sample snapshot lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name    string
		in      string
		want    error
		wantMsg string
	}{
		{"Empty", "", nil, "decode"},
		{"NotJSON", "hello", nil, "decode"},
		{"Array", "[]", nil, "decode"},
		{"Truncated", good[:len(good)/2], nil, "decode"},
		{"Trailing", good + "{}", nil, "trailing data"},
		{"UnknownField", replace(`"format"`, `"extra":1,"format"`), nil, "unknown field"},
		{"WrongFormat", replace(access.Format, "zgov.access.snapshot/v0"), nil, "format"},
		{"BadHash", replace(`"hash":"`, `"hash":"x`), nil, "hash is not"},
		{"ChangedName", replace(`"Ann"`, `"Anne"`), access.ErrHashMismatch, "hashes to"},
		{"ChangedAttribute", replace(`"default":"true"`, `"default":"false"`), access.ErrHashMismatch, "hashes to"},
		{"RemovedGrant", replace(`,
{"id":"group:1:member@user:1"`, `,
{"id":"group:1:member@user:9"`), access.ErrInconsistent, "principal user:9 is absent"},
		{"MalformedID", replace(`"id":"user:2"`, `"id":"user 2"`), access.ErrMalformedID, "resources"},
		{"BadPurpose", replace(`"purpose":"assignment"`, `"purpose":"owner"`), access.ErrInvalidItem, "entitlements"},
		{"MalformedGrantID", replace(`"id":"group:1:lead@user:2"`, `"id":"group:1:lead"`), access.ErrMalformedID, "grants"},
		{"WrongType", replace(`"name":"Ann"`, `"name":5`), nil, "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := access.Load(strings.NewReader(tc.in))
			var se *access.SnapshotError
			if !errors.Is(err, access.ErrInvalidSnapshot) || !errors.As(err, &se) {
				t.Fatalf("Load error = %v, want a *SnapshotError", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Load error = %v, want it to wrap %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Load error = %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestLoadAcceptsReformatted(t *testing.T) {
	t.Parallel()
	// Whitespace and key order are not content: a reformatted snapshot
	// loads, and saves back to the canonical form.
	snap := sampleSnapshot(t)
	data := saveBytes(t, snap)
	var indented bytes.Buffer
	if err := jsonIndent(&indented, data); err != nil {
		t.Fatal(err)
	}
	loaded, err := access.Load(&indented)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saveBytes(t, loaded), data) {
		t.Error("reformatted snapshot does not save back to the canonical bytes")
	}
}

func TestSnapshotAccessorsCopy(t *testing.T) {
	t.Parallel()
	snap := sampleSnapshot(t)
	rs := snap.Resources()
	rs[0] = access.NewResource("user:99", "", nil)
	types := snap.ResourceTypes()
	types[0].Traits[0] = "changed"
	p := snap.Provenance()
	p.Scope["users"] = "changed"
	if got := saveBytes(t, snap); !bytes.Equal(got, saveBytes(t, sampleSnapshot(t))) {
		t.Error("modifying returned slices changed the snapshot")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(saveBytes(f, sampleSnapshot(f)))
	f.Add([]byte(`{"hash":"","provenance":{},"format":"zgov.access.snapshot/v1","resource_types":[],"resources":[],"entitlements":[],"grants":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := access.Load(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, access.ErrInvalidSnapshot) {
				t.Fatalf("error %v does not wrap ErrInvalidSnapshot", err)
			}
			return
		}
		// Whatever loads saves, loads again and keeps its hash.
		again, err := access.Load(bytes.NewReader(saveBytes(t, s)))
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
		if again.Hash() != s.Hash() {
			t.Fatal("hash changed on reload")
		}
	})
}
