package zendeskaccess

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// target is a parsed, checked grant or revoke request.
type target struct {
	kind   string       // resource type of the entitlement
	id     int64        // group, organization or custom role id
	role   zendesk.Role // built-in role, for kind role
	userID int64
	eid    string // entitlement ID
}

// parseTarget checks a request against what the backend holds. Errors wrap
// access.ErrMalformedID, ErrUnknownEntitlement, ErrNotGrantable or
// ErrUnknownPrincipal.
func (b *Backend) parseTarget(ref access.GrantRef) (target, error) {
	e := ref.Entitlement
	t := target{kind: e.Resource.Type, eid: e.String()}
	if !b.cfg.types[t.kind] || t.kind == TypeUser {
		return t, fmt.Errorf("%s: no resources of type %q: %w", t.eid, t.kind, access.ErrUnknownEntitlement)
	}
	want := SlugMember
	if t.kind == TypeCustomRole || t.kind == TypeRole {
		want = SlugAssigned
	}
	if e.Slug != want {
		return t, fmt.Errorf("%s: %s resources offer only %q: %w", t.eid, t.kind, want, access.ErrUnknownEntitlement)
	}
	if t.kind == TypeRole {
		t.role = zendesk.Role(e.Resource.ID)
		if !isBuiltIn(t.role) {
			return t, fmt.Errorf("%s: no built-in role %q (want end-user, agent or admin): %w", t.eid, e.Resource.ID, access.ErrUnknownEntitlement)
		}
	} else {
		id, err := strconv.ParseInt(e.Resource.ID, 10, 64)
		if err != nil || id <= 0 {
			return t, fmt.Errorf("%s: %q is not a Zendesk id: %w", t.eid, e.Resource.ID, access.ErrUnknownEntitlement)
		}
		t.id = id
	}
	if t.kind == TypeOrganization && !b.orgFilterByName() && !b.orgSelected(t.id, "") {
		return t, fmt.Errorf("%s: organization %d is outside the WithOrganizations filter: %w", t.eid, t.id, access.ErrUnknownEntitlement)
	}
	if ref.Principal.Type != TypeUser {
		return t, fmt.Errorf("%s is a %s: only users hold Zendesk entitlements: %w", ref.Principal, ref.Principal.Type, access.ErrNotGrantable)
	}
	uid, err := strconv.ParseInt(ref.Principal.ID, 10, 64)
	if err != nil || uid <= 0 {
		return t, fmt.Errorf("%s: %q is not a Zendesk id: %w", ref.Principal, ref.Principal.ID, access.ErrUnknownPrincipal)
	}
	t.userID = uid
	return t, nil
}

func isBuiltIn(r zendesk.Role) bool {
	return r == zendesk.RoleEndUser || r == zendesk.RoleAgent || r == zendesk.RoleAdmin
}

// Grant grants an entitlement to a user. Every grant first reads the user
// (GET /users/{id}); then:
//
//   - group:<id>:member: POST /group_memberships. End users cannot be group
//     members: the grant fails with a *NotAgentError, or, with
//     WithPromoteEndUsers, promotes the user to agent first.
//   - organization:<id>:member: POST /organization_memberships, following the
//     OrgMode on an account without multiple organizations (a move is
//     refused with an *OrganizationMoveError, or done and reported in
//     GrantResult.Replaced). For a user in another organization the setting
//     is read afresh (GET /account/settings) and, when it is off, so are the
//     user's memberships, which may be several if the setting was on once.
//   - custom_role:<id>:assigned: PUT /users/{id} with custom_role_id (agents
//     only); the previous custom role is reported in Replaced.
//   - role:<name>:assigned: PUT /users/{id} with role; the previous role, and
//     what Zendesk removes with it (the custom role of an agent who becomes
//     an admin or end user, the group memberships of one who becomes an end
//     user), are reported in Replaced.
//
// A create that Zendesk answers with a duplicate (422 DuplicateValue) is
// StatusAlreadyGranted, as is a user who already holds the entitlement.
func (b *Backend) Grant(ctx context.Context, req access.GrantRequest) (access.GrantResult, error) {
	fail := func(err error) (access.GrantResult, error) {
		return access.GrantResult{}, fmt.Errorf("zendeskaccess: grant %s: %w", req.GrantID(), err)
	}
	ref, err := req.Validate()
	if err != nil {
		return access.GrantResult{}, fmt.Errorf("zendeskaccess: grant: %w", err)
	}
	t, u, err := b.resolve(ctx, ref)
	if err != nil {
		return fail(err)
	}
	var res access.GrantResult
	switch t.kind {
	case TypeGroup:
		res, err = b.grantGroup(ctx, t, u)
	case TypeOrganization:
		res, err = b.grantOrganization(ctx, t, u)
	case TypeCustomRole:
		res, err = b.grantCustomRole(ctx, t, u)
	case TypeRole:
		res, err = b.grantRole(ctx, t, u)
	}
	if err != nil {
		return fail(err)
	}
	return res, nil
}

