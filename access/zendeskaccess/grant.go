package zendeskaccess

import (
	"context"
	"errors"
	"fmt"

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
	gid    string // grant ID
}

// idReason says what a Zendesk id must look like, for malformed-ID errors.
const idReason = "a Zendesk id is a positive decimal integer without sign or leading zeros"

// parseTarget parses a request in its canonical spelling and checks it
// against the backend's configuration, before any request. Errors wrap
// access.ErrMalformedID (a non-canonical id such as "user:042" included),
// access.ErrUnknownEntitlement or access.ErrNotGrantable.
func (b *Backend) parseTarget(entitlementID, principalID string) (target, error) {
	ref, err := access.GrantRequest{EntitlementID: entitlementID, PrincipalID: principalID}.Validate()
	if err != nil {
		return target{}, err
	}
	// Spelling first: a malformed id is malformed whatever the
	// configuration, so it is refused before anything else is decided.
	if err := checkNumeric("entitlement", entitlementID, ref.Entitlement.Resource); err != nil {
		return target{}, err
	}
	if err := checkNumeric("resource", principalID, ref.Principal); err != nil {
		return target{}, err
	}
	t, err := b.entitlementTarget(ref.Entitlement)
	t.gid = ref.String()
	if err != nil {
		return t, err
	}
	if ref.Principal.Type != TypeUser {
		return t, fmt.Errorf("%s is a %s: only users hold Zendesk entitlements: %w", ref.Principal, ref.Principal.Type, access.ErrNotGrantable)
	}
	t.userID, _ = access.ParsePositiveInt(ref.Principal.ID) // checked above
	return t, nil
}

// entitlementTarget checks an entitlement, whose ids are canonical,
// against the backend's configuration, as parseTarget does.
func (b *Backend) entitlementTarget(e access.EntitlementRef) (target, error) {
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
		t.id, _ = access.ParsePositiveInt(e.Resource.ID) // checked above
	}
	if t.kind == TypeOrganization && !b.orgFilterByName() && !b.orgSelected(t.id, "") {
		return t, fmt.Errorf("%s: organization %d is outside the WithOrganizations filter: %w", t.eid, t.id, access.ErrUnknownEntitlement)
	}
	return t, nil
}

// checkNumeric refuses a resource of one of Zendesk's numeric types (user,
// group, organization, custom role) whose id is not canonical, whether or
// not the configuration reads that type: "group:020000000001" is malformed,
// not merely unknown.
func checkNumeric(kind, id string, ref access.ResourceRef) error {
	rt, ok := resourceTypes[ref.Type]
	if !ok || rt.IDSyntax != access.IDSyntaxPositiveInt {
		return nil
	}
	if _, ok := access.ParsePositiveInt(ref.ID); !ok {
		return &access.IDError{Kind: kind, ID: id, Reason: idReason}
	}
	return nil
}

func isBuiltIn(r zendesk.Role) bool {
	return r == zendesk.RoleEndUser || r == zendesk.RoleAgent || r == zendesk.RoleAdmin
}

