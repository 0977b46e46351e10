package zendeskaccess

import (
	"context"
	"fmt"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// grantOrganization adds u to t's organization (see Grant); the
// organization is known to exist and pass the filter. What the user belongs
// to is known before the create (from organization_id when it is unset, or
// else from a read of their memberships), so that a duplicate answer to the
// create means the create took effect (its first answer was lost) or someone
// added the membership meanwhile: StatusGranted either way, since the user
// was not a member when the call began.
func (b *Backend) grantOrganization(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	// A user in another organization would be moved if the setting were
	// off, so for them it is read afresh: a setting turned off since the
	// last sync must not let the create below move the user unannounced.
	mayMove := u.OrganizationID != nil && *u.OrganizationID != t.id
	multi, err := b.multipleOrgs(ctx, mayMove)
	if err != nil {
		return res, err
	}
	if u.OrganizationID != nil && *u.OrganizationID == t.id {
		res.Status = access.StatusAlreadyGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, true)
		return res, nil
	}
	var current []zendesk.OrganizationMembership
	if u.OrganizationID != nil {
		// Turning the setting off keeps the memberships users had, so even
		// without it the user may already be a member, or be in more than
		// organization_id.
		if current, err = b.userOrgMemberships(ctx, u.ID); err != nil {
			return res, err
		}
		for _, m := range current {
			if m.OrganizationID == t.id {
				res.Status = access.StatusAlreadyGranted
				res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, m.Default)
				return res, nil
			}
		}
		if !multi {
			return b.moveOrganization(ctx, t, u, *u.OrganizationID, current)
		}
	}
	m, _, err := b.client.OrganizationMemberships.Create(ctx, u.ID, t.id)
	switch {
	case err == nil:
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, m.Default)
		return res, nil
	case zendesk.IsDuplicate(err):
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, u.OrganizationID == nil)
		res.Note = "Zendesk answered that the membership exists, though the user was not a member when the grant began: the create's first answer was lost and its retry found it (or it was added concurrently)"
		return res, nil
	case invalidNotDuplicate(err), zendesk.IsNotFound(err):
		if cerr := b.checkOrganization(ctx, t.id); cerr != nil {
			return res, cerr
		}
	}
	return res, fmt.Errorf("add user %d to organization %d: %w", u.ID, t.id, err)
}