// Revoke removes a grant. Every revoke first reads the user; then:
//
//   - group:<id>:member: the user's memberships (GET
//     /users/{id}/group_memberships), then DELETE /group_memberships/{id}.
//   - organization:<id>:member: DELETE /users/{id}/organizations/{id}, which
//     needs no membership id and works with or without multiple
//     organizations.
//   - custom_role:<id>:assigned: PUT /users/{id} with the WithCustomRoleFallback
//     role; without one it fails with ErrNoFallbackRole.
//   - role:admin:assigned demotes to agent and role:agent:assigned to end user
//     (Zendesk then removes the user's group memberships and custom role).
//     role:end-user:assigned cannot be revoked: end user is the lowest role,
//     so the revoke fails with access.ErrNotGrantable (grant another role, or
//     delete the user, instead). Revoking a role the user does not hold is
//     StatusAlreadyRevoked.
//
// A delete that Zendesk answers with 404 is StatusAlreadyRevoked.
func (b *Backend) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	fail := func(err error) (access.RevokeResult, error) {
		return access.RevokeResult{}, fmt.Errorf("zendeskaccess: revoke %s: %w", req.GrantID(), err)
	}
	ref, err := req.Validate()
	if err != nil {
		return access.RevokeResult{}, fmt.Errorf("zendeskaccess: revoke: %w", err)
	}
	t, u, err := b.resolve(ctx, ref)
	if err != nil {
		return fail(err)
	}
	var res access.RevokeResult
	switch t.kind {
	case TypeGroup:
		res, err = b.revokeGroup(ctx, t, u)
	case TypeOrganization:
		res, err = b.revokeOrganization(ctx, t, u)
	case TypeCustomRole:
		res, err = b.revokeCustomRole(ctx, t, u)
	case TypeRole:
		res, err = b.revokeRole(ctx, t, u)
	}
	if err != nil {
		return fail(err)
	}
	return res, nil
}

// resolve turns a validated grant reference into its target and reads the user it
// names: the first step of every Grant and Revoke.
func (b *Backend) resolve(ctx context.Context, ref access.GrantRef) (target, *zendesk.User, error) {
	t, err := b.parseTarget(ref)
	if err != nil {
		return target{}, nil, err
	}
	u, err := b.getUser(ctx, t.userID)
	if err != nil {
		return target{}, nil, err
	}
	return t, u, nil
}

// getUser reads a live user; a missing or deleted user is
// access.ErrUnknownPrincipal.
func (b *Backend) getUser(ctx context.Context, id int64) (*zendesk.User, error) {
	u, _, err := b.client.Users.Get(ctx, id)
	switch {
	case zendesk.IsNotFound(err):
		return nil, fmt.Errorf("user %d: %w", id, access.ErrUnknownPrincipal)
	case err != nil:
		return nil, fmt.Errorf("read user %d: %w", id, err)
	case !u.Active:
		return nil, fmt.Errorf("user %d is deleted: %w", id, access.ErrUnknownPrincipal)
	}
	return u, nil
}

// checkGroup confirms a group exists; a missing or deleted group is
// access.ErrUnknownEntitlement.
func (b *Backend) checkGroup(ctx context.Context, id int64) error {
	g, _, err := b.client.Groups.Get(ctx, id)
	switch {
	case zendesk.IsNotFound(err):
		return fmt.Errorf("group %d: %w", id, access.ErrUnknownEntitlement)
	case err != nil:
		return fmt.Errorf("read group %d: %w", id, err)
	case g.Deleted:
		return fmt.Errorf("group %d is deleted: %w", id, access.ErrUnknownEntitlement)
	}
	return nil
}

