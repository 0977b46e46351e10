package zendeskaccess

import (
	"context"
	"fmt"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

var _ access.HolderLister = (*Backend)(nil)

// Holders implements access.HolderLister for the entitlements whose holders
// Zendesk's user list filters: built-in roles (GET /users?role=admin) and
// custom roles (GET /users?permission_set=<id>, after the custom role is
// confirmed to exist as Grant confirms it). Each costs one request per 100
// holders: the admins of most accounts are one request. The holders are
// those a sync shows: active users in the scope, suspended ones included
// (with ScopeTeamMembers role:end-user:assigned has none, answered without
// a request). The account owner is among the admins, as Zendesk lists them.
// Group and organization members have no such filter (a sync reads them
// account-wide): their holders are access.ErrUnsupported.
func (b *Backend) Holders(ctx context.Context, entitlementID string) ([]string, error) {
	e, err := access.ParseEntitlementID(entitlementID)
	if err == nil {
		err = checkNumeric("entitlement", entitlementID, e.Resource)
	}
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: holders: %w", err)
	}
	t, err := b.entitlementTarget(e)
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: holders of %s: %w", entitlementID, err)
	}
	var opts zendesk.UserListOptions
	switch t.kind {
	case TypeRole:
		if t.role == zendesk.RoleEndUser && b.cfg.scope == ScopeTeamMembers {
			return []string{}, nil // end users are outside the scope
		}
		opts.Roles = []zendesk.Role{t.role}
	case TypeCustomRole:
		if err := b.checkCustomRole(ctx, t.id); err != nil {
			return nil, fmt.Errorf("zendeskaccess: holders of %s: %w", entitlementID, err)
		}
		opts.PermissionSet = t.id
	default:
		return nil, fmt.Errorf("zendeskaccess: holders of %s: Zendesk's user list has no filter for %s members: %w", entitlementID, t.kind, access.ErrUnsupported)
	}
	out := []string{}
	for u, err := range b.client.Users.List(ctx, &opts) {
		if err != nil {
			return nil, fmt.Errorf("zendeskaccess: holders of %s: list users: %w", entitlementID, err)
		}
		// The user object decides, as in a sync, whatever the filter let
		// through.
		holds := u.Role == t.role
		if t.kind == TypeCustomRole {
			holds = u.CustomRoleID != nil && *u.CustomRoleID == t.id
		}
		if holds && b.inScope(&u) {
			out = append(out, userRID(u.ID))
		}
	}
	return out, nil
}
