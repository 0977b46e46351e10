package accesstest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zgov-io/zgov/access"
)

// alias is another spelling of a real resource ID.
type alias struct {
	id string
	// escaped says the spelling holds a percent escape the grammar refuses,
	// so every backend must answer ErrMalformedID.
	escaped bool
}

// aliases returns other spellings of a resource ID that name the same
// resource in most systems: "+42" and "042" for a number, a percent escape of
// a byte that needs none, a lower-case escape. Each must be refused: a backend
// that accepts one grants under a spelling no snapshot contains, and answers
// a revoke of it "already revoked" while the grant stays.
func aliases(resourceID string) []alias {
	ref, err := access.ParseResourceID(resourceID)
	if err != nil {
		return nil
	}
	native := ref.ID
	var out []alias
	if _, ok := access.ParsePositiveInt(native); ok {
		for _, a := range []string{"+" + native, "0" + native, "00" + native} {
			out = append(out, alias{id: a})
		}
	}
	// Escape the first byte that needs no escaping.
	for i := 0; i < len(native); i++ {
		if c := native[i : i+1]; c != "%" && access.EscapeNativeID(c) == c {
			out = append(out, alias{id: native[:i] + fmt.Sprintf("%%%02X", native[i]) + native[i+1:], escaped: true})
			break
		}
	}
	// Lower-case an escape that has letters.
	if i := strings.IndexByte(native, '%'); i >= 0 && i+2 < len(native) {
		if low := strings.ToLower(native[i : i+3]); low != native[i:i+3] {
			out = append(out, alias{id: native[:i] + low + native[i+3:], escaped: true})
		}
	}
	for i := range out {
		out[i].id = access.ResourceID(ref.Type, out[i].id)
	}
	return out
}

// testAliasedIDs grants, revokes and lists grants under aliased spellings of
// real IDs, through the backend and through access.System: every call must
// fail and change nothing, with ErrMalformedID where the grammar refuses the
// spelling or the resource type declares an IDSyntax other than
// IDSyntaxAny (for which "+42" and "042" are not canonical).
func (s *suite) testAliasedIDs(t *testing.T) {
	b, snap := s.fresh(t)
	if s.h.ReadOnly {
		t.Skip("read-only backend")
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	strict := map[string]bool{}
	for _, rt := range snap.ResourceTypes() {
		strict[rt.ID] = rt.IDSyntax != access.IDSyntaxAny
	}
	type call struct {
		entitlementID, principalID string
		malformed                  bool
	}
	var calls []call
	grant, revoke := s.grantRequest(t, snap), s.revokeRequest(t, snap)
	for _, r := range []access.GrantRequest{grant, access.GrantRequest(revoke)} {
		for _, a := range aliases(r.PrincipalID) {
			calls = append(calls, call{r.EntitlementID, a.id, a.escaped || strict[typeOf(a.id)]})
		}
		e, err := access.ParseEntitlementID(r.EntitlementID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range aliases(e.Resource.String()) {
			calls = append(calls, call{access.EntitlementID(a.id, e.Slug), r.PrincipalID, a.escaped || strict[typeOf(a.id)]})
		}
	}
	if len(calls) == 0 {
		t.Skip("no ID has an aliased spelling")
	}
	type changeFunc func(entitlementID, principalID string) error
	vias := []struct {
		name          string
		grant, revoke changeFunc
	}{
		{"backend",
			func(e, p string) error {
				_, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: e, PrincipalID: p})
				return err
			},
			func(e, p string) error {
				_, err := b.Revoke(t.Context(), access.RevokeRequest{EntitlementID: e, PrincipalID: p})
				return err
			}},
		{"System",
			func(e, p string) error {
				_, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: e, PrincipalID: p})
				return err
			},
			func(e, p string) error {
				_, err := sys.Revoke(t.Context(), access.RevokeRequest{EntitlementID: e, PrincipalID: p})
				return err
			}},
	}
	for _, c := range calls {
		for _, via := range vias {
			for op, fn := range map[string]changeFunc{"Grant": via.grant, "Revoke": via.revoke} {
				err := fn(c.entitlementID, c.principalID)
				switch {
				case err == nil:
					t.Errorf("%s %s(%s, %s) succeeded under an aliased spelling", via.name, op, c.entitlementID, c.principalID)
				case c.malformed && !errors.Is(err, access.ErrMalformedID):
					t.Errorf("%s %s(%s, %s) error = %v, want ErrMalformedID", via.name, op, c.entitlementID, c.principalID, err)
				}
			}
		}
	}
	for _, a := range aliases(grant.PrincipalID) {
		_, err := sys.GrantsFor(t.Context(), a.id)
		switch {
		case err == nil:
			t.Errorf("System.GrantsFor(%s) succeeded under an aliased spelling", a.id)
		case (a.escaped || strict[typeOf(a.id)]) && !errors.Is(err, access.ErrMalformedID):
			t.Errorf("System.GrantsFor(%s) error = %v, want ErrMalformedID", a.id, err)
		}
	}
	if after := s.sync(t, b); after.Hash() != snap.Hash() {
		t.Errorf("requests under aliased IDs changed the backend:\n%s", access.Diff(snap, after))
	}
}

// typeOf returns the type of a resource ID.
func typeOf(resourceID string) string {
	typ, _, _ := strings.Cut(resourceID, ":")
	return typ
}