// checkOrganization confirms an organization exists and passes the filter.
func (b *Backend) checkOrganization(ctx context.Context, id int64) error {
	o, _, err := b.client.Organizations.Get(ctx, id)
	switch {
	case zendesk.IsNotFound(err):
		return fmt.Errorf("organization %d: %w", id, access.ErrUnknownEntitlement)
	case err != nil:
		return fmt.Errorf("read organization %d: %w", id, err)
	case !b.orgSelected(o.ID, o.Name):
		return fmt.Errorf("organization %d (%q) is outside the WithOrganizations filter: %w", id, o.Name, access.ErrUnknownEntitlement)
	}
	return nil
}

// checkCustomRole confirms a custom role exists.
func (b *Backend) checkCustomRole(ctx context.Context, id int64) error {
	_, _, err := b.client.CustomRoles.Get(ctx, id)
	switch {
	case zendesk.IsNotFound(err):
		return fmt.Errorf("custom role %d: %w", id, access.ErrUnknownEntitlement)
	case errors.Is(err, zendesk.ErrForbidden):
		return fmt.Errorf("custom role %d: the plan has no custom roles: %w", id, access.ErrUnknownEntitlement)
	case err != nil:
		return fmt.Errorf("read custom role %d: %w", id, err)
	}
	return nil
}

// replacedRole returns the grants a change of u's built-in role to role
// removes: the old role, the custom role unless u stays an agent, and the
// group memberships if u becomes an end user (read with one request).
func (b *Backend) replacedRole(ctx context.Context, u *zendesk.User, role zendesk.Role) ([]access.Grant, error) {
	var out []access.Grant
	if b.cfg.types[TypeRole] && isBuiltIn(u.Role) {
		out = append(out, b.attrs.roleGrant(roleEID(u.Role), u.ID, u.Suspended))
	}
	if u.CustomRoleID != nil && role != zendesk.RoleAgent && b.cfg.types[TypeCustomRole] {
		out = append(out, b.attrs.roleGrant(customRoleEID(*u.CustomRoleID), u.ID, u.Suspended))
	}
	if role == zendesk.RoleEndUser && u.IsTeamMember() && b.cfg.types[TypeGroup] {
		gs, err := b.userGroupGrants(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
	}
	return out, nil
}

// userGroupGrants lists a user's group memberships as grants.
func (b *Backend) userGroupGrants(ctx context.Context, u *zendesk.User) ([]access.Grant, error) {
	var out []access.Grant
	for m, err := range b.client.GroupMemberships.ListByUser(ctx, u.ID) {
		if err != nil {
			return nil, fmt.Errorf("list group memberships of user %d: %w", u.ID, err)
		}
		out = append(out, b.attrs.membershipGrant(groupEID(m.GroupID), u.ID, m.ID, u.Suspended, m.Default))
	}
	return out, nil
}

// setRole changes a user's built-in role.
func (b *Backend) setRole(ctx context.Context, u *zendesk.User, role zendesk.Role) (*zendesk.User, error) {
	if b.cfg.owner != 0 && u.ID == b.cfg.owner && role != zendesk.RoleAdmin {
		return nil, fmt.Errorf("user %d is the account owner, who must remain an admin: %w", u.ID, access.ErrNotGrantable)
	}
	nu, _, err := b.client.Users.Update(ctx, u.ID, &zendesk.UpdateUserRequest{Role: &role})
	if err != nil {
		return nil, fmt.Errorf("set role of user %d to %s: %w", u.ID, role, err)
	}
	return nu, nil
}

func (b *Backend) grantGroup(ctx context.Context, t target, u *zendesk.User) (access.GrantResult, error) {
	var res access.GrantResult
	if !u.IsTeamMember() {
		if !b.cfg.promote {
			return res, &NotAgentError{UserID: u.ID, Role: u.Role, EntitlementID: t.eid}
		}
		// Check the group first, so an unknown group promotes nobody.
		if err := b.checkGroup(ctx, t.id); err != nil {
			return res, err
		}
		replaced, err := b.replacedRole(ctx, u, zendesk.RoleAgent)
		if err != nil {
			return res, err
		}
		nu, err := b.setRole(ctx, u, zendesk.RoleAgent)
		if err != nil {
			return res, err
		}
		u = nu
		res.Replaced = replaced
		res.Note = fmt.Sprintf("promoted user %d from end user to agent (WithPromoteEndUsers)", u.ID)
	}
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
		if res.Note != "" {
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
	case errors.Is(err, zendesk.ErrInvalid), zendesk.IsNotFound(err):
		if cerr := b.checkGroup(ctx, t.id); cerr != nil {
			return res, cerr
		}
	}
	if res.Note != "" {
		return res, fmt.Errorf("%s, but adding to group %d failed: %w", res.Note, t.id, err)
	}
	return res, fmt.Errorf("add user %d to group %d: %w", u.ID, t.id, err)
}

func (b *Backend) revokeGroup(ctx context.Context, t target, u *zendesk.User) (access.RevokeResult, error) {
	var res access.RevokeResult
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
		res.Status = access.StatusAlreadyRevoked
		return res, nil
	case err != nil:
		return res, fmt.Errorf("delete group membership %d: %w", found.MembershipID, err)
	}
	res.Status, res.Grant = access.StatusRevoked, found
	return res, nil
}

