package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/zgov-io/zgov/access"
)

// Basis fingerprints what was seen of one principal: whether it exists and
// is suspended, and the IDs of its grants on the backend's object types
// (access.PrincipalReader.ObjectTypes: what a cheap read of the principal
// shows). A plan records each principal's basis from its snapshot; apply
// recomputes it from access.PrincipalReader.ReadPrincipals and carries a
// principal's changes out only if the two agree.
func Basis(exists, suspended bool, grantIDs []string) string {
	ids := slices.Clone(grantIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	h := sha256.New()
	switch {
	case !exists:
		h.Write([]byte("absent\n"))
	case suspended:
		h.Write([]byte("suspended\n"))
	default:
		h.Write([]byte("active\n"))
	}
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// onTypes keeps the grant IDs whose entitlement is on one of types.
func onTypes(grantIDs []string, types []string) []string {
	var out []string
	for _, id := range grantIDs {
		typ, _, _ := strings.Cut(id, ":")
		if slices.Contains(types, typ) {
			out = append(out, id)
		}
	}
	return out
}

// SnapshotBasis is the Basis of principalID as snap shows it.
func SnapshotBasis(snap *access.Snapshot, principalID string, objectTypes []string) string {
	r, ok := snap.Resource(principalID)
	if !ok {
		return Basis(false, false, nil)
	}
	var ids []string
	suspended := r.Attributes()["suspended"] == "true"
	for _, g := range snap.GrantsFor(principalID) {
		ids = append(ids, g.ID())
		if g.Attributes()["principal_suspended"] == "true" {
			suspended = true
		}
	}
	return Basis(true, suspended, onTypes(ids, objectTypes))
}

// StateBasis is the Basis of a principal as access.PrincipalReader read it.
func StateBasis(st access.PrincipalState, objectTypes []string) string {
	ids := make([]string, 0, len(st.Grants))
	for _, g := range st.Grants {
		ids = append(ids, g.ID())
	}
	return Basis(st.Exists, st.Suspended, onTypes(ids, objectTypes))
}
