package zendeskaccess

import (
	"errors"
	"fmt"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

var (
	// ErrOrganizationMove means a grant would move a user out of their
	// organization on an account without multiple organizations, and the
	// OrgMode (OrgModeRefuse, the default) forbids it. Nothing was
	// changed. Errors wrapping it are of type *OrganizationMoveError.
	ErrOrganizationMove = errors.New("grant would move the user to another organization")

	// ErrMultipleOrganizationsOff means OrgModeMultiple is set but the
	// account does not allow multiple organizations per user.
	ErrMultipleOrganizationsOff = errors.New("the account does not allow multiple organizations per user (user.multiple_organizations is off)")

	// ErrNoFallbackRole means a custom role cannot be revoked because no
	// fallback role was configured with WithCustomRoleFallback. Errors
	// wrapping it also wrap access.ErrNotGrantable.
	ErrNoFallbackRole = errors.New("no fallback custom role configured (WithCustomRoleFallback)")
)

// OrganizationMoveError reports a grant refused because it would move a user
// from one organization to another. It matches ErrOrganizationMove and
// access.ErrNotGrantable with errors.Is.
type OrganizationMoveError struct {
	// UserID is the user the grant was for.
	UserID int64
	// From is the organization the user belongs to.
	From int64
	// To is the organization the grant named.
	To int64
	// Unmanaged is set when From is outside the WithOrganizations filter:
	// the move is refused even with OrgModeReplace, because the backend
	// does not remove access it does not manage.
	Unmanaged bool
}

// Error says who would have moved where and how to allow it.
func (e *OrganizationMoveError) Error() string {
	if e.Unmanaged {
		return fmt.Sprintf("user %d belongs to organization %d, outside WithOrganizations, and the account allows one organization per user: "+
			"adding organization %d would remove access this backend does not manage", e.UserID, e.From, e.To)
	}
	return fmt.Sprintf("user %d belongs to organization %d and the account allows one organization per user: "+
		"adding organization %d would remove it (use OrgModeReplace to allow that)", e.UserID, e.From, e.To)
}

// Is reports whether target is ErrOrganizationMove or access.ErrNotGrantable.
func (e *OrganizationMoveError) Is(target error) bool {
	return target == ErrOrganizationMove || target == access.ErrNotGrantable
}

// NotAgentError reports a grant that needs an agent (group membership,
// custom role) made to a user with another role. It matches
// access.ErrNotGrantable with errors.Is.
type NotAgentError struct {
	// UserID is the user the grant was for.
	UserID int64
	// Role is the user's built-in role.
	Role zendesk.Role
	// EntitlementID is the entitlement that was to be granted.
	EntitlementID string
}

// Error says what the user is and what would be needed.
func (e *NotAgentError) Error() string {
	switch e.Role {
	case zendesk.RoleEndUser:
		return fmt.Sprintf("user %d is an end user and only agents can hold %s (grant role:agent:assigned first, or use WithPromoteEndUsers for groups)", e.UserID, e.EntitlementID)
	default:
		return fmt.Sprintf("user %d is an %s and only agents can hold %s", e.UserID, e.Role, e.EntitlementID)
	}
}

// Is reports whether target is access.ErrNotGrantable.
func (e *NotAgentError) Is(target error) bool { return target == access.ErrNotGrantable }