// Grant grants an entitlement to a user. Changes to one user are serialised
// within the backend: a grant or revoke waits (honouring ctx) for the one
// before it on the same user to finish, and then reads the user
// (GET /users/{id}), so that it decides on what the user holds now. The
// entitlement is confirmed to exist before any write: from the last sync if
// it was read within a minute, or else by reading it alongside the user.
// Then:
//
//   - group:<id>:member: the user's memberships (GET
//     /users/{id}/group_memberships), then POST /group_memberships. End
//     users cannot be group members: the grant fails with a *NotAgentError,
//     or, with WithPromoteEndUsers, promotes the user to agent first
//     (Result.Added holds the agent role and the default group Zendesk puts
//     a new agent in, read back after the promotion; Result.Replaced the
//     end-user role). If the membership then fails, the Result says what was
//     changed (StatusIncomplete) beside the error.
//   - organization:<id>:member: for a user in an organization, their
//     memberships (GET /users/{id}/organization_memberships; several even
//     without multiple organizations if the setting was on once); then POST
//     /organization_memberships, following the OrgMode on an account without
//     multiple organizations: a move is refused with an
//     *OrganizationMoveError, or done and reported in Result.Replaced, from
//     a re-read of the user's memberships after the move; a move out of an
//     organization outside WithOrganizations is always refused. For a user in
//     another organization the setting is read afresh (GET
//     /account/settings).
//   - role:agent:assigned or role:admin:assigned for an end user: the groups
//     Zendesk gives the new agent are read back and reported in
//     Result.Added.
//   - custom_role:<id>:assigned: PUT /users/{id} with custom_role_id (agents
//     only); the previous custom role is reported in Replaced.
//   - role:<name>:assigned: PUT /users/{id} with role; the previous role, and
//     what Zendesk removes with it (the custom role of an agent who becomes
//     an admin or end user, the group memberships of one who becomes an end
//     user), are reported in Replaced.
//
// A create that Zendesk answers with a duplicate (422 DuplicateValue) is
// StatusAlreadyGranted, as is a user who already holds the entitlement.
func (b *Backend) Grant(ctx context.Context, req access.GrantRequest) (access.Result, error) {
	t, err := b.parseTarget(req.EntitlementID, req.PrincipalID)
	if err != nil {
		return access.Result{}, fmt.Errorf("zendeskaccess: grant: %w", err)
	}
	unlock, err := b.locks.lock(ctx, t.userID)
	if err != nil {
		return access.Result{}, fmt.Errorf("zendeskaccess: grant %s: %w", t.gid, err)
	}
	defer unlock()
	u, err := b.readForGrant(ctx, t)
	if err != nil {
		return access.Result{}, fmt.Errorf("zendeskaccess: %w", err)
	}
	var res access.Result
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
	return finish(res, err)
}

// Revoke removes a grant. Like Grant, it waits for earlier changes to the
// same user and then reads the user; then:
//
//   - group:<id>:member: the user's memberships (GET
//     /users/{id}/group_memberships), then DELETE /group_memberships/{id}.
//   - organization:<id>:member: DELETE /users/{id}/organizations/{id} for the
//     user's organization; for another one the user's memberships are read
//     first (GET /users/{id}/organization_memberships), since only they show
//     whether the user belongs to it.
//   - custom_role:<id>:assigned: PUT /users/{id} with the WithCustomRoleFallback
//     role; without one it fails with ErrNoFallbackRole. Result.Added holds
//     the fallback role.
//   - role:admin:assigned demotes to agent and role:agent:assigned to end user;
//     Result.Added holds the lower role and Result.Replaced what Zendesk
//     removes with the demotion (the custom role, and for an end user the
//     group memberships). role:end-user:assigned cannot be revoked: end user
//     is the lowest role, so the revoke fails with access.ErrNotGrantable
//     (grant another role, or delete the user, instead). Revoking a role the
//     user does not hold is StatusAlreadyRevoked.
//
// A delete that Zendesk answers with 404 after the membership was seen is
// StatusRevoked: the membership existed when the call began, and the 404 is
// the answer to a retry of a delete that took effect (or to someone else's
// delete in between).
func (b *Backend) Revoke(ctx context.Context, req access.RevokeRequest) (access.Result, error) {
	t, err := b.parseTarget(req.EntitlementID, req.PrincipalID)
	if err != nil {
		return access.Result{}, fmt.Errorf("zendeskaccess: revoke: %w", err)
	}
	unlock, err := b.locks.lock(ctx, t.userID)
	if err != nil {
		return access.Result{}, fmt.Errorf("zendeskaccess: revoke %s: %w", t.gid, err)
	}
	defer unlock()
	u, err := b.getUser(ctx, t.userID)
	if err != nil {
		return access.Result{}, fmt.Errorf("zendeskaccess: %w", err)
	}
	var res access.Result
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
	return finish(res, err)
}