// userOrgMemberships lists a user's organization memberships.
func (b *Backend) userOrgMemberships(ctx context.Context, userID int64) ([]zendesk.OrganizationMembership, error) {
	var out []zendesk.OrganizationMembership
	for m, err := range b.client.OrganizationMemberships.ListByUser(ctx, userID) {
		if err != nil {
			return nil, fmt.Errorf("list organization memberships of user %d: %w", userID, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// moveOrganization moves u from its organizations (before; from is the
// default) to t's on an account without multiple organizations, if the
// OrgMode allows it (OrgModeReplace) and every organization it would leave
// is one the backend manages (WithOrganizations): a grant never removes
// access the caller did not name, or access outside the backend's scope.
// Zendesk itself moves the user when another membership is created; if it
// refuses instead, the old memberships are removed first. Afterwards the
// user's memberships are read again, and every one of before that is gone is
// reported in Replaced: what was removed, not what was expected to be.
func (b *Backend) moveOrganization(ctx context.Context, t target, u *zendesk.User, from int64, before []zendesk.OrganizationMembership) (access.Result, error) {
	if b.cfg.orgMode != OrgModeReplace {
		return access.Result{}, &OrganizationMoveError{UserID: u.ID, From: from, To: t.id}
	}
	for _, m := range before {
		if !b.orgSelected(m.OrganizationID, m.OrganizationName) {
			return access.Result{}, &OrganizationMoveError{UserID: u.ID, From: m.OrganizationID, To: t.id, Unmanaged: true}
		}
	}
	res := access.Result{
		Note: fmt.Sprintf("moved user %d from organization %d to %d: the account allows one organization per user", u.ID, from, t.id),
	}
	var unassigned []zendesk.OrganizationMembership // removed by this call, known without a re-read
	m, _, err := b.client.OrganizationMemberships.Create(ctx, u.ID, t.id)
	if invalidNotDuplicate(err) {
		err = nil
		for _, old := range before {
			_, uerr := b.client.OrganizationMemberships.Unassign(ctx, u.ID, old.OrganizationID)
			if uerr != nil && !zendesk.IsNotFound(uerr) {
				err = fmt.Errorf("move user %d out of organization %d: %w", u.ID, old.OrganizationID, uerr)
				break
			}
			unassigned = append(unassigned, old)
		}
		if err == nil {
			m, _, err = b.client.OrganizationMemberships.Create(ctx, u.ID, t.id)
			if err != nil {
				err = fmt.Errorf("add user %d to organization %d after removing their others: %w", u.ID, t.id, err)
			}
		}
	} else if err != nil {
		err = fmt.Errorf("move user %d to organization %d: %w", u.ID, t.id, err)
	}
	after, rerr := b.userOrgMemberships(ctx, u.ID)
	if rerr != nil {
		switch {
		case err == nil:
			// The move happened; what it removed is what Zendesk removes.
			res.Status = access.StatusGranted
			res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, true)
			res.Replaced = b.orgGrants(u, before)
			return res, fmt.Errorf("moved user %d to organization %d, but re-reading their memberships failed: %w", u.ID, t.id, rerr)
		case len(unassigned) > 0:
			// Removed some, failed to add, cannot re-read: report what this
			// call is known to have removed.
			res.Status = access.StatusIncomplete
			res.Replaced = b.orgGrants(u, unassigned)
			return res, fmt.Errorf("%w (and re-reading their memberships failed: %w)", err, rerr)
		}
		return res, err
	}
	now := map[int64]zendesk.OrganizationMembership{}
	for _, a := range after {
		now[a.OrganizationID] = a
	}
	var gone []zendesk.OrganizationMembership
	for _, old := range before {
		if _, ok := now[old.OrganizationID]; !ok {
			gone = append(gone, old)
		}
	}
	res.Replaced = b.orgGrants(u, gone)
	if nm, ok := now[t.id]; ok {
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, nm.ID, u.Suspended, nm.Default)
		return res, nil
	}
	if err == nil {
		err = fmt.Errorf("moved user %d to organization %d, but a re-read does not show the membership (changed concurrently?)", u.ID, t.id)
	}
	res.Status = access.StatusIncomplete
	return res, err
}

// orgGrants turns memberships of u that pass the filter into grants.
func (b *Backend) orgGrants(u *zendesk.User, ms []zendesk.OrganizationMembership) []access.Grant {
	var out []access.Grant
	for _, m := range ms {
		if b.orgSelected(m.OrganizationID, m.OrganizationName) {
			out = append(out, b.attrs.membershipGrant(orgEID(m.OrganizationID), u.ID, m.ID, u.Suspended, m.Default))
		}
	}
	return out
}

// revokeOrganization removes u from t's organization (see Revoke).
func (b *Backend) revokeOrganization(ctx context.Context, t target, u *zendesk.User) (access.Result, error) {
	var res access.Result
	if b.orgFilterByName() {
		if err := b.checkOrganization(ctx, t.id); err != nil {
			return res, err
		}
	}
	if b.cfg.orgMode == OrgModeMultiple {
		if _, err := b.multipleOrgs(ctx, false); err != nil {
			return res, err
		}
	}
	// Find the membership first, so that a 404 to the delete below means
	// the delete (or its lost first attempt) removed it.
	member := u.OrganizationID != nil && *u.OrganizationID == t.id
	var found *zendesk.OrganizationMembership
	if !member && u.OrganizationID != nil {
		ms, err := b.userOrgMemberships(ctx, u.ID)
		if err != nil {
			return res, err
		}
		for i := range ms {
			if ms[i].OrganizationID == t.id {
				found, member = &ms[i], true
			}
		}
	}
	if !member {
		if err := b.checkOrganization(ctx, t.id); err != nil {
			return res, err
		}
		res.Status = access.StatusAlreadyRevoked
		return res, nil
	}
	_, err := b.client.OrganizationMemberships.Unassign(ctx, u.ID, t.id)
	switch {
	case zendesk.IsNotFound(err):
		res.Note = fmt.Sprintf("user %d's membership of organization %d was gone when deleted: the delete's answer was lost and its retry found it removed (or it was removed concurrently)", u.ID, t.id)
	case err != nil:
		return res, fmt.Errorf("remove user %d from organization %d: %w", u.ID, t.id, err)
	}
	res.Status = access.StatusRevoked
	if found != nil {
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, found.ID, u.Suspended, found.Default)
	} else {
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, true)
	}
	return res, nil
}
