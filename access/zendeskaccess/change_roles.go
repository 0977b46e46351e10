package zendeskaccess

import (
	"context"
	"fmt"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// grantCustomRole gives agent u t's custom role, which is known to exist.
func (b *Backend) grantCustomRole(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if u.CustomRoleID != nil && *u.CustomRoleID == t.id {
		res.Status, res.Grant = access.StatusAlreadyGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
		return res, nil
	}
	if u.Role != zendesk.RoleAgent {
		return res, &NotAgentError{UserID: u.ID, Role: u.Role, EntitlementID: t.eid}
	}
	_, _, err := b.client.Users.Update(ctx, u.ID, &zendesk.UpdateUserRequest{CustomRoleID: zendesk.SetID(t.id)})
	if err != nil {
		return res, fmt.Errorf("set custom role of user %d to %d: %w", u.ID, t.id, err)
	}
	res.Status, res.Grant = access.StatusGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
	if u.CustomRoleID != nil {
		res.Replaced = []access.Grant{b.attrs.roleGrant(customRoleEID(*u.CustomRoleID), u.ID, u.Suspended)}
		res.Note = fmt.Sprintf("an agent holds one custom role: replaced custom role %d", *u.CustomRoleID)
	}
	return res, nil
}

// revokeCustomRole gives u the fallback custom role in place of t's.
func (b *Backend) revokeCustomRole(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if u.CustomRoleID == nil || *u.CustomRoleID != t.id {
		if err := b.checkCustomRole(ctx, t.id); err != nil {
			return res, err
		}
		res.Status = access.StatusAlreadyRevoked
		return res, nil
	}
	fallback := b.cfg.fallbackRole
	switch {
	case fallback == 0:
		return res, fmt.Errorf("an agent must hold a custom role: %w (%w)", ErrNoFallbackRole, access.ErrNotGrantable)
	case fallback == t.id:
		return res, fmt.Errorf("custom role %d is the fallback role (WithCustomRoleFallback): grant the user another custom role instead: %w", t.id, access.ErrNotGrantable)
	}
	if _, _, err := b.client.Users.Update(ctx, u.ID, &zendesk.UpdateUserRequest{CustomRoleID: zendesk.SetID(fallback)}); err != nil {
		return res, fmt.Errorf("set custom role of user %d to fallback %d: %w", u.ID, fallback, err)
	}
	res.Status, res.Grant = access.StatusRevoked, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
	res.Added = []access.Grant{b.attrs.roleGrant(customRoleEID(fallback), u.ID, u.Suspended)}
	res.Note = fmt.Sprintf("gave user %d the fallback custom role %d", u.ID, fallback)
	return res, nil
}

// roleChange is what a change of built-in role did besides the role itself.
type roleChange struct {
	Added, Replaced []access.Grant
}

// changeRole sets u's built-in role and says what else changed: the
// previous role and what Zendesk removes with it (Replaced), and for an end
// user who becomes an agent or admin the group memberships Zendesk gives
// them (Added: it puts new agents in the default group), read back after the
// change. The user it returns is nil if the role was not changed; on an error
// after the role was set, it and the change are returned with the error.
func (b *Backend) changeRole(ctx context.Context, u *zendesk.User, role zendesk.Role) (*zendesk.User, roleChange, error) {
	var c roleChange
	removed, err := b.sideEffects(ctx, u, role)
	if err != nil {
		return nil, c, err
	}
	nu, err := b.setRole(ctx, u, role)
	if err != nil {
		return nil, c, err
	}
	c.Replaced = append(b.roleGrantOf(u, u.Role), removed...)
	c.Added = b.roleGrantOf(nu, role)
	if u.Role == zendesk.RoleEndUser && role != zendesk.RoleEndUser && b.cfg.types[TypeGroup] {
		gs, err := b.userGroupGrants(ctx, nu)
		if err != nil {
			return nu, c, fmt.Errorf("changed user %d from %s to %s, but reading the groups Zendesk gave them failed: %w", u.ID, u.Role, role, err)
		}
		c.Added = append(c.Added, gs...)
	}
	return nu, c, nil
}

// grantRole changes u's built-in role to t's.
func (b *Backend) grantRole(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if u.Role == t.role {
		res.Status, res.Grant = access.StatusAlreadyGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
		return res, nil
	}
	nu, changed, err := b.changeRole(ctx, u, t.role)
	if nu == nil {
		return res, err // nothing changed
	}
	res.Status, res.Grant = access.StatusGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
	res.Replaced = changed.Replaced
	for _, g := range changed.Added { // the role itself is the named grant
		if g.(*Grant).EntitlementID != t.eid {
			res.Added = append(res.Added, g)
		}
	}
	if err != nil {
		return res, err
	}
	res.Note = fmt.Sprintf("a user holds one built-in role: changed user %d from %s to %s", u.ID, u.Role, t.role)
	return res, nil
}

// revokeRole demotes u one step below t's role.
func (b *Backend) revokeRole(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if u.Role != t.role {
		res.Status = access.StatusAlreadyRevoked
		return res, nil
	}
	var lower zendesk.Role
	switch t.role {
	case zendesk.RoleAdmin:
		lower = zendesk.RoleAgent
	case zendesk.RoleAgent:
		lower = zendesk.RoleEndUser
	default:
		return res, fmt.Errorf("end user is the lowest role and cannot be revoked: grant another role, or delete the user: %w", access.ErrNotGrantable)
	}
	_, changed, err := b.changeRole(ctx, u, lower)
	if err != nil {
		return res, err
	}
	res.Status, res.Grant = access.StatusRevoked, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
	res.Added = changed.Added
	for _, g := range changed.Replaced { // the role itself is the named grant
		if g.(*Grant).EntitlementID != t.eid {
			res.Replaced = append(res.Replaced, g)
		}
	}
	res.Note = fmt.Sprintf("demoted user %d from %s to %s", u.ID, t.role, lower)
	if lower == zendesk.RoleEndUser {
		res.Note += " (Zendesk removes an end user's group memberships and custom role)"
	}
	return res, nil
}
