package zendeskaccess

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// GrantsFor returns one user's grants exactly as a sync would show them,
// without reading the account: GET /users/{id}, then, concurrently, the
// user's group memberships (team members only) and, where a sync reads
// organization memberships (an account with multiple organizations, or an
// explicit WithMembershipStrategy), their organization memberships (users
// with an organization only). Otherwise the organization comes from the user
// object. Grants of resources a sync leaves out are left out here too: a
// custom role the account does not list, an organization outside the
// WithOrganizations filter. A user outside the scope (an end user with
// ScopeTeamMembers), deleted or missing is access.ErrUnknownPrincipal, as
// are principals that are not users; a non-canonical id is
// access.ErrMalformedID.
func (b *Backend) GrantsFor(ctx context.Context, principalID string) ([]access.Grant, error) {
	fail := func(err error) ([]access.Grant, error) {
		return nil, fmt.Errorf("zendeskaccess: grants for %s: %w", principalID, err)
	}
	ref, err := access.ParseResourceID(principalID)
	if err == nil {
		err = checkNumeric("resource", principalID, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: grants for: %w", err)
	}
	if ref.Type != TypeUser {
		return fail(fmt.Errorf("only users hold Zendesk grants: %w", access.ErrUnknownPrincipal))
	}
	uid, _ := access.ParsePositiveInt(ref.ID)
	var (
		u  *zendesk.User
		st *accountState
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { var err error; u, err = b.getUser(gctx, uid); return err })
	g.Go(func() error { var err error; st, err = b.currentState(gctx); return err })
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	if err := b.requireMultiple(st); err != nil {
		return fail(err)
	}
	if !b.inScope(u) {
		return fail(fmt.Errorf("user %d is an end user, outside ScopeTeamMembers: %w", uid, access.ErrUnknownPrincipal))
	}
	gs, err := b.userGrants(ctx, u, st)
	if err != nil {
		return fail(err)
	}
	return gs, nil
}

// userGrants returns the grants user u holds, as a sync shows them: those
// on the user object, and the group and organization memberships read with
// one request each, concurrently.
func (b *Backend) userGrants(ctx context.Context, u *zendesk.User, st *accountState) ([]access.Grant, error) {
	out := b.userObjectGrants(u, st.hasCustomRole)
	var groups, orgs []access.Grant
	g, gctx := errgroup.WithContext(ctx)
	if b.cfg.types[TypeGroup] && u.IsTeamMember() {
		g.Go(func() error {
			var err error
			groups, err = b.userGroupGrants(gctx, u)
			return err
		})
	}
	if b.cfg.types[TypeOrganization] && u.OrganizationID != nil {
		g.Go(func() error {
			var err error
			orgs, err = b.userOrgGrants(gctx, u, st)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out = append(out, groups...)
	return append(out, orgs...), nil
}

// userObjectGrants returns the grants a user object shows by itself: the
// built-in role, and the custom role if knownRole says the account lists
// it. The users stream and GrantsFor both use it, so they cannot disagree.
func (b *Backend) userObjectGrants(u *zendesk.User, knownRole func(int64) bool) []access.Grant {
	out := b.roleGrantOf(u, u.Role)
	if b.cfg.types[TypeCustomRole] && u.CustomRoleID != nil && knownRole(*u.CustomRoleID) {
		out = append(out, b.attrs.roleGrant(customRoleEID(*u.CustomRoleID), u.ID, u.Suspended))
	}
	return out
}

// hasCustomRole reports whether the account lists custom role id.
func (st *accountState) hasCustomRole(id int64) bool {
	if !st.customRolesOK {
		return false
	}
	for _, cr := range st.customRoles {
		if cr.ID == id {
			return true
		}
	}
	return false
}

// userOrgGrants returns the organization grants of a user whose
// organization_id is set, read as a sync reads them (readsOrgMemberships).
func (b *Backend) userOrgGrants(ctx context.Context, u *zendesk.User, st *accountState) ([]access.Grant, error) {
	if b.readsOrgMemberships(st) {
		ms, err := b.userOrgMemberships(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		return b.orgGrants(u, ms), nil
	}
	id := *u.OrganizationID
	if b.orgFilterByName() && !b.orgSelected(id, "") {
		o, _, err := b.client.Organizations.Get(ctx, id)
		if zendesk.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read organization %d: %w", id, err)
		}
		if !b.orgSelected(id, o.Name) {
			return nil, nil
		}
	} else if !b.orgSelected(id, "") {
		return nil, nil
	}
	return []access.Grant{b.attrs.membershipGrant(orgEID(id), u.ID, 0, u.Suspended, true)}, nil
}