func (b *Backend) grantOrganization(ctx context.Context, t target, u *zendesk.User) (access.GrantResult, error) {
	var res access.GrantResult
	checked := false
	if b.orgFilterByName() {
		if err := b.checkOrganization(ctx, t.id); err != nil {
			return res, err
		}
		checked = true
	}
	// A user in another organization would be moved if the setting were
	// off, so for them it is read afresh: a setting turned off since the
	// last sync must not let the create below move the user unannounced.
	mayMove := u.OrganizationID != nil && *u.OrganizationID != t.id
	multi, err := b.multipleOrgs(ctx, mayMove)
	if err != nil {
		return res, err
	}
	if !multi && u.OrganizationID != nil {
		from := *u.OrganizationID
		if from == t.id {
			res.Status = access.StatusAlreadyGranted
			res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, true)
			return res, nil
		}
		if !checked {
			if err := b.checkOrganization(ctx, t.id); err != nil {
				return res, err
			}
		}
		// Turning the setting off keeps the memberships users had, so the
		// user may already be a member, or be in more than organization_id.
		var current []zendesk.OrganizationMembership
		for m, err := range b.client.OrganizationMemberships.ListByUser(ctx, u.ID) {
			if err != nil {
				return res, fmt.Errorf("list organization memberships of user %d: %w", u.ID, err)
			}
			if m.OrganizationID == t.id {
				res.Status = access.StatusAlreadyGranted
				res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, m.Default)
				return res, nil
			}
			current = append(current, m)
		}
		if b.cfg.orgMode != OrgModeReplace {
			return res, &OrganizationMoveError{UserID: u.ID, From: from, To: t.id}
		}
		return b.moveOrganization(ctx, t, u, from, current)
	}
	m, _, err := b.client.OrganizationMemberships.Create(ctx, u.ID, t.id)
	switch {
	case err == nil:
		res.Status = access.StatusGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, m.Default)
		return res, nil
	case zendesk.IsDuplicate(err):
		res.Status = access.StatusAlreadyGranted
		res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, u.OrganizationID != nil && *u.OrganizationID == t.id)
		return res, nil
	case errors.Is(err, zendesk.ErrInvalid), zendesk.IsNotFound(err):
		if !checked {
			if cerr := b.checkOrganization(ctx, t.id); cerr != nil {
				return res, cerr
			}
		}
	}
	return res, fmt.Errorf("add user %d to organization %d: %w", u.ID, t.id, err)
}

// moveOrganization moves u from its organizations (current; from is the
// default) to t's on an account without multiple organizations
// (OrgModeReplace). Zendesk itself moves the user when another membership
// is created; if it refuses instead, the old memberships are removed first.
func (b *Backend) moveOrganization(ctx context.Context, t target, u *zendesk.User, from int64, current []zendesk.OrganizationMembership) (access.GrantResult, error) {
	res := access.GrantResult{
		Status: access.StatusGranted,
		Note:   fmt.Sprintf("moved user %d from organization %d to %d: the account allows one organization per user", u.ID, from, t.id),
	}
	for _, m := range current {
		if b.orgSelected(m.OrganizationID, m.OrganizationName) {
			res.Replaced = append(res.Replaced, b.attrs.membershipGrant(orgEID(m.OrganizationID), u.ID, m.ID, u.Suspended, m.Default))
		}
	}
	m, _, err := b.client.OrganizationMemberships.Create(ctx, u.ID, t.id)
	if errors.Is(err, zendesk.ErrInvalid) && !zendesk.IsDuplicate(err) {
		for _, old := range current {
			if _, uerr := b.client.OrganizationMemberships.Unassign(ctx, u.ID, old.OrganizationID); uerr != nil && !zendesk.IsNotFound(uerr) {
				return access.GrantResult{}, fmt.Errorf("move user %d out of organization %d: %w", u.ID, old.OrganizationID, uerr)
			}
		}
		m, _, err = b.client.OrganizationMemberships.Create(ctx, u.ID, t.id)
		if err != nil {
			return access.GrantResult{}, fmt.Errorf("removed user %d from organization %d, but adding them to organization %d failed: %w", u.ID, from, t.id, err)
		}
	}
	if err != nil {
		return access.GrantResult{}, fmt.Errorf("move user %d to organization %d: %w", u.ID, t.id, err)
	}
	res.Grant = b.attrs.membershipGrant(t.eid, u.ID, m.ID, u.Suspended, true)
	return res, nil
}