// finish gives a change's outcome its final shape: on failure, the result
// is kept only if it records a change (StatusIncomplete unless the named
// grant itself changed), so that a caller never gets an empty result after a
// write.
func finish(res access.Result, err error) (access.Result, error) {
	if err == nil {
		return res, nil
	}
	if !res.Changed() {
		return access.Result{}, fmt.Errorf("zendeskaccess: %w", err)
	}
	if res.Status != access.StatusGranted && res.Status != access.StatusRevoked {
		res.Status, res.Grant = access.StatusIncomplete, nil
	}
	return res, fmt.Errorf("zendeskaccess: %w", err)
}

// readForGrant reads the user a grant is for and, unless the last sync saw
// it, confirms the entitlement exists: both at once, so the check costs no
// time. An unknown user is reported before an unknown entitlement.
func (b *Backend) readForGrant(ctx context.Context, t target) (*zendesk.User, error) {
	var checkErr error
	done := make(chan struct{})
	if b.known.has(t.kind, t.id, b.now()) {
		close(done)
	} else {
		go func() {
			defer close(done)
			checkErr = b.checkEntitlement(ctx, t)
		}()
	}
	u, err := b.getUser(ctx, t.userID)
	<-done
	if err != nil {
		return nil, err
	}
	if checkErr != nil {
		return nil, checkErr
	}
	return u, nil
}

// checkEntitlement confirms that t's group, organization or custom role
// exists (built-in roles always do) and remembers it.
func (b *Backend) checkEntitlement(ctx context.Context, t target) error {
	var err error
	switch t.kind {
	case TypeGroup:
		err = b.checkGroup(ctx, t.id)
	case TypeOrganization:
		err = b.checkOrganization(ctx, t.id)
	case TypeCustomRole:
		err = b.checkCustomRole(ctx, t.id)
	default:
		return nil
	}
	if err == nil {
		b.known.add(t.kind, t.id, b.now())
	}
	return err
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

// checkCustomRole confirms a custom role exists, from the account state
// (which lists the roles, and is re-read when over a minute old).
func (b *Backend) checkCustomRole(ctx context.Context, id int64) error {
	st, err := b.currentState(ctx)
	if err != nil {
		return err
	}
	if !st.customRolesOK {
		return fmt.Errorf("custom role %d: the plan has no custom roles: %w", id, access.ErrUnknownEntitlement)
	}
	for _, cr := range st.customRoles {
		if cr.ID == id {
			return nil
		}
	}
	return fmt.Errorf("custom role %d: %w", id, access.ErrUnknownEntitlement)
}

// sideEffects returns the grants Zendesk removes when u's built-in role
// becomes role: the custom role unless u stays an agent, and the group
// memberships if u becomes an end user (read with one request).
func (b *Backend) sideEffects(ctx context.Context, u *zendesk.User, role zendesk.Role) ([]access.Grant, error) {
	var out []access.Grant
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

// roleGrantOf returns the built-in role grant u holds, or nil when roles
// are not among the resource types.
func (b *Backend) roleGrantOf(u *zendesk.User, role zendesk.Role) []access.Grant {
	if !b.cfg.types[TypeRole] || !isBuiltIn(role) {
		return nil
	}
	return []access.Grant{b.attrs.roleGrant(roleEID(role), u.ID, u.Suspended)}
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
	if u.Role == zendesk.RoleAdmin && role != zendesk.RoleAdmin {
		me, err := b.me(ctx)
		if err != nil {
			return nil, err
		}
		if u.ID == me {
			return nil, fmt.Errorf("user %d is the user zgov's credential acts as: demoting them would lock zgov out: %w", u.ID, access.ErrNotGrantable)
		}
	}
	nu, _, err := b.client.Users.Update(ctx, u.ID, &zendesk.UpdateUserRequest{Role: &role})
	if err != nil {
		return nil, fmt.Errorf("set role of user %d to %s: %w", u.ID, role, err)
	}
	return nu, nil
}

// invalidNotDuplicate reports whether err is a Zendesk validation error other than a
// duplicate: what a create answers for a group or organization that does
// not exist, among other things.
func invalidNotDuplicate(err error) bool {
	return errors.Is(err, zendesk.ErrInvalid) && !zendesk.IsDuplicate(err)
}
