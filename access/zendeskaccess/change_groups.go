package zendeskaccess

import (
	"context"
	"fmt"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// grantGroup adds u to t's group (see Grant); the group is known to exist.
func (b *Backend) grantGroup(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if !u.IsTeamMember() {
		if !b.cfg.promote {
			return res, &NotAgentError{UserID: u.ID, Role: u.Role, EntitlementID: t.eid}
		}
		removed, err := b.sideEffects(ctx, u, zendesk.RoleAgent)
		if err != nil {
			return res, err
		}
		nu, err := b.setRole(ctx, u, zendesk.RoleAgent)
		if err != nil {
			return res, err
		}
		res.Replaced = append(b.roleGrantOf(u, u.Role), removed...)
		res.Added = b.roleGrantOf(nu, zendesk.RoleAgent)
		res.Note = fmt.Sprintf("promoted user %d from end user to agent (WithPromoteEndUsers)", u.ID)
		u = nu
	}
	promoted := res.Note != ""
	m, _, err := b.client.GroupMemberships.Create(ctx, u.ID, t.id)
	switch {
	case err == nil:
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, m.Default)
		return res, nil
	case zendesk.IsDuplicate(err):
		// Already a member, or made one by the promotion (Zendesk puts new
		// agents in the default group).
		res.Status = access.StatusAlreadyGranted
		if promoted {
			res.Status = access.StatusGranted
		}
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, false)
		gs, lerr := b.userGroupGrants(ctx, u)
		if lerr != nil {
			return res, lerr
		}
		for _, g := range gs {
			if g.(*Grant).EntitlementID == t.eid {
				res.Grant = g
			}
		}
		return res, nil
	case invalidNotDuplicate(err), zendesk.IsNotFound(err):
		// Deleted since it was checked.
		if cerr := b.checkGroup(ctx, t.id); cerr != nil {
			err = cerr
		}
	}
	if promoted {
		res.Status = access.StatusIncomplete
		return res, fmt.Errorf("%s, but adding them to group %d failed: %w", res.Note, t.id, err)
	}
	return res, fmt.Errorf("add user %d to group %d: %w", u.ID, t.id, err)
}

// revokeGroup removes u from t's group (see Revoke).
func (b *Backend) revokeGroup(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	var found *Grant
	if u.IsTeamMember() {
		gs, err := b.userGroupGrants(ctx, u)
		if err != nil {
			return res, err
		}
		for _, g := range gs {
			if g.(*Grant).EntitlementID == t.eid {
				found = g.(*Grant)
			}
		}
	}
	if found == nil {
		if err := b.checkGroup(ctx, t.id); err != nil {
			return res, err
		}
		res.Status = access.StatusAlreadyRevoked
		return res, nil
	}
	_, err := b.client.GroupMemberships.Delete(ctx, found.MembershipID)
	switch {
	case zendesk.IsNotFound(err):
		res.Note = fmt.Sprintf("group membership %d was gone when deleted: the delete's answer was lost and its retry found it removed (or it was removed concurrently)", found.MembershipID)
	case err != nil:
		return res, fmt.Errorf("delete group membership %d: %w", found.MembershipID, err)
	}
	res.Status, res.Grant = access.StatusRevoked, found
	return res, nil
}