func (b *Backend) revokeOrganization(ctx context.Context, t target, u *zendesk.User) (access.RevokeResult, error) {
	var res access.RevokeResult
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
	_, err := b.client.OrganizationMemberships.Unassign(ctx, u.ID, t.id)
	switch {
	case zendesk.IsNotFound(err):
		if cerr := b.checkOrganization(ctx, t.id); cerr != nil {
			return res, cerr
		}
		res.Status = access.StatusAlreadyRevoked
		return res, nil
	case err != nil:
		return res, fmt.Errorf("remove user %d from organization %d: %w", u.ID, t.id, err)
	}
	res.Status = access.StatusRevoked
	res.Grant = b.attrs.membershipGrant(t.eid, u.ID, 0, u.Suspended, u.OrganizationID != nil && *u.OrganizationID == t.id)
	return res, nil
}

func (b *Backend) grantCustomRole(ctx context.Context, t target, u *zendesk.User) (access.GrantResult, error) {
	var res access.GrantResult
	if u.CustomRoleID != nil && *u.CustomRoleID == t.id {
		res.Status, res.Grant = access.StatusAlreadyGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
		return res, nil
	}
	if u.Role != zendesk.RoleAgent {
		if err := b.checkCustomRole(ctx, t.id); err != nil {
			return res, err
		}
		return res, &NotAgentError{UserID: u.ID, Role: u.Role, EntitlementID: t.eid}
	}
	_, _, err := b.client.Users.Update(ctx, u.ID, &zendesk.UpdateUserRequest{CustomRoleID: zendesk.SetID(t.id)})
	if err != nil {
		if errors.Is(err, zendesk.ErrInvalid) {
			if cerr := b.checkCustomRole(ctx, t.id); cerr != nil {
				return res, cerr
			}
		}
		return res, fmt.Errorf("set custom role of user %d to %d: %w", u.ID, t.id, err)
	}
	res.Status, res.Grant = access.StatusGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
	if u.CustomRoleID != nil {
		res.Replaced = []access.Grant{b.attrs.roleGrant(customRoleEID(*u.CustomRoleID), u.ID, u.Suspended)}
		res.Note = fmt.Sprintf("an agent holds one custom role: replaced custom role %d", *u.CustomRoleID)
	}
	return res, nil
}

func (b *Backend) revokeCustomRole(ctx context.Context, t target, u *zendesk.User) (access.RevokeResult, error) {
	var res access.RevokeResult
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
	res.Note = fmt.Sprintf("gave user %d the fallback custom role %d", u.ID, fallback)
	return res, nil
}

func (b *Backend) grantRole(ctx context.Context, t target, u *zendesk.User) (access.GrantResult, error) {
	var res access.GrantResult
	if u.Role == t.role {
		res.Status, res.Grant = access.StatusAlreadyGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
		return res, nil
	}
	replaced, err := b.replacedRole(ctx, u, t.role)
	if err != nil {
		return res, err
	}
	if _, err := b.setRole(ctx, u, t.role); err != nil {
		return res, err
	}
	res.Status, res.Grant, res.Replaced = access.StatusGranted, b.attrs.roleGrant(t.eid, u.ID, u.Suspended), replaced
	res.Note = fmt.Sprintf("a user holds one built-in role: changed user %d from %s to %s", u.ID, u.Role, t.role)
	return res, nil
}

func (b *Backend) revokeRole(ctx context.Context, t target, u *zendesk.User) (access.RevokeResult, error) {
	var res access.RevokeResult
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
	if _, err := b.setRole(ctx, u, lower); err != nil {
		return res, err
	}
	res.Status, res.Grant = access.StatusRevoked, b.attrs.roleGrant(t.eid, u.ID, u.Suspended)
	res.Note = fmt.Sprintf("demoted user %d from %s to %s", u.ID, t.role, lower)
	if lower == zendesk.RoleEndUser {
		res.Note += " (Zendesk removes an end user's group memberships and custom role)"
	}
	return res, nil
}
