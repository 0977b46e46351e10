package zendeskaccess

import (
	"context"
	"fmt"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// GrantsFor returns one user's grants, as a sync would show them, without
// reading the account: GET /users/{id}, then, concurrently, the user's group
// memberships (team members only) and, on an account with multiple
// organizations, their organization memberships (users with an
// organization only). Without multiple organizations the organization comes
// from the user object. A user outside the scope (an end user with
// ScopeTeamMembers), deleted or missing is access.ErrUnknownPrincipal, as
// are principals that are not users.
func (b *Backend) GrantsFor(ctx context.Context, principalID string) ([]access.Grant, error) {
	fail := func(err error) ([]access.Grant, error) {
		return nil, fmt.Errorf("zendeskaccess: grants for %s: %w", principalID, err)
	}
	ref, err := access.ParseResourceID(principalID)
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: grants for: %w", err)
	}
	if ref.Type != TypeUser {
		return fail(fmt.Errorf("only users hold Zendesk grants: %w", access.ErrUnknownPrincipal))
	}
	uid, err := strconv.ParseInt(ref.ID, 10, 64)
	if err != nil || uid <= 0 {
		return fail(fmt.Errorf("%q is not a Zendesk id: %w", ref.ID, access.ErrUnknownPrincipal))
	}
	u, err := b.getUser(ctx, uid)
	if err != nil {
		return fail(err)
	}
	if !b.inScope(u) {
		return fail(fmt.Errorf("user %d is an end user, outside ScopeTeamMembers: %w", uid, access.ErrUnknownPrincipal))
	}
	var out []access.Grant
	if b.cfg.types[TypeRole] && isBuiltIn(u.Role) {
		out = append(out, b.attrs.roleGrant(roleEID(u.Role), u.ID, u.Suspended))
	}
	if b.cfg.types[TypeCustomRole] && u.CustomRoleID != nil {
		out = append(out, b.attrs.roleGrant(customRoleEID(*u.CustomRoleID), u.ID, u.Suspended))
	}
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
			orgs, err = b.userOrgGrants(gctx, u)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	out = append(out, groups...)
	return append(out, orgs...), nil
}

// userOrgGrants returns the organization grants of a user whose
// organization_id is set.
func (b *Backend) userOrgGrants(ctx context.Context, u *zendesk.User) ([]access.Grant, error) {
	multi, err := b.multipleOrgs(ctx, false)
	if err != nil {
		return nil, err
	}
	if !multi {
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
	var out []access.Grant
	for m, err := range b.client.OrganizationMemberships.ListByUser(ctx, u.ID) {
		if err != nil {
			return nil, fmt.Errorf("list organization memberships of user %d: %w", u.ID, err)
		}
		if b.orgSelected(m.OrganizationID, m.OrganizationName) {
			out = append(out, b.attrs.membershipGrant(orgEID(m.OrganizationID), u.ID, m.ID, u.Suspended, m.Default))
		}
	}
	return out, nil
}
