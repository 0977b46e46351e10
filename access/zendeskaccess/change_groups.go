package zendeskaccess

import (
	"context"
	"fmt"
	"strings"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// grantGroup adds u to t's group (see Grant); the group is known to exist.
// The user's memberships are read first: a member needs no write, and for
// one who was not, a duplicate answer to the create means the create took
// effect (its first answer was lost and the client's retry found the
// membership) or someone added it meanwhile; either way the user was not a
// member when the call began and is one now, so it is StatusGranted.
func (b *Backend) grantGroup(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if !u.IsTeamMember() {
		if !b.cfg.promote {
			return res, &NotAgentError{UserID: u.ID, Role: u.Role, EntitlementID: t.eid}
		}
		nu, changed, err := b.changeRole(ctx, u, zendesk.RoleAgent)
		res.Added, res.Replaced = changed.Added, changed.Replaced
		if err != nil {
			if nu != nil {
				res.Status = access.StatusIncomplete
			}
			return res, err
		}
		res.Note = fmt.Sprintf("promoted user %d from end user to agent (WithPromoteEndUsers)", u.ID)
		u = nu
	}
	promoted := res.Note != ""
	// The memberships now: for a promoted user, changeRole has just read
	// them (Zendesk puts a new agent in the default group, which may be
	// this one).
	var current []access.Grant
	if promoted {
		current = res.Added
	} else {
		var err error
		if current, err = b.userGroupGrants(ctx, u); err != nil {
			return res, err
		}
	}
	for i, g := range current {
		if g.(*Grant).EntitlementID == t.eid {
			res.Grant = g
			if promoted {
				res.Status = access.StatusGranted
				res.Added = append(current[:i:i], current[i+1:]...)
			} else {
				res.Status = access.StatusAlreadyGranted
			}
			return res, nil
		}
	}
	m, _, err := b.client.GroupMemberships.Create(ctx, u.ID, t.id)
	switch {
	case err == nil:
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, m.Default)
		return res, nil
	case zendesk.IsDuplicate(err):
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, false)
		res.Note = strings.TrimPrefix(res.Note+"; ", "; ") + "Zendesk answered that the membership exists, though the user was not a member when the grant began: the create's first answer was lost and its retry found it (or it was added concurrently)"
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
