package provision

import (
	"github.com/zgov-io/zgov/access"
)

// ChangeKind is what a Change does.
type ChangeKind string

// The kinds of Change.
const (
	// ChangeCreateAccount gives a person who has no account one.
	ChangeCreateAccount ChangeKind = "create_account"
	// ChangeGrant grants an entitlement.
	ChangeGrant ChangeKind = "grant"
	// ChangeRevoke revokes an entitlement.
	ChangeRevoke ChangeKind = "revoke"
	// ChangeDeprovision takes one step of the deprovisioning ladder.
	ChangeDeprovision ChangeKind = "deprovision"
)

// Change is one change to access: what a plan lists, what guards check and
// what apply carries out and journals.
type Change struct {
	// ID identifies the change within a plan, deterministically: the kind
	// and what it is about, such as "grant group:1:member@user:42" or
	// "create_account ann@example.com".
	ID string `json:"id"`
	// Kind says what the change does.
	Kind ChangeKind `json:"kind"`
	// PrincipalID is the account the change is about. For a change to a
	// person who has no account yet it is empty, and Person says who.
	PrincipalID string `json:"principal_id,omitempty"`
	// Person is who a create (or a grant awaiting one) is for.
	Person *access.Person `json:"person,omitempty"`
	// EntitlementID is the entitlement granted or revoked.
	EntitlementID string `json:"entitlement_id,omitempty"`
	// Role is the role of a created account (empty: the backend's default).
	Role string `json:"role,omitempty"`
	// Step is the deprovisioning step.
	Step access.DeprovisionStep `json:"step,omitempty"`
	// Removes lists the grants the change is expected to take away besides
	// a revoked one: what an exclusive grant replaces, what a downgrade or
	// a deletion removes.
	Removes []string `json:"removes,omitempty"`
	// SideEffects say in words what the change does in the system beyond
	// itself ("moves the user out of organization 7").
	SideEffects []string `json:"side_effects,omitempty"`
	// Blocked is the guard that refuses the change, if any.
	Blocked *GuardError `json:"blocked,omitempty"`
}

// destructive reports whether the change takes anything away: a revoke, a
// deprovisioning step, a grant that replaces another.
func (c Change) destructive() bool {
	switch c.Kind {
	case ChangeRevoke:
		return true
	case ChangeDeprovision:
		return c.Step.Destructive()
	case ChangeGrant:
		return len(c.Removes) > 0
	}
	return false
}
